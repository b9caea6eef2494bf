"""The refund flow against real parts: PostgreSQL and localstripe over HTTP."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from data.errors import ValidationError
from data.payments import REQUEST_METADATA_KEY
from data.queries.refunds import refund_requests_for, refund_requests_page
from data.services.refunds import (
    RefundInput,
    describe_refund,
    finish_open_refunds,
    load_refundable,
    submit_refund,
    validate_refund,
)


def _refunds_in_stripe(localstripe, intent: str) -> list:
    client = stripe.StripeClient(localstripe.api_key,
                                 base_addresses={"api": localstripe.api_base})
    return list(client.v1.refunds.list(params={"payment_intent": intent, "limit": 100}).data)


def _purchase(session_factory, purchase_id):
    with session_factory() as s:
        return s.execute(text(
            "SELECT status, refunded_at, refund_reason, stripe_payment_intent_id, customer_id, "
            "content_id FROM purchases WHERE id = :id"), {"id": purchase_id}).one()


def _has_access(session_factory, purchase_id) -> bool:
    with session_factory() as s:
        return s.execute(text(
            "SELECT count(*) FROM content_access a JOIN purchases p "
            "ON a.user_id = p.customer_id AND a.content_id = p.content_id "
            "WHERE p.id = :id"), {"id": purchase_id}).scalar_one() == 1


def _refund(session_factory, gateway, kind, target, amount, reason="requested_by_customer",
            note=None, request_id=None):
    with session_factory() as s:
        refundable = load_refundable(s, kind, target)
    clean = validate_refund(refundable, amount, reason, note)
    return submit_refund(session_factory, gateway, "anna", kind, target, clean,
                         request_id or uuid.uuid4())


def _audit_actions(session_factory) -> list[str]:
    with session_factory() as s:
        # The service's rows, not those the app's own tables' triggers write.
        return list(s.execute(text("SELECT action FROM admin.audit_log WHERE entity_type "
                                   "NOT LIKE 'admin.%' ORDER BY id")).scalars())


def test_full_refund_refunds_the_purchase_and_revokes_access(
        session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    outcome = _refund(session_factory, stripe_gateway, "purchase", purchase_id, "30.00",
                      reason="duplicate")

    assert outcome.status == "succeeded" and outcome.full_refund and not outcome.replayed
    assert outcome.message == "Refunded 30.00 USD (full refund)."
    status, refunded_at, reason, intent, *_ = _purchase(session_factory, purchase_id)
    assert (status, reason) == ("refunded", "Duplicate") and refunded_at is not None
    assert not _has_access(session_factory, purchase_id)
    [refund] = _refunds_in_stripe(localstripe, intent)
    assert refund.amount == 3000 and refund.id == outcome.stripe_refund_id
    assert refund.metadata[REQUEST_METADATA_KEY] == str(outcome.request_id)
    with session_factory() as s:
        [row] = refund_requests_for(s, "purchase", purchase_id)
        login = s.execute(text("SELECT session_user")).scalar_one()
        # The request names the database login, not the actor the caller passed ("anna").
        assert (row.status, row.amount, row.actor, row.attempts) == (
            "succeeded", Decimal("30.00"), login, 1)
        assert not row.retryable
    assert _audit_actions(session_factory) == [
        "refund.request", "refund.purchase", "refund.revoke_access", "refund.result"]


def test_partial_refund_keeps_purchase_and_access(
        session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    outcome = _refund(session_factory, stripe_gateway, "purchase", purchase_id, "12.50")

    assert outcome.status == "succeeded" and not outcome.full_refund
    assert outcome.message == "Refunded 12.50 USD."
    status, refunded_at, *_ = _purchase(session_factory, purchase_id)
    assert status == "completed" and refunded_at is None
    assert _has_access(session_factory, purchase_id)
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    assert (r.refunded, r.remaining, r.refusal) == (Decimal("12.50"), Decimal("17.50"), None)


def test_two_partials_up_to_full_then_a_third_is_refused_before_stripe(
        session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    first = _refund(session_factory, stripe_gateway, "purchase", purchase_id, "10.00")
    assert _has_access(session_factory, purchase_id)
    second = _refund(session_factory, stripe_gateway, "purchase", purchase_id, "20.00")
    assert (first.full_refund, second.full_refund) == (False, True)
    assert _purchase(session_factory, purchase_id).status == "refunded"
    assert not _has_access(session_factory, purchase_id)

    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    assert r.remaining == 0 and r.refusal
    with pytest.raises(ValidationError) as err:
        validate_refund(r, "1.00", "requested_by_customer", None)
    assert set(err.value.field_errors) == {"amount"}
    # Even a caller skipping the validator is refused before Stripe is called.
    with pytest.raises(ValidationError) as err:
        submit_refund(session_factory, stripe_gateway, "anna", "purchase", purchase_id,
                      RefundInput(Decimal("1.00"), "duplicate", None), uuid.uuid4())
    assert "amount" in err.value.field_errors
    assert sorted(r.amount for r in _refunds_in_stripe(localstripe, intent)) == [1000, 2000]
    with session_factory() as s:
        rows, cursor = refund_requests_page(s)
    assert [row.amount for row in rows] == [Decimal("20.00"), Decimal("10.00")]
    assert cursor is None


def test_the_database_refuses_more_than_paid_even_without_the_service(
        session_factory, stripe_gateway, paid_purchase):
    """The trigger, not the dialog, keeps refunds within what was paid."""
    purchase_id = paid_purchase("30.00")
    _refund(session_factory, stripe_gateway, "purchase", purchase_id, "25.00")
    with pytest.raises(IntegrityError, match="exceed what was paid") as err, \
            session_factory.begin() as s:
        s.execute(text(
            "INSERT INTO admin.refund_requests (id, purchase_id, customer_id, amount, "
            "currency, reason, actor, idempotency_key) SELECT gen_random_uuid(), id, "
            "customer_id, 5.01, 'usd', 'duplicate', 'bug', 'k' FROM purchases "
            "WHERE id = :id"), {"id": purchase_id})
    assert err.value.orig.diag.constraint_name == "refund_requests_within_paid"


def test_one_open_request_per_purchase(session_factory, stripe_gateway, paid_purchase):
    purchase_id = paid_purchase("30.00")
    with session_factory.begin() as s:
        s.execute(text(
            "INSERT INTO admin.refund_requests (id, purchase_id, customer_id, amount, currency, "
            "reason, actor, idempotency_key, status) SELECT gen_random_uuid(), id, "
            "customer_id, 5, 'usd', 'duplicate', 'other-app', 'k1', 'pending' FROM purchases "
            "WHERE id = :id"), {"id": purchase_id})
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    assert r.open_request_id is not None and "in progress" in r.refusal
    with pytest.raises(ValidationError) as err:
        submit_refund(session_factory, stripe_gateway, "anna", "purchase", purchase_id,
                      RefundInput(Decimal("5.00"), "duplicate", None), uuid.uuid4())
    assert "in progress" in err.value.field_errors["amount"]


def test_booking_paid_with_credits_returns_the_tokens_and_cancels(
        session_factory, stripe_gateway, credit_booking):
    booking_id = credit_booking(credits=30, balance=5)
    with session_factory() as s:
        r = load_refundable(s, "booking", booking_id)
    assert (r.amount_paid, r.credits_paid, r.remaining, r.refusal) == (0, 30, 0, None)
    clean = validate_refund(r, "0", "requested_by_customer", None)
    assert "30 tokens are returned to the customer's balance" in describe_refund(r, clean)
    outcome = submit_refund(session_factory, stripe_gateway, "anna", "booking", booking_id,
                            clean, uuid.uuid4())

    assert outcome.status == "succeeded" and outcome.credits_returned == 30
    assert outcome.stripe_refund_id is None
    with session_factory() as s:
        status, canceled_at, why, balance, portal = s.execute(text(
            "SELECT b.status, b.canceled_at, b.cancellation_reason, cb.current_balance, "
            "(SELECT count(*) FROM offering_portal_access WHERE booking_id = b.id) "
            "FROM offering_bookings b JOIN credit_balances cb ON cb.customer_id = b.customer_id "
            "WHERE b.id = :id"), {"id": booking_id}).one()
        assert (status, balance, portal) == ("canceled", 35, 0)
        assert canceled_at is not None and why.startswith("Refunded: Requested by customer")
        r = load_refundable(s, "booking", booking_id)
    assert r.refusal  # nothing more to return
    # The same request again answers the first result and returns no more tokens.
    again = submit_refund(session_factory, stripe_gateway, "anna", "booking", booking_id, clean,
                          outcome.request_id)
    assert again.replayed and again.status == "succeeded"


def test_card_booking_refund_cancels_it(session_factory, stripe_gateway, card_booking,
                                        localstripe):
    booking_id = card_booking(amount="40.00")
    outcome = _refund(session_factory, stripe_gateway, "booking", booking_id, "40.00",
                      reason="other", note="Creator cancelled the session")
    assert outcome.status == "succeeded" and outcome.full_refund
    with session_factory() as s:
        status, why, intent = s.execute(text(
            "SELECT status, cancellation_reason, stripe_payment_intent_id "
            "FROM offering_bookings WHERE id = :id"), {"id": booking_id}).one()
    assert status == "canceled" and why == "Refunded: Other: Creator cancelled the session"
    [refund] = _refunds_in_stripe(localstripe, intent)
    assert refund.amount == 4000 and refund.metadata["note"] == "Creator cancelled the session"


def test_two_threads_submitting_the_same_request_make_one_refund(
        session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    clean = validate_refund(r, "30.00", "duplicate", None)
    request_id = uuid.uuid4()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def submit():
        barrier.wait()
        try:
            outcomes.append(submit_refund(session_factory, stripe_gateway, "anna", "purchase",
                                          purchase_id, clean, request_id))
        except Exception as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert {o.status for o in outcomes} == {"succeeded"}
    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    assert len(_refunds_in_stripe(localstripe, intent)) == 1
    with session_factory() as s:
        assert s.execute(text("SELECT count(*) FROM admin.refund_requests")).scalar_one() == 1


def test_two_threads_with_different_requests_for_one_purchase_refund_once(
        session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    clean = validate_refund(r, "30.00", "duplicate", None)
    barrier = threading.Barrier(2)
    outcomes, refused = [], []

    def submit():
        barrier.wait()
        try:
            outcomes.append(submit_refund(session_factory, stripe_gateway, "anna", "purchase",
                                          purchase_id, clean, uuid.uuid4()))
        except ValidationError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 1 and len(refused) == 1
    assert "amount" in refused[0].field_errors
    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    assert len(_refunds_in_stripe(localstripe, intent)) == 1


def test_unknown_payment_intent_fails_the_request_and_changes_nothing(
        session_factory, stripe_gateway, paid_purchase):
    """An invalid-request error (Stripe does not know the payment) marks the request failed;
    the purchase and its access are untouched, and a new request can be made."""
    purchase_id = paid_purchase("30.00")
    with session_factory.begin() as s:
        s.execute(text("UPDATE purchases SET stripe_payment_intent_id = 'pi_unknown' "
                       "WHERE id = :id"), {"id": purchase_id})
    outcome = _refund(session_factory, stripe_gateway, "purchase", purchase_id, "30.00")
    assert outcome.status == "failed" and "Nothing was changed" in outcome.message
    assert _purchase(session_factory, purchase_id).status == "completed"
    assert _has_access(session_factory, purchase_id)
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
        [row] = refund_requests_for(s, "purchase", purchase_id)
    assert r.refusal is None and r.remaining == Decimal("30.00")
    assert row.status == "failed" and row.failure_message and not row.retryable


def test_recovery_finishes_a_request_left_open(session_factory, stripe_gateway, paid_purchase,
                                               localstripe):
    """A request recorded but never sent (the app died before calling Stripe) is sent and
    finished by the start-up recovery."""
    purchase_id = paid_purchase("30.00")
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    request_id = uuid.uuid4()
    from data.services import refunds as service

    with session_factory.begin() as s:
        service._record(s, r, RefundInput(Decimal("30.00"), "duplicate", None),
                        request_id)
    [outcome] = finish_open_refunds(session_factory, stripe_gateway, "recovery")
    assert outcome.request_id == request_id and outcome.status == "succeeded"
    assert finish_open_refunds(session_factory, stripe_gateway, "recovery") == []
    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    assert len(_refunds_in_stripe(localstripe, intent)) == 1


def test_revenue_counts_each_refund_made_through_the_app(
        session_factory, stripe_gateway, paid_purchase):
    """Partial refunds show in revenue; a refund in full is not counted twice."""
    purchase_id = paid_purchase("30.00")

    def refunds():
        with session_factory() as s:
            return sorted(s.execute(text(
                "SELECT amount FROM admin.revenue_events WHERE event = 'refund' "
                "AND record_id = :id"), {"id": purchase_id}).scalars())

    _refund(session_factory, stripe_gateway, "purchase", purchase_id, "10.00")
    assert refunds() == [Decimal("10.00")]
    _refund(session_factory, stripe_gateway, "purchase", purchase_id, "20.00")
    assert refunds() == [Decimal("10.00"), Decimal("20.00")]


def test_the_users_detail_shows_what_went_back(session_factory, stripe_gateway, paid_purchase,
                                              credit_booking):
    from data.queries.offerings import get_booking
    from data.queries.users import get_user_detail

    partial = paid_purchase("30.00")
    _refund(session_factory, stripe_gateway, "purchase", partial, "12.50")
    _refund(session_factory, stripe_gateway, "purchase", partial, "2.50")
    *_rest, customer_id, _content = _purchase(session_factory, partial)
    by_platform = paid_purchase("8.00", title="Deep Work, Part 2", customer_id=customer_id)
    with session_factory.begin() as s:  # refunded by the platform itself, not by the app
        s.execute(text("UPDATE purchases SET status = 'refunded', refunded_at = now() "
                       "WHERE id = :id"), {"id": by_platform})
    booking = credit_booking(credits=30)
    _refund(session_factory, stripe_gateway, "booking", booking, "0")
    with session_factory() as s:
        purchases = {p.id: p for p in get_user_detail(s, customer_id).purchases}
        booking_line = get_booking(s, booking)  # as the customer's Bookings tab shows it
    assert (purchases[partial].status, purchases[partial].refunded) == (
        "completed", Decimal("15.00"))
    assert purchases[by_platform].refunded == Decimal("8.00")
    assert (booking_line.refunded, booking_line.credits_returned) == (0, 30)
