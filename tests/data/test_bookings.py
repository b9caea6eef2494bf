"""Booking on behalf, capacity under concurrent staff, cancel, mark and portal access."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.db import make_engine, make_session_factory
from data.errors import ConflictError, DomainError, ValidationError
from data.services import bookings
from data.services.credits import InsufficientBalanceError
from tests.data.offering_factories import (
    add_booking,
    add_customer,
    add_offering,
    balance,
    offering_state,
)

ACTOR = "tester"


def book(sf, offering, customer, payment="complimentary", request=None, **kw):
    with sf.begin() as s:
        return bookings.book_on_behalf(s, ACTOR, offering, customer, payment,
                                       request or uuid.uuid4(), **kw)


def ledger_of(engine, customer):
    with engine.connect() as c:
        return c.execute(text("SELECT amount FROM credit_transactions WHERE customer_id = :u "
                              "ORDER BY created_at"), {"u": customer}).scalars().all()


def test_eight_connections_booking_the_last_three_seats_get_exactly_three(db_url, engine):
    """Real commits on eight connections at once: the offering row lock serialises them."""
    offering = add_offering(engine, max_participants=5)
    for _ in range(2):
        book(make_session_factory(engine), offering, add_customer(engine))
    customers = [add_customer(engine) for _ in range(8)]
    racing = make_engine(db_url, pool_size=8)
    sf = make_session_factory(racing)
    barrier = threading.Barrier(8)
    results: list[object] = []

    def attempt(customer):
        barrier.wait()
        try:
            results.append(book(sf, offering, customer))
        except DomainError as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    racing.dispose()
    booked = [r for r in results if isinstance(r, bookings.BookingResult)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert (len(booked), len(refused)) == (3, 5)
    assert all("is full" in str(r) for r in refused)
    assert offering_state(engine, offering) == {"booking_count": 5, "confirmed": 5}


def test_booking_with_credits_takes_them_once_through_the_ledger(session_factory, engine):
    offering = add_offering(engine, credit_cost=4)
    customer = add_customer(engine, balance=10)
    request = uuid.uuid4()
    first = book(session_factory, offering, customer, "credits", request)
    again = book(session_factory, offering, customer, "credits", request)  # a double click
    assert (first.tokens, again.replayed) == (-4, True)
    assert balance(engine, customer) == 6
    assert ledger_of(engine, customer) == [-4]
    assert offering_state(engine, offering) == {"booking_count": 1, "confirmed": 1}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM offering_portal_access "
                              "WHERE booking_id = :b"), {"b": request}).scalar() == 1


def test_too_few_credits_books_nothing(session_factory, engine):
    offering = add_offering(engine, credit_cost=4)
    customer = add_customer(engine, balance=3)
    with pytest.raises(InsufficientBalanceError):
        book(session_factory, offering, customer, "credits")
    assert offering_state(engine, offering) == {"booking_count": 0}
    assert balance(engine, customer) == 3


def test_refusals_full_deadline_and_already_confirmed(session_factory, engine):
    past = dt.datetime(2020, 1, 1)
    offering = add_offering(engine, max_participants=1, deadline=past)
    customer = add_customer(engine)
    with pytest.raises(ValidationError) as e:
        book(session_factory, offering, customer)
    assert "override_reason" in e.value.field_errors
    book(session_factory, offering, customer, override_reason="Creator invited her")
    with pytest.raises(ValidationError) as e:
        book(session_factory, offering, customer, override_reason="again")
    assert "already holds a confirmed booking" in e.value.field_errors["customer"]
    with pytest.raises(ConflictError, match="is full"):
        book(session_factory, offering, add_customer(engine), override_reason="x")
    assert offering_state(engine, offering) == {"booking_count": 1, "confirmed": 1}


def test_recurring_fixed_counts_confirmed_seats_and_bookable_counts_per_session(
        session_factory, engine):
    weekly = add_offering(engine, offering_type="recurring_fixed", max_participants=1,
                          schedule={"pattern": "weekly", "day": "monday", "time": "18:00",
                                    "duration_minutes": 60})
    add_booking(engine, weekly, add_customer(engine), status="completed")
    book(session_factory, weekly, add_customer(engine))  # a completed one holds no seat
    slots = add_offering(engine, offering_type="recurring_bookable", max_participants=1,
                         capacity_type="one_on_one",
                         schedule={"availability": {"monday": [{"start": "09:00",
                                                                "end": "12:00"}]},
                                   "booking_window_days": 14, "buffer_minutes": 15})
    book(session_factory, slots, add_customer(engine), session_slot=("2030-01-07", "10:00"))
    book(session_factory, slots, add_customer(engine), session_slot=("2030-01-07", "11:00"))
    with pytest.raises(ConflictError, match="is full"):
        book(session_factory, slots, add_customer(engine), session_slot=("2030-01-07", "10:00"))
    with pytest.raises(ValidationError) as e:
        book(session_factory, slots, add_customer(engine), session_slot=("2030-13-07", "10:00"))
    assert "session_date" in e.value.field_errors


def test_cancelling_a_credit_booking_returns_the_credits_once_under_a_double_click(
        db_url, session_factory, engine):
    offering = add_offering(engine, credit_cost=4)
    customer = add_customer(engine, balance=10)
    booking = book(session_factory, offering, customer, "credits").booking_id
    racing = make_engine(db_url, pool_size=2)
    sf = make_session_factory(racing)
    results = []
    barrier = threading.Barrier(2)

    def cancel():
        barrier.wait()
        with sf.begin() as s:
            results.append(bookings.cancel_booking(s, ACTOR, booking, "Feeling unwell"))

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    racing.dispose()
    assert sorted(r.replayed for r in results) == [False, True]
    assert balance(engine, customer) == 10
    assert ledger_of(engine, customer) == [-4, 4]
    assert offering_state(engine, offering) == {"booking_count": 0, "canceled": 1}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM offering_portal_access "
                              "WHERE booking_id = :b"), {"b": booking}).scalar() == 0


def test_cancel_subscription_returns_nothing_and_card_goes_to_the_refund(
        session_factory, engine):
    offering = add_offering(engine, booking_count=2)
    sub = add_booking(engine, offering, add_customer(engine))
    card = add_booking(engine, offering, add_customer(engine), method="purchase")
    with engine.begin() as c:
        c.execute(text("UPDATE offering_bookings SET amount_paid = 25 WHERE id = :b"),
                  {"b": card})
    with session_factory() as s:
        plan = bookings.cancellation_plan(s, card)
        assert plan.by_card and "refund dialog" in plan.lines[1]
        assert "nothing to return" in bookings.cancellation_plan(s, sub).lines[1]
    with session_factory.begin() as s:
        assert bookings.cancel_booking(s, ACTOR, sub, "Moved away").tokens == 0
    with pytest.raises(ConflictError, match="refund"), session_factory.begin() as s:
        bookings.cancel_booking(s, ACTOR, card, "Moved away")
    assert offering_state(engine, offering) == {"booking_count": 1, "canceled": 1,
                                                "confirmed": 1}


def test_mark_completed_and_no_show_and_portal_access(session_factory, engine):
    offering = add_offering(engine)
    booking = book(session_factory, offering, add_customer(engine)).booking_id
    with session_factory.begin() as s:
        bookings.mark_booking(s, ACTOR, booking, "no_show")
    with session_factory.begin() as s:
        bookings.mark_booking(s, ACTOR, booking, "completed")
    assert offering_state(engine, offering) == {"booking_count": 1, "completed": 1}
    until = dt.datetime(2031, 1, 1)
    with session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, booking, until)
    with session_factory.begin() as s:
        bookings.revoke_portal_access(s, ACTOR, booking, "Shared the login")
    with session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, booking, until)  # given again
    with engine.connect() as c:
        assert c.execute(text("SELECT expires_at FROM offering_portal_access "
                              "WHERE booking_id = :b"), {"b": booking}).scalar() == until
    with pytest.raises(ValidationError) as e, session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, booking, dt.datetime(2001, 1, 1))
    assert "expires_at" in e.value.field_errors


def test_a_bookings_history_holds_its_portal_access_extended_revoked_and_ended(
        session_factory, engine):
    """Each portal access change, whether the app keyed it by the booking or (as rows it
    wrote before did) by the portal access row, is in the booking's History; another
    booking's are not."""
    from data.queries.audit import list_booking_history
    from data.services.audit import record_change

    offering = add_offering(engine, max_participants=None, capacity_type="unlimited")
    booking = book(session_factory, offering, add_customer(engine)).booking_id
    other = book(session_factory, offering, add_customer(engine)).booking_id
    with session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, booking, dt.datetime(2031, 1, 1), "Longer")
    with session_factory.begin() as s:
        bookings.revoke_portal_access(s, ACTOR, booking, "Shared the login")
    with session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, booking, None, "Given back")
        access = s.execute(text("SELECT id FROM offering_portal_access WHERE booking_id = :b"),
                           {"b": booking}).scalar_one()
        record_change(s, actor=ACTOR, action="booking.portal_access",  # the old shape
                      entity_type="offering_portal_access", entity_id=access,
                      old_values=None, new_values={"note": "keyed by the access row"},
                      reason="Old row")
    with session_factory.begin() as s:
        bookings.set_portal_access(s, ACTOR, other, dt.datetime(2032, 1, 1), "Not this one")
    with session_factory.begin() as s:
        bookings.cancel_booking(s, ACTOR, booking, "Moved away")
    with session_factory() as s:
        first, cursor = list_booking_history(s, booking, None, 3)
        rest, end = list_booking_history(s, booking, cursor, 10)
    assert end is None
    assert [(r.action, r.reason) for r in first + rest] == [
        ("booking.cancel", "Moved away"),
        ("booking.portal_access", "Moved away"),  # the access ends with the booking
        ("booking.portal_access", "Old row"),
        ("booking.portal_access", "Given back"),
        ("booking.portal_access", "Shared the login"),
        ("booking.portal_access", "Longer"),
        ("booking.create", None)]
    revoked = next(r for r in rest if r.reason == "Shared the login")
    assert revoked.entity_id == str(booking)
    assert revoked.old_values["booking_id"] == str(booking)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=st.text(max_size=600))
