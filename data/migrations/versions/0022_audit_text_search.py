"""audit text search: indexes for the Audit page's text filter.

The text filter (:mod:`data.queries.audit_search`) first walks the newest rows a capped
distance; when that finds too few matches it collects them through a text index:

* where the server offers ``pg_trgm`` (``pg_available_extensions``): the extension (created
  if this login may, in the ``admin`` schema) and a GIN trigram index on the searchable
  text (reason, old and new values), which answers the filter's ``ILIKE`` itself;
* always: a GIN full-text index on ``to_tsvector('simple', <searchable text>)`` (the
  embedded server has no ``pg_trgm``), which answers the filter's word-prefix condition;
* ``(entity_id, id)``: the text filter also matches a record id exactly, in any table.

The expressions are :data:`data.queries.audit_search.SEARCH_TEXT_SQL` (keep in step).
``admin.audit_log`` is the app's own table; built CONCURRENTLY as in migration 0015 (inserts
go on), and where this login may not index it a warning gives the statements to run.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

SEARCH_TEXT = ("(coalesce(reason, '') || ' ' || coalesce(old_values::text, '') || ' ' || "
               "coalesce(new_values::text, ''))")
TEXT_INDEXES = {
    "ix_admin_audit_log_search_tsv":
        f"admin.audit_log USING gin (to_tsvector('simple'::regconfig, {SEARCH_TEXT}))",
    "ix_admin_audit_log_entity_id_id": "admin.audit_log (entity_id, id)",
}
TRGM_INDEX = "ix_admin_audit_log_search_trgm"

_MAY_INDEX = text(
    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
    "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    "FROM pg_class c WHERE c.oid = 'admin.audit_log'::regclass")
_TRGM_SCHEMA = text("SELECT extnamespace::regnamespace::text FROM pg_extension "
                    "WHERE extname = 'pg_trgm'")
_TRGM_AVAILABLE = text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")


def _trgm_schema() -> str | None:
    """The schema of ``pg_trgm``, creating it if the server has it and this login may."""
    bind = op.get_bind()
    schema = bind.execute(_TRGM_SCHEMA).scalar()
    if schema is None and bind.execute(_TRGM_AVAILABLE).scalar():
        try:
            bind.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA admin"))
        except Exception as exc:  # noqa: BLE001 - the full-text index still serves
            log.warning("platform-admin: pg_trgm is available but this login may not "
                        "create it (%s); the text filter uses its full-text index", exc)
        schema = bind.execute(_TRGM_SCHEMA).scalar()
    return schema


def upgrade() -> None:
    indexes = dict(TEXT_INDEXES)
    if not op.get_bind().execute(_MAY_INDEX).scalar():
        statements = "; ".join(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {d}"
                               for name, d in indexes.items())
        log.warning("platform-admin: this login may not index admin.audit_log; the Audit "
                    "page's text filter stays slower until a superuser runs: %s", statements)
        return
    with op.get_context().autocommit_block():
        schema = _trgm_schema()
        if schema is not None:
            indexes[TRGM_INDEX] = (f"admin.audit_log USING gin ({SEARCH_TEXT} "
                                   f"{schema}.gin_trgm_ops)")
        for name, definition in indexes.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in (*TEXT_INDEXES, TRGM_INDEX):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS admin.{name}")
