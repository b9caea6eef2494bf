"""Set-based data for ``bench/revenue.py --upkeep``: what the Revenue rollup reads, at any size,
in minutes (``INSERT ... SELECT`` over ``generate_series``; the demo's row-by-row Python fill
took over an hour at 5M purchases).

The shape follows the demo's: eighteen months of purchases (89.7% completed, 6.2% refunded,
the rest failed or pending; 13% in EUR), a customer for every four purchases, an item for
every 400 customers, card-paid and other offering bookings over the last year, subscriptions
for one customer in ten and a ledger row for every five purchases. Ids are ``md5`` of the
row's number, so rows refer to each other without look-ups; rows are written in time order,
as they arrive. Indexes, keys and foreign keys are dropped for the load and built after it
(:func:`data.demo.loading.bulk_load_mode`), then ANALYZE.
"""

from __future__ import annotations

import psycopg

from data.demo.loading import bulk_load_mode

TABLES = ("users", "content", "purchases", "platform_settings", "subscription_tiers",
          "subscriptions", "offerings", "offering_bookings", "credit_transactions")

_NOW = "(now() AT TIME ZONE 'UTC')"
_SPAN = "interval '548 days'"

_BUILD = f"""
INSERT INTO platform_settings (platform_name, primary_color, timezone)
VALUES ('Bench', '#336699', 'America/New_York');
INSERT INTO users (id, email, password_hash, full_name, role, created_at, updated_at)
SELECT md5('u' || g)::uuid, 'c' || g || '@bench.example', 'x', 'Customer ' || g, 'customer',
       {_NOW} - {_SPAN} - interval '30 days', {_NOW} - {_SPAN}
FROM generate_series(0, %(users)s - 1) g;
INSERT INTO users (id, email, password_hash, full_name, role)
SELECT md5('k' || g)::uuid, 'creator' || g || '@bench.example', 'x', 'Creator ' || g,
       'platform_creator' FROM generate_series(0, %(creators)s - 1) g;
INSERT INTO content (id, creator_id, title, slug, content_type, visibility, price, status,
                     published_at)
SELECT md5('c' || g)::uuid, md5('k' || (g %% %(creators)s))::uuid, 'Item ' || g, 'item-' || g,
       (ARRAY['video', 'audio', 'written'])[1 + g %% 3], 'public',
       (ARRAY[4.99, 9.99, 14.99, 19.99, 29.99])[1 + g %% 5], 'published',
       {_NOW} - {_SPAN} - interval '60 days'
FROM generate_series(0, %(items)s - 1) g;
INSERT INTO purchases (id, customer_id, content_id, amount_paid, currency,
                       stripe_payment_intent_id, platform_fee_amount, creator_payout_amount,
                       status, purchased_at, refunded_at, created_at, updated_at)
SELECT md5('p' || g)::uuid, md5('u' || x.c)::uuid, md5('c' || x.item)::uuid, x.price,
       CASE WHEN g %% 100 < 13 THEN 'eur' ELSE 'usd' END, 'pi_bench_' || g,
       round(x.price * 0.1, 2), round(x.price * 0.9, 2), x.status,
       CASE WHEN x.status IN ('completed', 'refunded') THEN x.at END,
       CASE WHEN x.status = 'refunded' THEN least(x.at + interval '3 days', {_NOW}) END,
       x.at, CASE WHEN x.status = 'refunded' THEN least(x.at + interval '3 days', {_NOW})
                  ELSE x.at END
FROM generate_series(0, %(purchases)s - 1) g
CROSS JOIN LATERAL (
    SELECT (g::bigint * 7919) %% %(users)s AS c, g / %(users)s AS j,
           {_NOW} - {_SPAN} * ((%(purchases)s - g)::float8 / %(purchases)s) AS at,
           CASE WHEN g %% 1000 < 897 THEN 'completed' WHEN g %% 1000 < 959 THEN 'refunded'
                WHEN g %% 1000 < 979 THEN 'failed' ELSE 'pending' END AS status) x0
CROSS JOIN LATERAL (
    SELECT x0.*, (x0.c + x0.j) %% %(items)s AS item,
           (ARRAY[4.99, 9.99, 14.99, 19.99, 29.99])[1 + ((x0.c + x0.j) %% %(items)s) %% 5]
           AS price) x;
INSERT INTO subscription_tiers (id, name, price_monthly, price_yearly, full_catalog_access,
                                monthly_credits, credit_rollover, active)
SELECT md5('t' || g)::uuid, 'Tier ' || g, 5 * (g + 1), 50 * (g + 1), g = 4, 2 * g, false, true
FROM generate_series(0, 4) g;
INSERT INTO subscriptions (id, customer_id, tier_id, stripe_subscription_id, billing_period,
                           current_period_start, current_period_end, status,
                           cancel_at_period_end, canceled_at, created_at, updated_at)
SELECT md5('s' || g)::uuid, md5('u' || (g * 10))::uuid, md5('t' || (g %% 5))::uuid,
       'sub_bench_' || g, CASE WHEN g %% 5 = 0 THEN 'yearly' ELSE 'monthly' END,
       {_NOW} - interval '10 days', {_NOW} + interval '20 days', x.status, false,
       CASE WHEN x.status = 'canceled' THEN x.at + interval '90 days' END, x.at, x.at
FROM generate_series(0, %(users)s / 10 - 1) g
CROSS JOIN LATERAL (
    SELECT {_NOW} - {_SPAN} * ((%(users)s / 10 - g)::float8 / (%(users)s / 10)) AS at,
           CASE WHEN g %% 100 < 20 THEN 'canceled' WHEN g %% 100 < 28 THEN 'trialing'
                WHEN g %% 100 < 36 THEN 'past_due' ELSE 'active' END AS status) x
WHERE x.status <> 'canceled' OR x.at + interval '90 days' < {_NOW};
INSERT INTO offerings (id, creator_id, title, slug, offering_type, capacity_type,
                       max_participants, delivery_method, schedule, price, credit_cost, status,
                       booking_count)
SELECT md5('o' || g)::uuid, md5('k' || (g %% %(creators)s))::uuid, 'Offering ' || g,
       'offering-' || g, (ARRAY['one_time_event', 'multi_day_program', 'recurring_fixed',
                                'cohort_course', 'retreat'])[1 + g %% 5],
       'large_group', 1000, 'online', '{{}}'::jsonb, 50, 3, 'published', 0
FROM generate_series(0, %(offerings)s - 1) g;
INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method, amount_paid,
                               credits_used, status, canceled_at, created_at, updated_at)
SELECT md5('b' || g)::uuid, md5('u' || ((g::bigint * 104729) %% %(users)s))::uuid,
       md5('o' || (g %% %(offerings)s))::uuid, x.method,
       CASE WHEN x.method = 'purchase' THEN 50 ELSE 0 END,
       CASE WHEN x.method = 'credits' THEN 3 ELSE 0 END,
       CASE WHEN g %% 10 = 0 THEN 'canceled' WHEN x.at < {_NOW} - interval '60 days'
            THEN 'completed' ELSE 'confirmed' END,
       CASE WHEN g %% 10 = 0 THEN least(x.at + interval '1 day', {_NOW}) END, x.at,
       CASE WHEN g %% 10 = 0 THEN least(x.at + interval '1 day', {_NOW}) ELSE x.at END
FROM generate_series(0, %(bookings)s - 1) g
CROSS JOIN LATERAL (
    SELECT {_NOW} - interval '365 days' * ((%(bookings)s - g)::float8 / %(bookings)s) AS at,
           CASE WHEN g %% 20 < 17 THEN 'purchase' WHEN g %% 20 < 19 THEN 'subscription'
                ELSE 'credits' END AS method) x;
INSERT INTO credit_transactions (id, customer_id, type, amount, balance_after, created_at)
SELECT md5('l' || g)::uuid, md5('u' || ((g::bigint * 15485863) %% %(users)s))::uuid, x.kind,
       CASE x.kind WHEN 'earned_subscription' THEN 3 WHEN 'earned_purchase' THEN 12
                   WHEN 'adjustment' THEN 2 ELSE -2 END, 0,
       {_NOW} - interval '730 days' * ((%(ledger)s - g)::float8 / %(ledger)s)
FROM generate_series(0, %(ledger)s - 1) g
CROSS JOIN LATERAL (
    SELECT CASE WHEN g %% 100 < 57 THEN 'earned_subscription' WHEN g %% 100 < 86 THEN 'expired'
                WHEN g %% 100 < 95 THEN 'earned_purchase' WHEN g %% 100 < 98
                THEN 'spent_offering' ELSE 'adjustment' END AS kind) x
"""


def fill(dsn: str, purchases: int, users: int | None = None) -> dict[str, int]:
    """Fill the empty, migrated database at ``dsn``; returns the rows per table."""
    n_users = users or max(purchases // 4, 1_000)
    items = max(60, n_users // 400)
    if -(-purchases // n_users) >= items:
        raise ValueError("each customer's purchases need distinct items: more users")
    params = {"users": n_users, "purchases": purchases, "items": items,
              "creators": max(2, n_users // 2_500), "offerings": max(24, n_users // 2_000),
              "bookings": purchases * 84 // 1000, "ledger": purchases // 5}
    with psycopg.connect(dsn) as conn:
        with conn.transaction(), bulk_load_mode(conn, TABLES):
            conn.execute("SET LOCAL synchronous_commit = off")
            for statement in _BUILD.split(";\n"):
                conn.execute(statement, params)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts
