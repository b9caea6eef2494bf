"""Offerings (events, programs, sessions, cohorts, retreats), resources and bookings."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg

from data.demo.catalog import Slugs
from data.demo.categories import CATEGORIES, TOPICS
from data.demo.clock import DAY, FAR_FUTURE, HOUR, MINUTE, WEEKDAYS, ts_or_none
from data.demo.draws import Choice, below, between, new_uuid, pick, random_hex
from data.demo.tokens import REFUND

if TYPE_CHECKING:
    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.customers import CustomerSimulation
    from data.demo.subscriptions import Subscription
    from data.demo.tokens import Ledger, Timeline
    from data.demo.users import People


_CANCELLATION_REASONS = (
    "Schedule conflict", "Feeling unwell", "Travel plans changed", "Found a different session",
    "Family emergency", "Booked the wrong date",
)

_CITIES = (
    "Studio Loft, 120 Market Street, San Francisco, CA",
    "Riverside Wellness Center, 45 Quay Road, Portland, OR",
    "The Barn at Willow Farm, Hudson Valley, NY",
    "Casa Serena, Tulum, Quintana Roo, Mexico",
    "Mountain Lodge, 8 Pine Ridge Road, Boulder, CO",
)


@dataclass
class Offering:
    """A planned offering, with what bookings need: dates, deadline and seats left."""

    idx: int
    id: str
    creator: int
    offering_type: str
    title: str
    slug: str
    capacity_type: str
    max_participants: int | None
    delivery: str
    price: str
    credit_cost: int | None
    status: str
    created: int
    published: int | None
    start: int | None  # first session of dated offerings; None for recurring ones
    end: int | None
    deadline: int | None
    access_after_days: int | None
    spots_left: int = FAR_FUTURE

    @property
    def dates(self) -> tuple[int, int]:
        """(start, end) of a dated offering; a recurring one has none, and asking is a bug."""
        if self.start is None or self.end is None:
            raise ValueError(f"offering {self.idx} ({self.offering_type}) has no dates")
        return self.start, self.end


_ARCHETYPES = (
    # (offering_type, capacity_type, delivery_method): the first ones cover every value
    ("one_time_event", "large_group", "online"),
    ("multi_day_program", "small_group", "hybrid"),
    ("recurring_fixed", "large_group", "in_person"),
    ("recurring_bookable", "one_on_one", "online"),
    ("cohort_course", "unlimited", "self_guided"),
    ("retreat", "small_group", "in_person"),
    ("one_time_event", "unlimited", "online"),
    ("recurring_fixed", "small_group", "hybrid"),
    ("cohort_course", "large_group", "online"),
    ("recurring_bookable", "one_on_one", "in_person"),
    ("multi_day_program", "unlimited", "self_guided"),
    ("one_time_event", "small_group", "in_person"),
)

_RECURRING = ("recurring_fixed", "recurring_bookable")

_OFFERING_STATUS = Choice({"published": 80, "draft": 10, "archived": 10})

_OFFERING_NOUNS = {
    "one_time_event": "Workshop", "multi_day_program": "Intensive", "recurring_fixed": "Class",
    "recurring_bookable": "1:1 Session", "cohort_course": "Cohort", "retreat": "Retreat",
}


def _offering_count(users: int) -> int:
    return max(24, users // 2_000)


def _plan_offerings(rng: random.Random, people: People, n: int) -> list[Offering]:
    creators = people.content_creators
    slugs = Slugs()
    offerings = []
    for idx in range(n):
        kind, capacity, delivery = _ARCHETYPES[idx] if idx < len(_ARCHETYPES) \
            else pick(rng, _ARCHETYPES)
        creator = creators[below(rng, len(creators))]
        category = pick(rng, CATEGORIES)
        title = f"{pick(rng, TOPICS[category])} {_OFFERING_NOUNS[kind]}"
        # the archetypes are all open for booking; later offerings cover the other statuses
        status = "published" if idx < len(_ARCHETYPES) \
            else _OFFERING_STATUS.nth(rng, idx - len(_ARCHETYPES))
        max_participants = {
            "one_on_one": 1, "small_group": rng.randint(6, 16),
            "large_group": pick(rng, (30, 50, 100, 200)), "unlimited": None,
        }[capacity]
        start = end = deadline = None
        if kind in _RECURRING:
            created = between(rng, max(people.active_from[creator], -700 * DAY), -30 * DAY)
        else:
            start = between(rng, -365 * DAY, 120 * DAY) // HOUR * HOUR
            if status == "archived":
                start = min(start, -30 * DAY)
            end = start + {"one_time_event": 2 * HOUR, "multi_day_program": 4 * DAY,
                           "cohort_course": 42 * DAY, "retreat": 5 * DAY}[kind]
            created = min(max(start - between(rng, 45 * DAY, 120 * DAY),
                              people.active_from[creator] + HOUR), -DAY)
            deadline = start - DAY
        published = None if status == "draft" else min(created + between(rng, HOUR, 7 * DAY),
                                                       -HOUR)
        offerings.append(Offering(
            idx=idx, id=new_uuid(rng), creator=creator, offering_type=kind, title=title,
            slug=slugs(title), capacity_type=capacity, max_participants=max_participants,
            delivery=delivery, price=pick(rng, ("15.00", "25.00", "45.00", "95.00", "250.00"))
            if kind != "retreat" else pick(rng, ("950.00", "1450.00", "2200.00")),
            credit_cost=None if kind == "retreat" or rng.random() < 0.2 else rng.randint(1, 5),
            status=status, created=created, published=published, start=start, end=end,
            deadline=deadline, access_after_days=None if kind in _RECURRING else 30,
            spots_left=max_participants if (max_participants and start is not None)
            else FAR_FUTURE,
        ))
    return offerings


def _schedule(rng: random.Random, clock: Clock, o: Offering) -> str:
    """The schedule JSON, shaped per offering type as the platform's schema describes."""
    hour = f"{rng.randint(7, 19):02d}:{pick(rng, ('00', '30'))}"
    kind = o.offering_type
    value: dict
    if kind == "recurring_fixed":
        value = {"pattern": "weekly", "day": pick(rng, WEEKDAYS), "time": hour,
                 "duration_minutes": pick(rng, (45, 60, 75))}
    elif kind == "recurring_bookable":
        days = rng.sample(WEEKDAYS[:5], 3)
        value = {"availability": {d: [{"start": "09:00", "end": "12:00"},
                                      {"start": "14:00", "end": "17:00"}] for d in days},
                 "booking_window_days": 14, "buffer_minutes": 15, "session_minutes": 50}
    else:  # the dated kinds
        start, end = o.dates
        if kind == "one_time_event":
            value = {"date": clock.date(start), "start_time": hour, "duration_minutes": 120}
        elif kind == "multi_day_program":
            value = {"start_date": clock.date(start), "end_date": clock.date(end),
                     "sessions": [{"date": clock.date(start + d * DAY), "start_time": hour,
                                   "duration_minutes": 90} for d in range(5)]}
        elif kind == "cohort_course":
            value = {"cohort_start_date": clock.date(start), "weeks": 6,
                     "sessions_per_week": 1, "day": clock.weekday(start), "time": hour,
                     "duration_minutes": 75}
        else:
            value = {"start_date": clock.date(start), "end_date": clock.date(end),
                     "check_in_time": "15:00", "check_out_time": "11:00"}
    return json.dumps(value)


