"""incremental rollup: the Revenue page's daily rollup keeps up with what changed.

0004/0008 made the rollup materialized views, rebuilt whole every day (18.9 s at 5M
purchases, minutes at 50M). Now they are plain tables in ``admin`` with the same names,
columns and keys, kept by one ``SECURITY DEFINER`` function, ``admin.refresh_revenue_rollup()``:

* **Incremental** (the rollup exists, for the platform's current time zone): the local days
  touched since the last refresh are found through indexes by a watermark — purchases and
  paid bookings *created* since (back-dated rows included: a row imported today with an old
  ``purchased_at`` touches its old day), purchases *refunded*, bookings *canceled*, refund
  requests *completed* and ledger rows *created* since — plus the days that became complete
  since the last refresh (the old boundary up to today). Each run of consecutive days is
  deleted and aggregated again from ``admin.revenue_events`` by a time range, as are the
  months those days lie in (distinct payers per month). The work follows the change, not the
  history.
* **Full** (never built, or built for another time zone): everything again, once.

The watermark is where the last refresh's snapshot began: the earliest start of any
transaction still open then (a row such a transaction commits later carries its own
``now()``), less a ten-minute margin for timestamps a client wrote from its own clock.
Re-reading a few minutes twice costs nothing; missing a row would cost a wrong chart.

Readers are never blocked: the deletes and inserts commit together, and until then a reader
sees the previous rollup (MVCC), as ``REFRESH ... CONCURRENTLY`` gave. One refresh at a time:
a second caller is told ``busy`` at once (a transaction-scoped advisory lock).

Every staff group may run the function (the rollup is derived data; nobody writes the
tables directly).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PINNED = "SET search_path = admin, public, pg_temp"
REFRESH_SIGNATURE = "admin.refresh_revenue_rollup(integer)"
WATERMARK_MARGIN = "10 minutes"

TABLES = {
    "revenue_rollup_info": """
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        refreshed_at timestamptz NOT NULL,
        timezone text NOT NULL,
        boundary_day date NOT NULL,
        watermark timestamptz NOT NULL,
        built_from date,
        last_kind text NOT NULL,
        last_days integer NOT NULL""",
    "revenue_daily": """
        day date NOT NULL, currency text NOT NULL, source text NOT NULL, kind text NOT NULL,
        gross numeric NOT NULL, refunds numeric NOT NULL, sales bigint NOT NULL,
        refund_count bigint NOT NULL,
        PRIMARY KEY (day, currency, source, kind)""",
    "revenue_daily_content": """
        day date NOT NULL, currency text NOT NULL, content_id uuid NOT NULL,
        gross numeric NOT NULL, refunds numeric NOT NULL, sales bigint NOT NULL,
        refund_count bigint NOT NULL,
        PRIMARY KEY (day, currency, content_id)""",
    "revenue_monthly_payers": """
        month date NOT NULL, currency text NOT NULL, payers bigint NOT NULL,
        PRIMARY KEY (month, currency)""",
    "credit_daily": """
        day date NOT NULL, granted bigint NOT NULL, spent bigint NOT NULL,
        expired bigint NOT NULL, net_change bigint NOT NULL,
        PRIMARY KEY (day)""",
}

def _local(ts: str, tz: str = "$3") -> str:
    """The local day of the naive-UTC timestamp ``ts`` in the time zone ``tz``."""
    return f"(({ts} AT TIME ZONE 'UTC') AT TIME ZONE {tz})::date"


# Each function runs its queries with EXECUTE ... USING: planned for the actual range every
# time (a cached generic plan cannot tell a day from the whole history and scans tables).

# Rebuild the local days [lo, hi) of the daily tables.
REBUILD_DAYS = f"""
CREATE FUNCTION admin.revenue_rollup_days(tz text, lo date, hi date) RETURNS void
LANGUAGE plpgsql {PINNED}
AS $$
DECLARE
    lo_utc timestamp := (lo::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC';
    hi_utc timestamp := (hi::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC';
BEGIN
    DELETE FROM admin.revenue_daily WHERE day >= lo AND day < hi;
    EXECUTE $q$
    INSERT INTO admin.revenue_daily
    SELECT {_local('e.ts')}, e.currency, e.source, e.kind,
           coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0),
           coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0),
           count(*) FILTER (WHERE e.event = 'sale'),
           count(*) FILTER (WHERE e.event = 'refund')
    FROM admin.revenue_events e WHERE e.ts >= $1 AND e.ts < $2
    GROUP BY 1, 2, 3, 4 $q$ USING lo_utc, hi_utc, tz;

    DELETE FROM admin.revenue_daily_content WHERE day >= lo AND day < hi;
    EXECUTE $q$
    INSERT INTO admin.revenue_daily_content
    SELECT {_local('e.ts')}, e.currency, e.item_id,
           coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0),
           coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0),
           count(*) FILTER (WHERE e.event = 'sale'),
           count(*) FILTER (WHERE e.event = 'refund')
    FROM admin.revenue_events e
    WHERE e.source = 'content' AND e.ts >= $1 AND e.ts < $2
    GROUP BY 1, 2, 3 $q$ USING lo_utc, hi_utc, tz;

    DELETE FROM admin.credit_daily WHERE day >= lo AND day < hi;
    EXECUTE $q$
    INSERT INTO admin.credit_daily
    SELECT {_local('t.created_at')},
           coalesce(sum(t.amount) FILTER (WHERE t.amount > 0), 0),
           coalesce(-sum(t.amount) FILTER (WHERE t.type = 'spent_offering'), 0),
           coalesce(-sum(t.amount) FILTER (WHERE t.type = 'expired'), 0),
           coalesce(sum(t.amount), 0)
    FROM credit_transactions t WHERE t.created_at >= $1 AND t.created_at < $2
    GROUP BY 1 $q$ USING lo_utc, hi_utc, tz;