def test_a_bad_override_or_cancel_reason_is_refused_by_field_and_nothing_written(
        session_factory, engine, reason):
    offering = add_offering(engine, deadline=dt.datetime(2020, 1, 1))
    customer = add_customer(engine)
    try:
        book(session_factory, offering, customer, override_reason=reason)
    except ValidationError as e:
        assert set(e.field_errors) == {"override_reason"}
        assert offering_state(engine, offering) == {"booking_count": 0}
    else:
        assert offering_state(engine, offering) == {"booking_count": 1, "confirmed": 1}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=st.text(max_size=600))
def test_a_bad_cancel_reason_is_refused_and_nothing_returned(session_factory, engine, reason):
    offering = add_offering(engine, credit_cost=2)
    customer = add_customer(engine, balance=2)
    booking = book(session_factory, offering, customer, "credits").booking_id
    try:
        with session_factory.begin() as s:
            bookings.cancel_booking(s, ACTOR, booking, reason)
    except ValidationError as e:
        assert set(e.field_errors) == {"reason"}
        assert balance(engine, customer) == 0
        assert offering_state(engine, offering) == {"booking_count": 1, "confirmed": 1}
    else:
        assert balance(engine, customer) == 2


def test_cancelling_an_offering_is_a_resumable_bulk_that_returns_each_thing_once(
        session_factory, engine):
    offering = add_offering(engine, credit_cost=2)
    payers = [add_customer(engine, balance=2) for _ in range(3)]
    for c in payers:
        book(session_factory, offering, c, "credits")
    book(session_factory, offering, add_customer(engine))  # complimentary
    card = add_booking(engine, offering, add_customer(engine), method="purchase")
    with engine.begin() as c:
        c.execute(text("UPDATE offering_bookings SET amount_paid = 25 WHERE id = :b"),
                  {"b": card})
        c.execute(text("UPDATE offerings SET booking_count = booking_count + 1 "
                       "WHERE id = :o"), {"o": offering})
    with session_factory() as s:
        preview = bookings.offering_cancellation_preview(s, offering)
    assert [line.returns for line in preview].count("2 credits") == 3
    assert sum(line.by_card for line in preview) == 1
    ids = [line.booking_id for line in preview]
    asked = iter([False, True])  # stop after the first batch
    first = bookings.run_offering_cancellation(session_factory, ACTOR, offering, "Venue closed",
                                               ids, batch_size=2,
                                               should_stop=lambda: next(asked, True))
    assert first.stopped and first.cancelled == 2
    again = bookings.run_offering_cancellation(session_factory, ACTOR, offering, "Venue closed",
                                               ids, batch_size=2)
    assert (again.already, again.cancelled, again.by_card) == (2, 2, 1)
    rerun = bookings.run_offering_cancellation(session_factory, ACTOR, offering, "Venue closed",
                                               ids)
    assert rerun.cancelled == 0 and rerun.credits_returned == 0
    assert [balance(engine, c) for c in payers] == [2, 2, 2]
    assert all(ledger_of(engine, c) == [-2, 2] for c in payers)
    assert offering_state(engine, offering) == {"booking_count": 1, "canceled": 4,
                                                "confirmed": 1}
