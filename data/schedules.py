"""The six schedule shapes of ``offerings.schedule`` (JSONB) and the capacity rules.

Seed 004 gives three shapes; the other three are designed in the same spirit (and are what
the demo data writes). Dates are ``YYYY-MM-DD``, times ``HH:MM`` (24 h), weekdays lowercase
English names. Every shape may name its own ``time_zone`` (an IANA name); without one, times
are in the platform's time zone (``platform_settings.timezone``). Occurrences are built in
that zone from the local date and time, so a 19:00 class stays at 19:00 on both sides of a
daylight-saving change (its UTC time moves instead).

==================  ========================================================================
one_time_event      ``{date, start_time, duration_minutes}``
multi_day_program   ``{start_date, end_date, sessions: [{date, start_time, duration_minutes}]}``
recurring_fixed     ``{pattern: weekly|biweekly, day, time, duration_minutes[, starts_on]}``
recurring_bookable  ``{availability: {weekday: [{start, end}]}, booking_window_days,
                    buffer_minutes[, session_minutes]}`` (sessions are booked one by one)
cohort_course       ``{cohort_start_date, weeks, sessions_per_week, day, time,
                    duration_minutes}``
retreat             ``{start_date, end_date, check_in_time, check_out_time}``
==================  ========================================================================

Keys this module does not know (the platform may write more) are kept: :func:`parse`
puts them in ``extra`` and :func:`dump` writes them back, so editing one field of a schedule
the platform wrote changes that field only.

**What counts (capacity rules).** A booking holds a place unless it is canceled: confirmed,
completed and no-show each took one, and ``offerings.booking_count`` is the number of
bookings not canceled. Capacity is per session:

- one_time_event, multi_day_program, cohort_course, retreat: the bookings not canceled may
  not exceed ``max_participants``;
- recurring_fixed: the confirmed bookings (each a seat in the class) may not exceed it;
- recurring_bookable: the bookings not canceled on each booked session
  (``booking_details.booked_sessions[{date, time}]``) may not exceed it (1 for one-on-one).

``max_participants`` NULL (capacity type ``unlimited``) means no limit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data.errors import ValidationError

__all__ = [
    "COUNTS_BOOKINGS_WITH",
    "DATED_TYPES",
    "HOLDS_PLACE",
    "SHAPES",
    "WEEKDAYS",
    "Occurrence",
    "Schedule",
    "booking_session",
    "capacity_problems",
    "dump",
    "edit",
    "local_weekdays",
    "occurrences",
    "parse",
    "read_date",
    "read_time",
    "schedule_problem",
    "may_start_in",
    "wall_clock_window",
    "zone_of",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATED_TYPES = ("one_time_event", "multi_day_program", "cohort_course", "retreat")
HOLDS_PLACE = ("confirmed", "completed", "no_show")
"""Booking statuses that hold a place (and make up ``booking_count``)."""
COUNTS_BOOKINGS_WITH = {
    "one_time_event": HOLDS_PLACE, "multi_day_program": HOLDS_PLACE,
    "cohort_course": HOLDS_PLACE, "retreat": HOLDS_PLACE,
    "recurring_fixed": ("confirmed",), "recurring_bookable": HOLDS_PLACE,
}
"""For each offering type, the booking statuses its capacity counts."""
PATTERNS = ("weekly", "biweekly")
MAX_DURATION = 24 * 60
MAX_SESSIONS = 366
MAX_WEEKS = 104
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}")


# -- the shapes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    """One dated session of a multi-day program."""

    date: dt.date
    start_time: dt.time
    duration_minutes: int


@dataclass(frozen=True)
class Window:
    """Bookable hours on a weekday, ``start`` to ``end`` local time."""

    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: ``offering_type``, the shape's typed ``values`` (None for a key
    not given), ``time_zone`` (None: the platform's) and the keys it does not know
    (``extra``), kept as written."""

    offering_type: str
    values: Mapping[str, Any]
    time_zone: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values.get(key)


@dataclass(frozen=True)
class Key:
    """One key of a shape: its ``kind`` (date, time, minutes, count, weekday, choice,
    sessions, availability), a ``label`` for messages and whether it is ``required``."""

    name: str
    kind: str
    label: str
    required: bool = True
    minimum: int = 0
    maximum: int = MAX_DURATION
    choices: tuple[str, ...] = ()


