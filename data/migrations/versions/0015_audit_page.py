"""audit page: indexes for the Audit page's filters and a record's History tab.

Every audit list is a keyset on ``id`` (chain order, see :mod:`data.queries.audit`), so
each filter's index ends with ``id``: the first page of "this staff member", "this table",
"this action" or "this record" is an index range read backwards, however long the trail.
Built CONCURRENTLY (audit inserts go on while they are built: every change of the app
writes one). The table belongs to the NOLOGIN audit owner; where the migrating login may
not index it (neither owner nor superuser), a warning gives the statements for a superuser
to run, the app works without them (slower filters) and ``db check`` names each missing one.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

AUDIT_INDEXES = {
    "ix_admin_audit_log_actor_id": "admin.audit_log (actor, id)",
    "ix_admin_audit_log_entity_type_id": "admin.audit_log (entity_type, id)",
    "ix_admin_audit_log_action_id": "admin.audit_log (action, id)",
    "ix_admin_audit_log_record_id": "admin.audit_log (entity_type, entity_id, id)",
}

_MAY_INDEX = text(
    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
    "OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    "FROM pg_class c WHERE c.oid = 'admin.audit_log'::regclass")


def upgrade() -> None:
    if not op.get_bind().execute(_MAY_INDEX).scalar():
        statements = "; ".join(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {d}"
                               for name, d in AUDIT_INDEXES.items())
        log.warning("platform-admin: this login may not index admin.audit_log (its owner "
                    "is the audit owner role); the Audit page's filters stay slower until a "
                    "superuser runs: %s", statements)
        return
    with op.get_context().autocommit_block():
        for name, definition in AUDIT_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in AUDIT_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS admin.{name}")
