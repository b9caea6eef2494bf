"""Reads for the Offerings page: the list, one offering with its bookings, the agenda.

The list is keyset-paged on the indexes of migration 0013: "next session" walks the first
day of dated offerings (weekly classes and 1:1 offerings last: their next session depends
on today, which no index can hold), "title" and "bookings" their own. The next session
shown is computed from the schedule (:mod:`data.schedules`) in the platform's time zone
for the rows of the page only; a 1:1 offering's is the next session booked on it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from data import schedules
from data.errors import NotFoundError, ValidationError
from data.services.text import clean_search

__all__ = [
    "AGENDA_PAGE",
    "AgendaCursor",
    "AgendaEntry",
    "BookingLine",
    "OfferingDetail",
    "OfferingFilter",
    "OfferingRecord",
    "OfferingRow",
    "ParsedSchedules",
    "agenda_page",
    "count_offerings",
    "get_offering_detail",
    "get_offering_row",
    "list_agenda",
    "list_offerings_page",
    "platform_zone",
]

Sort = Literal["next", "title", "bookings"]
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class OfferingFilter:
    """What the list shows; None means any."""

    search: str = ""
    offering_type: str | None = None
    status: str | None = None
    delivery: str | None = None
    when: str = "upcoming"  # upcoming | past | all
    creator_id: uuid.UUID | None = None
    sort: Sort = "next"


@dataclass(frozen=True)
class OfferingRow:
    id: uuid.UUID
    title: str
    offering_type: str
    delivery_method: str
    max_participants: int | None
    confirmed: int
    price: Decimal | None
    credit_cost: int | None
    status: str
    booking_count: int
    first_day: dt.date | None
    next_session: dt.datetime | None = None
    schedule_problem: str | None = None

    @property
    def seats(self) -> str:
        return f"{self.confirmed} / {self.max_participants if self.max_participants else '∞'}"


def platform_zone(session: Session) -> str:
    """The platform's time zone name (``platform_settings.timezone``; UTC without one)."""
    return str(session.execute(text("SELECT admin.platform_timezone()")).scalar_one())


_FIRST = ("coalesce(admin.offering_first_day(o.offering_type, o.schedule), "
          "'infinity'::date)")
_SORTS = {  # (key expression, ascending, its type: the cursor carries it as text)
    "next": (_FIRST, True, "date"),  # 'infinity' (recurring) is no Python date
    "title": ("lower(o.title)", True, "text"),
    "bookings": ("o.booking_count", False, "integer"),
}

_ROW_COLUMNS = """
    o.id, o.title, o.offering_type, o.delivery_method, o.max_participants,
    (SELECT count(*) FROM offering_bookings b
     WHERE b.offering_id = o.id AND b.status = 'confirmed')::int,
    o.price, o.credit_cost, o.status, o.booking_count,
    admin.offering_first_day(o.offering_type, o.schedule), o.schedule
"""


