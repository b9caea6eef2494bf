"""Every booking path locks the offering before the booking (pretix's rule: lock what you
count), the refund flow finishing a card booking included: two real connections that used
to wait on each other in a circle (a deadlock PostgreSQL breaks by aborting one) now both
commit."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

from sqlalchemy import text

from data.db import make_engine, make_session_factory
from data.services import bookings, refunds
from tests.data.offering_factories import add_customer, add_offering, offering_state
from tests.data.test_offering_cancel import _booking, _card, _stripe_refunds

ACTOR = "tester"


def _wait_until_blocked_on_a_lock(engine, timeout: float = 60.0) -> None:
    # generous: the refund asks localstripe first, which a busy machine makes slow
    deadline = time.monotonic() + timeout
    with engine.connect() as c:
        while time.monotonic() < deadline:
            waiting = c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the refund never waited for the offering")


def test_a_card_refund_racing_booking_writes_on_its_offering_both_commit(
        db_url, engine, session_factory, stripe_gateway, localstripe):
    """Staff A books a seat and extends the card booking's portal access in one transaction
    (holding the offering, then taking the booking) while staff B cancels the card booking
    with a full refund. B finishing the refund used to lock the booking, then wait for the
    offering (its booking_count): a deadlock. Now B waits for the offering without holding
    the booking; A commits, then B refunds once and cancels."""
    offering = add_offering(engine, max_participants=10, booking_count=1)
    card, intent = _card(engine, stripe_gateway, offering)
    newcomer = add_customer(engine)
    racing = make_engine(db_url, pool_size=2)
    outcome: list[object] = []

    def refund() -> None:
        try:
            outcome.append(refunds.submit_refund(
                make_session_factory(racing), stripe_gateway, ACTOR, "booking", card,
                refunds.RefundInput(Decimal("40.00"), "requested_by_customer", None),
                uuid.uuid4()))
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            outcome.append(exc)

    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    refunder = threading.Thread(target=refund)
    try:
        with session_factory.begin() as s:
            booked = bookings.book_on_behalf(s, ACTOR, offering, newcomer, "complimentary",
                                             uuid.uuid4())
            refunder.start()
            _wait_until_blocked_on_a_lock(engine)
            extended = bookings.set_portal_access(s, ACTOR, card, until)
    finally:
        if refunder.is_alive():  # its connection goes back to the pool before the dispose
            refunder.join(timeout=90)
        racing.dispose()
    assert booked.status == "confirmed" and extended.status == "confirmed"
    [result] = outcome
    assert isinstance(result, refunds.RefundOutcome), result
    assert result.status == "succeeded" and result.amount == Decimal("40.00")
    assert len(_stripe_refunds(localstripe, intent)) == 1
    assert _booking(engine, card) == ("canceled", 0)  # its portal access ended with it
    assert offering_state(engine, offering) == {"booking_count": 1, "confirmed": 1,
                                                "canceled": 1}
