"""Customer activity: each customer's subscription, purchases, access, bookings and credits."""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING

from data.demo.clock import DAY, HOUR, MINUTE
from data.demo.draws import between, pick
from data.demo.loading import chunks
from data.demo.offerings import BOOKING_COLUMNS, PORTAL_COLUMNS, book, update_booking_counts
from data.demo.purchases import (
    ACCESS_COLUMNS,
    PLAYBACK_COLUMNS,
    PURCHASE_COLUMNS,
    buy,
    grant_other_access,
    purchase_counts,
    update_content_counters,
)
from data.demo.subscriptions import SUBSCRIPTION_COLUMNS, subscribe
from data.demo.tokens import (
    ADJUST,
    BALANCE_COLUMNS,
    BOOK,
    EXPIRE,
    GRANT,
    LEDGER_COLUMNS,
    PACK,
    REFUND,
    Ledger,
    Timeline,
)

if TYPE_CHECKING:
    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.loading import Loader
    from data.demo.offerings import Offering
    from data.demo.subscriptions import Subscription, Tier
    from data.demo.users import People


_CHUNK_CUSTOMERS = 5_000  # customers per batch of the customer-activity stage

_ACTIVITY_TABLES = (  # foreign-key order
    ("subscriptions", SUBSCRIPTION_COLUMNS),
    ("purchases", PURCHASE_COLUMNS),
    ("content_access", ACCESS_COLUMNS),
    ("video_playback", PLAYBACK_COLUMNS),
    ("offering_bookings", BOOKING_COLUMNS),
    ("offering_portal_access", PORTAL_COLUMNS),
    ("credit_transactions", LEDGER_COLUMNS),
    ("credit_balances", BALANCE_COLUMNS),
)