def _where(flt: OfferingFilter) -> tuple[list[str], dict[str, Any]]:
    where = ["o.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    search = clean_search(flt.search)
    if search:
        where.append("(o.title ILIKE :search OR o.slug LIKE :prefix)")
        like = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.update(search=f"%{like}%", prefix=f"{like.lower()}%")
    for column, value in (("offering_type", flt.offering_type), ("status", flt.status),
                          ("delivery_method", flt.delivery), ("creator_id", flt.creator_id)):
        if value is not None:
            where.append(f"o.{column} = :{column}")
            params[column] = value
    last = "admin.offering_last_day(o.offering_type, o.schedule)"
    if flt.when == "upcoming":
        # Finished offerings found on the last-day index (0018), not each row's last day
        # worked out as the "next session" order walks the first-day index past them all
        # (the day functions pin their search_path, so they are never inlined: ~0.1 ms a
        # call; the first page took 0.6-1.1 s at 10k offerings, bench/offerings.py). A
        # hashed NOT IN keeps that index order; OFFSET 0 keeps the subquery apart.
        where.append("o.id NOT IN (SELECT f.id FROM offerings f WHERE "
                     "admin.offering_last_day(f.offering_type, f.schedule) < current_date "
                     "OFFSET 0)")
    elif flt.when == "past":
        where.append(f"{last} < current_date")
    return where, params


BOOKED_AHEAD_DAYS = 62
"""A 1:1 offering's next session is looked for in this many days first, on the index of
booked dates (0026); only an offering with none there has all its bookings read."""


def _booked_ahead(session: Session, offering_ids: list[uuid.UUID], first: dt.date,
                  last: dt.date | None) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The sessions booked on these 1:1 offerings from local day ``first`` (through
    ``last``; None: any later day) by bookings not canceled, as written (``{date, time}``).
    With ``last`` on the booked dates' index; without, through the bookings' offering
    index (every booking of those offerings)."""
    if not offering_ids:
        return {}
    params: dict[str, Any] = {"ids": offering_ids, "ws": _WHITESPACE}
    if last is not None:
        params["days"] = _dates(first, last)
        dates = ("admin.booked_session_dates(b.booking_details) && CAST(:days AS text[]) "
                 "AND btrim(s ->> 'date', :ws) = ANY(CAST(:days AS text[]))")
    else:
        # a written date compares as text (C order: the digits' order); one the app
        # cannot read is skipped when its session is read, as in the agenda
        params["since"] = first.isoformat()
        dates = "btrim(s ->> 'date', :ws) COLLATE \"C\" >= :since"
    booked: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for oid, date, time in session.execute(text(f"""
        SELECT DISTINCT b.offering_id, s ->> 'date', s ->> 'time'
        FROM offering_bookings b
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(b.booking_details
             -> 'booked_sessions') = 'array' THEN b.booking_details -> 'booked_sessions'
             ELSE '[]'::jsonb END) s
        WHERE b.offering_id = ANY(CAST(:ids AS uuid[])) AND b.status <> 'canceled'
          AND b.booking_details ? 'booked_sessions' AND {dates}
    """), params):
        booked.setdefault(oid, []).append({"date": date, "time": time})
    return booked


def _rows(session: Session, raw: Sequence[Any]) -> list[OfferingRow]:
    """The page's rows with their next session: a dated offering's or a class's from its
    schedule, a 1:1 offering's the next session booked on it (not canceled); None ("—")
    when there is none in the next two years."""
    zone = platform_zone(session)
    now = dt.datetime.now(dt.UTC)
    # a local day is within a day of the UTC one
    first = now.date() - dt.timedelta(days=1)
    out: list[OfferingRow] = []
    unknown: list[int] = []  # the 1:1 rows with no session booked in the first days
    parsed: dict[int, schedules.Schedule] = {}
    near = _booked_ahead(session, [r[0] for r in raw if r[2] == "recurring_bookable"],
                         first, first + dt.timedelta(days=BOOKED_AHEAD_DAYS))
    for i, r in enumerate(raw):
        cols, schedule = tuple(r[:11]), r[11]
        problem = nxt = None
        try:
            parsed[i] = schedules.parse(cols[2], schedule)
            nxt = schedules.next_session(parsed[i], zone, now, booked=near.get(cols[0], ()))
        except ValidationError as exc:
            problem = "; ".join(exc.field_errors.values())
        if nxt is None and problem is None and cols[2] == "recurring_bookable":
            unknown.append(i)
        out.append(OfferingRow(*cols, nxt, problem))  # type: ignore[call-arg]
    # Sessions after the first days are all later than any in them: only an offering with
    # none there needs the rest of its bookings.
    later = _booked_ahead(session, [raw[i][0] for i in unknown], first, None)
    for i in unknown:
        if raw[i][0] in later:
            nxt = schedules.next_session(parsed[i], zone, now, booked=later[raw[i][0]])
            out[i] = replace(out[i], next_session=nxt)
    return out


def list_offerings_page(session: Session, flt: OfferingFilter, cursor: tuple | None,
                        limit: int) -> tuple[list[OfferingRow], tuple | None]:
    """One keyset page after ``cursor`` in the filter's order; the rows and the next
    cursor (None at the end)."""
    where, params = _where(flt)
    key, ascending, kind = _SORTS[flt.sort]
    if cursor is not None:
        where.append(f"({key}, o.id) {'>' if ascending else '<'} (CAST(:k AS {kind}), :id)")
        params.update(k=cursor[0], id=cursor[1])
    order = "ASC" if ascending else "DESC"
    sql = (f"SELECT {_ROW_COLUMNS}, ({key})::text AS sort_key FROM offerings o "
           f"WHERE {' AND '.join(where)} ORDER BY {key} {order}, o.id {order} "
           f"LIMIT :limit")
    raw = session.execute(text(sql), {**params, "limit": limit + 1}).all()
    more = len(raw) > limit
    raw = raw[:limit]
    rows = _rows(session, raw)
    if not more or not raw:
        return rows, None
    return rows, (raw[-1][-1], raw[-1][0])


@dataclass(frozen=True)
class OfferingCount:
    value: int
    exact: bool


def count_offerings(session: Session, flt: OfferingFilter) -> OfferingCount:
    """Exact up to :data:`EXACT_COUNT_LIMIT`, else that many and not exact."""
    where, params = _where(flt)
    n = session.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM offerings o WHERE {' AND '.join(where)} "
        f"LIMIT {EXACT_COUNT_LIMIT + 1}) s"), params).scalar_one()
    return OfferingCount(min(n, EXACT_COUNT_LIMIT), n <= EXACT_COUNT_LIMIT)


def get_offering_row(session: Session, offering_id: uuid.UUID) -> OfferingRow | None:
    raw = session.execute(text(f"SELECT {_ROW_COLUMNS} FROM offerings o "
                               "WHERE o.id = :id AND o.deleted_at IS NULL"),
                          {"id": offering_id}).all()
    return _rows(session, raw)[0] if raw else None


# -- one offering ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OfferingRecord:
    """One offering as the editor sees it; ``version`` is the row's xmin."""

    id: uuid.UUID
    creator_id: uuid.UUID
    creator: str
    title: str
    slug: str
    description: str | None
    offering_type: str
    capacity_type: str
    max_participants: int | None
    delivery_method: str
    location_details: str | None
    video_conference_provider: str | None
    schedule: Any
    price: Decimal | None
    credit_cost: int | None
    payment_options: Any
    status: str
    published_at: dt.datetime | None
    registration_deadline: dt.datetime | None
    portal_config: Any
    booking_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    version: int


