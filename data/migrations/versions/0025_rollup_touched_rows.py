"""rollup touched rows: past sales the platform changes are found by ``updated_at``.

0020's refresh reads the money events by *arrival* (a purchase's ``created_at``, a refund's
``refunded_at``, ...). A row whose arrival lies before the watermark but that changed since
went unseen: a sale imported with an old ``created_at``, a refund written with an old
``refunded_at``, an old sale whose status or amount the platform changed. The platform stamps
``updated_at`` on every write (seed 004, "All tables have created_at and updated_at"), so a
refresh now also reads the purchases and card bookings updated since the watermark that
arrived before the record began: the record cannot say what they counted, so their days (the
sale's and the refund's) are rebuilt from the events, and for a sale its month's payers. An
ordinary refund of an old sale (``refunded_at`` after the watermark) is an event the window
already reads and is added by delta as before. Both reads go through an index on
``updated_at``, built CONCURRENTLY, so a refresh costs what changed, not the table.

What no refresh can see is a row *deleted* from before the record (no trigger on the
platform's tables); a full rebuild (``revenue_rollup_info`` emptied) settles that.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_m0020 = importlib.import_module("data.migrations.versions.0020_rollup_delta")
_local = _m0020._local

APP_INDEXES = {
    "ix_admin_purchases_updated_at": "purchases (updated_at)",
    "ix_admin_offering_bookings_updated_at": "offering_bookings (updated_at)",
}

# The days (and, for sales, whether the day's month needs its payers rebuilt) of the rows
# touched since $1 that arrived before $2, the start of the record.
_TOUCHED = f"""
    SELECT coalesce(array_agg(DISTINCT t.day), '{{}}'),
           coalesce(array_agg(DISTINCT date_trunc('month', t.day)::date)
                    FILTER (WHERE t.sale), '{{}}')
    FROM (
        SELECT {_local('v.ts')} AS day, v.sale
        FROM purchases p
        CROSS JOIN LATERAL (VALUES (coalesce(p.purchased_at, p.created_at), true),
                                   (p.refunded_at, false)) v(ts, sale)
        WHERE p.updated_at >= $1 AND p.created_at < $2 AND v.ts IS NOT NULL
          AND NOT coalesce(p.refunded_at >= $1, false)
        UNION ALL
        SELECT {_local('v.ts')}, v.sale
        FROM offering_bookings b
        CROSS JOIN LATERAL (VALUES (b.created_at, true), (b.canceled_at, false)) v(ts, sale)
        WHERE b.payment_method = 'purchase' AND b.updated_at >= $1 AND b.created_at < $2
          AND v.ts IS NOT NULL AND NOT coalesce(b.canceled_at >= $1, false)
    ) t"""

_ANCHOR = "    run_lo := NULL;\n    FOREACH d IN ARRAY redo LOOP"
_MERGE = f"""    -- Past rows changed since (updated_at) that the record cannot settle: rebuilt.
    EXECUTE $q${_TOUCHED} $q$
       INTO touched, touched_months
      USING since AT TIME ZONE 'UTC', recent_from AT TIME ZONE 'UTC', tz;
    redo := ARRAY(SELECT DISTINCT x FROM unnest(redo || touched) x
                  WHERE x >= built_from ORDER BY x);
    redo_months := ARRAY(SELECT DISTINCT x FROM unnest(redo_months || touched_months) x
                         WHERE x >= date_trunc('month', built_from)::date);
"""


def _delta() -> str:
    sql = _m0020.DELTA
    assert _ANCHOR in sql and "    redo date[];\n" in sql
    sql = sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    sql = sql.replace("    redo date[];\n",
                      "    redo date[];\n    touched date[];\n    touched_months date[];\n", 1)
    return sql.replace(_ANCHOR, _MERGE + _ANCHOR, 1)


DELTA = _delta()


def upgrade() -> None:
    op.execute(DELTA)
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    op.execute(_m0020.DELTA.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
