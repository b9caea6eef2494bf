"""rollup delta: the Revenue rollup adds what changed instead of rebuilding the days it touched.

0016 rebuilt every local day a change touched (and every day that became complete): a day
costs its rows, and the demo's days grow with its size (0.8-1.7 s at 500k purchases, 22 s at
5M). Now ``admin.refresh_revenue_rollup()`` keeps the tables by *delta*:

* The rollup holds every local day, today's included (readers still read only the days
  before ``boundary_day``), so a day becoming complete costs nothing.
* ``admin.revenue_rollup_recent`` holds each money event the rollup counted whose *arrival*
  (when the row said it happened: a purchase's or booking's ``created_at``, a refund's
  ``refunded_at``, a cancellation's ``canceled_at``, a refund request's ``completed_at``, a
  ledger row's ``created_at``) lies after the last refresh's watermark, with what it added.
* A refresh reads the events arriving since the watermark once, through 0004/0005's indexes
  (``admin.revenue_rollup_window``), and compares them with that record, key by key: a new
  event adds its contribution to its own day, month and content (back-dated sales land on
  their old day), a changed one (an amount updated, a platform refund replaced by a refund
  request) subtracts what it added and adds what it is now, a vanished one (a row deleted)
  subtracts what it added. Distinct payers of a month change by the customers whose first or
  last sale of that month came or went (their sales counted through the customer indexes).
  A transaction open during a refresh commits rows carrying its own earlier ``now()``: the
  watermark (the earliest open transaction's start, less a margin) is before it, so the next
  refresh finds the row, and finds it not yet recorded: counted once, never twice.
* Where the record cannot say what was counted, the day is rebuilt from the events (0016's
  ``admin.revenue_rollup_days``): an event arriving between the watermark and the start of the
  record (the watermark moved back), a ledger row changed or deleted (the credit table has no
  count to take it out by), a refund request that replaces an older platform refund. A month
  with such a sale has its payers rebuilt.

The cold start is 0016's: the newest months first, chunk by chunk, and a concurrent refresh is
told ``busy``. The existing rollup (0016's, days before its boundary only) is dropped: the next
refresh builds it again, whole.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_m0016 = importlib.import_module("data.migrations.versions.0016_incremental_rollup")
PINNED = _m0016.PINNED
WATERMARK_MARGIN = _m0016.WATERMARK_MARGIN
_local = _m0016._local

RECENT = """
CREATE TABLE admin.revenue_rollup_recent (
    source text NOT NULL, record_id uuid NOT NULL, event text NOT NULL,
    arrival timestamptz NOT NULL, day date NOT NULL, currency text, kind text,
    item_id uuid, customer_id uuid, amount numeric NOT NULL,
    PRIMARY KEY (source, record_id, event))"""

# One row per money event arriving since ``since``: (source, record, event) is its key; event
# 'sale', 'refund' (the platform's own: a refunded purchase or a canceled card booking),
# 'request' (a refund request of the app, keyed by the request) or 'ledger'.
_CONTENT = "FROM purchases p JOIN content c ON c.id = p.content_id"
_BOOKING = "FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id"
_CARD = "b.payment_method = 'purchase' AND b.amount_paid > 0"
_USD = "'usd'"
WINDOW = f"""
CREATE FUNCTION admin.revenue_rollup_window(tz text, since timestamptz)
RETURNS SETOF admin.revenue_rollup_recent
LANGUAGE plpgsql STABLE {PINNED}
AS $$
BEGIN
    RETURN QUERY EXECUTE $q$
    SELECT w.source, w.record_id, w.event, w.arrival, {_local('w.ts')}, w.currency, w.kind,
           w.item_id, w.customer_id, w.amount::numeric
    FROM (
        SELECT 'content'::text AS source, p.id AS record_id, 'sale'::text AS event,
               p.created_at AT TIME ZONE 'UTC' AS arrival,
               coalesce(p.purchased_at, p.created_at) AS ts, lower(p.currency)::text AS currency,
               c.content_type::text AS kind, p.content_id AS item_id, p.customer_id,
               p.amount_paid::numeric AS amount
        {_CONTENT} WHERE p.created_at >= $1 AND p.status IN ('completed', 'refunded')
        UNION ALL
        SELECT 'content', p.id, 'refund', p.refunded_at AT TIME ZONE 'UTC', p.refunded_at,
               lower(p.currency), c.content_type::text, p.content_id, p.customer_id,
               p.amount_paid
        {_CONTENT} WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL
          AND p.refunded_at >= $1
          AND NOT EXISTS (SELECT FROM admin.refund_requests r
                          WHERE r.purchase_id = p.id AND r.status = 'succeeded')
        UNION ALL
        SELECT 'content', r.id, 'request', r.completed_at, r.completed_at::timestamp,
               lower(p.currency), c.content_type::text, p.content_id, p.customer_id, r.amount
        FROM admin.refund_requests r
        JOIN purchases p ON p.id = r.purchase_id JOIN content c ON c.id = p.content_id
        WHERE r.status = 'succeeded' AND r.amount > 0 AND r.completed_at >= $2
        UNION ALL
        SELECT 'offering', b.id, 'sale', b.created_at AT TIME ZONE 'UTC', b.created_at,
               {_USD}, o.offering_type::text, b.offering_id, b.customer_id, b.amount_paid
        {_BOOKING} WHERE {_CARD} AND b.created_at >= $1
        UNION ALL
        SELECT 'offering', b.id, 'refund', b.canceled_at AT TIME ZONE 'UTC', b.canceled_at,
               {_USD}, o.offering_type::text, b.offering_id, b.customer_id, b.amount_paid
        {_BOOKING} WHERE {_CARD} AND b.status = 'canceled' AND b.canceled_at IS NOT NULL
          AND b.canceled_at >= $1
          AND NOT EXISTS (SELECT FROM admin.refund_requests r
                          WHERE r.booking_id = b.id AND r.status = 'succeeded')
        UNION ALL
        SELECT 'offering', r.id, 'request', r.completed_at, r.completed_at::timestamp,
               {_USD}, o.offering_type::text, b.offering_id, b.customer_id, r.amount
        FROM admin.refund_requests r
        JOIN offering_bookings b ON b.id = r.booking_id JOIN offerings o ON o.id = b.offering_id
        WHERE r.status = 'succeeded' AND r.amount > 0 AND r.completed_at >= $2
        UNION ALL
        SELECT 'ledger', t.id, 'ledger', t.created_at AT TIME ZONE 'UTC', t.created_at,
               NULL, t.type::text, NULL, t.customer_id, t.amount
        FROM credit_transactions t WHERE t.created_at >= $1
    ) w $q$
    USING since AT TIME ZONE 'UTC', since, tz;
