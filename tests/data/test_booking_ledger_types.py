"""Credit bookings write the platform's own ledger rows (migration 0017's
``admin.move_booking_credits``): ``spent_offering`` when booked with credits and the return on
cancel, both with ``offering_booking_id``; each once per booking, even when the function is
called with made-up request ids; support runs it, a founder may not; plain adjustments still
write ``adjustment`` rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from data.errors import ConflictError
from data.ledger_health import check_ledger
from data.roles import FOUNDER_GROUP, SUPPORT_GROUP
from data.services import bookings
from data.services.credits import adjust_balance, move_booking_credits
from tests.data.offering_factories import add_customer, add_offering, balance
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401

ACTOR = "tester"
_MOVE = text("SELECT outcome FROM admin.move_booking_credits(:b, :d, :r, :t, 'by hand')")


def _ledger(engine, customer):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT type, amount, offering_booking_id FROM credit_transactions "
            "WHERE customer_id = :c ORDER BY created_at, id"), {"c": customer})]


def _book(sf, offering, customer):
    with sf.begin() as s:
        return bookings.book_on_behalf(s, ACTOR, offering, customer, "credits",
                                       uuid.uuid4()).booking_id


def test_booking_spends_as_spent_offering_and_cancel_returns_with_the_booking(
        session_factory, engine):
    offering = add_offering(engine, credit_cost=4)
    customer = add_customer(engine)
    with session_factory.begin() as s:  # a balance with its ledger, for the ledger check
        adjust_balance(s, ACTOR, customer, 10, "Opening balance", uuid.uuid4())
    booking = _book(session_factory, offering, customer)
    assert _ledger(engine, customer)[-1] == ("spent_offering", -4, booking)
    with session_factory.begin() as s:
        bookings.cancel_booking(s, ACTOR, booking, "Feeling unwell")
    with session_factory.begin() as s:
        bookings.cancel_booking(s, ACTOR, booking, "Feeling unwell")  # again: nothing more
    assert _ledger(engine, customer)[-2:] == [("spent_offering", -4, booking),
                                              ("adjustment", 4, booking)]
    assert balance(engine, customer) == 10
    with session_factory() as s:
        assert check_ledger(s) == []
        actions = s.execute(text(
            "SELECT action FROM admin.audit_log WHERE action LIKE 'credits.%' ORDER BY id"
        )).scalars().all()
    assert actions[-2:] == ["credits.booking_spend", "credits.booking_return"]
    # a plain adjustment is still an adjustment, without a booking
    with session_factory.begin() as s:
        adjust_balance(s, ACTOR, customer, 1, "Goodwill", uuid.uuid4())
    assert _ledger(engine, customer)[-1] == ("adjustment", 1, None)


def test_made_up_request_ids_spend_and_return_once(session_factory, engine):
    offering = add_offering(engine, credit_cost=3)
    customer = add_customer(engine, balance=9)
    booking = _book(session_factory, offering, customer)
    with engine.begin() as conn:  # a second spend under another request id: its first result
        assert conn.execute(_MOVE, {"b": booking, "d": "spend", "r": uuid.uuid4(),
                                    "t": uuid.uuid4()}).scalar() == "replayed"
        # a return while the booking is still confirmed: refused
        assert conn.execute(_MOVE, {"b": booking, "d": "return", "r": uuid.uuid4(),
                                    "t": uuid.uuid4()}).scalar() == "not_applicable"
    with session_factory.begin() as s:
        bookings.cancel_booking(s, ACTOR, booking, "Unwell")
    with engine.begin() as conn:
        assert conn.execute(_MOVE, {"b": booking, "d": "return", "r": uuid.uuid4(),
                                    "t": uuid.uuid4()}).scalar() == "replayed"
    assert balance(engine, customer) == 9
    assert [r[:2] for r in _ledger(engine, customer)][-2:] == [("spent_offering", -3),
                                                                ("adjustment", 3)]


def test_a_complimentary_booking_has_no_credits_to_spend(session_factory, engine):
    offering = add_offering(engine, credit_cost=2)
    customer = add_customer(engine, balance=5)
    with session_factory.begin() as s:
        booking = bookings.book_on_behalf(s, ACTOR, offering, customer, "complimentary",
                                          uuid.uuid4()).booking_id
    before = _ledger(engine, customer)
    with session_factory.begin() as s, pytest.raises(ConflictError, match="not paid with"):
        move_booking_credits(s, ACTOR, booking, "spend", customer, -2, "x", uuid.uuid4())
    assert _ledger(engine, customer) == before and balance(engine, customer) == 5


def test_support_books_with_credits_through_the_function_and_a_founder_is_refused(
        engine, login):  # noqa: F811
    name, support = login(SUPPORT_GROUP)
    offering = add_offering(engine, credit_cost=2)
    customer = add_customer(engine, balance=4)
    booking = _book(support, offering, customer)
    assert _ledger(engine, customer)[-1] == ("spent_offering", -2, booking)
    _founder_name, founder = login(FOUNDER_GROUP)
    _refused(_in_session(founder, lambda s: s.execute(
        _MOVE, {"b": booking, "d": "return", "r": uuid.uuid4(), "t": uuid.uuid4()})))
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT actor FROM admin.audit_log WHERE action = 'credits.booking_spend'")
        ).scalar() == name
