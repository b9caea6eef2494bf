"""The agenda a day at a time: its pages are the whole four weeks worked out at once, and the
booked 1:1 sessions are found through ``admin.booked_session_dates`` (0026), which no JSON
the platform writes can make fail."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.db import make_session_factory
from data.queries import offerings as q
from tests.data.offering_factories import add_booking, add_customer, add_offering

# America/New_York (the demo platform's zone) moves to summer time on 14 March 2027,
# Europe/Berlin on 28 March: both inside the four weeks from 1 March.
DST_START = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)
BOOKABLE = {"availability": {"monday": [{"start": "09:00", "end": "17:00"}],
                             "friday": [{"start": "09:00", "end": "17:00"}]},
            "booking_window_days": 60, "buffer_minutes": 10}


def _mixed(engine) -> dict[str, object]:
    """Offerings of all six types in March 2027 (some in Berlin time), with bookings."""
    ids = {
        "event": add_offering(engine, title="Spring Concert", schedule={
            "date": "2027-03-16", "start_time": "19:00", "duration_minutes": 90}),
        "program": add_offering(engine, offering_type="multi_day_program", title="Intensive",
                                schedule={"start_date": "2027-03-12", "end_date": "2027-03-15",
                                          "sessions": [{"date": d, "start_time": "09:00",
                                                        "duration_minutes": 120}
                                                       for d in ("2027-03-12", "2027-03-13",
                                                                 "2027-03-15")]}),
        "weekly": add_offering(engine, offering_type="recurring_fixed", title="Evening Flow",
                               schedule={"pattern": "weekly", "day": "tuesday",
                                         "time": "19:00", "duration_minutes": 60},
                               max_participants=12),
        "berlin": add_offering(engine, offering_type="recurring_fixed", title="Berlin Flow",
                               schedule={"pattern": "biweekly", "day": "Sunday ",
                                         "time": "10:00", "duration_minutes": 60,
                                         "time_zone": "Europe/Berlin"}),
        "cohort": add_offering(engine, offering_type="cohort_course", title="Cohort",
                               schedule={"cohort_start_date": "2027-02-10", "weeks": 8,
                                         "sessions_per_week": 1, "day": "wednesday",
                                         "time": "18:30", "duration_minutes": 75}),
        "retreat": add_offering(engine, offering_type="retreat", title="Mountain Retreat",
                                schedule={"start_date": "2027-03-26", "end_date": "2027-03-30",
                                          "check_in_time": "15:00",
                                          "check_out_time": "11:00",
                                          "time_zone": "Europe/Berlin"}),
        "coach": add_offering(engine, offering_type="recurring_bookable", title="Coaching",
                              schedule=BOOKABLE, capacity_type="one_on_one",
                              max_participants=1),
    }
    for key in ("event", "weekly", "cohort", "retreat"):
        add_booking(engine, ids[key], add_customer(engine))
    add_booking(engine, ids["weekly"], add_customer(engine), status="completed")
    for day, time, status in (("2027-03-08", "10:00", "confirmed"),
                              ("2027-03-08", "10:00", "completed"),  # two on one session
                              ("2027-03-15", "09:00", "confirmed"),  # after the change
                              ("2027-03-19", "14:00", "canceled"),  # frees its session
                              ("2027-03-26", "16:00", "no_show")):
        add_booking(engine, ids["coach"], add_customer(engine), status=status,
                    details={"booked_sessions": [{"date": day, "time": time}]})
    return ids


def _pages(session, start: dt.datetime, limit: int) -> list[q.AgendaEntry]:
    out: list[q.AgendaEntry] = []
    cursor = None
    while True:
        rows, nxt = q.agenda_page(session, start, 28, cursor, limit)
        assert len(rows) <= limit
        again, _ = q.agenda_page(session, start, 28, cursor, limit)
        assert again == rows  # a dropped page fetched anew is the same page
        out += rows
        if nxt is None:
            return out
        cursor = nxt


def test_the_agenda_by_pages_is_the_whole_four_weeks_across_a_clock_change(demo_engine):
    ids = _mixed(demo_engine)
    with make_session_factory(demo_engine)() as s:
        whole = q.list_agenda(s, DST_START)
        for limit in (1, 7, 200):
            assert _pages(s, DST_START, limit) == whole
        now = dt.datetime.now(dt.UTC)  # the demo's own sessions of the coming weeks
        today = q.list_agenda(s, now)
        assert len({e.offering_type for e in today}) >= 2
        assert _pages(s, now, q.AGENDA_PAGE) == today
    mine = {(e.title, e.start.strftime("%Y-%m-%d %H:%M %Z"), e.seats) for e in whole
            if e.offering_id in ids.values()}
    # local times kept on both sides of the changes; seats under the capacity rules
    assert {("Evening Flow", "2027-03-09 19:00 EST", "1 / 12"),
            ("Evening Flow", "2027-03-16 19:00 EDT", "1 / 12"),
            ("Coaching", "2027-03-08 10:00 EST", "2 / 1"),
            ("Coaching", "2027-03-15 09:00 EDT", "1 / 1"),
            ("Coaching", "2027-03-26 16:00 EDT", "1 / 1"),
            ("Spring Concert", "2027-03-16 19:00 EDT", "1 / 10"),
            ("Intensive", "2027-03-15 09:00 EDT", "0 / 10"),
            ("Cohort", "2027-03-10 18:30 EST", "1 / 10"),
            ("Mountain Retreat", "2027-03-26 15:00 CET", "1 / 10"),
            ("Mountain Retreat", "2027-03-29 00:00 CEST", "1 / 10")} <= mine
    assert not {m for m in mine if m[0] == "Coaching" and m[1].startswith("2027-03-19")}
    berlin = sorted(m[1] for m in mine if m[0] == "Berlin Flow")
    assert len(berlin) == 2 and all(b.endswith(("10:00 CET", "10:00 CEST")) for b in berlin)
    assert [e.start for e in whole] == sorted(e.start for e in whole)


def test_a_full_page_stops_at_the_day_it_fills(engine):
    """A page works out days until it is full, and no more: the first day's sessions come
    without the four weeks behind them; the rest follow page by page."""
    add_offering(engine, title="Today", schedule={"date": "2030-01-01", "start_time": "18:00",
                                                   "duration_minutes": 60})
    add_offering(engine, title="Later", schedule={"date": "2030-01-20", "start_time": "18:00",
                                                   "duration_minutes": 60})
    with make_session_factory(engine)() as s:
        start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
        rows, cursor = q.agenda_page(s, start, 28, None, 1)
        assert [e.title for e in rows] == ["Today"] and cursor is not None
        assert cursor[0] == 1  # one day worked out
        assert [e.title for e in _pages(s, start, 1)] == ["Today", "Later"]
        assert [e.title for e in _pages(s, start, q.AGENDA_PAGE)] == ["Today", "Later"]


def test_an_offering_edited_between_two_pages_shows_its_new_schedule_on_the_later_page(engine):
    """The schedules parsed for one page are kept for the next pages of the same reading,
    but only as stored: a class moved from Tuesday evening to Thursday morning between two
    pages has its Thursday sessions on the later pages and no Tuesday one."""
    add_offering(engine, title="Monday Talk", schedule={
        "date": "2030-01-07", "start_time": "18:00", "duration_minutes": 60})
    moved = add_offering(engine, offering_type="recurring_fixed", title="Evening Flow",
                         schedule={"pattern": "weekly", "day": "tuesday", "time": "19:00",
                                   "duration_minutes": 60})
    start = dt.datetime(2030, 1, 7, 12, 0, tzinfo=dt.UTC)  # a Monday
    with make_session_factory(engine)() as s:
        rows, cursor = q.agenda_page(s, start, 28, None, 1)
        assert [e.title for e in rows] == ["Monday Talk"]
        # the first day's page read the class (it meets the day after) and kept it parsed
        assert cursor is not None and len(cursor.parsed) == 2
    with engine.begin() as c:  # as the platform (or another admin) writes it
        c.execute(text("UPDATE offerings SET title = 'Morning Flow', schedule = CAST(:s AS "
                       "jsonb), updated_at = now() WHERE id = :id"),
                  {"id": moved, "s": json.dumps({"pattern": "weekly", "day": "thursday",
                                                 "time": "08:00", "duration_minutes": 45})})
    with make_session_factory(engine)() as s:
        later: list[q.AgendaEntry] = []
        while cursor is not None:
            page, cursor = q.agenda_page(s, start, 28, cursor, 1)
            later += page
        whole = q.list_agenda(s, start)
    classes = [e for e in later if e.offering_id == moved]
    assert [(e.title, e.start.strftime("%a %H:%M")) for e in classes] == \
        [("Morning Flow", "Thu 08:00")] * 4
    assert [e.title for e in whole] == ["Monday Talk"] + [e.title for e in later]
    assert whole[1:] == later


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text().filter(lambda t: "\x00" not in t)
    | st.sampled_from(["2027-03-08", " 2027-03-08\t", "2027-02-30", "9999-99-99", "10:00"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(["booked_sessions", "date", "time", "x"])
                      | st.text(max_size=5).filter(lambda t: "\x00" not in t),
                      inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(details=json_values)
def test_any_booking_details_the_platform_writes_are_accepted(engine, details):
    """With 0026's index in place, the platform's INSERT is never refused for the JSON in
    ``booking_details``, and the function answers for it with text dates only."""
    with engine.begin() as c:
        oid = c.execute(text("SELECT id FROM offerings LIMIT 1")).scalar()
        customer = c.execute(text("SELECT id FROM users WHERE role = 'customer' LIMIT 1")
                             ).scalar()
    if oid is None:
        oid, customer = add_offering(engine), add_customer(engine)
    with engine.begin() as c:  # as the platform writes it; raises if refused
        c.execute(text("INSERT INTO offering_bookings (customer_id, offering_id, "
                       "payment_method, status, booking_details) VALUES (:c, :o, 'purchase', "
                       "'confirmed', CAST(:d AS jsonb))"),
                  {"c": customer, "o": oid, "d": json.dumps(details)})
    with engine.connect() as c:
        dates = c.execute(text("SELECT admin.booked_session_dates(CAST(:d AS jsonb))"),
                          {"d": json.dumps(details)}).scalar_one()
    assert all(len(d) == 10 and d[4] == "-" for d in dates)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
                     min_size=1, max_size=5),
       junk=st.booleans())
def test_the_dates_a_well_formed_booking_holds(engine, days, junk):
    sessions: list = [{"date": d.isoformat(), "time": "10:00"} for d in days]
    if junk:
        sessions += [{"date": "not a date"}, "2030-01-01", {"time": "10:00"}]
    with engine.connect() as c:
        dates = c.execute(text("SELECT admin.booked_session_dates(CAST(:d AS jsonb))"),
                          {"d": json.dumps({"booked_sessions": sessions})}).scalar_one()
    assert dates == sorted({d.isoformat() for d in days})


LONG = {
    "retreat": {"start_date": "2026-06-01", "end_date": "2028-06-30", "check_in_time": "15:00",
                "check_out_time": "11:00", "time_zone": "Pacific/Auckland"},
    "cohort_course": {"cohort_start_date": "2026-01-07", "weeks": 104, "sessions_per_week": 1,
                      "day": "wednesday", "time": "23:30", "duration_minutes": 75},
    "recurring_fixed": {"pattern": "biweekly", "day": "friday", "time": "00:15",
                        "duration_minutes": 60, "starts_on": "2020-01-03",
                        "time_zone": "America/Los_Angeles"},
}


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(sorted(LONG)), offset=st.integers(0, 27 * 24),
       hours=st.integers(1, 72))
def test_a_window_s_sessions_are_the_longer_window_s_from_its_start(kind, offset, hours):
    """Skipping the retreat days and weeks before a window keeps every session of it, with
    its label ("Week 60 of 104", "Retreat day 400 of 761")."""
    from data import schedules

    parsed = schedules.parse(kind, LONG[kind])
    since = DST_START + dt.timedelta(hours=offset)
    until = since + dt.timedelta(hours=hours)
    # the longer window covers every short one (offset up to 27 days, plus up to 72 hours)
    whole = schedules.occurrences(parsed, "America/New_York", DST_START,
                                  DST_START + dt.timedelta(days=31))
    assert schedules.occurrences(parsed, "America/New_York", since, until) == \
        [o for o in whole if since <= o.start < until]
    assert whole and all(o.label for o in whole)
    first = {"retreat": dt.date(2026, 6, 1), "cohort_course": dt.date(2026, 1, 7)}.get(kind)
    for o in whole:  # numbered from the schedule's first day, not the window's
        if kind == "retreat":
            assert o.label == f"Retreat day {(o.start.date() - first).days + 1} of 761"
        elif kind == "cohort_course":
            assert o.label == f"Week {(o.start.date() - first).days // 7 + 1} of 104"
        else:
            assert (o.start.date() - dt.date(2020, 1, 3)).days % 14 == 0


CHANGES = {  # a day of a daylight-saving change in 2027: a gap, or an hour (30 min) twice
    "America/New_York": dt.date(2027, 3, 14), "Europe/Berlin": dt.date(2027, 3, 28),
    "Australia/Lord_Howe": dt.date(2027, 4, 4), "America/Santiago": dt.date(2027, 4, 4),
    "Europe/London": dt.date(2027, 10, 31)}


def _change(zone: str) -> dt.datetime:
    """The instant of the zone's change around its day in :data:`CHANGES`."""
    from zoneinfo import ZoneInfo

    here, step = ZoneInfo(zone), dt.timedelta(minutes=15)
    at = dt.datetime.combine(CHANGES[zone] - dt.timedelta(days=2), dt.time(0), tzinfo=dt.UTC)
    while at.astimezone(here).utcoffset() == (at + step).astimezone(here).utcoffset():
        at += step
    return at + step


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(sorted(CHANGES)), day=st.integers(-1, 1),
       time=st.sampled_from(["23:00", "23:30", "00:00", "00:30", "01:00", "01:45", "02:00",
                             "02:30", "03:00"]),
       offset=st.integers(-16, 16), quarters=st.integers(1, 12))
def test_the_quick_test_before_expanding_a_class_never_drops_one_of_its_sessions(
        zone, day, time, offset, quarters):
    """A class's sessions are worked out only where its weekday and time can fall: that
    test never turns down a window one of its sessions starts in, around a daylight-saving
    change either way (a time in the gap starts later than it reads)."""
    from data import schedules

    change = _change(zone)
    weekday = (change.astimezone(schedules.zone_of(zone)).date()
               + dt.timedelta(days=day)).weekday()
    parsed = schedules.parse("recurring_fixed", {
        "pattern": "weekly", "day": schedules.WEEKDAYS[weekday], "time": time,
        "duration_minutes": 60, "time_zone": zone})
    since = change + dt.timedelta(minutes=15 * offset)
    until = since + dt.timedelta(minutes=15 * quarters)
    if schedules.occurrences(parsed, "UTC", since, until):
        assert schedules.may_start_in(parsed, schedules.wall_clock_window(zone, since, until))
