"""search grams and covering sort indexes: every search's first page from indexes.

**Covering sort indexes.** A search that does not find its page among the first matches
walks a sort index, testing each row (:mod:`data.queries.bounded`). Reading the table for
each row walked (in an order the table is not stored in) was what made a walk slow: these
indexes carry, beside each sort key, the columns the search and the list's usual filters
test, so the walk is an index-only scan and only the page's rows are read from the table.

**Title pieces.** The Featured picker finds published items whose title contains the typed
text. Where the server has ``pg_trgm``, 0019's trigram index answers that. Where it has not
(the embedded server), this builds the same kind of index from core parts:
``admin.title_grams(title)`` is the lower-cased title's pieces of three characters, and a
GIN index on it finds the titles holding every piece of a text of three characters or more
(the ``LIKE`` then checks their order); a shorter text is matched by the walk alone, as
pg_trgm does no better for it. All built CONCURRENTLY on the platform's tables, as 0006's.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COVERING_INDEXES = {
    # Users: newest first, and by email.
    "ix_admin_users_created_cover": "users (created_at DESC, id DESC) "
        "INCLUDE (email, full_name, role, deleted_at, email_verified_at)",
    "ix_admin_users_email_cover": "users (email) "
        "INCLUDE (id, full_name, role, deleted_at, email_verified_at)",
    # Catalog: its four sorts (0006's keys).
    "ix_admin_content_published_cover":
        "content ((coalesce(published_at, '-infinity'::timestamp)) DESC, id DESC) "
        "INCLUDE (title, slug, deleted_at)",
    "ix_admin_content_title_cover": "content (lower(title), id) INCLUDE (title, slug, deleted_at)",
    "ix_admin_content_price_cover":
        "content ((coalesce(price, 0)) DESC, id DESC) INCLUDE (title, slug, deleted_at)",
    "ix_admin_content_purchases_cover":
        "content (purchase_count DESC, id DESC) INCLUDE (title, slug, deleted_at)",
    # Featured picker: published, newest first.
    "ix_admin_content_status_published_cover":
        "content (status, (coalesce(published_at, '-infinity'::timestamp)) DESC, id DESC) "
        "INCLUDE (title, slug, deleted_at)",
    # Add-to-series picker: newest created first.
    "ix_admin_content_created_cover":
        "content (created_at DESC, id DESC) INCLUDE (title, slug, deleted_at, series_id)",
}
GRAMS_INDEX = "ix_admin_content_title_grams"
TRIGRAM_INDEX = "ix_admin_content_title_trgm"  # 0019's, where pg_trgm exists

# The pieces of three characters of lower(t) (a shorter t: itself). GIN keeps each key once,
# so no DISTINCT. plpgsql: measured three times faster here than the same in SQL (which is
# not inlined). IMMUTABLE (lower() is), so it may be indexed; COST high so that a walk tests
# the LIKE beside it first.
_FUNCTION = """
CREATE OR REPLACE FUNCTION admin.title_grams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
DECLARE
    l text := lower(t);
    pieces text[] := '{}';
BEGIN
    IF length(l) < 3 THEN
        RETURN ARRAY[l];
    END IF;
    FOR i IN 1 .. length(l) - 2 LOOP
        pieces := pieces || substr(l, i, 3);
    END LOOP;
    RETURN pieces;
END
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    with op.get_context().autocommit_block():
        for name, definition in COVERING_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")
        has_trigrams = op.get_bind().exec_driver_sql(
            f"SELECT to_regclass('{TRIGRAM_INDEX}') IS NOT NULL").scalar()
        if not has_trigrams:
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {GRAMS_INDEX} ON content "
                       "USING gin (admin.title_grams(title))")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in (*COVERING_INDEXES, GRAMS_INDEX):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS admin.title_grams(text)")