_OFFERING_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "offering_type", "capacity_type",
    "max_participants", "delivery_method", "location_details", "video_conference_provider",
    "schedule", "price", "credit_cost", "payment_options", "status", "published_at",
    "registration_deadline", "portal_config", "booking_count", "created_at", "updated_at",
    "deleted_at",
)


def _offering_rows(
    rng: random.Random, clock: Clock, people: People, offerings: list[Offering]
) -> Iterator[tuple]:
    """``booking_count`` starts at 0 and is set once the bookings are known."""
    for o in offerings:
        online = o.delivery in ("online", "hybrid")
        in_person = o.delivery in ("in_person", "hybrid")
        options = {"installments": True} if o.offering_type in ("retreat", "cohort_course") \
            else {"pay_per_session": True} if o.offering_type in _RECURRING else {}
        portal = {} if o.access_after_days is None else {
            "access_before_days": 7, "access_after_days": o.access_after_days,
            "tabs": ["overview", "schedule", "resources", "recordings"]}
        yield (
            o.id, people.ids[o.creator], o.title, o.slug,
            f"{o.title}: {o.delivery.replace('_', ' ')}, {o.capacity_type.replace('_', ' ')}.",
            o.offering_type, o.capacity_type, o.max_participants, o.delivery,
            pick(rng, _CITIES) if in_person else None,
            pick(rng, ("zoom", "google_meet")) if online else None,
            _schedule(rng, clock, o), o.price, o.credit_cost, json.dumps(options), o.status,
            ts_or_none(clock, o.published), ts_or_none(clock, o.deadline), json.dumps(portal),
            0, clock.ts(o.created), clock.ts(o.published or o.created), None,
        )


