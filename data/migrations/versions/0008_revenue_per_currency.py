"""revenue per currency: the events and the rollup keep each amount's currency.

0004's rollup summed ``amount_paid`` whatever ``purchases.currency`` said, so 10 EUR and
10 USD made "20.00". Now:

* ``admin.revenue_events`` gains a last column ``currency`` (lower case): the purchase's own
  ``currency`` for content, and ``'usd'`` for offering bookings, which carry no currency on
  the platform (the refund service makes the same assumption; the Revenue page says so).
* ``revenue_daily`` is keyed by (day, currency, source, kind), ``revenue_daily_content`` by
  (day, currency, content_id) and ``revenue_monthly_payers`` by (month, currency): a sum
  never crosses currencies. They are rebuilt WITH NO DATA, and ``revenue_rollup_info`` with
  them, so the app sees "not built yet" and rebuilds the whole rollup once (``credit_daily``
  holds tokens only and is kept).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOOKING_CURRENCY = "usd"

# 0005's definition with the currency appended (CREATE OR REPLACE may add a last column).
REVENUE_EVENTS = f"""
CREATE OR REPLACE VIEW admin.revenue_events AS
SELECT coalesce(p.purchased_at, p.created_at) AS ts, 'sale'::text AS event,
       'content'::text AS source, c.content_type::text AS kind, p.content_id AS item_id,
       p.customer_id, p.id AS record_id, p.amount_paid AS amount,
       lower(p.currency)::text AS currency
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status IN ('completed', 'refunded')
UNION ALL
SELECT p.refunded_at, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, p.amount_paid, lower(p.currency)
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL
  AND NOT EXISTS (SELECT FROM admin.refund_requests r
                  WHERE r.purchase_id = p.id AND r.status = 'succeeded')
UNION ALL
SELECT r.completed_at::timestamp, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, r.amount, lower(p.currency)
FROM admin.refund_requests r
JOIN purchases p ON p.id = r.purchase_id JOIN content c ON c.id = p.content_id
WHERE r.status = 'succeeded' AND r.amount > 0
UNION ALL
SELECT b.created_at, 'sale', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid, '{BOOKING_CURRENCY}'
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0
UNION ALL
SELECT b.canceled_at, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid, '{BOOKING_CURRENCY}'
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.status = 'canceled'
  AND b.canceled_at IS NOT NULL
  AND NOT EXISTS (SELECT FROM admin.refund_requests r
                  WHERE r.booking_id = b.id AND r.status = 'succeeded')
UNION ALL
SELECT r.completed_at::timestamp, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, r.amount, '{BOOKING_CURRENCY}'
FROM admin.refund_requests r
JOIN offering_bookings b ON b.id = r.booking_id JOIN offerings o ON o.id = b.offering_id
WHERE r.status = 'succeeded' AND r.amount > 0
"""

_SETTINGS = """
    settings AS (
        SELECT tz, boundary_day,
               (boundary_day::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC' AS boundary_utc
        FROM (SELECT tz, (now() AT TIME ZONE tz)::date AS boundary_day
              FROM admin.platform_timezone() AS tz) s
    )"""

ROLLUP_VIEWS = {
    "revenue_rollup_info": (
        """
        SELECT 1 AS id, now() AS refreshed_at, tz AS timezone,
               (now() AT TIME ZONE tz)::date AS boundary_day
        FROM admin.platform_timezone() AS tz
        """,
        "(id)",
    ),
    "revenue_daily": (
        f"""
        WITH {_SETTINGS}
        SELECT ((e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS day, e.currency,
               e.source, e.kind,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0) AS gross,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0) AS refunds,
               count(*) FILTER (WHERE e.event = 'sale') AS sales,
               count(*) FILTER (WHERE e.event = 'refund') AS refund_count
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.ts < s.boundary_utc
        GROUP BY 1, 2, 3, 4
        """,
        "(day, currency, source, kind)",
    ),
    "revenue_daily_content": (
        f"""
        WITH {_SETTINGS}
        SELECT ((e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS day, e.currency,
               e.item_id AS content_id,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0) AS gross,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0) AS refunds,
               count(*) FILTER (WHERE e.event = 'sale') AS sales,
               count(*) FILTER (WHERE e.event = 'refund') AS refund_count
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.source = 'content' AND e.ts < s.boundary_utc
        GROUP BY 1, 2, 3
        """,
        "(day, currency, content_id)",
    ),
    "revenue_monthly_payers": (
        f"""
        WITH {_SETTINGS}
        SELECT date_trunc('month', (e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS month,
               e.currency, count(DISTINCT e.customer_id) AS payers
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.event = 'sale'
          AND e.ts < (date_trunc('month', s.boundary_day::timestamp) AT TIME ZONE s.tz)
                     AT TIME ZONE 'UTC'
        GROUP BY 1, 2
        """,
        "(month, currency)",
    ),
}


def _create(views: dict[str, tuple[str, str]]) -> None:
    for name, (query, key) in views.items():
        op.execute(f"CREATE MATERIALIZED VIEW admin.{name} AS {query} WITH NO DATA")
        op.execute(f"CREATE UNIQUE INDEX {name}_key ON admin.{name} {key}")


def upgrade() -> None:
    for name in ROLLUP_VIEWS:
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS admin.{name}")
    op.execute(REVENUE_EVENTS)
    _create(ROLLUP_VIEWS)


def downgrade() -> None:
    m0004 = importlib.import_module("data.migrations.versions.0004_revenue_rollup")
    m0005 = importlib.import_module("data.migrations.versions.0005_refund_requests")
    for name in ROLLUP_VIEWS:
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS admin.{name}")
    op.execute("DROP VIEW admin.revenue_events")
    op.execute(m0005.REVENUE_EVENTS.replace("CREATE OR REPLACE VIEW", "CREATE VIEW"))
    _create({name: m0004.ROLLUP_VIEWS[name] for name in ROLLUP_VIEWS})
