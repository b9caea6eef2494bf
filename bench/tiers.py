"""Subscription tiers benchmark: the tier list's first rows (subscribers and MRR from each
subscription's own price), a tier's subscribers list's first rows, and the access preview.

    python bench/tiers.py                                  # 1,000,000 users and subscriptions
    python bench/tiers.py --users 100000 --subscriptions 100000

Builds its own embedded PostgreSQL and data (``INSERT … SELECT generate_series``: users, 8
tiers with a two-version price history, subscriptions in every status and both billing
periods, published content in a few categories); prints one ``name=value`` per line. Times
are milliseconds of the query on the worker's path (median of ``--repeat`` runs), after
``VACUUM ANALYZE``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.queries.tiers import (
    SubscriberFilter,
    TierFilter,
    get_tier_detail,
    list_tier_subscribers,
    list_tiers_page,
    preview_access,
)

FILL = [
    """INSERT INTO users (id, email, password_hash, full_name, role, created_at)
       SELECT gen_random_uuid(), 'user' || i || '@example.com', 'x', 'User ' || i,
              CASE WHEN i % 1000 = 0 THEN 'platform_creator' ELSE 'customer' END,
              timestamp '2022-01-01' + i * interval '1 minute'
       FROM generate_series(1, :users) i""",
    """INSERT INTO subscription_tiers (name, price_monthly, price_yearly, category_access,
           full_catalog_access, monthly_credits, credit_rollover, active)
       SELECT 'Tier ' || t, 5 + t * 5, (5 + t * 5) * 10,
              jsonb_build_array((ARRAY['yoga','sleep','nutrition','strength'])[1 + t % 4]),
              t = 8, t, t % 2 = 0, t <> 7
       FROM generate_series(1, 8) t""",
    # Two versions: a lower price until 2024-06-01, the current one since.
    """INSERT INTO admin.tier_prices (tier_id, billing_period, amount, effective_from,
                                      changed_by)
       SELECT t.id, p.period, CASE WHEN v = 1 THEN p.amount - 1 ELSE p.amount END,
              CASE WHEN v = 1 THEN timestamp '2020-01-01' ELSE timestamp '2024-06-01' END,
              'bench'
       FROM subscription_tiers t
       CROSS JOIN LATERAL (VALUES ('monthly', t.price_monthly), ('yearly', t.price_yearly))
            AS p(period, amount)
       CROSS JOIN generate_series(1, 2) v""",
    """INSERT INTO subscriptions (customer_id, tier_id, stripe_subscription_id,
           billing_period, current_period_start, current_period_end, status,
           cancel_at_period_end, created_at)
       SELECT u.id, (SELECT array_agg(id ORDER BY name) FROM subscription_tiers)
                    [1 + (u.n * 7) % 8 * (u.n % 3) / 2 % 8],
              'sub_bench_' || u.n,
              CASE WHEN u.n % 4 = 0 THEN 'yearly' ELSE 'monthly' END,
              timestamp '2023-01-01' + (u.n % 900) * interval '1 day',
              timestamp '2023-01-01' + (u.n % 900) * interval '1 day' + interval '30 days',
              (ARRAY['active','active','active','active','active','active','trialing',
                     'past_due','canceled','canceled'])[1 + u.n % 10],
              u.n % 13 = 0, timestamp '2022-01-01' + u.n * interval '1 minute'
       FROM (SELECT id, row_number() OVER (ORDER BY created_at) AS n FROM users
             WHERE role = 'customer') u
       WHERE u.n <= :subscriptions""",
    """INSERT INTO content (creator_id, title, slug, content_type, media_url,
           media_duration_seconds, category, status, published_at)
       SELECT (SELECT id FROM users WHERE role = 'platform_creator' LIMIT 1),
              'Item ' || i, 'item-' || i, 'video', 'https://m.example.com/' || i, 600,
              (ARRAY['yoga','sleep','nutrition','strength','mindset', NULL])[1 + i % 6],
              CASE WHEN i % 5 = 0 THEN 'draft' ELSE 'published' END, timestamp '2024-01-01'
       FROM generate_series(1, :items) i""",
]


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.subscriptions > args.users:
        parser.error("one subscription per user at most: --subscriptions <= --users")

    server = EmbeddedPostgres.start()
    try:
        engine = make_engine(server.url())
        migrate.upgrade(engine)
        start = time.perf_counter()
        with engine.begin() as conn:
            for statement in FILL:
                conn.execute(text(statement), {"users": args.users,
                                               "subscriptions": args.subscriptions,
                                               "items": args.items})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"fill_seconds={time.perf_counter() - start:.1f}")
        factory = make_session_factory(engine)
        with factory() as s:
            n_subs = s.execute(text("SELECT count(*) FROM subscriptions")).scalar_one()
            n_users = s.execute(text("SELECT count(*) FROM users")).scalar_one()
            biggest = s.execute(text("SELECT tier_id FROM subscriptions GROUP BY 1 "
                                     "ORDER BY count(*) DESC LIMIT 1")).scalar_one()
            print(f"users={n_users}")
            print(f"subscriptions={n_subs}")
            print(f"biggest_tier_subscriptions={s.execute(text('SELECT count(*) FROM subscriptions WHERE tier_id = :t'), {'t': biggest}).scalar_one()}")  # noqa: E501
            for sort in ("mrr", "subscribers", "name"):
                ms = _median_ms(lambda sort=sort: list_tiers_page(s, TierFilter(sort=sort),
                                                                  None, 200), args.repeat)
                print(f"tier_list_first_rows_{sort}_ms={ms:.1f}")
            ms = _median_ms(lambda: get_tier_detail(s, biggest), args.repeat)
            print(f"tier_detail_ms={ms:.1f}")
            for label, flt in (("any", SubscriberFilter()),
                               ("past_due", SubscriberFilter(status="past_due")),
                               ("yearly", SubscriberFilter(period="yearly"))):
                ms = _median_ms(lambda flt=flt: list_tier_subscribers(s, flt, biggest, None,
                                                                      100), args.repeat)
                print(f"subscribers_first_rows_{label}_ms={ms:.1f}")
            ms = _median_ms(lambda: preview_access(
                s, biggest, categories=["yoga", "sleep", "mindset"], full_catalog=False,
                offering_rules=[{"type": "retreat", "included": True}]), args.repeat)
            print(f"access_preview_ms={ms:.1f}")
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
