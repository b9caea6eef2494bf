"""rollup cold start: a day's refresh no longer scans the rollup's history.

0020's delta (kept by 0025) removed the rollup rows a change emptied with ``DELETE ... USING
rollup_delta WHERE ... AND sales = 0 AND refund_count = 0``: the planner, seeing few rows
with no sales, read the whole of ``revenue_daily_content`` (a row per item and day of the
whole history: 95k rows at 200k purchases, millions at 5M) and ``revenue_daily`` on every
refresh, to find nothing. Now the upsert that adds the delta returns the keys it left empty
and only those are deleted, by their primary key (none on an ordinary day: a row empties
only when a sale or refund it counted went away). And the distinct payers' re-count of a
changed customer's month is made once per customer and month (it was made twice: the CTE
was inlined into both sides of the sum). Results are the same; the work follows the day's
changes.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_m0025 = importlib.import_module("data.migrations.versions.0025_rollup_touched_rows")

_DAILY_UPSERT = "    INSERT INTO admin.revenue_daily AS t\n"
_DAILY_DELETE = """    DELETE FROM admin.revenue_daily t USING rollup_delta x
    WHERE t.day = x.day AND t.currency = x.currency AND t.source = x.source
      AND t.kind = x.kind AND t.sales = 0 AND t.refund_count = 0;
"""
_DAILY_RETURNING = """        sales = t.sales + excluded.sales, refund_count = t.refund_count + excluded.refund_count;
    DELETE FROM admin.revenue_daily t USING"""
_CONTENT_UPSERT = "    INSERT INTO admin.revenue_daily_content AS t\n"
_CONTENT_DELETE = """    DELETE FROM admin.revenue_daily_content t USING rollup_delta x
    WHERE t.day = x.day AND t.currency = x.currency AND t.content_id = x.item_id
      AND t.sales = 0 AND t.refund_count = 0;
"""
_UPDATE_END = ("        sales = t.sales + excluded.sales, "
               "refund_count = t.refund_count + excluded.refund_count;\n")
_EMPTIED = ("        sales = t.sales + excluded.sales, "
            "refund_count = t.refund_count + excluded.refund_count\n"
            "        RETURNING t.*)\n")


def _delta() -> str:
    sql = _m0025.DELTA
    for anchor in (_DAILY_UPSERT, _DAILY_DELETE, _CONTENT_UPSERT, _CONTENT_DELETE,
                   "    changed integer;\n", "    c AS (\n"):
        assert sql.count(anchor) == 1, anchor
    assert sql.count(_UPDATE_END) == 2
    sql = sql.replace("    changed integer;\n", """    changed integer;
    e_days date[];
    e_currencies text[];
    e_sources text[];
    e_kinds text[];
    e_items uuid[];
""", 1)
    # revenue_daily: the upsert returns the rows it left without sales or refunds.
    head, rest = sql.split(_DAILY_UPSERT, 1)
    body, rest = rest.split(_UPDATE_END, 1)
    sql = (head + "    WITH up AS (\n" + _DAILY_UPSERT + body + _EMPTIED
           + "    SELECT array_agg(day), array_agg(currency), array_agg(source), array_agg(kind)\n"
           "      INTO e_days, e_currencies, e_sources, e_kinds\n"
           "      FROM up WHERE up.sales = 0 AND up.refund_count = 0;\n" + rest)
    sql = sql.replace(_DAILY_DELETE, """    IF e_days IS NOT NULL THEN  -- by key: never a scan of the history
        DELETE FROM admin.revenue_daily t
        USING unnest(e_days, e_currencies, e_sources, e_kinds) AS e(day, currency, source, kind)
        WHERE (t.day, t.currency, t.source, t.kind) = (e.day, e.currency, e.source, e.kind)
          AND t.sales = 0 AND t.refund_count = 0;
    END IF;
""", 1)
    head, rest = sql.split(_CONTENT_UPSERT, 1)
    body, rest = rest.split(_UPDATE_END, 1)
    sql = (head + "    WITH up AS (\n" + _CONTENT_UPSERT + body + _EMPTIED
           + "    SELECT array_agg(day), array_agg(currency), array_agg(content_id)\n"
           "      INTO e_days, e_currencies, e_items\n"
           "      FROM up WHERE up.sales = 0 AND up.refund_count = 0;\n" + rest)
    sql = sql.replace(_CONTENT_DELETE, """    IF e_days IS NOT NULL THEN
        DELETE FROM admin.revenue_daily_content t
        USING unnest(e_days, e_currencies, e_items) AS e(day, currency, content_id)
        WHERE (t.day, t.currency, t.content_id) = (e.day, e.currency, e.content_id)
          AND t.sales = 0 AND t.refund_count = 0;
    END IF;
""", 1)
    # Each changed customer's month counted once (the CTE was inlined into both uses).
    return sql.replace("    c AS (\n", "    c AS MATERIALIZED (\n", 1)


DELTA = _delta()


def upgrade() -> None:
    op.execute(DELTA)


def downgrade() -> None:
    op.execute(_m0025.DELTA)
