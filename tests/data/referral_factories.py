"""Referral rows inserted with plain SQL, for tests that need exactly known referrals."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.data.factories import BASE_TIME


def insert_code(engine: Engine, user_id: uuid.UUID, code: str, *,
                created_at: dt.datetime = BASE_TIME) -> int:
    with engine.begin() as conn:
        return conn.execute(text(
            "INSERT INTO referral_codes (user_id, code, created_at) VALUES (:u, :c, :t) "
            "RETURNING id"), {"u": user_id, "c": code, "t": created_at}).scalar_one()


def insert_referral(engine: Engine, referrer: uuid.UUID, referred: uuid.UUID, code: str, *,
                    status: str = "qualified", at: dt.datetime | None = None,
                    keep_counts: bool = True) -> int:
    """A referral; with ``keep_counts`` the users' referral columns follow it (as the
    platform keeps them)."""
    with engine.begin() as conn:
        rid = conn.execute(text(
            "INSERT INTO referrals (referrer_id, referred_id, referral_code, referred_at, status,"
            " reward_claimed) VALUES (:a, :b, :c, :t, :s, :s = 'rewarded') RETURNING id"),
            {"a": referrer, "b": referred, "c": code, "t": at or BASE_TIME + dt.timedelta(days=1),
             "s": status}).scalar_one()
        if keep_counts:
            conn.execute(text("UPDATE users SET referral_count = referral_count + 1 "
                              "WHERE id = :a"), {"a": referrer})
            conn.execute(text("UPDATE users SET was_referred = true, referred_by = :a "
                              "WHERE id = :b"), {"a": referrer, "b": referred})
    return rid


def insert_reward(engine: Engine, name: str, kind: str, value: dict, required: int = 1,
                  active: bool = True) -> int:
    with engine.begin() as conn:
        return conn.execute(text(
            "INSERT INTO referral_rewards (name, description, type, value, required_referrals,"
            " is_active) VALUES (:n, :n, :k, CAST(:v AS jsonb), :r, :a) RETURNING id"),
            {"n": name, "k": kind, "v": json.dumps(value), "r": required,
             "a": active}).scalar_one()


def insert_paid_purchase_row(engine: Engine, customer: uuid.UUID, creator: uuid.UUID) -> None:
    """A completed purchase (no Stripe): the referred user paid."""
    from decimal import Decimal

    from tests.data.catalog_factories import add_item, add_purchase

    content = add_item(engine, creator, f"Paid item {uuid.uuid4().hex[:6]}")
    add_purchase(engine, customer, content, Decimal("10.00"))
