"""Offerings: editing with every field checked, publishing refused with the reason,
capacity reductions, the impact of a change, the list and the check command."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, ValidationError
from data.operations.offerings import CreateOffering, UpdateOffering
from data.queries import offerings as q
from data.services import bookings
from data.services import offerings as svc
from desktop.cli import main as cli_main
from tests.data.offering_factories import add_booking, add_customer, add_offering

ACTOR = "tester"


def record(sf, oid):
    with sf() as s:
        return q.get_offering_record(s, oid)


def creator(engine):
    uid = uuid.uuid4()
    with engine.begin() as c:
        c.execute(text("INSERT INTO users (id, email, password_hash, full_name, role) "
                       "VALUES (:id, :e, 'x', 'Ana Creator', 'platform_creator')"),
                  {"id": uid, "e": f"ana-{uid.hex[:8]}@example.com"})
    return uid


def test_create_proposes_a_unique_slug_and_saves_the_schedule_form(session_factory, engine):
    values = {"creator_id": creator(engine), "title": "Yin Yoga Retreat",
              "offering_type": "retreat", "capacity_type": "small_group",
              "max_participants": 12, "delivery_method": "in_person",
              "schedule_retreat": {"start_date": dt.date(2030, 6, 1), "end_date": "2030-06-05",
                                   "check_in_time": "15:00", "check_out_time": None}}
    with session_factory.begin() as s:
        r = CreateOffering(values).run(s, ACTOR)
    assert (r.slug, r.status) == ("yin-yoga-retreat", "draft")
    assert r.schedule == {"start_date": "2030-06-01", "end_date": "2030-06-05",
                          "check_in_time": "15:00"}
    with pytest.raises(ValidationError) as e, session_factory.begin() as s:
        CreateOffering(values).run(s, ACTOR)
    assert "slug" in e.value.field_errors
    with pytest.raises(ConflictError, match="schedule is incomplete"), \
            session_factory.begin() as s:
        svc.set_offering_status(s, ACTOR, r.id, None, "published")


def test_a_bad_schedule_value_is_refused_on_the_forms_schedule_field(session_factory, engine):
    oid = add_offering(engine)
    r = record(session_factory, oid)
    with pytest.raises(ValidationError) as e, session_factory.begin() as s:
        UpdateOffering(oid, r.version, {"schedule_one_time_event": {
            **r.schedule, "start_time": "7pm"}}, "one_time_event").run(s, ACTOR)
    assert set(e.value.field_errors) == {"schedule_one_time_event.start_time"}
    assert record(session_factory, oid).schedule == r.schedule


def test_a_platform_schedule_with_extra_keys_survives_an_edit(session_factory, engine):
    stored = {"date": "2030-03-15", "start_time": "19:00", "duration_minutes": 120,
              "zoom_room": {"id": 42}, "doors_open": "18:30"}
    oid = add_offering(engine, schedule=stored)
    r = record(session_factory, oid)
    with session_factory.begin() as s:
        UpdateOffering(oid, r.version, {"schedule_one_time_event": {
            **r.schedule, "duration_minutes": 90}}, "one_time_event").run(s, ACTOR)
    assert record(session_factory, oid).schedule == {**stored, "duration_minutes": 90}


def test_publish_is_refused_with_the_reason(session_factory, engine):
    oid = add_offering(engine, status="draft")
    with pytest.raises(ConflictError, match="description is required"), \
            session_factory.begin() as s:
        svc.set_offering_status(s, ACTOR, oid, None, "published")
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET description = 'Sound', "
                       "video_conference_provider = 'zoom' WHERE id = :o"), {"o": oid})
    with session_factory.begin() as s:
        svc.set_offering_status(s, ACTOR, oid, None, "published")
    assert record(session_factory, oid).status == "published"


def test_reducing_seats_below_the_bookings_needs_a_reason(session_factory, engine):
    oid = add_offering(engine, max_participants=5)
    for _ in range(3):
        with session_factory.begin() as s:
            bookings.book_on_behalf(s, ACTOR, oid, add_customer(engine), "complimentary",
                                    uuid.uuid4())
    r = record(session_factory, oid)
    with pytest.raises(ValidationError) as e, session_factory.begin() as s:
        svc.update_offering(s, ACTOR, oid, r.version, {"max_participants": 2})
    assert "give a reason in “Reason for an exception”" in e.value.field_errors["max_participants"]
    with session_factory.begin() as s:
        svc.update_offering(s, ACTOR, oid, r.version, {"max_participants": 2},
                            "Room changed, creator agreed")
    assert record(session_factory, oid).max_participants == 2
    with session_factory() as s:
        assert q.get_impact(s, oid).sentence() == \
            "3 confirmed bookings; the portal access of 3 people changes."


def test_a_stale_version_is_refused(session_factory, engine):
    oid = add_offering(engine)
    r = record(session_factory, oid)
    with session_factory.begin() as s:
        svc.update_offering(s, ACTOR, oid, r.version, {"title": "New"})
    with pytest.raises(ConflictError), session_factory.begin() as s:
        svc.update_offering(s, ACTOR, oid, r.version, {"title": "Other"})


FIELDS = ["title", "slug", "description", "max_participants", "price", "credit_cost",
          "location_details", "registration_deadline", "capacity_type", "delivery_method"]
BAD = st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True),
                st.sampled_from(["\x00", "=cmd", "a\u200bb", "\u202eevil", "-1", "1e30",
                                 "0.001", "9" * 40, "\ud800"]))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(FIELDS), value=BAD)
def test_bad_input_on_any_field_names_it_and_writes_nothing(session_factory, engine, name,
                                                            value):
    oid = add_offering(engine)
    before = record(session_factory, oid)
    try:
        with session_factory.begin() as s:
            svc.update_offering(s, ACTOR, oid, before.version, {name: value})
    except ValidationError as e:
        assert any(k == name or str(k).startswith(name) for k in e.field_errors), \
            e.field_errors
        assert record(session_factory, oid) == before
    else:
        shown = getattr(record(session_factory, oid), name)
        if isinstance(value, str) and isinstance(shown, str):
            assert shown == value.strip() or name == "slug"


def test_the_list_sorts_by_next_session_and_filters_past(session_factory, engine):
    soon = add_offering(engine, title="Soon", schedule={"date": "2030-01-01",
                                                        "start_time": "10:00",
                                                        "duration_minutes": 60})
    later = add_offering(engine, title="Later", schedule={"date": "2031-01-01",
                                                          "start_time": "10:00",
                                                          "duration_minutes": 60})
    past = add_offering(engine, title="Past", schedule={"date": "2020-01-01",
                                                        "start_time": "10:00",
                                                        "duration_minutes": 60})
    weekly = add_offering(engine, offering_type="recurring_fixed", title="Weekly",
                          schedule={"pattern": "weekly", "day": "monday", "time": "18:00",
                                    "duration_minutes": 60})
    with session_factory() as s:
        rows, _ = q.list_offerings_page(s, q.OfferingFilter(), None, 1)
        assert [r.id for r in rows] == [soon]
        rows, cursor = q.list_offerings_page(s, q.OfferingFilter(), None, 2)
        rows2, _ = q.list_offerings_page(s, q.OfferingFilter(), cursor, 10)
        assert [r.id for r in rows2] == [weekly]  # recurring ones last
        assert rows2[0].next_session is not None
        rows, cursor = q.list_offerings_page(s, q.OfferingFilter(), None, 1)
        rows2, _ = q.list_offerings_page(s, q.OfferingFilter(), cursor, 10)
        assert [r.id for r in rows2] == [later, weekly]
        rows, _ = q.list_offerings_page(s, q.OfferingFilter(when="past"), None, 10)
        assert [r.id for r in rows] == [past]
        assert rows[0].next_session is None
        assert q.count_offerings(s, q.OfferingFilter()).value == 3


def test_the_agenda_shows_sessions_with_seats_taken(session_factory, engine):
    weekly = add_offering(engine, offering_type="recurring_fixed", title="Weekly",
                          schedule={"pattern": "weekly", "day": "monday", "time": "18:00",
                                    "duration_minutes": 60}, max_participants=8)
    add_booking(engine, weekly, add_customer(engine))
    with session_factory() as s:
        entries = q.list_agenda(s, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    mine = [e for e in entries if e.offering_id == weekly]
    assert len(mine) == 4 and {e.seats for e in mine} == {"1 / 8"}


def test_the_agenda_counts_each_booked_slot_and_keeps_dated_offerings_to_the_window(
        session_factory, engine):
    """Booked 1:1 slots: one entry per booked session with the bookings holding it (a
    cancelled one frees it); events inside the four weeks shown, one after them not; an
    unpublished offering's slots never shown."""
    bookable = {"availability": {"monday": [{"start": "09:00", "end": "12:00"}]},
                "booking_window_days": 14, "buffer_minutes": 15}
    coach = add_offering(engine, offering_type="recurring_bookable", title="Coaching",
                         schedule=bookable, capacity_type="one_on_one", max_participants=1)
    hidden = add_offering(engine, offering_type="recurring_bookable", title="Draft coaching",
                          schedule=bookable, status="draft")
    slot = {"booked_sessions": [{"date": "2030-01-07", "time": "10:00"}]}
    for status in ("confirmed", "completed", "canceled"):
        add_booking(engine, coach, add_customer(engine), status=status, details=slot)
    add_booking(engine, coach, add_customer(engine), details={
        "booked_sessions": [{"date": "2030-01-14", "time": "09:30"}]})
    add_booking(engine, coach, add_customer(engine), details={  # after the four weeks
        "booked_sessions": [{"date": "2030-03-04", "time": "09:30"}]})
    add_booking(engine, hidden, add_customer(engine), details=slot)
    inside = add_offering(engine, title="Inside", schedule={
        "date": "2030-01-20", "start_time": "19:00", "duration_minutes": 60})
    later = add_offering(engine, title="Later", schedule={
        "date": "2030-02-20", "start_time": "19:00", "duration_minutes": 60})
    with session_factory() as s:
        entries = q.list_agenda(s, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    shown = {(e.offering_id, e.start.strftime("%Y-%m-%d %H:%M"), e.seats) for e in entries}
    assert {e for e in shown if e[0] == coach} == {(coach, "2030-01-07 10:00", "2 / 1"),
                                                   (coach, "2030-01-14 09:30", "1 / 1")}
    assert (inside, "2030-01-20 19:00", "0 / 10") in shown
    assert not {e for e in shown if e[0] in (hidden, later)}


def test_offerings_check_names_every_problem(db_url, engine, capsys):
    ok = add_offering(engine, title="Fine")
    add_booking(engine, ok, add_customer(engine))
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET booking_count = 1 WHERE id = :o"), {"o": ok})
    assert cli_main(["offerings", "check", "--database-url", db_url]) == 0
    drift = add_offering(engine, title="Drift", booking_count=4)
    full = add_offering(engine, title="Over", max_participants=1, booking_count=2)
    twice = add_customer(engine)
    add_booking(engine, full, twice)
    add_booking(engine, full, twice)
    add_offering(engine, title="Garbled", schedule=["not", "an", "object"])
    capsys.readouterr()
    assert cli_main(["offerings", "check", "--database-url", db_url]) == 1
    out = capsys.readouterr().out
    assert f"{drift} “Drift”: booking_count is 4 but 0 bookings are not canceled" in out
    assert "“Over”: over capacity: 2 bookings not canceled (at most 1)" in out
    assert "holds 2 confirmed bookings" in out
    assert "“Garbled”: schedule cannot be read: The schedule is not a JSON object." in out


def test_reordering_a_list_that_changed_meanwhile_is_refused(session_factory, engine):
    oid = add_offering(engine)
    with session_factory.begin() as s:
        a = svc.add_resource(s, ACTOR, oid, {"resource_type": "text", "title": "A",
                                             "text_content": "Bring a mat"})
        b = svc.add_resource(s, ACTOR, oid, {"resource_type": "link", "title": "B",
                                             "link_url": "https://example.org"})
    with session_factory.begin() as s:
        svc.reorder_resources(s, ACTOR, oid, [b, a])
    with pytest.raises(ConflictError), session_factory.begin() as s:
        svc.reorder_resources(s, ACTOR, oid, [b])
    with pytest.raises(ValidationError) as e, session_factory.begin() as s:
        svc.add_resource(s, ACTOR, oid, {"resource_type": "text", "title": "=HYPERLINK()",
                                         "text_content": ""})
    assert "text_content" in e.value.field_errors