END
$$
"""

_SAME = ("(o.day, o.currency, o.kind, o.item_id, o.customer_id, o.amount) IS NOT DISTINCT FROM "
         "(n.day, n.currency, n.kind, n.item_id, n.customer_id, n.amount)")
_KEY = "USING (source, record_id, event)"
_UTC = "((({d})::timestamp AT TIME ZONE tz) AT TIME ZONE 'UTC')"

# Apply what changed since ``since`` to the days from ``built_from`` on; returns the days
# changed (by delta or rebuilt). Leaves the events read in pg_temp.rollup_now.
DELTA = f"""
CREATE FUNCTION admin.revenue_rollup_delta(tz text, since timestamptz, recent_from timestamptz,
                                           built_from date) RETURNS integer
LANGUAGE plpgsql {PINNED}
AS $$
DECLARE
    redo date[];
    redo_months date[];
    d date;
    run_lo date;
    run_hi date;
    changed integer;
BEGIN
    DROP TABLE IF EXISTS pg_temp.rollup_now, pg_temp.rollup_delta;
    -- The events arriving since the watermark, read once.
    CREATE TEMP TABLE rollup_now ON COMMIT DROP AS
        SELECT * FROM admin.revenue_rollup_window(tz, since);
    -- What changed against the record of what was counted: +1 what is, -1 what was.
    CREATE TEMP TABLE rollup_delta ON COMMIT DROP AS
        SELECT 1 AS sign, n.*, (o.record_id IS NULL AND n.arrival < recent_from) AS unsure
        FROM rollup_now n LEFT JOIN admin.revenue_rollup_recent o {_KEY}
        WHERE o.record_id IS NULL OR NOT {_SAME}
        UNION ALL
        SELECT -1, o.*, false
        FROM admin.revenue_rollup_recent o LEFT JOIN rollup_now n {_KEY}
        WHERE n.record_id IS NULL OR NOT {_SAME};
    DELETE FROM rollup_delta WHERE day < built_from;

    -- Days the record cannot settle: rebuilt from the events.
    redo := ARRAY(SELECT DISTINCT x FROM (
        SELECT x.day AS x FROM rollup_delta x WHERE x.unsure OR (x.sign < 0 AND x.event = 'ledger')
        UNION ALL  -- a new refund request replaces a platform refund counted before
        SELECT {_local('coalesce(p.refunded_at, b.canceled_at)', 'tz')}
        FROM rollup_delta x
        JOIN admin.refund_requests r ON r.id = x.record_id
        LEFT JOIN purchases p ON p.id = r.purchase_id AND p.status = 'refunded'
        LEFT JOIN offering_bookings b ON b.id = r.booking_id AND b.status = 'canceled'
        WHERE x.event = 'request' AND x.sign > 0
          AND coalesce(p.refunded_at, b.canceled_at) < (since AT TIME ZONE 'UTC')) u
        WHERE x >= built_from ORDER BY x);
    redo_months := ARRAY(SELECT DISTINCT date_trunc('month', x.day)::date FROM rollup_delta x
                         WHERE x.unsure AND x.event = 'sale');
    run_lo := NULL;
    FOREACH d IN ARRAY redo LOOP
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
    FOREACH d IN ARRAY redo_months LOOP
        PERFORM admin.revenue_rollup_months(tz, d, (d + interval '1 month')::date);
    END LOOP;
    SELECT count(DISTINCT x.day) INTO changed FROM (
        SELECT day FROM rollup_delta UNION ALL SELECT unnest(redo)) x;

    -- The daily tables: each change added to its day (a sale to gross, a refund to refunds).
    INSERT INTO admin.revenue_daily AS t
    SELECT x.day, x.currency, x.source, x.kind,
           coalesce(sum(x.sign * x.amount) FILTER (WHERE x.event = 'sale'), 0),
           coalesce(sum(x.sign * x.amount) FILTER (WHERE x.event <> 'sale'), 0),
           coalesce(sum(x.sign) FILTER (WHERE x.event = 'sale'), 0),
           coalesce(sum(x.sign) FILTER (WHERE x.event <> 'sale'), 0)
    FROM rollup_delta x WHERE x.source <> 'ledger' AND NOT x.day = ANY (redo)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, currency, source, kind) DO UPDATE SET
        gross = t.gross + excluded.gross, refunds = t.refunds + excluded.refunds,
        sales = t.sales + excluded.sales, refund_count = t.refund_count + excluded.refund_count;
    DELETE FROM admin.revenue_daily t USING rollup_delta x
    WHERE t.day = x.day AND t.currency = x.currency AND t.source = x.source
      AND t.kind = x.kind AND t.sales = 0 AND t.refund_count = 0;

    INSERT INTO admin.revenue_daily_content AS t
    SELECT x.day, x.currency, x.item_id,
           coalesce(sum(x.sign * x.amount) FILTER (WHERE x.event = 'sale'), 0),
           coalesce(sum(x.sign * x.amount) FILTER (WHERE x.event <> 'sale'), 0),
           coalesce(sum(x.sign) FILTER (WHERE x.event = 'sale'), 0),
           coalesce(sum(x.sign) FILTER (WHERE x.event <> 'sale'), 0)
    FROM rollup_delta x WHERE x.source = 'content' AND NOT x.day = ANY (redo)
    GROUP BY 1, 2, 3
    ON CONFLICT (day, currency, content_id) DO UPDATE SET
        gross = t.gross + excluded.gross, refunds = t.refunds + excluded.refunds,
        sales = t.sales + excluded.sales, refund_count = t.refund_count + excluded.refund_count;
    DELETE FROM admin.revenue_daily_content t USING rollup_delta x
    WHERE t.day = x.day AND t.currency = x.currency AND t.content_id = x.item_id
      AND t.sales = 0 AND t.refund_count = 0;

    -- Ledger rows only arrive here (a changed or deleted one rebuilt its day above).
    INSERT INTO admin.credit_daily AS t
    SELECT x.day, coalesce(sum(x.amount) FILTER (WHERE x.amount > 0), 0),
           coalesce(-sum(x.amount) FILTER (WHERE x.kind = 'spent_offering'), 0),
           coalesce(-sum(x.amount) FILTER (WHERE x.kind = 'expired'), 0),
           coalesce(sum(x.amount), 0)
    FROM rollup_delta x WHERE x.source = 'ledger' AND NOT x.day = ANY (redo)
    GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET
        granted = t.granted + excluded.granted, spent = t.spent + excluded.spent,
        expired = t.expired + excluded.expired, net_change = t.net_change + excluded.net_change;

    -- Distinct payers: a customer is one of a month's payers while any sale of it is counted.
    WITH a AS (
        SELECT x.customer_id, date_trunc('month', x.day)::date AS m, x.currency,
               count(*) FILTER (WHERE x.sign > 0) AS added,
               count(*) FILTER (WHERE x.sign < 0) AS removed
        FROM rollup_delta x WHERE x.event = 'sale'
          AND NOT date_trunc('month', x.day)::date = ANY (redo_months)
        GROUP BY 1, 2, 3),
    c AS (
        SELECT a.*, (SELECT count(*) FROM admin.revenue_events e
                     WHERE e.event = 'sale' AND e.customer_id = a.customer_id
                       AND e.currency = a.currency
                       AND e.ts >= {_UTC.format(d='a.m')}
                       AND e.ts < {_UTC.format(d="a.m + interval '1 month'")}) AS now_count
        FROM a),
    moves AS (
        SELECT c.m, c.currency,
               sum((c.now_count > 0)::int - (c.now_count - c.added + c.removed > 0)::int) AS n
        FROM c GROUP BY 1, 2)
    INSERT INTO admin.revenue_monthly_payers AS t
    SELECT m, currency, n FROM moves WHERE n <> 0
    ON CONFLICT (month, currency) DO UPDATE SET payers = t.payers + excluded.payers;
    DELETE FROM admin.revenue_monthly_payers WHERE payers = 0;
    RETURN changed;
