"""Offerings and customers with exactly known rows, for the offering and booking tests."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

EVENT = {"date": "2030-03-15", "start_time": "19:00", "duration_minutes": 120}


def add_customer(engine: Engine, balance: int | None = None) -> uuid.UUID:
    uid = uuid.uuid4()
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, email, password_hash, full_name, role) "
                       "VALUES (:id, :e, 'x', :n, 'customer')"),
                  {"id": uid, "e": f"c-{uid.hex[:12]}@example.com", "n": f"Customer {uid.hex[:4]}"})
        if balance is not None:
            c.execute(text("INSERT INTO credit_balances (customer_id, current_balance, "
                           "lifetime_earned) VALUES (:u, :b, :b)"), {"u": uid, "b": balance})
    return uid


def add_offering(engine: Engine, *, offering_type: str = "one_time_event",
                 schedule: Any = None, max_participants: int | None = 10,
                 capacity_type: str = "small_group", credit_cost: int | None = 3,
                 price: str | None = "25.00", status: str = "published",
                 deadline: dt.datetime | None = None, title: str = "Sound Bath Workshop",
                 booking_count: int = 0, portal_config: Any = None) -> uuid.UUID:
    oid = uuid.uuid4()
    creator = uuid.uuid4()
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, email, password_hash, full_name, role) "
                       "VALUES (:id, :e, 'x', 'Creator', 'platform_creator')"),
                  {"id": creator, "e": f"creator-{creator.hex[:12]}@example.com"})
        c.execute(text("""
            INSERT INTO offerings (id, creator_id, title, slug, offering_type, capacity_type,
                max_participants, delivery_method, schedule, price, credit_cost, status,
                registration_deadline, booking_count, portal_config)
            VALUES (:id, :creator, :title, :slug, :type, :cap, :max, 'online',
                CAST(:schedule AS jsonb), :price, :credits, :status, :deadline, :n,
                CAST(:portal AS jsonb))
        """), {"id": oid, "creator": creator, "title": title, "slug": f"o-{oid.hex}",
               "type": offering_type, "cap": capacity_type, "max": max_participants,
               "schedule": json.dumps(EVENT if schedule is None else schedule),
               "price": price, "credits": credit_cost, "status": status, "deadline": deadline,
               "n": booking_count, "portal": json.dumps(portal_config or {})})
    return oid


def add_booking(engine: Engine, offering_id: uuid.UUID, customer_id: uuid.UUID, *,
                status: str = "confirmed", method: str = "subscription",
                details: Any = None) -> uuid.UUID:
    """A booking written as the platform would (booking_count is not touched)."""
    bid = uuid.uuid4()
    with engine.begin() as c:
        c.execute(text("""
            INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method,
                status, booking_details) VALUES (:id, :c, :o, :m, :s, CAST(:d AS jsonb))
        """), {"id": bid, "c": customer_id, "o": offering_id, "m": method, "s": status,
               "d": json.dumps(details or {})})
    return bid


def offering_state(engine: Engine, offering_id: uuid.UUID) -> dict[str, int]:
    with engine.connect() as c:
        count = c.execute(text("SELECT booking_count FROM offerings WHERE id = :o"),
                          {"o": offering_id}).scalar_one()
        rows = dict(c.execute(text("SELECT status, count(*) FROM offering_bookings "
                                   "WHERE offering_id = :o GROUP BY status"),
                              {"o": offering_id}).all())
    return {"booking_count": count, **rows}


def balance(engine: Engine, customer_id: uuid.UUID) -> int:
    with engine.connect() as c:
        return c.execute(text("SELECT current_balance FROM credit_balances "
                              "WHERE customer_id = :u"), {"u": customer_id}).scalar_one()
