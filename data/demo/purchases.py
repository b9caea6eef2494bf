"""Purchases of content, the access they grant, and video playback positions."""

from __future__ import annotations

import random
from array import array
from typing import TYPE_CHECKING

import psycopg

from data.demo.clock import DAY, HOUR, MINUTE, PURCHASE_SPAN, RECENT
from data.demo.draws import Choice, below, between, new_uuid, pick

if TYPE_CHECKING:
    from data.demo.catalog import Catalog, Item
    from data.demo.customers import CustomerSimulation
    from data.demo.subscriptions import Subscription
    from data.demo.users import People


_REFUND_REASONS = (
    "Purchased by mistake", "Duplicate purchase", "Content did not match description",
    "Playback issues", "Customer request", "Accidental purchase by family member",
)

EUR_CUSTOMER_EVERY = 8
"""One customer in this many pays in euros, so the demo's revenue has a second currency."""


def _customer_currency(i: int) -> str:
    # By index, not by the random generator: every other demo figure stays as it was.
    return "eur" if i % EUR_CUSTOMER_EVERY == 3 else "usd"


PURCHASE_COLUMNS = (
    "id", "customer_id", "content_id", "amount_paid", "currency", "stripe_payment_intent_id",
    "platform_fee_amount", "creator_payout_amount", "status", "purchased_at", "refunded_at",
    "refund_reason", "created_at", "updated_at",
)

ACCESS_COLUMNS = (
    "id", "user_id", "content_id", "access_type", "granted_at", "expires_at",
    "last_accessed_at", "created_at", "updated_at",
)

PLAYBACK_COLUMNS = (
    "id", "user_id", "content_id", "position_seconds", "duration_seconds", "completed",
    "updated_at", "created_at",
)

_PURCHASE_STATUS = Choice({"completed": 90, "refunded": 6, "pending": 2, "failed": 2})


def purchase_counts(
    rng: random.Random, people: People, catalog: Catalog, total: int
) -> array:
    """How many purchases each customer makes (indexed from the first customer): ``total``
    in all, long-standing customers buying more. Nobody gets more than the number of items
    they could buy (each at most once), so the requested total is met exactly."""
    customers = people.customers
    anytime = len(catalog.priced)
    # a deleted account closed within the last 90 days: items older than that were on sale
    before_deletion = sum(
        1 for j in catalog.priced if catalog.items[j].published_at < -RECENT - 2 * HOUR
    )
    caps = array("I", (
        0 if not people.can_buy(i) else before_deletion if i in people.deleted else anytime
        for i in customers
    ))
    if total > sum(caps):
        raise ValueError(f"{total} purchases do not fit: the customers can buy {sum(caps)}")
    counts = array("I", bytes(4 * len(customers)))
    n = len(customers)
    for _ in range(total):
        j = int(n * rng.random() ** 1.3)
        while counts[j] >= caps[j]:
            j = below(rng, n)
        counts[j] += 1
    return counts


def _pick_items(sim: CustomerSimulation, i: int, count: int) -> list[int]:
    """``count`` distinct items published before the customer's account ended, the
    popular ones more often."""
    rng, items, popular = sim.rng, sim.catalog.items, sim.catalog.popular
    limit = sim.people.end(i) - 2 * HOUR
    chosen: dict[int, None] = {}
    for _ in range(4 * count + 8):
        j = popular[int(rng.random() * len(popular))]
        if j not in chosen and items[j].published_at < limit:
            chosen[j] = None
            if len(chosen) == count:
                return list(chosen)
    rest = [j for j in sim.catalog.priced if j not in chosen and items[j].published_at < limit]
    return [*chosen, *rng.sample(rest, count - len(chosen))]