SHAPES: dict[str, tuple[Key, ...]] = {
    "one_time_event": (
        Key("date", "date", "Date"), Key("start_time", "time", "Start time"),
        Key("duration_minutes", "count", "Duration (minutes)", minimum=1),
    ),
    "multi_day_program": (
        Key("start_date", "date", "First day"), Key("end_date", "date", "Last day"),
        Key("sessions", "sessions", "Sessions"),
    ),
    "recurring_fixed": (
        Key("pattern", "choice", "Repeats", choices=PATTERNS), Key("day", "weekday", "Day"),
        Key("time", "time", "Time"),
        Key("duration_minutes", "count", "Duration (minutes)", minimum=1),
        Key("starts_on", "date", "Starts on", required=False),
    ),
    "recurring_bookable": (
        Key("availability", "availability", "Availability"),
        Key("booking_window_days", "count", "Booking window (days)", minimum=1, maximum=365),
        Key("buffer_minutes", "count", "Buffer between sessions (minutes)", maximum=240),
        Key("session_minutes", "count", "Session length (minutes)", required=False,
            minimum=5),
    ),
    "cohort_course": (
        Key("cohort_start_date", "date", "Cohort starts"),
        Key("weeks", "count", "Weeks", minimum=1, maximum=MAX_WEEKS),
        Key("sessions_per_week", "count", "Sessions per week", minimum=1, maximum=7),
        Key("day", "weekday", "Day"), Key("time", "time", "Time"),
        Key("duration_minutes", "count", "Duration (minutes)", minimum=1),
    ),
    "retreat": (
        Key("start_date", "date", "Arrival day"), Key("end_date", "date", "Departure day"),
        Key("check_in_time", "time", "Check-in time"),
        Key("check_out_time", "time", "Check-out time"),
    ),
}
DEFAULT_SESSION_MINUTES = 60


# -- reading values --------------------------------------------------------------------------

class _Bad(Exception):
    pass


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value.strip()):
        raise _Bad("Enter a date as YYYY-MM-DD, e.g. 2026-03-15.")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise _Bad("Not a calendar date.") from None


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if not isinstance(value, str) or not _TIME.fullmatch(value.strip()):
        raise _Bad("Enter a time as HH:MM (24 hours), e.g. 19:00.")
    hours, minutes = (int(p) for p in value.strip().split(":"))
    if hours > 23 or minutes > 59:
        raise _Bad("Not a time of day (00:00 to 23:59).")
    return dt.time(hours, minutes)