@dataclass(frozen=True)
class BookingLine:
    """A booking as the offering's (or the customer's) Bookings tab shows it."""

    id: uuid.UUID
    customer_id: uuid.UUID
    customer: str
    offering_id: uuid.UUID
    offering_title: str
    payment_method: str
    amount_paid: Decimal
    credits_used: int
    status: str
    sessions: str
    created_at: dt.datetime
    portal_expires_at: dt.datetime | None
    has_portal: bool
    complimentary: bool
    refunded: Decimal = Decimal("0")
    """Money given back by the app's succeeded refunds."""
    credits_returned: int = 0
    """Tokens given back by the app's succeeded refunds."""

    @property
    def paid(self) -> str:
        if self.payment_method == "credits":
            return f"{self.credits_used:,} credits"
        if self.payment_method == "subscription":
            return "subscription"
        return "complimentary" if self.complimentary or not self.amount_paid \
            else f"{self.amount_paid} USD"


@dataclass(frozen=True)
class OfferingDetail:
    """An offering with its confirmed count and resources; its bookings page on their own
    (:mod:`data.queries.offering_bookings`)."""

    record: OfferingRecord
    confirmed: int
    platform_zone: str
    resources: tuple[Any, ...] = field(default_factory=tuple)


_RECORD = text("""
SELECT o.id, o.creator_id, u.full_name || ' <' || u.email || '>', o.title, o.slug,
       o.description, o.offering_type, o.capacity_type, o.max_participants,
       o.delivery_method, o.location_details, o.video_conference_provider, o.schedule,
       o.price, o.credit_cost, o.payment_options, o.status, o.published_at,
       o.registration_deadline, o.portal_config, o.booking_count, o.created_at,
       o.updated_at, o.deleted_at, o.xmin::text::bigint
FROM offerings o JOIN users u ON u.id = o.creator_id WHERE o.id = :id
""")