END
$$
"""

# Rebuild the distinct payers of the local months [lo, hi) (first days of months).
REBUILD_MONTHS = f"""
CREATE FUNCTION admin.revenue_rollup_months(tz text, lo date, hi date) RETURNS void
LANGUAGE plpgsql {PINNED}
AS $$
BEGIN
    DELETE FROM admin.revenue_monthly_payers WHERE month >= lo AND month < hi;
    EXECUTE $q$
    INSERT INTO admin.revenue_monthly_payers
    SELECT date_trunc('month', (e.ts AT TIME ZONE 'UTC') AT TIME ZONE $3)::date, e.currency,
           count(DISTINCT e.customer_id)
    FROM admin.revenue_events e
    WHERE e.event = 'sale' AND e.ts >= $1 AND e.ts < $2
    GROUP BY 1, 2 $q$
    USING (lo::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC',
          (hi::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC', tz;
END
$$
"""

# The local days (before today) whose figures a row changed since ``since`` may have moved.
# Each branch is served by an index: idx_purchases_created_at, 0004's partial indexes on
# refunds and paid bookings, ix_refund_requests_completed, idx_credit_transactions_created_at.
TOUCHED_DAYS = f"""
CREATE FUNCTION admin.revenue_rollup_touched_days(tz text, since timestamptz, today date)
RETURNS date[]
LANGUAGE plpgsql STABLE {PINNED}
AS $$
DECLARE
    days date[];
BEGIN
    EXECUTE $q$
    SELECT coalesce(array_agg(DISTINCT d ORDER BY d), '{{}}') FROM (
        SELECT {_local('coalesce(p.purchased_at, p.created_at)')} AS d
        FROM purchases p WHERE p.created_at >= $1
        UNION ALL
        SELECT {_local('p.refunded_at')} FROM purchases p
        WHERE p.created_at >= $1 AND p.refunded_at IS NOT NULL
        UNION ALL
        SELECT {_local('p.refunded_at')} FROM purchases p
        WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL AND p.refunded_at >= $1
        UNION ALL
        SELECT {_local('r.completed_at::timestamp')} FROM admin.refund_requests r
        WHERE r.completed_at >= $2
        UNION ALL  -- a succeeded request replaces the purchase's or booking's own refund day
        SELECT {_local('coalesce(p.refunded_at, b.canceled_at)')}
        FROM admin.refund_requests r
        LEFT JOIN purchases p ON p.id = r.purchase_id
        LEFT JOIN offering_bookings b ON b.id = r.booking_id
        WHERE r.completed_at >= $2 AND coalesce(p.refunded_at, b.canceled_at) IS NOT NULL
        UNION ALL
        SELECT {_local('b.created_at')} FROM offering_bookings b
        WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.created_at >= $1
        UNION ALL
        SELECT {_local('b.canceled_at')} FROM offering_bookings b
        WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.created_at >= $1
          AND b.canceled_at IS NOT NULL
        UNION ALL
        SELECT {_local('b.canceled_at')} FROM offering_bookings b
        WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.status = 'canceled'
          AND b.canceled_at IS NOT NULL AND b.canceled_at >= $1
        UNION ALL
        SELECT {_local('t.created_at')} FROM credit_transactions t WHERE t.created_at >= $1
    ) touched
    WHERE d < $4 $q$
    INTO days USING (since AT TIME ZONE 'UTC'), since, tz, today;
    RETURN days;
END
$$
"""

# The first local day with a sale or a ledger row (refunds come after their sales): each
# minimum read from the head of an index (0004's event-time indexes, the ledger's).
_FIRST_TS = """least(
        (SELECT min(coalesce(p.purchased_at, p.created_at)) FROM purchases p
          WHERE p.status IN ('completed', 'refunded')),
        (SELECT min(b.created_at) FROM offering_bookings b
          WHERE b.payment_method = 'purchase' AND b.amount_paid > 0),
        (SELECT min(t.created_at) FROM credit_transactions t))"""
FIRST_DAY = f"""
CREATE FUNCTION admin.revenue_rollup_first_day(tz text) RETURNS date
LANGUAGE sql STABLE {PINNED}
AS $$
    SELECT {_local(_FIRST_TS, 'tz')}
$$
"""

REFRESH = f"""
CREATE FUNCTION {REFRESH_SIGNATURE.replace('integer', 'chunk_months integer DEFAULT NULL')}
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
SET work_mem = '64MB'  -- distinct payers of a month sort in memory
AS $$
DECLARE
    tz text := admin.platform_timezone();
    today date := (now() AT TIME ZONE tz)::date;
    this_month date := date_trunc('month', today)::date;
    info admin.revenue_rollup_info;
    next_watermark timestamptz;
    built_from date;
    older date;
    first_day date;
    days date[] := '{{}}';
    d date;
    run_lo date;
    run_hi date;
    months date[];
    kind text;
BEGIN
    IF chunk_months IS NOT NULL AND chunk_months < 1 THEN
        RAISE EXCEPTION 'chunk_months must be at least 1, not %', chunk_months;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('platform-admin revenue rollup')) THEN
        RETURN 'busy';
    END IF;
    -- Rows of transactions still open now commit later with their own now(): the next
    -- refresh reads from the earliest of those starts (visible ones; the margin covers
    -- the rest, and timestamps written from a client's clock).
    SELECT least(now(), min(a.xact_start)) - interval '{WATERMARK_MARGIN}'
      INTO next_watermark
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.xact_start IS NOT NULL;
    SELECT * INTO info FROM admin.revenue_rollup_info WHERE id = 1;

    IF info.id IS NULL OR info.timezone IS DISTINCT FROM tz THEN
        -- From nothing: the newest months first when asked for chunks.
        DELETE FROM admin.revenue_daily;
        DELETE FROM admin.revenue_daily_content;
        DELETE FROM admin.credit_daily;
        DELETE FROM admin.revenue_monthly_payers;
        built_from := today;
        older := CASE WHEN chunk_months IS NULL THEN '-infinity'::date
                      ELSE (this_month - make_interval(months => chunk_months - 1))::date END;
        kind := 'full';
    ELSE
        kind := 'incremental';
        built_from := coalesce(info.built_from, '-infinity'::date);
        days := admin.revenue_rollup_touched_days(tz, info.watermark, today);
        -- The days that became complete since the last refresh.
        days := ARRAY(SELECT DISTINCT x FROM unnest(days || ARRAY(
                    SELECT g::date FROM generate_series(info.boundary_day::timestamp,
                        (today - 1)::timestamp, interval '1 day') g)) x
                  WHERE x >= built_from ORDER BY x);
        run_lo := NULL;
        FOREACH d IN ARRAY days LOOP
            IF run_lo IS NULL THEN
                run_lo := d; run_hi := d + 1;
            ELSIF d = run_hi THEN
                run_hi := d + 1;
            ELSE
                PERFORM admin.revenue_rollup_days(tz, run_lo, run_hi);
                run_lo := d; run_hi := d + 1;
            END IF;
        END LOOP;
        IF run_lo IS NOT NULL THEN
            PERFORM admin.revenue_rollup_days(tz, run_lo, run_hi);
        END IF;
        -- The complete months those days lie in, and those completed since.
        months := ARRAY(SELECT DISTINCT m FROM (
                    SELECT date_trunc('month', x)::date AS m FROM unnest(days) x
                    UNION ALL
                    SELECT g::date FROM generate_series(
                        date_trunc('month', info.boundary_day), this_month
                        - interval '1 month', interval '1 month') g) ms
                  WHERE m < this_month AND m >= built_from ORDER BY m);
        FOREACH d IN ARRAY months LOOP
            PERFORM admin.revenue_rollup_months(tz, d, (d + interval '1 month')::date);
        END LOOP;
        -- Still building from a cold start: the next months back.
        IF info.built_from IS NOT NULL THEN
            older := CASE WHEN chunk_months IS NULL THEN '-infinity'::date
                          ELSE (built_from - make_interval(months => chunk_months))::date END;
            kind := 'building';
        END IF;
    END IF;

    IF older IS NOT NULL THEN
        first_day := admin.revenue_rollup_first_day(tz);
        IF first_day IS NULL OR older <= first_day THEN
            older := '-infinity'::date;
        END IF;
        PERFORM admin.revenue_rollup_days(tz, older, built_from);
        PERFORM admin.revenue_rollup_months(tz, older, least(built_from, this_month));
        built_from := older;
        IF older = '-infinity'::date THEN
            built_from := NULL;
            IF kind = 'building' THEN
                kind := 'built';
            END IF;
        ELSIF kind = 'full' THEN
            kind := 'building';
        END IF;
    ELSIF built_from = '-infinity'::date THEN
        built_from := NULL;
    END IF;

    INSERT INTO admin.revenue_rollup_info AS i
        (id, refreshed_at, timezone, boundary_day, watermark, built_from, last_kind, last_days)
    VALUES (1, now(), tz, today, next_watermark, built_from, kind,
            CASE WHEN older IS NULL THEN cardinality(days)
                 ELSE (SELECT count(DISTINCT x.day)::int FROM admin.revenue_daily x) END)
    ON CONFLICT (id) DO UPDATE SET
        refreshed_at = excluded.refreshed_at, timezone = excluded.timezone,
        boundary_day = excluded.boundary_day, watermark = excluded.watermark,
        built_from = excluded.built_from,
        last_kind = excluded.last_kind, last_days = excluded.last_days;
    RETURN kind;
END
$$
"""

HELPERS = (
    "admin.revenue_rollup_days(text, date, date)",
    "admin.revenue_rollup_months(text, date, date)",
    "admin.revenue_rollup_touched_days(text, timestamptz, date)",
    "admin.revenue_rollup_first_day(text)",
)


def upgrade() -> None:
    for name in TABLES:
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS admin.{name}")
    for name, columns in TABLES.items():
        op.execute(f"CREATE TABLE admin.{name} ({columns})")
    for sql in (REBUILD_DAYS, REBUILD_MONTHS, TOUCHED_DAYS, FIRST_DAY, REFRESH):
        op.execute(sql)
    for function in (*HELPERS, REFRESH_SIGNATURE):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    m0004 = importlib.import_module("data.migrations.versions.0004_revenue_rollup")
    m0008 = importlib.import_module("data.migrations.versions.0008_revenue_per_currency")
    op.execute(f"DROP FUNCTION IF EXISTS {REFRESH_SIGNATURE}")
    for function in HELPERS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    for name in TABLES:
        op.execute(f"DROP TABLE IF EXISTS admin.{name}")
    views = {**m0008.ROLLUP_VIEWS, "credit_daily": m0004.ROLLUP_VIEWS["credit_daily"]}
    m0008._create(views)