def _count(value: Any, key: Key) -> int:
    if isinstance(value, bool):
        raise _Bad("Enter a whole number.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,12}", value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise _Bad("Enter a whole number.")
    if value < key.minimum:
        raise _Bad("Cannot be negative." if key.minimum == 0 else f"At least {key.minimum}.")
    if value > key.maximum:
        raise _Bad(f"At most {key.maximum:,}.")
    return value


def read_date(field_name: str, value: Any) -> dt.date:
    """A date typed or stored (``YYYY-MM-DD``); :class:`ValidationError` on ``field_name``."""
    try:
        return _date(value)
    except _Bad as exc:
        raise ValidationError({field_name: str(exc)}) from None


def read_time(field_name: str, value: Any) -> dt.time:
    """A time of day (``HH:MM``); :class:`ValidationError` on ``field_name``."""
    try:
        return _time(value)
    except _Bad as exc:
        raise ValidationError({field_name: str(exc)}) from None


def _weekday(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise _Bad("Choose a day of the week (monday … sunday).")
    return value.strip().lower()


def _read(key: Key, value: Any, errors: dict[str, str]) -> Any:
    name = f"schedule.{key.name}"
    try:
        if key.kind == "date":
            return _date(value)
        if key.kind == "time":
            return _time(value)
        if key.kind == "count":
            return _count(value, key)
        if key.kind == "weekday":
            return _weekday(value)
        if key.kind == "choice":
            if value not in key.choices:
                raise _Bad(f"Choose one of: {', '.join(key.choices)}.")
            return value
        if key.kind == "sessions":
            return _sessions(value, errors)
        if key.kind == "availability":
            return _availability(value, errors)
    except _Bad as exc:
        errors[name] = str(exc)
        return None
    raise AssertionError(key.kind)  # pragma: no cover


def _sessions(value: Any, errors: dict[str, str]) -> tuple[Session, ...] | None:
    if not isinstance(value, list) or not value:
        raise _Bad("Add at least one session.")
    if len(value) > MAX_SESSIONS:
        raise _Bad(f"At most {MAX_SESSIONS} sessions.")
    out = []
    duration = Key("duration_minutes", "count", "Duration", minimum=1)
    for i, item in enumerate(value, 1):
        where = f"schedule.sessions.{i}"
        if not isinstance(item, Mapping):
            errors[where] = f"Session {i} is not a date, start time and duration."
            continue
        try:
            out.append(Session(_date(item.get("date")), _time(item.get("start_time")),
                               _count(item.get("duration_minutes"), duration)))
        except _Bad as exc:
            errors[where] = f"Session {i}: {exc}"
    return tuple(sorted(out, key=lambda s: (s.date, s.start_time))) if len(out) == len(value) \
        else None


def _availability(value: Any, errors: dict[str, str]) -> dict[str, tuple[Window, ...]] | None:
    if not isinstance(value, Mapping) or not value:
        raise _Bad("Give the bookable hours of at least one weekday.")
    out: dict[str, tuple[Window, ...]] = {}
    ok = True
    for day, windows in value.items():
        where = f"schedule.availability.{day}"
        try:
            name = _weekday(day)
            if not isinstance(windows, list):
                raise _Bad("Give a list of start–end hours.")
            parsed = []
            for w in windows:
                if not isinstance(w, Mapping):
                    raise _Bad("Each window needs a start and an end (HH:MM).")
                window = Window(_time(w.get("start")), _time(w.get("end")))
                if window.end <= window.start:
                    raise _Bad(f"{name}: a window must end after it starts.")
                parsed.append(window)
            out[name] = tuple(sorted(parsed, key=lambda w: w.start))
        except _Bad as exc:
            errors[where] = str(exc)
            ok = False
    return out if ok else None


def zone_of(name: Any) -> ZoneInfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/Berlin``); raises
    :class:`ValidationError` on ``schedule.time_zone`` for anything else."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", name) \
            or name.startswith("/") or ".." in name:
        raise ValidationError({"schedule.time_zone": "Not a time zone name (e.g. "
                                                     "Europe/Berlin)."})
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError({"schedule.time_zone": f"Unknown time zone “{name}”."}) from None


def parse(offering_type: str, raw: Any, *, partial: bool = False) -> Schedule:
    """The typed schedule of ``raw`` (the JSON as stored or a form's values).

    Raises :class:`ValidationError` with one message per bad key (``schedule.<key>``) — never
    anything else, whatever JSON is given. ``partial``: missing required keys are not an
    error (a draft may be saved incomplete; :func:`schedule_problem` says what is missing).
    """
    if offering_type not in SHAPES:
        raise ValidationError({"offering_type": f"Unknown offering type {offering_type!r}."})
    if not isinstance(raw, Mapping):
        raise ValidationError({"schedule": "The schedule is not a JSON object."})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    shape = SHAPES[offering_type]
    known = {k.name for k in shape} | {"time_zone"}
    for key in shape:
        value = raw.get(key.name)
        if value is None or value == "":
            if key.required and not partial:
                errors[f"schedule.{key.name}"] = f"{key.label} is required."
            values[key.name] = None
            continue
        values[key.name] = _read(key, value, errors)
    zone = raw.get("time_zone")
    if zone not in (None, ""):
        try:
            zone_of(zone)
        except ValidationError as exc:
            errors.update(exc.field_errors)
    _check_together(offering_type, values, errors)
    if errors:
        raise ValidationError(errors)
    extra = {k: v for k, v in raw.items() if k not in known}
    return Schedule(offering_type, values, zone or None, extra)


def _check_together(kind: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        errors["schedule.end_date"] = "The last day cannot be before the first."
    sessions = values.get("sessions")
    if kind == "multi_day_program" and sessions and start and end:
        outside = [s for s in sessions if not start <= s.date <= end]
        if outside:
            errors["schedule.sessions"] = (f"The session on {outside[0].date} is outside "
                                           f"{start} – {end}.")


def schedule_problem(offering_type: str, raw: Any) -> str | None:
    """None when the schedule is complete and valid, else the first reason in words."""
    try:
        parse(offering_type, raw)
    except ValidationError as exc:
        key, message = next(iter(exc.field_errors.items()))
        return f"{key.removeprefix('schedule.')}: {message}" if key.startswith("schedule.") \
            else message
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Session | Window):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    return value


