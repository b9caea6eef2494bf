"""revenue: one definition of what counts as revenue, and a daily rollup of it.

* ``admin.platform_timezone()`` is the platform's time zone (``platform_settings.timezone``),
  or 'UTC' when it is unset or not a zone PostgreSQL knows.
* ``admin.revenue_events`` (a plain view) lists every money event of the platform: a sale of
  content or of an offering booking paid by card (at the time it was paid), and its refund
  (at the time it was refunded; a canceled card-paid booking counts as refunded when it was
  canceled). The Revenue page reads it directly on small databases and for the days the
  rollup does not cover yet.
* The rollup: materialized views in the platform's time zone, by *local* calendar day, of
  the days before the day the rollup was refreshed (``revenue_rollup_info.boundary_day``):
  ``revenue_daily`` (day, source, kind), ``revenue_daily_content`` (day, content item, for
  the top-ten list), ``credit_daily`` (tokens), ``revenue_monthly_payers`` (distinct paying
  customers per complete local month). ``revenue_rollup_info`` records when, and for which
  time zone, they were built: the app refreshes them together, CONCURRENTLY (each has a
  unique index), and ignores them until rebuilt when the time zone changed. They are created
  WITH NO DATA: the first refresh fills them (so rows loaded after this migration, e.g. demo
  data, are never missed by a rollup built before them).
* Partial indexes (``ix_admin_``) on the platform's tables for the event times the page
  filters on, built CONCURRENTLY so the web app keeps writing meanwhile.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    # When a purchase was paid (sales), and refunded (refunds). Not partial: the planner
    # takes an expression's statistics only from a full index, and without them it guesses
    # a time range holds 0.5% of the rows (and sorts a month of sales to show 200).
    "ix_admin_purchases_paid_at": "purchases ((coalesce(purchased_at, created_at)))",
    "ix_admin_purchases_refunded_at":
        "purchases (refunded_at) WHERE status = 'refunded' AND refunded_at IS NOT NULL",
    # Card-paid bookings: when paid, and when canceled (refunded).
    "ix_admin_offering_bookings_paid_at":
        "offering_bookings (created_at) "
        "WHERE payment_method = 'purchase' AND amount_paid > 0",
    "ix_admin_offering_bookings_refunded_at":
        "offering_bookings (canceled_at) WHERE payment_method = 'purchase' "
        "AND amount_paid > 0 AND status = 'canceled' AND canceled_at IS NOT NULL",
}

PLATFORM_TIMEZONE = """
CREATE OR REPLACE FUNCTION admin.platform_timezone() RETURNS text
LANGUAGE plpgsql STABLE
-- REFRESH MATERIALIZED VIEW runs with a restricted search_path: keep the one the platform's
-- tables were found on when this migration ran.
SET search_path FROM CURRENT
AS $$
DECLARE
    tz text;
BEGIN
    SELECT timezone INTO tz FROM platform_settings ORDER BY created_at, id LIMIT 1;
    IF tz IS NULL OR btrim(tz) = '' THEN
        RETURN 'UTC';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- raises for a zone PostgreSQL does not know
    RETURN tz;
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN 'UTC';
END
$$
"""

# Every branch's filter matches one of APP_INDEXES, so a time range pushed into the view
# becomes four index range scans.
REVENUE_EVENTS = """
CREATE VIEW admin.revenue_events AS
SELECT coalesce(p.purchased_at, p.created_at) AS ts, 'sale'::text AS event,
       'content'::text AS source, c.content_type::text AS kind, p.content_id AS item_id,
       p.customer_id, p.id AS record_id, p.amount_paid AS amount
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status IN ('completed', 'refunded')
UNION ALL
SELECT p.refunded_at, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, p.amount_paid
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL
UNION ALL
SELECT b.created_at, 'sale', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0
UNION ALL
SELECT b.canceled_at, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.status = 'canceled'
  AND b.canceled_at IS NOT NULL
"""

# The refresh's time zone and boundary: local days before boundary_day are rolled up.
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
        SELECT ((e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS day, e.source, e.kind,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0) AS gross,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0) AS refunds,
               count(*) FILTER (WHERE e.event = 'sale') AS sales,
               count(*) FILTER (WHERE e.event = 'refund') AS refund_count
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.ts < s.boundary_utc
        GROUP BY 1, 2, 3
        """,
        "(day, source, kind)",
    ),
    "revenue_daily_content": (
        f"""
        WITH {_SETTINGS}
        SELECT ((e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS day,
               e.item_id AS content_id,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0) AS gross,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0) AS refunds,
               count(*) FILTER (WHERE e.event = 'sale') AS sales,
               count(*) FILTER (WHERE e.event = 'refund') AS refund_count
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.source = 'content' AND e.ts < s.boundary_utc
        GROUP BY 1, 2
        """,
        "(day, content_id)",
    ),
    "revenue_monthly_payers": (
        f"""
        WITH {_SETTINGS}
        SELECT date_trunc('month', (e.ts AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS month,
               count(DISTINCT e.customer_id) AS payers
        FROM admin.revenue_events e CROSS JOIN settings s
        WHERE e.event = 'sale'
          AND e.ts < (date_trunc('month', s.boundary_day::timestamp) AT TIME ZONE s.tz)
                     AT TIME ZONE 'UTC'
        GROUP BY 1
        """,
        "(month)",
    ),
    "credit_daily": (
        f"""
        WITH {_SETTINGS}
        SELECT ((t.created_at AT TIME ZONE 'UTC') AT TIME ZONE s.tz)::date AS day,
               coalesce(sum(t.amount) FILTER (WHERE t.amount > 0), 0) AS granted,
               coalesce(-sum(t.amount) FILTER (WHERE t.type = 'spent_offering'), 0) AS spent,
               coalesce(-sum(t.amount) FILTER (WHERE t.type = 'expired'), 0) AS expired,
               coalesce(sum(t.amount), 0) AS net_change
        FROM credit_transactions t CROSS JOIN settings s
        WHERE t.created_at < s.boundary_utc
        GROUP BY 1
        """,
        "(day)",
    ),
}


def upgrade() -> None:
    op.execute(PLATFORM_TIMEZONE)
    op.execute(REVENUE_EVENTS)
    for name, (query, key) in ROLLUP_VIEWS.items():
        op.execute(f"CREATE MATERIALIZED VIEW admin.{name} AS {query} WITH NO DATA")
        # REFRESH ... CONCURRENTLY needs a unique index on plain columns.
        op.execute(f"CREATE UNIQUE INDEX {name}_key ON admin.{name} {key}")
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    for name in reversed(ROLLUP_VIEWS):
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS admin.{name}")
    op.execute("DROP VIEW IF EXISTS admin.revenue_events")
    op.execute("DROP FUNCTION IF EXISTS admin.platform_timezone()")
