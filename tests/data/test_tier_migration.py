"""Migration 0012 on a platform database that already has tiers: the price history starts
with each tier's current prices, and MRR then counts the older periods at those prices,
saying so."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from sqlalchemy import text

from data import migrate
from data.db import make_engine, make_session_factory
from data.queries.tiers import TierFilter, list_tiers_page
from tests.data.test_migrations import PLATFORM_DDL, _libpq


def test_first_price_version_is_taken_from_the_current_row(empty_db):
    with psycopg.connect(_libpq(empty_db), autocommit=True) as conn:
        conn.execute(PLATFORM_DDL.read_text())
        conn.execute("""
            INSERT INTO users (id, email, password_hash, full_name, role)
            VALUES ('22222222-2222-4222-8222-222222222222', 'c@example.com', 'x', 'C',
                    'customer');
            INSERT INTO subscription_tiers (id, name, price_monthly, price_yearly)
            VALUES ('44444444-4444-4444-8444-444444444444', 'Gold', 20.00, NULL);
            INSERT INTO subscriptions (customer_id, tier_id, stripe_subscription_id,
                                       billing_period, current_period_start,
                                       current_period_end, status)
            VALUES ('22222222-2222-4222-8222-222222222222',
                    '44444444-4444-4444-8444-444444444444', 'sub_1', 'monthly',
                    '2025-01-01', '2025-02-01', 'active');""")
    engine = make_engine(empty_db, pool_size=1)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            versions = conn.execute(text(
                "SELECT billing_period, amount, changed_by FROM admin.tier_prices "
                "ORDER BY billing_period")).all()
        assert versions == [("monthly", Decimal("20.00"), "migration 0012"),
                            ("yearly", None, "migration 0012")]
        with make_session_factory(engine)() as s:
            (row,), _ = list_tiers_page(s, TierFilter(), None, 10)
        # The period began before the history: counted at the current price, and said so.
        assert (row.mrr, row.priced_now) == (Decimal("20.00"), 1)
    finally:
        engine.dispose()
