"""The six schedule shapes, unknown keys kept, local time across DST, capacity rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data import schedules
from data.errors import ValidationError

UTC = dt.UTC

GOOD = {
    "one_time_event": {"date": "2026-03-15", "start_time": "19:00", "duration_minutes": 120},
    "multi_day_program": {"start_date": "2026-05-04", "end_date": "2026-05-06", "sessions": [
        {"date": "2026-05-04", "start_time": "09:30", "duration_minutes": 90},
        {"date": "2026-05-05", "start_time": "09:30", "duration_minutes": 90}]},
    "recurring_fixed": {"pattern": "weekly", "day": "tuesday", "time": "18:00",
                        "duration_minutes": 60},
    "recurring_bookable": {"availability": {"monday": [{"start": "09:00", "end": "12:00"}]},
                           "booking_window_days": 14, "buffer_minutes": 15},
    "cohort_course": {"cohort_start_date": "2026-04-01", "weeks": 6, "sessions_per_week": 1,
                      "day": "wednesday", "time": "18:30", "duration_minutes": 75},
    "retreat": {"start_date": "2026-06-01", "end_date": "2026-06-05",
                "check_in_time": "15:00", "check_out_time": "11:00"},
}


@pytest.mark.parametrize("kind", list(GOOD))
def test_every_shape_round_trips(kind):
    parsed = schedules.parse(kind, GOOD[kind])
    assert schedules.dump(parsed) == GOOD[kind]
    assert schedules.schedule_problem(kind, GOOD[kind]) is None


def test_platform_written_schedule_keeps_its_extra_keys_through_an_edit():
    stored = {"date": "2026-03-15", "start_time": "19:00", "duration_minutes": 120,
              "doors_open": "18:30", "reminders": [{"hours_before": 24}], "notes": None}
    saved = schedules.edit("one_time_event", stored, {"start_time": "19:30"})
    assert saved == {**stored, "start_time": "19:30"}


def test_a_missing_key_names_the_field_and_the_reason_for_publishing():
    raw = dict(GOOD["one_time_event"], date=None)
    with pytest.raises(ValidationError) as e:
        schedules.parse("one_time_event", raw)
    assert e.value.field_errors == {"schedule.date": "Date is required."}
    assert schedules.schedule_problem("one_time_event", raw) == "date: Date is required."
    # a draft may be saved incomplete
    assert schedules.parse("one_time_event", raw, partial=True)["date"] is None


def test_occurrences_keep_their_local_time_across_daylight_saving():
    """Europe/Berlin leaves summer time on 2026-10-25: the class stays at 18:00 local."""
    s = schedules.parse("recurring_fixed", GOOD["recurring_fixed"])
    found = schedules.occurrences(s, "Europe/Berlin", dt.datetime(2026, 10, 19, tzinfo=UTC),
                                  dt.datetime(2026, 11, 2, tzinfo=UTC))
    assert [o.start.strftime("%Y-%m-%d %H:%M") for o in found] == \
        ["2026-10-20 18:00", "2026-10-27 18:00"]
    assert [o.utc_start.hour for o in found] == [16, 17]  # UTC moves, local time does not


def test_a_schedule_with_its_own_time_zone_overrides_the_platforms():
    raw = dict(GOOD["one_time_event"], time_zone="America/New_York")
    s = schedules.parse("one_time_event", raw)
    (o,) = schedules.occurrences(s, "Europe/Berlin", dt.datetime(2026, 1, 1, tzinfo=UTC),
                                 dt.datetime(2027, 1, 1, tzinfo=UTC))
    assert o.utc_start == dt.datetime(2026, 3, 15, 23, 0, tzinfo=UTC)  # 19:00 EDT


def test_occurrences_of_each_dated_shape():
    window = (dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    counts = {kind: len(schedules.occurrences(schedules.parse(kind, GOOD[kind]), "UTC",
                                              *window))
              for kind in ("one_time_event", "multi_day_program", "cohort_course", "retreat")}
    assert counts == {"one_time_event": 1, "multi_day_program": 2, "cohort_course": 6,
                      "retreat": 5}
    booked = schedules.occurrences(schedules.parse("recurring_bookable",
                                                   GOOD["recurring_bookable"]),
                                   "UTC", *window, booked=[{"date": "2026-02-02",
                                                            "time": "10:00"}])
    assert [o.start.hour for o in booked] == [10]


@pytest.mark.parametrize(("kind", "change", "field"), [
    ("one_time_event", {"date": "2026-02-30"}, "schedule.date"),
    ("one_time_event", {"start_time": "25:00"}, "schedule.start_time"),
    ("one_time_event", {"duration_minutes": -5}, "schedule.duration_minutes"),
    ("one_time_event", {"duration_minutes": 10**30}, "schedule.duration_minutes"),
    ("recurring_fixed", {"day": "funday"}, "schedule.day"),
    ("recurring_fixed", {"pattern": "hourly"}, "schedule.pattern"),
    ("retreat", {"end_date": "2026-05-01"}, "schedule.end_date"),
    ("multi_day_program", {"sessions": [{"date": "2026-07-01", "start_time": "09:00",
                                         "duration_minutes": 60}]}, "schedule.sessions"),
    ("recurring_bookable", {"availability": {"monday": [{"start": "12:00", "end": "09:00"}]}},
     "schedule.availability.monday"),
    ("cohort_course", {"time_zone": "Mars/Olympus"}, "schedule.time_zone"),
])
def test_bad_values_name_their_field(kind, change, field):
    with pytest.raises(ValidationError) as e:
        schedules.edit(kind, GOOD[kind], change)
    assert field in e.value.field_errors


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(schedules.DATED_TYPES + ("recurring_fixed", "recurring_bookable")),
       raw=JSON)
def test_any_json_is_read_or_refused_by_field_never_a_crash(kind, raw):
    try:
        s = schedules.parse(kind, raw)
    except ValidationError as e:
        assert e.field_errors and all(isinstance(m, str) and m for m in
                                      e.field_errors.values())
    else:
        json.dumps(schedules.dump(s))


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(GOOD)),
       key=st.sampled_from(["date", "start_time", "time", "day", "duration_minutes", "weeks",
                            "start_date", "end_date", "check_in_time", "booking_window_days",
                            "buffer_minutes", "cohort_start_date", "pattern", "time_zone"]),
       value=st.text(min_size=1) | st.integers() | st.floats(allow_nan=True))
def test_a_bad_field_value_is_refused_on_that_field(kind, key, value):
    """Each typed value is either accepted or refused with a message on its own key."""
    try:
        saved = schedules.edit(kind, GOOD[kind], {key: value})
    except ValidationError as e:
        assert set(e.field_errors) <= {f"schedule.{key}", "schedule.end_date",
                                       "schedule.sessions"}
    else:
        json.dumps(saved)


def test_capacity_rules_per_type():
    bookings = [("confirmed", {}), ("completed", {}), ("no_show", {}), ("canceled", {})]
    assert schedules.capacity_problems("one_time_event", 3, bookings) == []
    assert schedules.capacity_problems("one_time_event", 3, bookings, extra=1) == \
        ["4 bookings not canceled (at most 3)"]
    # recurring_fixed counts the confirmed seats only
    assert schedules.capacity_problems("recurring_fixed", 1, bookings) == []
    assert schedules.capacity_problems("recurring_fixed", 1, bookings, extra=1)
    slot = {"booked_sessions": [{"date": "2026-02-02", "time": "10:00"}]}
    one_on_one = [("confirmed", slot), ("canceled", slot)]
    assert schedules.capacity_problems("recurring_bookable", 1, one_on_one) == []
    assert schedules.capacity_problems("recurring_bookable", 1, one_on_one, extra=1,
                                       session=("2026-02-02", "10:00"))
    assert schedules.capacity_problems("recurring_bookable", 1, one_on_one, extra=1,
                                       session=("2026-02-02", "11:00")) == []
    assert schedules.capacity_problems("retreat", None, bookings * 100) == []
