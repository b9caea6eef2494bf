"""Tiers, their price history and subscriptions inserted with plain SQL, for tests that
need exactly known rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.data.factories import BASE_TIME


def add_tier(engine: Engine, name: str, *, monthly: str | None = "10.00",
             yearly: str | None = "100.00", categories: list[str] | None = None,
             full_catalog: bool = False, rules: list | None = None, credits: int = 0,
             active: bool = True, history_from: dt.datetime | None = None) -> uuid.UUID:
    """A tier; with ``history_from`` its current prices are recorded in force since then."""
    tier_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO subscription_tiers (id, name, price_monthly, price_yearly, "
            "category_access, full_catalog_access, offering_access_rules, monthly_credits, "
            "active) VALUES (:id, :name, :m, :y, CAST(:cats AS jsonb), :full, "
            "CAST(:rules AS jsonb), :credits, :active)"),
            {"id": tier_id, "name": name, "m": monthly, "y": yearly,
             "cats": json.dumps(categories or []), "full": full_catalog,
             "rules": json.dumps(rules or []), "credits": credits, "active": active})
        if history_from is not None:
            for period, amount in (("monthly", monthly), ("yearly", yearly)):
                conn.execute(text(
                    "INSERT INTO admin.tier_prices (tier_id, billing_period, amount, "
                    "effective_from, changed_by) VALUES (:t, :p, :a, :f, 'test')"),
                    {"t": tier_id, "p": period, "a": amount, "f": history_from})
    return tier_id


def add_subscription(engine: Engine, customer_id: uuid.UUID, tier_id: uuid.UUID, *,
                     status: str = "active", period: str = "monthly",
                     start: dt.datetime = BASE_TIME, stripe_id: str | None = None,
                     cancel_at_period_end: bool = False) -> uuid.UUID:
    sub_id = uuid.uuid4()
    length = dt.timedelta(days=365 if period == "yearly" else 30)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO subscriptions (id, customer_id, tier_id, stripe_subscription_id, "
            "billing_period, current_period_start, current_period_end, status, "
            "cancel_at_period_end, created_at) VALUES (:id, :c, :t, :s, :p, :start, :end, "
            ":status, :cape, :start)"),
            {"id": sub_id, "c": customer_id, "t": tier_id,
             "s": stripe_id or f"sub_test_{sub_id.hex[:16]}", "p": period, "start": start,
             "end": start + length, "status": status, "cape": cancel_at_period_end})
    return sub_id


def money(value: str) -> Decimal:
    return Decimal(value)