_RESOURCE_TYPE = Choice({"content": 35, "file": 30, "link": 20, "text": 15})

_AVAILABLE_WHEN = Choice({"during": 40, "before": 20, "after": 20, "always": 20})

_RESOURCE_COLUMNS = (
    "id", "offering_id", "resource_type", "content_id", "file_url", "link_url", "text_content",
    "title", "description", "available_when", "unlock_at", "display_order", "created_at",
    "updated_at",
)


def _resource_rows(
    rng: random.Random, clock: Clock, catalog: Catalog, offerings: list[Offering]
) -> Iterator[tuple]:
    """A workbook, a recording, a link or a note for ~60% of offerings."""
    n = 0
    for o in offerings:
        if rng.random() >= 0.6:
            continue
        for order in range(rng.randint(1, 4)):
            kind = _RESOURCE_TYPE.nth(rng, n)
            when = _AVAILABLE_WHEN.nth(rng, n)
            n += 1
            content_id = file_url = link_url = text = None
            if kind == "content" and catalog.published:
                item = catalog.items[pick(rng, catalog.published)]
                content_id, title = item.id, item.title
            elif kind == "link":
                link_url, title = f"https://www.example.org/reading/{o.slug}", "Further reading"
            elif kind == "text":
                text, title = "Bring water, a mat and a blanket. Arrive 10 minutes early.", \
                    "What to bring"
            else:
                kind = "file"
                file_url, title = f"https://files.example.com/offerings/{o.slug}/workbook.pdf", \
                    "Workbook (PDF)"
            unlock = o.start if when in ("during", "after") and o.start is not None else None
            yield (
                new_uuid(rng), o.id, kind, content_id, file_url, link_url, text, title, None, when,
                ts_or_none(clock, unlock), order, clock.ts(o.created), clock.ts(o.created),
            )


BOOKING_COLUMNS = (
    "id", "customer_id", "offering_id", "payment_method", "amount_paid", "credits_used",
    "stripe_payment_intent_id", "booking_details", "status", "canceled_at",
    "cancellation_reason", "created_at", "updated_at",
)

PORTAL_COLUMNS = (
    "id", "booking_id", "user_id", "offering_id", "granted_at", "expires_at",
    "last_accessed_at", "created_at", "updated_at",
)

_PAST_BOOKING = Choice({"completed": 80, "canceled": 12, "no_show": 8})

_FUTURE_BOOKING = Choice({"confirmed": 88, "canceled": 12})


def _pick_offering(
    sim: CustomerSimulation, t: int, booked: set[int], sub: Subscription | None
) -> Offering | None:
    """A published offering open for booking at ``t``: one the customer's plan includes
    (usually, when there is one), else a dated one with seats left and registration open,
    else a recurring one."""
    rng = sim.rng
    pools = [sim.dated, sim.recurring]
    if sub is not None and sub.start <= t < sub.active_until and rng.random() < 0.7:
        pools.insert(0, [o for kind in sub.tier.offering_types
                         for o in sim.by_type.get(kind, ())])
    for pool in pools:
        for _ in range(6 if pool else 0):
            o = pool[below(rng, len(pool))]
            # The pools hold published offerings, and a dated one has a deadline: the None
            # checks never skip one.
            if o.published is not None and o.published < t and (o.start is None or (
                    o.deadline is not None and t < o.deadline and o.spots_left > 0
                    and o.idx not in booked)):
                return o
    return None


