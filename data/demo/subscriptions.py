"""Subscription tiers, and each subscribing customer's subscription."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data.demo.categories import CATEGORIES
from data.demo.clock import DAY, HOUR, USER_SPAN, ts_or_none
from data.demo.draws import Choice, between, new_uuid, random_hex

if TYPE_CHECKING:
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.customers import CustomerSimulation


@dataclass
class Tier:
    """A subscription tier: prices, the categories and offering types it includes, credits."""

    id: str
    name: str
    monthly: str
    yearly: str
    categories: tuple[str, ...]
    full_catalog: bool
    offering_types: tuple[str, ...]  # offering types included in the plan
    monthly_credits: int
    rollover: bool
    active: bool


_TIER_SPECS = (
    ("Essentials", "12.00", "120.00", ("yoga", "meditation"), False, (), 0, False, True),
    ("Mind & Body", "19.00", "190.00", ("yoga", "meditation", "breathwork", "mindset"), False,
     (), 2, False, True),
    ("All Access", "29.00", "290.00", CATEGORIES, True, ("recurring_fixed",), 4, True, True),
    ("VIP", "79.00", "790.00", CATEGORIES, True,
     ("one_time_event", "recurring_fixed", "recurring_bookable"), 10, True, True),
    ("Founding Member", "9.00", "90.00", ("yoga",), False, (), 1, False, False),
)

_TIER_WEIGHTS = Choice({0: 33, 1: 30, 2: 22, 3: 8, 4: 7})  # index into _TIER_SPECS

TIER_RETIRED_AT = -560 * DAY  # when the inactive tier stopped taking new members


def tier_created(n: int) -> int:
    """When the ``n``-th tier went on sale: one a month from the platform's start."""
    return -USER_SPAN + (n + 1) * 30 * DAY


def _plan_tiers(rng: random.Random) -> list[Tier]:
    return [Tier(new_uuid(rng), *spec) for spec in _TIER_SPECS]


_TIER_COLUMNS = (
    "id", "name", "description", "price_monthly", "price_yearly", "category_access",
    "full_catalog_access", "offering_access_rules", "monthly_credits", "credit_rollover",
    "active", "created_at", "updated_at",
)


def _tier_rows(clock: Clock, tiers: list[Tier]) -> Iterator[tuple]:
    for n, t in enumerate(tiers):
        rules = [{"type": kind, "included": True} for kind in t.offering_types]
        created = tier_created(n)
        yield (
            t.id, t.name, f"{t.name}: {', '.join(t.categories)}"
            + (f" and {t.monthly_credits} credits a month" if t.monthly_credits else ""),
            t.monthly, t.yearly, json.dumps(list(t.categories)), t.full_catalog,
            json.dumps(rules), t.monthly_credits, t.rollover, t.active,
            clock.ts(created), clock.ts(created if t.active else TIER_RETIRED_AT),
        )


SUBSCRIPTION_COLUMNS = (
    "id", "customer_id", "tier_id", "stripe_subscription_id", "billing_period",
    "current_period_start", "current_period_end", "status", "cancel_at_period_end",
    "trial_end", "created_at", "updated_at", "canceled_at",
)

_SUBSCRIPTION_STATUS = Choice({"active": 68, "canceled": 17, "trialing": 7, "past_due": 8})

_BILLING = Choice({"monthly": 75, "yearly": 25})


@dataclass
class Subscription:
    """A customer's subscription, as their access, bookings and credits need it."""

    id: str
    tier: Tier
    status: str
    start: int
    active_until: int  # the anchor for live subscriptions, the cancellation otherwise
    period_end: int


