"""Bad input on every schedule form and every one of its fields, through the editor's save
(``UpdateOffering`` with the form's values): refused with a message on that field of that
type's form (``schedule_<type>.<key>``), and nothing written (the row, its version and its
schedule unchanged). The bad values are built to be wrong by rules written here, not asked
of :mod:`data.schedules`, so an accepted bad value fails the test."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data import schedules
from data.errors import ValidationError
from data.operations.offerings import UpdateOffering
from data.queries.offerings import get_offering_record
from tests.data.offering_factories import add_offering

GOOD = {
    "one_time_event": {"date": "2030-03-15", "start_time": "19:00", "duration_minutes": 120},
    "multi_day_program": {"start_date": "2030-05-04", "end_date": "2030-05-06", "sessions": [
        {"date": "2030-05-04", "start_time": "09:30", "duration_minutes": 90},
        {"date": "2030-05-05", "start_time": "09:30", "duration_minutes": 90}]},
    "recurring_fixed": {"pattern": "weekly", "day": "tuesday", "time": "18:00",
                        "duration_minutes": 60, "starts_on": "2030-01-01"},
    "recurring_bookable": {"availability": {"monday": [{"start": "09:00", "end": "12:00"}]},
                           "booking_window_days": 14, "buffer_minutes": 15,
                           "session_minutes": 45},
    "cohort_course": {"cohort_start_date": "2030-04-01", "weeks": 6, "sessions_per_week": 1,
                      "day": "wednesday", "time": "18:30", "duration_minutes": 75},
    "retreat": {"start_date": "2030-06-01", "end_date": "2030-06-05",
                "check_in_time": "15:00", "check_out_time": "11:00"},
}
assert set(GOOD) == set(schedules.SHAPES)


def _is_date(s: str) -> bool:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s.strip()):
        return False
    try:
        dt.date.fromisoformat(s.strip())
    except ValueError:
        return False
    return True


def _is_time(s: str) -> bool:
    m = re.fullmatch(r"([0-9]{2}):([0-9]{2})", s.strip())
    return bool(m) and int(m[1]) < 24 and int(m[2]) < 60


_TEXT = st.text(min_size=1, max_size=30)
BAD_DATE = st.sampled_from(["2030-02-30", "2030-13-01", "15/03/2030", "tomorrow", "\x00",
                            "2030-3-15"]) | _TEXT.filter(lambda s: not _is_date(s))
BAD_TIME = st.sampled_from(["25:00", "7pm", "19:60", "1900", "19:0", "\u0661\u0669:00"]) \
    | _TEXT.filter(lambda s: not _is_time(s))


def _bad_count(key: schedules.Key) -> st.SearchStrategy:
    return (st.integers(max_value=key.minimum - 1) | st.integers(min_value=key.maximum + 1)
            | st.sampled_from(["ten", "1.5", "\x00", "1e3"]))


def _bad_choice(choices: tuple[str, ...]) -> st.SearchStrategy:
    return st.sampled_from(["Funday", "hourly", "\u202emonday"]) \
        | _TEXT.filter(lambda s: s.strip().lower() not in choices)


BAD_SESSIONS = st.one_of(
    st.builds(lambda d: f"{d} 09:30 90", BAD_DATE.filter(lambda s: s.split() == [s])),
    st.builds(lambda t: f"2030-05-04 {t} 90", BAD_TIME.filter(lambda s: s.split() == [s])),
    st.builds(lambda n: f"2030-05-04 09:30 {n}", st.integers(max_value=0)),
    st.sampled_from(["2030-05-04 09:30", "2030-05-04", "2030-07-01 09:00 60",  # outside
                     "2030-05-04 09:30 90 extra"]),
)
BAD_AVAILABILITY = st.one_of(
    st.sampled_from(["funday 09:00-12:00", "monday 12:00-09:00", "monday 09:00",
                     "monday 09:00-25:00", "monday"]),
    st.builds(lambda t: f"tuesday {t}-17:00", BAD_TIME.filter(lambda s: "-" not in s
                                                              and "," not in s)),
)
BAD_ZONE = st.sampled_from(["Mars/Olympus", "../etc/passwd", "Europe/", "UTC+25", "\x00"]) \
    | _TEXT.filter(lambda s: not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", s))


def bad_values(key: schedules.Key) -> st.SearchStrategy:
    kinds = {"date": BAD_DATE, "time": BAD_TIME, "sessions": BAD_SESSIONS,
             "availability": BAD_AVAILABILITY}
    if key.kind in kinds:
        return kinds[key.kind]
    if key.kind == "count":
        return _bad_count(key)
    if key.kind == "weekday":
        return _bad_choice(schedules.WEEKDAYS)
    return _bad_choice(key.choices)


@pytest.mark.parametrize("kind", list(schedules.SHAPES))
def test_bad_input_on_every_schedule_field_names_it_and_writes_nothing(
        session_factory, engine, kind):
    """Each field of the type's form in turn (its shape's keys and the time zone)."""
    oid = add_offering(engine, offering_type=kind, schedule=GOOD[kind])
    with session_factory() as s:
        before = get_offering_record(s, oid)
    form = schedules.form_values(kind, before.schedule)
    own = f"schedule_{kind}"
    tried = []

    def check(name: str, values: st.SearchStrategy) -> None:
        @settings(max_examples=20, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(value=values)
        def refused(value):
            with pytest.raises(ValidationError) as e, session_factory.begin() as s:
                UpdateOffering(oid, before.version, {own: {**form, name: value}}, kind).run(
                    s, "tester")
            named = [k for k in e.value.field_errors if str(k).startswith(f"{own}.{name}")]
            assert named, (name, value, e.value.field_errors)
            assert all(e.value.field_errors[k] for k in named)
            with session_factory() as s:
                assert get_offering_record(s, oid) == before
            tried.append(name)

        refused()

    for key in schedules.SHAPES[kind]:
        check(key.name, bad_values(key))
    check("time_zone", BAD_ZONE)
    assert set(tried) == {k.name for k in schedules.SHAPES[kind]} | {"time_zone"}