def book(
    sim: CustomerSimulation, i: int, uid: str, sub: Subscription | None, t: int,
    ledger: Ledger, booked: set[int], timeline: Timeline,
) -> None:
    """A booking at ``t`` (if some offering is open), its payment, and its portal access."""
    rng, ts = sim.rng, sim.clock.ts
    o = _pick_offering(sim, t, booked, sub)
    if o is None:
        return
    booked.add(o.idx)
    booking_id = new_uuid(rng)
    covered = sub is not None and sub.start <= t < sub.active_until \
        and o.offering_type in sub.tier.offering_types
    if covered:
        method, amount, credits, intent = "subscription", "0.00", 0, None
    elif o.credit_cost and ledger.balance >= o.credit_cost and rng.random() < 0.85:
        method, amount, credits, intent = "credits", "0.00", o.credit_cost, None
    else:
        method, amount, credits = "purchase", o.price, 0
        intent = f"pi_demo_{random_hex(rng, 24)}"
    details: dict = {}
    if o.offering_type == "recurring_bookable":
        session = t + between(rng, DAY, 14 * DAY) // HOUR * HOUR
        details = {"booked_sessions": [{"date": sim.clock.date(session),
                                        "time": ts(session)[11:16]}]}
    elif o.offering_type == "recurring_fixed":
        session = t + between(rng, HOUR, 30 * DAY)
    else:  # a dated offering: the booking is for its start
        session = o.dates[0]
        if o.offering_type == "cohort_course":
            details = {"cohort_start_date": sim.clock.date(session)}
    end = sim.people.end(i)
    status = (_PAST_BOOKING if session < 0 else _FUTURE_BOOKING).draw(rng)
    canceled_at = reason = None
    if status == "canceled":
        canceled_at = between(rng, t + MINUTE, min(session, end) - MINUTE)
        reason = pick(rng, _CANCELLATION_REASONS)
    else:
        sim.bookings_kept[o.idx] += 1
        o.spots_left -= 1
    if method == "credits":
        t = ledger.post(t, "spent_offering", -credits, f"Booked {o.title}",
                        booking=booking_id)
        if canceled_at is not None:
            canceled_at = max(canceled_at, t + 1)
            timeline.add(canceled_at, REFUND, (booking_id, credits))
    if canceled_at is not None:
        updated = canceled_at
    elif status == "confirmed":
        updated = t
    else:  # completed or no-show: marked after the session
        updated = max(t, min(session, end))
    sim.rows["offering_bookings"].append((
        booking_id, uid, o.id, method, amount, credits, intent, json.dumps(details), status,
        ts_or_none(sim.clock, canceled_at), reason, ts(t), ts(updated),
    ))
    if status in ("confirmed", "completed") and o.access_after_days and rng.random() < 0.6:
        # only dated offerings give portal access after them (access_after_days)
        expires = o.dates[1] + o.access_after_days * DAY
        last = between(rng, t, min(end, expires)) if rng.random() < 0.7 else None
        sim.rows["offering_portal_access"].append((
            new_uuid(rng), booking_id, uid, o.id, ts(t), ts(expires),
            ts_or_none(sim.clock, last), ts(t), ts(last if last is not None else t),
        ))


def load_offerings(ctx: DemoContext) -> None:
    """Plan the offerings (kept on ``ctx`` for the bookings) and load them with their
    resources."""
    rng = ctx.rng("offerings")
    ctx.offerings = _plan_offerings(rng, ctx.people, _offering_count(ctx.users))
    ctx.loader.copy("offerings", _OFFERING_COLUMNS,
                    list(_offering_rows(rng, ctx.clock, ctx.people, ctx.offerings)))
    ctx.loader.copy("offering_resources", _RESOURCE_COLUMNS,
                    list(_resource_rows(rng, ctx.clock, ctx.catalog, ctx.offerings)))


def update_booking_counts(
    conn: psycopg.Connection, offerings: list[Offering], bookings_kept: list[int]
) -> None:
    """Set ``offerings.booking_count``: the bookings not canceled."""
    booked = [(offerings[k].id, n) for k, n in enumerate(bookings_kept) if n]
    if booked:
        conn.execute(
            "UPDATE offerings o SET booking_count = b.n"
            " FROM unnest(%s::uuid[], %s::int[]) AS b(id, n) WHERE o.id = b.id",
            [list(col) for col in zip(*booked, strict=True)],
        )