def buy(sim: CustomerSimulation, i: int, count: int) -> set[int]:
    """The customer's purchases, and an access row for each completed one; returns the
    items the customer now owns or tried to buy (no other access may duplicate them)."""
    if count == 0:
        return set()
    rng, ts, items = sim.rng, sim.clock.ts, sim.catalog.items
    uid = sim.people.ids[i]
    account_end = sim.people.deleted.get(i, 0)
    window_start = max(sim.people.active_from[i], -PURCHASE_SPAN)
    end = account_end - HOUR  # leaves room for a refund
    append = sim.rows["purchases"].append
    currency = _customer_currency(i)
    picked = _pick_items(sim, i, count)
    for j in picked:
        item = items[j]
        status = _PURCHASE_STATUS.nth(rng, sim.n_purchases)
        sim.n_purchases += 1
        lo = max(window_start, item.published_at + MINUTE)
        if status == "pending":  # checkouts do not stay pending for long
            lo = max(lo, end - 2 * DAY)
        at = between(rng, lo, end)
        stamp = ts(at)
        pid = new_uuid(rng)
        # a sequence number then random digits: unique by construction, and ascending in
        # load order, which makes building the two indexes on it a fast, presorted sort
        intent = f"pi_demo_{sim.n_purchases:08x}{pid[-12:]}{pid[:4]}"
        if status == "completed":
            append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                    status, stamp, None, None, stamp, stamp))
            sim.completed_purchases[j] += 1
            grant_access(sim, uid, account_end, item, "purchased", at, stamp)
        elif status == "refunded":
            refunded = ts(between(rng, at + HOUR, min(at + 14 * DAY, account_end)))
            append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                    status, stamp, refunded, pick(rng, _REFUND_REASONS), stamp, refunded))
        else:  # pending or failed: never paid
            append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                    status, None, None, None, stamp, stamp))
    return set(picked)


def grant_access(
    sim: CustomerSimulation, uid: str, account_end: int, item: Item, kind: str, granted: int,
    granted_stamp: str, expires: int | None = None,
) -> None:
    """An access row (``granted_stamp`` is ``granted`` formatted, which the caller often
    has already), with a playback position for some of the videos."""
    rng, ts = sim.rng, sim.clock.ts
    end = account_end if expires is None else min(account_end, expires)
    if rng.random() < 0.7 and end > granted:
        last = between(rng, granted, end)
        last_stamp = ts(last)
    else:
        last, last_stamp = None, None
    sim.rows["content_access"].append((
        new_uuid(rng), uid, item.id, kind, granted_stamp,
        None if expires is None else ts(expires), last_stamp, granted_stamp,
        last_stamp or granted_stamp,
    ))
    # Every video has a duration; the check only tells the type checker.
    duration = item.duration
    if item.content_type == "video" and duration is not None and last is not None \
            and rng.random() < 0.5:
        position = duration if rng.random() < 0.3 else int(rng.random() * duration)
        sim.rows["video_playback"].append((
            new_uuid(rng), uid, item.id, position, duration, position >= duration * 0.95,
            last_stamp, ts(between(rng, granted, last)),
        ))


def grant_other_access(
    sim: CustomerSimulation, i: int, sub: Subscription | None, owned: set[int]
) -> None:
    """Members-only items for subscribers, plus the odd gift and preview (the first two
    active customers get one each, so that a small demo shows both)."""
    rng, catalog = sim.rng, sim.catalog
    uid = sim.people.ids[i]
    opened, end = sim.people.active_from[i], sim.people.end(i)
    if sub is not None:
        pool = [j for c in sub.tier.categories for j in catalog.members_only[c]]
        for j in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
            item = catalog.items[j]
            granted = max(sub.start, item.published_at + MINUTE)
            if j in owned or granted >= min(sub.active_until, end):
                continue
            owned.add(j)
            grant_access(sim, uid, end, item, "subscription", granted, sim.clock.ts(granted),
                         sub.period_end)
    for kind, chance, days, first in (("complimentary", 0.03, None, 0),
                                      ("preview", 0.015, 7, 1)):
        if (rng.random() >= chance and sim.n_active != first) or not catalog.published:
            continue
        j = pick(rng, catalog.published)
        item = catalog.items[j]
        lo = max(opened, item.published + MINUTE)
        if j in owned or lo >= end - HOUR:
            continue
        owned.add(j)
        granted = between(rng, lo, end - HOUR)
        grant_access(sim, uid, end, item, kind, granted, sim.clock.ts(granted),
                     None if days is None else granted + days * DAY)


def update_content_counters(
    conn: psycopg.Connection, catalog: Catalog, completed_purchases: list[int],
    rng: random.Random,
) -> None:
    """Set ``content.purchase_count`` (completed purchases) and raise ``content.view_count``
    (never below it: each buyer watched a few times)."""
    sold = [(catalog.items[j].id, n, n * rng.randint(2, 6))
            for j, n in enumerate(completed_purchases) if n]
    if sold:
        conn.execute(
            "UPDATE content c SET purchase_count = s.n, view_count = c.view_count + s.v"
            " FROM unnest(%s::uuid[], %s::int[], %s::int[]) AS s(id, n, v) WHERE c.id = s.id",
            [list(col) for col in zip(*sold, strict=True)],
        )