def subscribe(sim: CustomerSimulation, i: int) -> Subscription:
    """One subscription in any status, its periods consistent with the billing period."""
    rng, ts = sim.rng, sim.clock.ts
    status = _SUBSCRIPTION_STATUS.nth(rng, sim.n_subscriptions)
    if i in sim.people.deleted:
        status = "canceled"  # deleted accounts lose their plan
    billing = _BILLING.nth(rng, sim.n_subscriptions)
    sim.n_subscriptions += 1
    tier_index = _TIER_WEIGHTS.draw(rng)
    period = 30 * DAY if billing == "monthly" else 365 * DAY
    opened = sim.people.active_from[i]
    end = sim.people.end(i)
    canceled_at = trial_end = None
    if status == "trialing":
        start = between(rng, max(opened, -13 * DAY), -HOUR)
        period_start, period_end = start, start + 14 * DAY
        trial_end, active_until = period_end, end
    else:
        start = between(rng, max(opened, -730 * DAY), end - 2 * DAY)
        if rng.random() < 0.3 and start + 14 * DAY < end:
            trial_end = start + 14 * DAY
        if status == "canceled":
            canceled_at = between(rng, start + DAY, end - HOUR)
            active_until = canceled_at
        else:
            active_until = end
        # the period running at the anchor, or the one the cancellation fell in (whose
        # end stays as billed, as Stripe keeps it)
        period_start = start + (active_until - start) // period * period
        period_end = period_start + period
    tier = sim.tiers[tier_index]
    if start < tier_created(tier_index) or (not tier.active and start > TIER_RETIRED_AT):
        tier = sim.tiers[0]  # the tier was not on sale then; the basic one always was
    sub_id = new_uuid(rng)
    updated = max(start, period_start, canceled_at or start)
    sim.rows["subscriptions"].append((
        sub_id, sim.people.ids[i], tier.id, f"sub_demo_{random_hex(rng, 24)}", billing,
        ts(period_start), ts(period_end), status,
        status == "active" and rng.random() < 0.1, ts_or_none(sim.clock, trial_end),
        ts(start), ts(updated), ts_or_none(sim.clock, canceled_at),
    ))
    return Subscription(sub_id, tier, status, start, active_until, period_end)


# Earlier prices of some tiers, (monthly, yearly, in force until): subscribers whose period
# began before the change still pay them (the tier list's MRR shows it).
_EARLIER_PRICES = {
    "Essentials": ("10.00", "100.00", -200 * DAY),
    "Mind & Body": ("17.00", "170.00", -300 * DAY),
}


def _price_history_rows(clock: Clock, tiers: list[Tier]) -> Iterator[tuple]:
    """``admin.tier_prices``: each tier's prices since it went on sale."""
    for n, t in enumerate(tiers):
        created = tier_created(n)
        versions = [(t.monthly, t.yearly, created)]
        if t.name in _EARLIER_PRICES:
            monthly, yearly, until = _EARLIER_PRICES[t.name]
            versions = [(monthly, yearly, created), (t.monthly, t.yearly, until)]
        for monthly, yearly, since in versions:
            for period, amount in (("monthly", monthly), ("yearly", yearly)):
                yield t.id, period, amount, "usd", clock.ts(since), "demo data"


def load_tiers(ctx: DemoContext) -> None:
    """Plan the subscription tiers (kept on ``ctx``) and load them, with their prices'
    history."""
    ctx.tiers = _plan_tiers(ctx.rng("tiers"))
    ctx.loader.copy("subscription_tiers", _TIER_COLUMNS, list(_tier_rows(ctx.clock, ctx.tiers)))
    with ctx.loader.conn.cursor() as cur:
        cur.execute("SELECT to_regclass('admin.tier_prices') IS NOT NULL")
        row = cur.fetchone()
        if not (row and row[0]):
            return  # a platform database the app has not upgraded yet: no history to write
        cur.executemany(
            "INSERT INTO admin.tier_prices (tier_id, billing_period, amount, currency, "
            "effective_from, changed_by) VALUES (%s, %s, %s, %s, %s, %s)",
            list(_price_history_rows(ctx.clock, ctx.tiers)))
