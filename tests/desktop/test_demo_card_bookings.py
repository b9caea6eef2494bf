"""The demo's recent card bookings are paid by real PaymentIntents: after the demo's own
payment step (``prepare_demo_payments``, as the app runs it behind its window, with the
app's counts), each of the most recent card-paid bookings names a PaymentIntent that
localstripe answers for over HTTP (the stripe client's GET), succeeded, in US dollars, for
the booking's amount, made for that booking."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from data.db import connection_info, make_engine, make_session_factory
from data.payments.demo import DEMO_REAL_BOOKINGS, DEMO_REAL_PAYMENTS
from desktop.database import Backend
from desktop.startup import DemoPayments, prepare_demo_payments

RECENT_CARD_BOOKINGS = text("""
SELECT id, amount_paid, stripe_payment_intent_id FROM offering_bookings
WHERE payment_method = 'purchase' AND amount_paid > 0 AND status <> 'canceled'
ORDER BY created_at DESC, id DESC
""")


def test_the_demos_recent_card_bookings_are_real_payment_intents_for_their_amounts(
        pg_server, demo_db_url, localstripe):
    engine = make_engine(demo_db_url, pool_size=2)
    try:
        backend = Backend(engine, make_session_factory(engine), connection_info(engine),
                          "Demo database")
        backend.demo_payments = DemoPayments(pg_server, localstripe.api_base,
                                             DEMO_REAL_PAYMENTS, DEMO_REAL_BOOKINGS)
        assert prepare_demo_payments(backend) is None
        assert backend.gateway is not None
        with engine.connect() as c:
            card = c.execute(RECENT_CARD_BOOKINGS).all()
    finally:
        engine.dispose()
    assert len(card) > DEMO_REAL_BOOKINGS  # the demo has more card bookings than it makes real
    recent, older = card[:DEMO_REAL_BOOKINGS], card[DEMO_REAL_BOOKINGS:]
    assert all(b.stripe_payment_intent_id.startswith("pi_demo_") for b in older)
    intents = [b.stripe_payment_intent_id for b in recent]
    assert len(set(intents)) == len(intents)
    for booking in recent:
        assert not booking.stripe_payment_intent_id.startswith("pi_demo_"), booking.id
        pi = backend.gateway.call(lambda client, b=booking: client.v1.payment_intents.retrieve(
            b.stripe_payment_intent_id))
        assert pi["id"] == booking.stripe_payment_intent_id
        assert pi["status"] == "succeeded"
        assert pi["currency"] == "usd"
        assert pi["amount"] == int(Decimal(booking.amount_paid) * 100), booking.id
        assert pi["metadata"]["id"] == str(booking.id)