BOOKING_SELECT = """
SELECT b.id, b.customer_id, u.full_name || ' <' || u.email || '>', b.offering_id, o.title,
       b.payment_method, coalesce(b.amount_paid, 0), coalesce(b.credits_used, 0), b.status,
       coalesce((SELECT string_agg(coalesce(s ->> 'date', '') || ' ' || coalesce(s ->> 'time', ''),
                                   ', ')
                 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(b.booking_details
                      -> 'booked_sessions') = 'array' THEN b.booking_details -> 'booked_sessions'
                      ELSE '[]'::jsonb END) s), b.booking_details ->> 'cohort_start_date', ''),
       b.created_at, a.expires_at, a.id IS NOT NULL,
       coalesce(b.booking_details ->> 'complimentary', '') = 'true',
       r.amount, r.credits
FROM offering_bookings b
JOIN users u ON u.id = b.customer_id
JOIN offerings o ON o.id = b.offering_id
LEFT JOIN offering_portal_access a ON a.booking_id = b.id
CROSS JOIN LATERAL (SELECT coalesce(sum(q.amount), 0) AS amount,
                           coalesce(sum(q.credits_returned), 0)::int AS credits
                    FROM admin.refund_requests q
                    WHERE q.booking_id = b.id AND q.status = 'succeeded') r
"""


def get_offering_record(session: Session, offering_id: uuid.UUID) -> OfferingRecord:
    row = session.execute(_RECORD, {"id": offering_id}).first()
    if row is None:
        raise NotFoundError("This offering no longer exists.")
    return OfferingRecord(*row)


def get_booking(session: Session, booking_id: uuid.UUID) -> BookingLine:
    row = session.execute(text(BOOKING_SELECT + " WHERE b.id = :id"), {"id": booking_id}).first()
    if row is None:
        raise NotFoundError("This booking no longer exists.")
    return BookingLine(*row)


def get_offering_detail(session: Session, offering_id: uuid.UUID) -> OfferingDetail:
    record = get_offering_record(session, offering_id)
    confirmed = session.execute(text(
        "SELECT count(*) FROM offering_bookings WHERE offering_id = :o AND status = "
        "'confirmed'"), {"o": offering_id}).scalar_one()
    resources = tuple(session.execute(text(
        "SELECT id, resource_type, title, available_when, unlock_at, display_order, "
        "content_id, file_url, link_url, text_content FROM offering_resources "
        "WHERE offering_id = :o ORDER BY display_order, id"), {"o": offering_id}).all())
    return OfferingDetail(record, confirmed, platform_zone(session),
                          tuple(tuple(r) for r in resources))


@dataclass(frozen=True)
class Impact:
    """Who a change of date, time, price or portal window reaches."""

    confirmed: int
    portal_access: int

    def sentence(self) -> str:
        return (f"{self.confirmed:,} confirmed booking{'s' if self.confirmed != 1 else ''}; "
                f"the portal access of {self.portal_access:,} "
                f"{'people' if self.portal_access != 1 else 'person'} changes.")


def get_impact(session: Session, offering_id: uuid.UUID) -> Impact:
    confirmed, portal = session.execute(text("""
        SELECT (SELECT count(*) FROM offering_bookings WHERE offering_id = :o
                AND status = 'confirmed'),
               (SELECT count(DISTINCT user_id) FROM offering_portal_access
                WHERE offering_id = :o)
    """), {"o": offering_id}).one()
    return Impact(confirmed, portal)


def slug_taken(session: Session, slug: str, except_id: uuid.UUID | None = None) -> bool:
    return session.execute(text("SELECT EXISTS (SELECT FROM offerings WHERE slug = :s "
                                "AND id IS DISTINCT FROM :id)"),
                           {"s": slug, "id": except_id}).scalar_one()


