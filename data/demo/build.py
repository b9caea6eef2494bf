"""The orchestrator: fill an empty platform database area by area."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import psycopg

from data.demo.activity import load_activity
from data.demo.audit import load_audit_history
from data.demo.catalog import load_catalog
from data.demo.clock import Clock, normalise_anchor
from data.demo.context import DemoContext
from data.demo.customers import load_customer_activity
from data.demo.loading import TABLES, Loader, bulk_load_mode, single_value
from data.demo.offerings import load_offerings
from data.demo.platform_settings import load_platform_settings
from data.demo.referrals import load_referrals, plan_referrals
from data.demo.subscriptions import load_tiers
from data.demo.users import load_users, plan_people

if TYPE_CHECKING:
    from data.demo.loading import Progress


MIN_USERS = 20
"""Fewer users than this cannot hold every role and a customer base worth showing."""

DemoStep = Callable[[DemoContext], None]

STEPS: tuple[DemoStep, ...] = (
    plan_people,
    plan_referrals,  # users carry who referred them, so referrals are planned first
    load_users,
    load_catalog,
    load_tiers,
    load_offerings,
    load_customer_activity,  # subscriptions, purchases, access, bookings and credits
    load_platform_settings,
    load_activity,
    load_referrals,
)
"""Every area's step, in the order the data depends on: a new area adds its step here."""

_REBUILD_STAGE = "indexes and constraints"


def _refuse_non_empty(conn: psycopg.Connection) -> None:
    count = single_value(
        conn.execute("SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1000) u"))
    if count:
        more = "+" if count == 1000 else ""
        raise ValueError(
            f"refusing to add demo data: the database already has users ({count}{more});"
            " demo data goes into an empty platform database"
        )


def fill_demo_data(
    conn: psycopg.Connection,
    *,
    users: int,
    seed: int = 1,
    purchases: int | None = None,
    anchor: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty platform database with realistic demo data; return rows per table.

    ``users`` users of every role; ``purchases`` purchases (default three per user) over the
    eighteen months before ``anchor`` (default: now; all timestamps are naive UTC); and,
    scaled to them, content, series, subscriptions, offerings, bookings, credit ledgers,
    emails, notifications, events and referrals. The same arguments give the same rows.
    Everything is written in one transaction, committed at the end. ``progress(stage, done,
    total)`` is called every 10,000 rows and at the end of each stage.

    Raises ValueError if ``users`` already has rows (nothing is written) or the arguments are
    out of range.
    """
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS}, not {users}")
    n_purchases = 3 * users if purchases is None else purchases
    if n_purchases < 0:
        raise ValueError(f"purchases must not be negative, not {n_purchases}")
    loader = Loader(conn, progress)
    ctx = DemoContext(conn, loader, Clock(normalise_anchor(anchor)), seed, users, n_purchases)

    with conn.transaction():
        _refuse_non_empty(conn)
        with bulk_load_mode(conn, TABLES):
            for step in STEPS:
                step(ctx)
            loader.report(_REBUILD_STAGE, 0, 1)
        loader.report(_REBUILD_STAGE, 1, 1)
        # After the load, through the audit trail's own path (its trigger chains each row).
        loader.counts["admin.audit_log"] = load_audit_history(ctx)
    if not conn.autocommit:
        conn.commit()
    return loader.counts
