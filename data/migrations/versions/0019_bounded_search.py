"""bounded search: the sort order of the Add-to-series picker, and trigrams where possible.

The Add-to-series picker lists content newest created first and walks this index (see
:mod:`data.queries.bounded`): the empty box reads one page, a common term a few pages. (The
Featured picker walks 0006's ``ix_admin_content_status_published_id``.)
Where the server has ``pg_trgm`` (installed, or available and ours to create, in the
``admin`` schema) a trigram index also serves the Featured picker's "title contains"; the
embedded server has none. Built CONCURRENTLY on the platform's ``content`` table, as 0006's.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    # Add-to-series picker: items newest first by creation.
    "ix_admin_content_created_id": "content (created_at DESC, id DESC)",
}


TRIGRAM_INDEX = "ix_admin_content_title_trgm"

_CREATE_TRGM = """
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_trgm')
       AND NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE EXTENSION pg_trgm SCHEMA admin;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm not created: %', SQLERRM;
END $$
"""


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
        op.execute(_CREATE_TRGM)
        schema = op.get_bind().exec_driver_sql(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'").scalar()
        if schema is not None:
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {TRIGRAM_INDEX} ON content "
                       f'USING gin (lower(title) "{schema}".gin_trgm_ops)')


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in (*APP_INDEXES, TRIGRAM_INDEX):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