def search_customers(session: Session, typed: str, limit: int = 20
                     ) -> list[tuple[uuid.UUID, str]]:
    """Users whose email or name starts with ``typed``: (id, "Name <email>")."""
    search = clean_search(typed)
    if not search:
        return []
    like = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.execute(text(
        "SELECT id, full_name || ' <' || email || '>' FROM users WHERE deleted_at IS NULL "
        "AND (lower(email) LIKE :p OR lower(full_name) LIKE :p) ORDER BY email LIMIT :n"),
        {"p": f"{like.lower()}%", "n": limit}).all()
    return [(r[0], r[1]) for r in rows]


# -- the agenda -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AgendaEntry:
    """One session in the agenda: when (in its zone), what, seats taken of how many."""

    start: dt.datetime
    offering_id: uuid.UUID
    title: str
    offering_type: str
    label: str
    taken: int
    max_participants: int | None

    @property
    def seats(self) -> str:
        return f"{self.taken} / {self.max_participants if self.max_participants else '∞'}"


_WHITESPACE = " \t\n\r\f\v"  # what str.strip() takes off, as SQL's btrim is told
AGENDA_PAGE = 200
"""Entries in one page of the agenda: a screenful several times over."""
AGENDA_DAY = dt.timedelta(days=1)
"""The agenda is worked out a day at a time: its pages never wait for four weeks."""