def dump(schedule: Schedule) -> dict[str, Any]:
    """The JSON to store: the unknown keys as they were, then the shape's keys given."""
    out: dict[str, Any] = dict(schedule.extra)
    for key, value in schedule.values.items():
        if value is not None:
            out[key] = _jsonable(value)
    if schedule.time_zone:
        out["time_zone"] = schedule.time_zone
    return out


def edit(offering_type: str, stored: Any, changes: Mapping[str, Any], *,
         partial: bool = False) -> dict[str, Any]:
    """``stored`` (the schedule as the platform or the app wrote it) with ``changes`` (key →
    new value, None or "" to remove) applied and validated; unknown keys survive. A
    schedule that was not an object (unreadable) is replaced by the changes alone."""
    base = dict(stored) if isinstance(stored, Mapping) else {}
    for key, value in changes.items():
        if value is None or value == "":
            base.pop(key, None)
        else:
            base[key] = _jsonable(value)
    return dump(parse(offering_type, base, partial=partial))


# -- occurrences ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Occurrence:
    """One session: ``start``/``end`` as aware datetimes in the schedule's zone (their
    local time is the schedule's), ``label`` what it is ("Day 2 of 5")."""

    start: dt.datetime
    end: dt.datetime
    label: str = ""

    @property
    def utc_start(self) -> dt.datetime:
        return self.start.astimezone(dt.UTC)


