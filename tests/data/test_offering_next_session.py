"""The Offerings list's next session of a 1:1 offering (recurring_bookable): the next session
booked on it by a booking not canceled, in the platform's time zone; none when nothing is
booked ahead. Sorted by next session, 1:1 offerings come after the dated ones (their next
session depends on today: no index holds it), and keyset pages keep that order."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import text

from data.queries import offerings as q
from tests.data.offering_factories import add_booking, add_customer, add_offering

BOOKABLE = {"availability": {d: [{"start": "08:00", "end": "20:00"}] for d in
                             ("monday", "tuesday", "wednesday", "thursday", "friday",
                              "saturday", "sunday")},
            "booking_window_days": 60, "buffer_minutes": 10}
ZONE = "Pacific/Honolulu"  # behind UTC all day: its local day is often the UTC day before


def set_platform_zone(engine, zone: str) -> None:
    with engine.begin() as c:
        c.execute(text("UPDATE platform_settings SET timezone = :z"), {"z": zone})
        c.execute(text("INSERT INTO platform_settings (timezone) SELECT :z "
                       "WHERE NOT EXISTS (SELECT FROM platform_settings)"), {"z": zone})


def one_on_one(engine, title: str, sessions: list[tuple[int, str, str]]):
    """A 1:1 offering with one booking per ``(days from today, time, status)``; the day is
    the platform's local day."""
    oid = add_offering(engine, offering_type="recurring_bookable", title=title,
                       schedule=BOOKABLE, capacity_type="one_on_one", max_participants=1)
    today = dt.datetime.now(ZoneInfo(ZONE)).date()
    for days, time, status in sessions:
        day = (today + dt.timedelta(days=days)).isoformat()
        add_booking(engine, oid, add_customer(engine), status=status,
                    details={"booked_sessions": [{"date": day, "time": time},
                                                 {"date": "not a date", "time": time}]})
    return oid, today


def test_a_1_1_offerings_next_session_is_its_next_booked_one_not_canceled(session_factory,
                                                                          engine):
    set_platform_zone(engine, ZONE)
    coach, today = one_on_one(engine, "Coaching", [
        (-3, "10:00", "confirmed"),  # past
        (1, "09:00", "canceled"),  # frees its session
        (6, "15:30", "confirmed"),
        (2, "11:00", "confirmed"),  # the next one
    ])
    idle, _ = one_on_one(engine, "Idle Coaching", [(-1, "10:00", "completed"),
                                                   (3, "10:00", "canceled")])
    unbooked, _ = one_on_one(engine, "New Coaching", [])
    # booked far ahead only (past the days looked at first), and soon but unreadably
    far, _ = one_on_one(engine, "Far Coaching", [(5, "25:00", "confirmed"),
                                                 (140, "08:15", "confirmed"),
                                                 (100, "17:00", "no_show")])
    with session_factory() as s:
        rows = {r.id: r for r in q.list_offerings_page(s, q.OfferingFilter(), None, 10)[0]}
        one = q.get_offering_row(s, coach)
    expected = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(11, 0),
                                   tzinfo=ZoneInfo(ZONE))
    assert rows[coach].next_session == expected
    assert rows[coach].next_session.utcoffset() == dt.timedelta(hours=-10)
    assert one is not None and one.next_session == expected  # the row refreshed alone
    assert rows[idle].next_session is None and rows[idle].schedule_problem is None
    assert rows[unbooked].next_session is None
    assert rows[far].next_session == dt.datetime.combine(
        today + dt.timedelta(days=100), dt.time(17, 0), tzinfo=ZoneInfo(ZONE))


def test_sorted_by_next_session_1_1_offerings_follow_the_dated_ones_on_every_page(
        session_factory, engine):
    set_platform_zone(engine, ZONE)
    soon = dt.date.today() + dt.timedelta(days=30)
    dated = [add_offering(engine, title=f"Talk {i}", schedule={
        "date": (soon + dt.timedelta(days=i)).isoformat(), "start_time": "10:00",
        "duration_minutes": 60}) for i in (3, 1, 2)]
    coaches = [one_on_one(engine, f"Coaching {i}", [(i, "10:00", "confirmed")])[0]
               for i in (1, 2)]
    with session_factory() as s:
        whole, end = q.list_offerings_page(s, q.OfferingFilter(), None, 100)
        paged, cursor = [], None
        while True:
            rows, cursor = q.list_offerings_page(s, q.OfferingFilter(), cursor, 1)
            paged += rows
            if cursor is None:
                break
    assert end is None
    assert [r.id for r in paged] == [r.id for r in whole]
    assert [r.id for r in whole[:3]] == [dated[1], dated[2], dated[0]]  # by first day
    assert sorted(r.id for r in whole[3:]) == sorted(coaches)  # then the 1:1, each once
    assert all(r.next_session is not None for r in whole)