END
$$
"""

REFRESH_SIGNATURE = _m0016.REFRESH_SIGNATURE
REFRESH = f"""
CREATE OR REPLACE FUNCTION
{REFRESH_SIGNATURE.replace('integer', 'chunk_months integer DEFAULT NULL')}
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
    changed integer := 0;
    kind text;
BEGIN
    IF chunk_months IS NOT NULL AND chunk_months < 1 THEN
        RAISE EXCEPTION 'chunk_months must be at least 1, not %', chunk_months;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('platform-admin revenue rollup')) THEN
        RETURN 'busy';
    END IF;
    -- Rows of transactions still open now commit later with their own now(): the next
    -- refresh reads from the earliest of those starts (less a margin for client clocks).
    SELECT least(now(), min(a.xact_start)) - interval '{WATERMARK_MARGIN}'
      INTO next_watermark
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.xact_start IS NOT NULL;
    SELECT * INTO info FROM admin.revenue_rollup_info WHERE id = 1;

    IF info.id IS NULL OR info.timezone IS DISTINCT FROM tz OR info.recent_from IS NULL THEN
        -- From nothing: every day, today's included; the newest months first in chunks.
        DELETE FROM admin.revenue_daily;
        DELETE FROM admin.revenue_daily_content;
        DELETE FROM admin.credit_daily;
        DELETE FROM admin.revenue_monthly_payers;
        DROP TABLE IF EXISTS pg_temp.rollup_now;
        CREATE TEMP TABLE rollup_now ON COMMIT DROP AS
            SELECT * FROM admin.revenue_rollup_window(tz, next_watermark);
        built_from := 'infinity'::date;
        older := CASE WHEN chunk_months IS NULL THEN '-infinity'::date
                      ELSE (this_month - make_interval(months => chunk_months - 1))::date END;
        kind := 'full';
    ELSE
        kind := 'incremental';
        built_from := coalesce(info.built_from, '-infinity'::date);
        changed := admin.revenue_rollup_delta(tz, least(info.watermark, info.recent_from),
                                              info.recent_from, built_from);
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
        PERFORM admin.revenue_rollup_months(tz, older, built_from);
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

    -- The record of what is counted now: the events arriving after the next watermark.
    DELETE FROM admin.revenue_rollup_recent;
    INSERT INTO admin.revenue_rollup_recent
    SELECT * FROM pg_temp.rollup_now n WHERE n.arrival >= next_watermark;

    INSERT INTO admin.revenue_rollup_info AS i
        (id, refreshed_at, timezone, boundary_day, watermark, recent_from, built_from,
         last_kind, last_days)
    VALUES (1, now(), tz, today, next_watermark, next_watermark, built_from, kind,
            CASE WHEN older IS NULL THEN changed
                 ELSE (SELECT count(DISTINCT x.day)::int FROM admin.revenue_daily x) END)
    ON CONFLICT (id) DO UPDATE SET
        refreshed_at = excluded.refreshed_at, timezone = excluded.timezone,
        boundary_day = excluded.boundary_day, watermark = excluded.watermark,
        recent_from = excluded.recent_from, built_from = excluded.built_from,
        last_kind = excluded.last_kind, last_days = excluded.last_days;
    RETURN kind;
END
$$
"""

HELPERS = (
    "admin.revenue_rollup_window(text, timestamptz)",
    "admin.revenue_rollup_delta(text, timestamptz, timestamptz, date)",
)


def upgrade() -> None:
    op.execute("DELETE FROM admin.revenue_rollup_info")  # 0016's rollup: built again, whole
    op.execute("ALTER TABLE admin.revenue_rollup_info ADD COLUMN recent_from timestamptz")
    op.execute(RECENT)
    for sql in (WINDOW, DELTA, REFRESH):
        op.execute(sql)
    for function in (*HELPERS, REFRESH_SIGNATURE):
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")


def downgrade() -> None:
    op.execute(_m0016.REFRESH.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for function in HELPERS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS admin.revenue_rollup_recent")
    op.execute("DELETE FROM admin.revenue_rollup_info")
    op.execute("ALTER TABLE admin.revenue_rollup_info DROP COLUMN recent_from")