def _at(day: dt.date, time: dt.time, zone: ZoneInfo, minutes: int, label: str) -> Occurrence:
    start = dt.datetime.combine(day, time, tzinfo=zone)
    # Wall-clock arithmetic for the end, then normalised: a session never "loses" an hour.
    end = (start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(zone)
    return Occurrence(start, end, label)


def occurrences(schedule: Schedule, platform_zone: str, start: dt.datetime,
                end: dt.datetime, *, booked: Iterable[Mapping[str, Any]] = ()
                ) -> list[Occurrence]:
    """The sessions that start in [``start``, ``end``) (aware datetimes), in order.

    Times are local to the schedule's zone (or ``platform_zone``). A recurring_bookable
    schedule has no sessions of its own: its occurrences are the ``booked`` sessions
    (``{date, time}``) given, each as long as a session.
    """
    zone = zone_of(schedule.time_zone or platform_zone)
    v = schedule.values
    found: list[Occurrence] = []
    kind = schedule.offering_type
    if kind == "one_time_event":
        found.append(_at(v["date"], v["start_time"], zone, v["duration_minutes"], "Event"))
    elif kind == "multi_day_program":
        n = len(v["sessions"])
        found += [_at(s.date, s.start_time, zone, s.duration_minutes, f"Session {i} of {n}")
                  for i, s in enumerate(v["sessions"], 1)]
    elif kind == "retreat":
        days = (v["end_date"] - v["start_date"]).days + 1
        # only the days that can start in the window (a day's margin either side)
        skip = (start.astimezone(zone).date() - v["start_date"]).days - 1
        stop = (end.astimezone(zone).date() - v["start_date"]).days + 2
        for i in range(max(0, skip), min(days, max(0, stop))):
            day = v["start_date"] + dt.timedelta(days=i)
            time = v["check_in_time"] if i == 0 else dt.time(0, 0)
            until = v["check_out_time"] if i == days - 1 else dt.time(23, 59)
            minutes = max(1, (until.hour * 60 + until.minute) - (time.hour * 60 + time.minute))
            found.append(_at(day, time, zone, minutes, f"Retreat day {i + 1} of {days}"))
    elif kind in ("recurring_fixed", "cohort_course"):
        since = start.astimezone(zone).date()
        # A session that starts before ``end`` starts on its local day or before (a time in
        # a daylight-saving gap moves forward, never back): no later day needs working out.
        last = end.astimezone(zone).date()
        if kind == "cohort_course":
            first, step = v["cohort_start_date"], 1
            limit = first + dt.timedelta(weeks=v["weeks"])
        else:
            first = max(v.get("starts_on") or since, since)
            step = 2 if v["pattern"] == "biweekly" else 1
            if step == 2 and v.get("starts_on"):  # keep the fortnight's phase
                first = v["starts_on"]
            limit = None
        day = first + dt.timedelta(days=(WEEKDAYS.index(v["day"]) - first.weekday()) % 7)
        # the sessions before the window are skipped whole steps at a time (their count
        # is kept: a cohort's label numbers its weeks from the first)
        skip = max(0, ((since - dt.timedelta(days=1)) - day).days // (7 * step))
        day += dt.timedelta(weeks=skip * step)
        for i in itertools.count(skip):
            if i > skip:
                day += dt.timedelta(weeks=step)
            if (limit is not None and day >= limit) or day > last:
                break
            label = f"Week {i + 1} of {v['weeks']}" if kind == "cohort_course" else "Class"
            found.append(_at(day, v["time"], zone, v["duration_minutes"], label))
    elif kind == "recurring_bookable":
        minutes = v.get("session_minutes") or DEFAULT_SESSION_MINUTES
        for s in booked:
            try:
                found.append(_at(_date(s.get("date")), _time(s.get("time")), zone, minutes,
                                 "Booked session"))
            except (_Bad, AttributeError):
                continue
    return sorted((o for o in found if start <= o.start < end), key=lambda o: o.start)


WALL_CLOCK_SLACK = dt.timedelta(hours=3)
"""More than any daylight-saving shift: a session's wall-clock time is within this of the
wall-clock time its start shows (a time in a gap moves forward by the gap)."""


def wall_clock_window(zone: str, start: dt.datetime, end: dt.datetime
                      ) -> tuple[dt.datetime, dt.datetime]:
    """[``start``, ``end``) as wall-clock (naive) times in ``zone``, widened by
    :data:`WALL_CLOCK_SLACK` either side: for :func:`may_start_in`."""
    here = zone_of(zone)
    return (start.astimezone(here).replace(tzinfo=None) - WALL_CLOCK_SLACK,
            end.astimezone(here).replace(tzinfo=None) + WALL_CLOCK_SLACK)


def may_start_in(schedule: Schedule, window: tuple[dt.datetime, dt.datetime]) -> bool:
    """False only when no session of ``schedule`` (a weekly or fortnightly class, or a
    cohort: every session on its weekday at its time) can start in ``window`` (from
    :func:`wall_clock_window` in the schedule's zone); True for the other types, and for
    a window of a week or more. A quick test before :func:`occurrences`, which decides."""
    if schedule.offering_type not in ("recurring_fixed", "cohort_course"):
        return True
    low, high = window
    if high - low >= dt.timedelta(days=7):
        return True
    weekday, time = WEEKDAYS.index(schedule["day"]), schedule["time"]
    day = low.date()
    while day <= high.date():
        if day.weekday() == weekday and low <= dt.datetime.combine(day, time) < high:
            return True
        day += dt.timedelta(days=1)
    return False


def local_weekdays(zone: str, start: dt.datetime, end: dt.datetime) -> frozenset[int]:
    """The weekdays (0 is Monday) of the local days in ``zone`` that [``start``, ``end``)
    touches: a session that starts in that window starts on one of them (its local day is
    the day its start falls on there, daylight-saving gaps and repeats included)."""
    here = zone_of(zone)
    first, last = start.astimezone(here).date(), end.astimezone(here).date()
    days = (last - first).days + 1
    if days >= 7:
        return frozenset(range(7))
    return frozenset((first.weekday() + i) % 7 for i in range(max(days, 0)))


def next_session(schedule: Schedule, platform_zone: str, now: dt.datetime,
                 booked: Iterable[Mapping[str, Any]] = ()) -> dt.datetime | None:
    """The start of the next session at or after ``now`` within two years, or None.

    A weekly or fortnightly class's is looked for in the next 15 days first (it always has
    one there): working out two years of a weekly class's sessions to take the first made the
    Offerings list's first page take 0.5–1 s at 10k offerings (``bench/offerings.py``)."""
    weekly = schedule.offering_type == "recurring_fixed"
    for days in ((15, 731) if weekly else (731,)):  # dated: a few sessions, all at once
        found = occurrences(schedule, platform_zone, now, now + dt.timedelta(days=days),
                            booked=booked)
        if found:
            return found[0].start
    return None


# -- capacity --------------------------------------------------------------------------------

def booking_session(details: Any) -> list[tuple[str, str]]:
    """The ``(date, time)`` sessions a recurring_bookable booking holds (as written)."""
    if not isinstance(details, Mapping):
        return []
    sessions = details.get("booked_sessions")
    if not isinstance(sessions, list):
        return []
    return [(str(s.get("date")), str(s.get("time"))) for s in sessions
            if isinstance(s, Mapping)]


def capacity_problems(offering_type: str, max_participants: int | None,
                      bookings: Iterable[tuple[str, Any]], *, extra: int = 0,
                      session: tuple[str, str] | None = None) -> list[str]:
    """Where ``bookings`` (``(status, booking_details)`` pairs) break the capacity rules, in
    words; empty when they hold. ``extra`` more bookings (on ``session`` for a
    recurring_bookable offering) are counted as if they were made."""
    if max_participants is None:
        return []
    counted = COUNTS_BOOKINGS_WITH[offering_type]
    if offering_type == "recurring_bookable":
        per: Counter[tuple[str, str]] = Counter()
        for status, details in bookings:
            if status in counted:
                per.update(booking_session(details))
        if session is not None:
            per[session] += extra
        return [f"{n} bookings on the session of {d} {t} (at most {max_participants})"
                for (d, t), n in sorted(per.items()) if n > max_participants]
    n = sum(1 for status, _details in bookings if status in counted) + extra
    if n > max_participants:
        what = "confirmed bookings" if offering_type == "recurring_fixed" \
            else "bookings not canceled"
        return [f"{n} {what} (at most {max_participants})"]
    return []


def with_values(schedule: Schedule, **values: Any) -> Schedule:
    """``schedule`` with some typed values replaced (for tests and demo data)."""
    return replace(schedule, values={**schedule.values, **values})


# -- as a form shows them ---------------------------------------------------------------------
# A form edits sessions one per line ("2026-05-04 09:30 90": date, start time, minutes) and
# availability one weekday per line ("monday 09:00-12:00, 14:00-17:00").

def sessions_text(value: Any) -> str:
    if not isinstance(value, list):
        return ""
    return "\n".join(f"{s.get('date', '')} {s.get('start_time', '')} "
                     f"{s.get('duration_minutes', '')}".strip()
                     for s in value if isinstance(s, Mapping))


def availability_text(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    lines = []
    for day, windows in value.items():
        if isinstance(windows, list):
            spans = ", ".join(f"{w.get('start', '')}-{w.get('end', '')}" for w in windows
                              if isinstance(w, Mapping))
            lines.append(f"{day} {spans}")
    return "\n".join(lines)


def _sessions_from_text(typed: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, line in enumerate(typed.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValidationError({"schedule.sessions": f"Line {i}: write the date, start "
                                   "time and minutes, e.g. 2026-05-04 09:30 90."})
        out.append({"date": parts[0], "start_time": parts[1], "duration_minutes": parts[2]})
    return out


def _availability_from_text(typed: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, line in enumerate(typed.splitlines(), 1):
        if not line.strip():
            continue
        day, _, spans = line.strip().partition(" ")
        windows = []
        for span in spans.split(","):
            start, sep, end = span.strip().partition("-")
            if not sep:
                raise ValidationError({"schedule.availability": f"Line {i}: write the day "
                                       "and its hours, e.g. monday 09:00-12:00, 14:00-17:00."})
            windows.append({"start": start.strip(), "end": end.strip()})
        out[day.lower()] = windows
    return out


def form_values(offering_type: str, stored: Any) -> dict[str, Any]:
    """The schedule as a form edits it (sessions and availability as lines of text)."""
    values = dict(stored) if isinstance(stored, Mapping) else {}
    if offering_type == "multi_day_program":
        values["sessions"] = sessions_text(values.get("sessions"))
    if offering_type == "recurring_bookable":
        values["availability"] = availability_text(values.get("availability"))
    return values


def form_changes(offering_type: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A form's schedule values back as JSON values (the inverse of :func:`form_values`)."""
    out = dict(values)
    sessions, availability = out.get("sessions"), out.get("availability")
    if offering_type == "multi_day_program" and isinstance(sessions, str):
        out["sessions"] = _sessions_from_text(sessions) or None
    if offering_type == "recurring_bookable" and isinstance(availability, str):
        out["availability"] = _availability_from_text(availability) or None
    return out


def readable_problem(offering_type: str, raw: Any) -> str | None:
    """None when the app can read the schedule (complete or not), else why not."""
    try:
        parse(offering_type, raw, partial=True)
    except ValidationError as exc:
        return "; ".join(m if k in ("schedule", "offering_type") else
                         f"{str(k).removeprefix('schedule.')}: {m}"
                         for k, m in exc.field_errors.items())
    return None
