"""The demo data satisfies the offering rules: `offerings check` finds nothing, all six
types are there with readable schedules, some full, booked with all three payment methods."""

from __future__ import annotations

from sqlalchemy import text

from data.db import make_session_factory
from data.services.offerings import find_offering_problems


def test_demo_offerings_pass_the_check(demo_engine):
    with make_session_factory(demo_engine)() as s:
        assert [str(p) for p in find_offering_problems(s)] == []
    with demo_engine.connect() as c:
        kinds = set(c.execute(text("SELECT DISTINCT offering_type FROM offerings")).scalars())
        methods = set(c.execute(text(
            "SELECT DISTINCT payment_method FROM offering_bookings")).scalars())
        full = c.execute(text(
            "SELECT count(*) FROM offerings WHERE max_participants IS NOT NULL AND "
            "booking_count >= max_participants AND offering_type <> 'recurring_bookable'"
        )).scalar()
    assert len(kinds) == 6 and full >= 1
    assert methods == {"purchase", "subscription", "credits"}
