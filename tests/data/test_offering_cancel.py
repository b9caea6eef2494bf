"""Cancelling an offering refunds its card bookings through the refund flow (real
localstripe), returns credits once, and a Resume or rerun after an interruption refunds
nothing twice."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import text

from data.payments import StripeGateway
from data.payments.gateway import to_minor_units
from data.services import bookings
from data.services.refunds import finish_open_refunds
from tests.data.offering_factories import (
    add_booking,
    add_customer,
    add_offering,
    balance,
    offering_state,
)

ACTOR = "tester"


def _card(engine, gateway, offering, amount="40.00", intent=None):
    customer = add_customer(engine)
    bid = add_booking(engine, offering, customer, method="purchase")
    intent = intent or gateway.create_payment_intent(to_minor_units(Decimal(amount), "usd"))
    with engine.begin() as c:
        c.execute(text("UPDATE offering_bookings SET amount_paid = :a, "
                       "stripe_payment_intent_id = :pi WHERE id = :b"),
                  {"a": Decimal(amount), "pi": intent, "b": bid})
        c.execute(text("INSERT INTO offering_portal_access (booking_id, user_id, offering_id) "
                       "VALUES (:b, :u, :o)"), {"b": bid, "u": customer, "o": offering})
    return bid, intent


def _mixed_offering(engine, session_factory, gateway):
    """An offering with a card booking (40.00), a credit booking (3 credits) and a
    subscription booking; booking_count 3."""
    offering = add_offering(engine, credit_cost=3)
    card, intent = _card(engine, gateway, offering)
    payer = add_customer(engine, balance=3)
    with session_factory.begin() as s:
        credit = bookings.book_on_behalf(s, ACTOR, offering, payer, "credits",
                                         uuid.uuid4()).booking_id
    sub = add_booking(engine, offering, add_customer(engine))
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET booking_count = 3 WHERE id = :o"), {"o": offering})
    return offering, card, intent, credit, payer, sub


def _stripe_refunds(localstripe, intent):
    client = stripe.StripeClient(localstripe.api_key,
                                 base_addresses={"api": localstripe.api_base})
    return list(client.v1.refunds.list(params={"payment_intent": intent, "limit": 100}).data)


def _booking(engine, bid):
    with engine.connect() as c:
        return c.execute(text(
            "SELECT b.status, (SELECT count(*) FROM offering_portal_access a "
            "WHERE a.booking_id = b.id) FROM offering_bookings b WHERE b.id = :b"),
            {"b": bid}).one()


def test_a_card_a_credit_and_a_subscription_booking_each_get_back_what_they_paid_once(
        engine, session_factory, stripe_gateway, localstripe):
    offering, card, intent, credit, payer, sub = _mixed_offering(engine, session_factory,
                                                                 stripe_gateway)
    with session_factory() as s:
        preview = {line.booking_id: line for line in
                   bookings.offering_cancellation_preview(s, offering)}
    assert preview[card].by_card and preview[card].amount == Decimal("40.00")
    assert preview[card].returns == "40.00 USD"
    assert preview[credit].returns == "3 credits" and preview[sub].returns == "nothing"
    ids = list(preview)
    seen = []
    first = bookings.run_offering_cancellation(session_factory, ACTOR, offering, "Venue closed",
                                               ids, gateway=stripe_gateway,
                                               progress=lambda done, total: seen.append(done))
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 3 and 2 in seen
    assert (first.cancelled, first.card_refunded, first.by_card) == (3, 1, 0)
    assert first.amount_refunded == Decimal("40.00") and first.credits_returned == 3
    [refund] = _stripe_refunds(localstripe, intent)
    assert refund.amount == 4000 and refund.status == "succeeded"
    assert _booking(engine, card) == ("canceled", 0)
    assert balance(engine, payer) == 3
    assert offering_state(engine, offering) == {"booking_count": 0, "canceled": 3}
    with engine.connect() as c:
        assert c.execute(text("SELECT status FROM offerings WHERE id = :o"),
                         {"o": offering}).scalar_one() == "archived"
    rerun = bookings.run_offering_cancellation(session_factory, ACTOR, offering,
                                               "Venue closed", ids, gateway=stripe_gateway)
    assert (rerun.cancelled, rerun.already, rerun.amount_refunded) == (0, 3, 0)
    assert len(_stripe_refunds(localstripe, intent)) == 1 and balance(engine, payer) == 3


class _DiesAfterStripeAnswered(StripeGateway):
    """The app 'dies' the moment Stripe has made the refund, before the database hears of it.
    A fake: a real gateway cannot be made to fail at exactly that point on demand (the real
    process death is tested in tests/data/test_refund_recovery.py)."""

    def create_refund(self, *args, **kwargs):
        super().create_refund(*args, **kwargs)
        raise SystemExit("killed")


@pytest.mark.parametrize("finish_with", ["resume", "recovery"])
def test_an_interrupted_run_is_finished_and_refunds_nothing_twice(
        engine, session_factory, stripe_gateway, localstripe, finish_with):
    offering, card, intent, credit, payer, sub = _mixed_offering(engine, session_factory,
                                                                 stripe_gateway)
    with session_factory() as s:
        ids = [line.booking_id for line in bookings.offering_cancellation_preview(s, offering)]
    dying = _DiesAfterStripeAnswered(localstripe.config(), sleep=lambda _s: None)
    with pytest.raises(SystemExit):
        bookings.run_offering_cancellation(session_factory, ACTOR, offering, "Venue closed",
                                           ids, gateway=dying)
    assert len(_stripe_refunds(localstripe, intent)) == 1
    assert _booking(engine, card)[0] == "confirmed"  # Stripe answered, the app never heard
    if finish_with == "recovery":  # the next start finishes it (desktop/refund_recovery.py)
        [outcome] = finish_open_refunds(session_factory, stripe_gateway, "recovery")
        assert outcome.status == "succeeded"
    again = bookings.run_offering_cancellation(session_factory, ACTOR, offering,
                                               "Venue closed", ids, gateway=stripe_gateway)
    assert again.by_card == 0 and again.left == ()
    assert again.card_refunded + again.already == 3
    assert len(_stripe_refunds(localstripe, intent)) == 1
    assert _booking(engine, card) == ("canceled", 0)
    assert balance(engine, payer) == 3
    assert offering_state(engine, offering) == {"booking_count": 0, "canceled": 3}


def test_a_stripe_refusal_leaves_that_booking_confirmed_with_the_reason_and_the_run_goes_on(
        engine, session_factory, stripe_gateway, localstripe):
    offering, card, intent, credit, payer, sub = _mixed_offering(engine, session_factory,
                                                                 stripe_gateway)
    bad, _ = _card(engine, stripe_gateway, offering, "15.00", intent="pi_unknown_to_stripe")
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET booking_count = 4 WHERE id = :o"), {"o": offering})
    with session_factory() as s:
        ids = [line.booking_id for line in bookings.offering_cancellation_preview(s, offering)]
    result = bookings.run_offering_cancellation(session_factory, ACTOR, offering,
                                                "Venue closed", ids, gateway=stripe_gateway)
    assert (result.cancelled, result.card_refunded, result.by_card) == (3, 1, 1)
    [(left, why)] = result.left
    assert left == bad and why
    assert _booking(engine, bad) == ("confirmed", 1)
    assert len(_stripe_refunds(localstripe, intent)) == 1
    assert offering_state(engine, offering) == {"booking_count": 1, "canceled": 3,
                                                "confirmed": 1}


def test_cancel_stops_before_the_next_card_refund_and_resume_refunds_it_once(
        engine, session_factory, stripe_gateway, localstripe):
    offering, card, intent, credit, payer, sub = _mixed_offering(engine, session_factory,
                                                                 stripe_gateway)
    with session_factory() as s:
        ids = [line.booking_id for line in bookings.offering_cancellation_preview(s, offering)]
    asked = iter([False, True])  # Cancel pressed while the batch's own writes ran
    stopped = bookings.run_offering_cancellation(session_factory, ACTOR, offering,
                                                 "Venue closed", ids, gateway=stripe_gateway,
                                                 should_stop=lambda: next(asked, True))
    assert stopped.stopped and stopped.cancelled == 2 and stopped.card_refunded == 0
    assert _stripe_refunds(localstripe, intent) == []
    assert _booking(engine, card) == ("confirmed", 1)
    resumed = bookings.run_offering_cancellation(session_factory, ACTOR, offering,
                                                 "Venue closed", ids, gateway=stripe_gateway)
    assert (resumed.already, resumed.card_refunded, resumed.credits_returned) == (2, 1, 0)
    assert len(_stripe_refunds(localstripe, intent)) == 1 and balance(engine, payer) == 3
