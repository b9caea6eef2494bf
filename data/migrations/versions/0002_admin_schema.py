"""the app's own schema: the audit log, and the indexes the Users page searches with.

The indexes on ``users`` are the app's (prefixed ``ix_admin_``) and are built
CONCURRENTLY, so that on the platform's live database the web app keeps writing while
they are built.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    # Email prefix search without pg_trgm: a b-tree that LIKE 'abc%' can use.
    "ix_admin_users_email_lower_prefix": "users (lower(email) text_pattern_ops)",
    # Name search: each word of the name, prefix-matched with to_tsquery('simple', 'w:*').
    "ix_admin_users_full_name_fts": "users USING gin (to_tsvector('simple', full_name))",
    # Keyset paging newest first: (created_at, id) is the page key.
    "ix_admin_users_created_at_id": "users (created_at DESC, id DESC)",
}


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("old_values", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_values", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("audit_log_pkey")),
        schema="admin",
    )
    op.create_index("ix_audit_log_entity", "audit_log",
                    ["entity_type", "entity_id", "occurred_at"], schema="admin")
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"], schema="admin")
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_table("audit_log", schema="admin")
