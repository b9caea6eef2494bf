"""search grams: "title contains" from an index on a server without pg_trgm.

The Featured picker finds published items whose title contains the typed text. Where the
server has ``pg_trgm``, 0019's trigram index answers that. Where it has not (the embedded
server), this builds the same kind of index from core parts: ``admin.title_grams(title)``
is the set of the lower-cased title's pieces of one, two and three characters, and a GIN
index on it finds the titles holding every piece of the text (the ``LIKE`` then checks
the order). Built CONCURRENTLY on the platform's ``content`` table, as 0006's.

Revision ID: 0024
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRAMS_INDEX = "ix_admin_content_title_grams"
TRIGRAM_INDEX = "ix_admin_content_title_trgm"  # 0019's, where pg_trgm exists

# Pieces of 1..3 characters of lower(t), each once. IMMUTABLE (lower() is), so it may be
# indexed; COST high so that a walk tests the LIKE beside it first.
_FUNCTION = """
CREATE OR REPLACE FUNCTION admin.title_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
    SELECT coalesce(array_agg(DISTINCT substr(lower(t), i, n)), '{}')
    FROM generate_series(1, 3) AS n, generate_series(1, length(t) - n + 1) AS i
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    with op.get_context().autocommit_block():
        has_trigrams = op.get_bind().exec_driver_sql(
            f"SELECT to_regclass('{TRIGRAM_INDEX}') IS NOT NULL").scalar()
        if not has_trigrams:
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {GRAMS_INDEX} ON content "
                       "USING gin (admin.title_grams(title))")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {GRAMS_INDEX}")
    op.execute("DROP FUNCTION IF EXISTS admin.title_grams(text)")