def _dates(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


class AgendaCursor(NamedTuple):
    """Where :func:`agenda_page` goes on: the next day to work out, the sessions of the day
    the last page stopped in that it did not show, and the schedules parsed so far in this
    reading of the agenda (:class:`ParsedSchedules`, shared by its later cursors)."""

    day: int
    rest: tuple
    parsed: ParsedSchedules


class ParsedSchedules:
    """The schedules one reading of the agenda has parsed, by offering id, each with the
    type and the schedule's text as stored that it was parsed from.

    A later page reads the offerings again (title, seats, status and schedule as they are
    now) and parses only a schedule it has not seen as stored: an offering whose type or
    schedule changed between two pages is parsed anew. Parsing a weekly class's JSON again
    on every day was most of a later page's time (~1,700 classes at 10k offerings)."""

    def __init__(self) -> None:
        self._known: dict[uuid.UUID, tuple[str, str, schedules.Schedule | None]] = {}

    def get(self, offering_id: uuid.UUID, offering_type: str, stored: str
            ) -> schedules.Schedule | None:
        """The parsed schedule (None: one the app cannot read, named by `offerings check`)."""
        known = self._known.get(offering_id)
        if known is not None and known[0] == offering_type and known[1] == stored:
            return known[2]
        try:
            parsed: schedules.Schedule | None = schedules.parse(offering_type,
                                                                json.loads(stored))
        except ValidationError:
            parsed = None
        self._known[offering_id] = (offering_type, stored, parsed)
        return parsed

    def __len__(self) -> int:
        return len(self._known)


def _agenda_between(session: Session, start: dt.datetime, since: dt.datetime,
                    until: dt.datetime, parsed: ParsedSchedules | None = None
                    ) -> list[tuple[tuple, Any, Any]]:
    """The sessions of the agenda from ``start`` that start in [``since``, ``until``), in
    the agenda's order, as ``(key, occurrence, offering row)``; their seats are counted by
    :func:`_with_seats` for the ones shown only.

    Only the offerings that can have a session there are read: the dated ones overlapping
    those days (first-day and last-day indexes), the weekly classes on their weekdays, the
    1:1 offerings with a session booked on those days (0026's index on the booked dates).
    A day's sessions are the whole agenda's from that day on (a fortnightly class keeps the
    phase it has in the whole agenda). Schedules are parsed once per reading (``parsed``),
    and a weekly class or cohort is expanded only where its weekday and time fall."""
    parsed = ParsedSchedules() if parsed is None else parsed
    zone = platform_zone(session)
    # A session's local day is within a day of its UTC day, in any time zone.
    first = since.astimezone(dt.UTC).date() - dt.timedelta(days=1)
    last = until.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    days = _dates(first, last)
    weekdays = {schedules.WEEKDAYS[dt.date.fromisoformat(d).weekday()] for d in days}
    other_days = [d for d in schedules.WEEKDAYS if d not in weekdays]
    # A class without a zone of its own meets on the platform's local days.
    here_days = schedules.local_weekdays(zone, since, until)
    not_here = [d for i, d in enumerate(schedules.WEEKDAYS) if i not in here_days]
    windows: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    slots = session.execute(text("""
        SELECT b.offering_id, s ->> 'date', s ->> 'time', count(*)::int
        FROM offering_bookings b
        JOIN offerings o ON o.id = b.offering_id
        CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(b.booking_details
             -> 'booked_sessions') = 'array' THEN b.booking_details -> 'booked_sessions'
             ELSE '[]'::jsonb END) s
        WHERE admin.booked_session_dates(b.booking_details) && CAST(:days AS text[])
          AND b.status <> 'canceled' AND b.booking_details ? 'booked_sessions'
          AND o.offering_type = 'recurring_bookable' AND o.status = 'published'
          AND o.deleted_at IS NULL
          AND btrim(s ->> 'date', :ws) = ANY(CAST(:days AS text[]))
        GROUP BY 1, 2, 3
    """), {"days": days, "ws": _WHITESPACE}).all()
    booked: dict[uuid.UUID, dict[tuple[dt.date, dt.time], int]] = {}
    for oid, date, time, n in slots:
        try:  # the session's local day and time, as its occurrence starts
            key = (schedules.read_date("date", date), schedules.read_time("time", time))
        except ValidationError:
            continue  # a booked session the app cannot read is named by `offerings check`
        held = booked.setdefault(oid, {})
        held[key] = held.get(key, 0) + n  # one session, whoever booked it
    # Two branches, not one OR: the OR's filter worked out both day functions again for
    # every weekly class the first branch turned down (~1,700 of them, 20-50 ms a day).
    # They are disjoint: a weekly class has no first or last day.
    rows = list(session.execute(text("""
        SELECT o.id, o.title, o.offering_type, o.max_participants, o.schedule::text
        FROM offerings o
        WHERE o.deleted_at IS NULL AND o.status = 'published'
          AND o.offering_type = 'recurring_fixed'
          -- a class on another weekday has no session on these days: local days in the
          -- platform's zone, or within a day of the UTC days in a zone of its own
          AND coalesce(lower(btrim(o.schedule ->> 'day', :ws)) <> ALL(
                  CASE WHEN o.schedule ? 'time_zone' THEN CAST(:other_days AS text[])
                       ELSE CAST(:not_here AS text[]) END), true)
        UNION ALL
        SELECT o.id, o.title, o.offering_type, o.max_participants, o.schedule::text
        FROM offerings o
        WHERE o.deleted_at IS NULL AND o.status = 'published'
          -- on the first-day (0013) and last-day (0018) indexes: only the dated
          -- offerings overlapping the window are read
          AND coalesce(admin.offering_first_day(o.offering_type, o.schedule),
                       'infinity'::date) <= :last
          AND admin.offering_last_day(o.offering_type, o.schedule) >= :first
    """), {"first": first, "last": last, "other_days": other_days, "not_here": not_here,
           "ws": _WHITESPACE}))
    if booked:  # on the primary key: an ANY of them inside the OR above was tested per row
        rows += session.execute(text(
            "SELECT o.id, o.title, o.offering_type, o.max_participants, o.schedule::text "
            "FROM offerings o WHERE o.id = ANY(CAST(:ids AS uuid[]))"), {"ids": list(booked)})
    out: list[tuple[tuple, Any, Any]] = []
    for row in rows:
        oid, title, kind = row[0], row[1], row[2]
        if kind == "recurring_bookable" and oid not in booked:
            continue  # not published (the slots' join) or not bookable any more
        schedule = parsed.get(oid, kind, row[4])
        if schedule is None:
            continue  # named by `offerings check`, not shown
        # a class or cohort meets on its weekday at its time only: most are not worked
        # out at all on the days around theirs
        here = schedule.time_zone or zone
        if here not in windows:
            windows[here] = schedules.wall_clock_window(here, since, until)
        if not schedules.may_start_in(schedule, windows[here]):
            continue
        sessions = [{"date": d, "time": t} for d, t in booked.get(oid, {})] \
            if kind == "recurring_bookable" else ()
        # Worked out from ``since``: the same sessions as from ``start``, but for a
        # fortnightly class without a first day, whose fortnights count from the start.
        fortnight = kind == "recurring_fixed" and schedule["pattern"] == "biweekly" \
            and schedule["starts_on"] is None
        # the ordinal tells apart two sessions of one offering alike in all else
        for i, occ in enumerate(schedules.occurrences(schedule, zone,
                                                      start if fortnight else since, until,
                                                      booked=sessions)):
            if occ.start >= since:
                order = (occ.start.astimezone(dt.UTC), title, oid, occ.label, i)
                out.append((order, occ, (row, booked.get(oid))))
    out.sort(key=lambda found: found[0])
    return out


def _with_seats(session: Session, found: Sequence[tuple[tuple, Any, Any]]
                ) -> list[AgendaEntry]:
    """The entries of ``found`` with their seats taken under the capacity rules: counted
    for these offerings only (a 1:1 session's are its bookings, counted already)."""
    counted = list({row[0] for _key, _occ, (row, held) in found if held is None})
    taken: dict[uuid.UUID, int] = {r[0]: r[1] for r in session.execute(text("""
        SELECT o.id, (SELECT count(*) FROM offering_bookings b WHERE b.offering_id = o.id
                      AND b.status = ANY(CASE WHEN o.offering_type = 'recurring_fixed'
                                         THEN ARRAY['confirmed'] ELSE ARRAY['confirmed',
                                         'completed', 'no_show'] END))::int
        FROM offerings o WHERE o.id = ANY(CAST(:ids AS uuid[]))
    """), {"ids": counted})} if counted else {}
    out = []
    for _key, occ, (row, held) in found:
        oid, title, kind, most = row[0], row[1], row[2], row[3]
        n = held.get((occ.start.date(), occ.start.time()), 0) if held is not None \
            else taken.get(oid, 0)
        out.append(AgendaEntry(occ.start, oid, title, kind, occ.label, n, most))
    return out


def list_agenda(session: Session, start: dt.datetime, days: int = 28) -> list[AgendaEntry]:
    """The sessions of published offerings that start in the ``days`` from ``start``:
    event dates, program days, recurring occurrences, cohort weeks, retreat days and the
    booked 1:1 slots, each with its seats taken under the capacity rules; all at once (the
    agenda's pages, :func:`agenda_page`, give the same entries a day at a time)."""
    end = start + dt.timedelta(days=days)
    return _with_seats(session, _agenda_between(session, start, start, end))


def agenda_page(session: Session, start: dt.datetime, days: int,
                cursor: AgendaCursor | None, limit: int
                ) -> tuple[list[AgendaEntry], AgendaCursor | None]:
    """The agenda a page at a time for a lazy table: at most ``limit`` entries after
    ``cursor`` (None: the first), and the next cursor (None at the end).

    A page works out only the days it shows (:data:`AGENDA_DAY` each): the first rows come
    after one day's work, not four weeks'. The cursor (:class:`AgendaCursor`) is the next
    day to work out and the sessions of the day the page stopped in that it did not show
    (their seats are counted when they are shown); the same cursor gives the same page
    again (a lazy table fetches a dropped page anew). The schedules parsed for one page are
    kept for the next ones of the same reading, each as long as it is stored unchanged."""
    end = start + dt.timedelta(days=days)
    day, rest, parsed = cursor if cursor is not None else (0, (), ParsedSchedules())
    found: list[tuple[tuple, Any, Any]] = list(rest[:limit])
    rest = rest[limit:]
    while len(found) < limit and not rest:
        since = start + day * AGENDA_DAY
        if since >= end:
            break
        today = _agenda_between(session, start, since, min(since + AGENDA_DAY, end), parsed)
        day += 1
        room = limit - len(found)
        found += today[:room]
        rest = tuple(today[room:])
    more = bool(rest) or start + day * AGENDA_DAY < end
    return _with_seats(session, found), (AgendaCursor(day, rest, parsed) if more else None)
