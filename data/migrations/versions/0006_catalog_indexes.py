"""catalog indexes: the Content catalog page's sort keys and search.

The indexes on ``content`` are the app's (prefixed ``ix_admin_``) and are built
CONCURRENTLY, so that on the platform's live database the web app keeps writing while
they are built. Each sort key index ends with ``id`` (the keyset's tie-breaker) and uses
exactly the expression :mod:`data.queries.catalog` orders by.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    # Newest published first; drafts (no date) last.
    "ix_admin_content_published_id":
        "content ((coalesce(published_at, '-infinity'::timestamp)) DESC, id DESC)",
    # The status filter in that order (drafts sort last, so without it "drafts only"
    # would sort every draft).
    "ix_admin_content_status_published_id":
        "content (status, (coalesce(published_at, '-infinity'::timestamp)) DESC, id DESC)",
    "ix_admin_content_title_lower_id": "content (lower(title), id)",
    # Highest price first; free (null) counts as 0.
    "ix_admin_content_price_id": "content ((coalesce(price, 0)) DESC, id DESC)",
    "ix_admin_content_purchases_id": "content (purchase_count DESC, id DESC)",
    # Slug prefix search without pg_trgm: a b-tree that LIKE 'abc%' can use.
    "ix_admin_content_slug_prefix": "content (slug text_pattern_ops)",
    # Title search: each word, prefix-matched with to_tsquery('simple', 'w:*').
    "ix_admin_content_title_fts": "content USING gin (to_tsvector('simple', title))",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