class CustomerSimulation:
    """Generates, customer by customer, everything a customer does on the platform.

    Rows accumulate per table for a chunk of customers and are then copied in foreign-key
    order; the counters that other tables carry (``content.purchase_count``,
    ``offerings.booking_count``) are tallied on the way."""

    def __init__(
        self, rng: random.Random, clock: Clock, people: People, catalog: Catalog,
        tiers: list[Tier], offerings: list[Offering], purchase_counts: array,
    ) -> None:
        self.rng = rng
        self.clock = clock
        self.people = people
        self.catalog = catalog
        self.tiers = tiers
        self.offerings = offerings
        self.purchase_counts = purchase_counts
        self.dated = [o for o in offerings if o.status == "published" and o.start is not None]
        self.recurring = [o for o in offerings if o.status == "published" and o.start is None]
        self.completed_purchases = [0] * len(catalog.items)
        self.bookings_kept = [0] * len(offerings)
        self.rows: dict[str, list[tuple]] = {table: [] for table, _ in _ACTIVITY_TABLES}
        self.by_type: dict[str, list[Offering]] = {}
        for o in self.dated + self.recurring:
            self.by_type.setdefault(o.offering_type, []).append(o)
        self.n_purchases = self.n_subscriptions = self.n_active = self.n_ledgers = 0

    def customer(self, i: int) -> None:
        """Everything customer ``i`` does, in the order that keeps the tables consistent."""
        people = self.people
        if not people.can_buy(i):
            return  # unverified (or verified moments ago): nothing to show yet
        regular = people.can_subscribe(i)
        sub = subscribe(self, i) if regular and self.rng.random() < 0.12 else None
        owned = buy(self, i, self.purchase_counts[i - people.customers.start])
        grant_other_access(self, i, sub, owned)
        if regular:
            self._bookings_and_credits(i, sub)
        self.n_active += 1

    def simulate(self, customers: range) -> Iterator[tuple]:
        """Simulate ``customers``, yielding their purchase rows as they come; every other
        table's rows wait in :attr:`rows`."""
        purchases = self.rows["purchases"]
        for i in customers:
            self.customer(i)
            if purchases:
                yield from purchases
                purchases.clear()

    def take_rows(self) -> dict[str, list[tuple]]:
        """The rows gathered since the last call, by table; starts gathering afresh."""
        rows, self.rows = self.rows, {table: [] for table, _ in _ACTIVITY_TABLES}
        return rows

    def _bookings_and_credits(self, i: int, sub: Subscription | None) -> None:
        """Simulate the customer's bookings and credit ledger in time order.

        A booking is paid by the subscription when the plan includes the offering type, with
        credits when the running balance covers the offering's credit cost, and otherwise by
        card. Subscription credits of plans without rollover expire after 30 days (spending
        uses them first); a canceled credit booking is refunded with an adjustment."""
        rng = self.rng
        opened, end = self.people.active_from[i], self.people.end(i)
        timeline = Timeline()
        if sub is not None and sub.tier.monthly_credits:
            t = sub.start
            while t < min(sub.active_until, -HOUR):
                timeline.add(t, GRANT)
                if not sub.tier.rollover and t + 30 * DAY - MINUTE < -HOUR:
                    timeline.add(t + 30 * DAY - MINUTE, EXPIRE)
                t += 30 * DAY
        window = (max(opened, -365 * DAY), end - 2 * HOUR)
        if rng.random() < (0.15 if sub is not None else 0.03):
            for _ in range(rng.randint(1, 3)):
                timeline.add(between(rng, *window), PACK, pick(rng, (5, 10, 20)))
        if rng.random() < (0.45 if sub is not None else 0.12):
            subscribed = window if sub is None else \
                (max(window[0], sub.start), min(window[1], sub.active_until))
            for _ in range(rng.randint(1, 4)):
                # subscribers mostly book while subscribed
                span = subscribed if subscribed[0] < subscribed[1] and rng.random() < 0.8 \
                    else window
                timeline.add(between(rng, *span), BOOK)
        if not timeline:
            return
        if self.n_ledgers == 0:  # so that even a small demo has an adjustment
            timeline.add(between(rng, *window), ADJUST, 2)
        elif rng.random() < 0.06:
            timeline.add(between(rng, *window), ADJUST, pick(rng, (2, 3, -1)))
        self.n_ledgers += 1

        uid = self.people.ids[i]
        ledger = Ledger(rng, self.clock, uid, self.rows["credit_transactions"])
        booked: set[int] = set()
        # The kind decides what data carries; the checks beside it only narrow the types
        # (a GRANT is only scheduled for a subscription).
        for t, kind, data in timeline:
            if kind == GRANT and sub is not None:
                credits, rollover = sub.tier.monthly_credits, sub.tier.rollover
                ledger.post(t, "earned_subscription", credits,
                            f"{credits} monthly credits ({sub.tier.name})", subscription=sub.id,
                            expires=None if rollover else t + 30 * DAY)
                if not rollover:
                    ledger.expiring = credits
            elif kind == EXPIRE and ledger.expiring > 0:
                ledger.post(t, "expired", -ledger.expiring, "Unused monthly credits expired")
            elif kind == PACK and isinstance(data, int):
                ledger.post(t, "earned_purchase", data, f"Purchased a {data}-credit pack")
            elif kind == ADJUST and isinstance(data, int) and ledger.balance + data >= 0:
                ledger.post(t, "adjustment", data,
                            "Goodwill credit from support" if data > 0 else "Balance correction")
            elif kind == REFUND and isinstance(data, tuple):
                booking_id, credits = data
                ledger.post(t, "adjustment", credits, "Credits refunded for canceled booking",
                            booking=booking_id)
            elif kind == BOOK:
                book(self, i, uid, sub, t, ledger, booked, timeline)
        if ledger.first is not None:
            self.rows["credit_balances"].append(ledger.balance_row())


_ACTIVITY_STAGE = "customer activity"


def _load_customer_activity(
    loader: Loader, activity: CustomerSimulation, customers: range
) -> None:
    """Simulate the customers chunk by chunk. Purchases, the biggest table, are copied while
    the chunk is being simulated (so the server stores them while Python computes); the rest
    of the chunk's rows follow, table by table in foreign-key order."""
    stage = _ACTIVITY_STAGE
    for chunk in chunks(customers, _CHUNK_CUSTOMERS):
        loader.copy("purchases", PURCHASE_COLUMNS, activity.simulate(chunk), quiet=True)
        rows = activity.take_rows()
        for table, columns in _ACTIVITY_TABLES:
            if rows[table]:
                loader.copy(table, columns, rows[table], quiet=True)
        loader.report(stage, chunk.stop - customers.start, len(customers))


def load_customer_activity(ctx: DemoContext) -> None:
    """Simulate every customer, load what they did, then set the counters that summarise it.

    One generator serves the whole simulation: a customer's subscription, purchases, access,
    bookings and credits are drawn one after the other from it."""
    people = ctx.people
    ctx.loader.report(_ACTIVITY_STAGE, 0, len(people.customers))
    rng = ctx.rng("customers")
    counts = purchase_counts(rng, people, ctx.catalog, ctx.purchases)
    simulation = CustomerSimulation(rng, ctx.clock, people, ctx.catalog, ctx.tiers,
                                    ctx.offerings, counts)
    _load_customer_activity(ctx.loader, simulation, people.customers)
    update_content_counters(ctx.conn, ctx.catalog, simulation.completed_purchases, rng)
    update_booking_counts(ctx.conn, ctx.offerings, simulation.bookings_kept)
