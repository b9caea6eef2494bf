"""The refund dialog driven as support staff would, against PostgreSQL and localstripe."""

from __future__ import annotations

import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from sqlalchemy import text

from desktop.pages.refund_dialog import PENDING_HINT, RefundDialog

WAIT = 20_000


def _refunds_in_stripe(localstripe, intent: str) -> list:
    client = stripe.StripeClient(localstripe.config().api_key,
                                 base_addresses={"api": localstripe.api_base})
    return list(client.v1.refunds.list(params={"payment_intent": intent, "limit": 100}).data)


def _purchase(session_factory, purchase_id):
    with session_factory() as s:
        return s.execute(text(
            "SELECT status, refunded_at, refund_reason, stripe_payment_intent_id "
            "FROM purchases WHERE id = :id"), {"id": purchase_id}).one()


def _requests(session_factory):
    with session_factory() as s:
        return s.execute(text(
            "SELECT id, status, amount, reason, note, failure_message "
            "FROM admin.refund_requests ORDER BY created_at")).all()


def _has_access(session_factory, purchase_id) -> bool:
    with session_factory() as s:
        return s.execute(text(
            "SELECT count(*) FROM content_access a JOIN purchases p "
            "ON a.user_id = p.customer_id AND a.content_id = p.content_id "
            "WHERE p.id = :id"), {"id": purchase_id}).scalar_one() == 1


def _open(qtbot, database, kind, target_id) -> RefundDialog:
    dialog = RefundDialog(database, kind, target_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.refundable is not None, timeout=WAIT)
    return dialog


def _type(qtbot, widget, value: str) -> None:
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, value)


def _review(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)


def _refund(qtbot, dialog):
    with qtbot.waitSignal(dialog.refund_finished, timeout=WAIT) as signal:
        qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    return signal.args[0]


def test_full_refund_confirms_then_refunds_and_revokes_access(
        qtbot, stripe_database, session_factory, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00", title="Deep Work, Part 1")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    assert dialog.amount.text() == "30.00"  # defaults to what remains refundable
    assert dialog.review_button.isEnabled() and dialog.refusal.isHidden()
    dialog.reason.setCurrentIndex(dialog.reason.findData("duplicate"))
    _review(qtbot, dialog)

    # Nothing is sent before the confirmation, which says exactly what will happen.
    assert dialog.step == dialog.CONFIRM
    assert _requests(session_factory) == []
    confirmation = dialog.confirm_text.text()
    assert "30.00 USD back to the customer's original payment method" in confirmation
    assert "Access to “Deep Work, Part 1” is revoked (full refund)" in confirmation
    assert dialog.refund_button.text() == "&Refund 30.00 USD"

    outcome = _refund(qtbot, dialog)
    assert outcome.status == "succeeded" and outcome.full_refund
    assert dialog.step == dialog.OUTCOME
    assert "Refunded 30.00 USD (full refund)." in dialog.outcome_text.text()
    assert dialog.retry_button.isHidden()
    status, refunded_at, reason, intent = _purchase(session_factory, purchase_id)
    assert (status, reason) == ("refunded", "Duplicate") and refunded_at is not None
    assert not _has_access(session_factory, purchase_id)
    [refund] = _refunds_in_stripe(localstripe, intent)
    assert refund.amount == 3000 and refund.id == outcome.stripe_refund_id
    [request] = _requests(session_factory)
    assert request.id == dialog.request_id and request.status == "succeeded"


def test_partial_refund_keeps_the_purchase_and_access(
        qtbot, stripe_database, session_factory, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _type(qtbot, dialog.amount, "12.50")
    _review(qtbot, dialog)
    assert "Partial refund: the customer keeps access" in dialog.confirm_text.text()
    outcome = _refund(qtbot, dialog)
    assert outcome.status == "succeeded" and not outcome.full_refund
    status, *_rest, intent = _purchase(session_factory, purchase_id)
    assert status == "completed" and _has_access(session_factory, purchase_id)
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [1250]

    # A new dialog offers what remains.
    again = _open(qtbot, stripe_database, "purchase", purchase_id)
    assert again.amount.text() == "17.50"


def test_go_back_keeps_the_values_and_sends_nothing(qtbot, stripe_database, session_factory,
                                                     paid_purchase):
    purchase_id = paid_purchase("30.00")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _type(qtbot, dialog.amount, "5")
    _review(qtbot, dialog)
    # Return on the confirmation goes back: a reflexive second Return sends no money.
    qtbot.keyClick(dialog.back_button, Qt.Key.Key_Return)
    assert dialog.step == dialog.FORM and dialog.amount.text() == "5"
    stripe_database.runner.wait_for_done(WAIT)
    assert _requests(session_factory) == []


@pytest.mark.parametrize(("amount", "reason", "note", "field", "words"), [
    ("0", "requested_by_customer", "", "amount", "greater than zero"),
    ("-5", "requested_by_customer", "", "amount", "greater than zero"),
    ("30.01", "requested_by_customer", "", "amount", "At most 30.00 USD"),
    ("twelve", "requested_by_customer", "", "amount", "dollars and cents"),
    ("10", "other", "", "note", "note is required"),
])
def test_bad_input_is_named_under_its_field_and_nothing_is_sent(
        qtbot, stripe_database, session_factory, paid_purchase, localstripe,
        amount, reason, note, field, words):
    purchase_id = paid_purchase("30.00")
    before = _purchase(session_factory, purchase_id)
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _type(qtbot, dialog.amount, amount)
    dialog.reason.setCurrentIndex(dialog.reason.findData(reason))
    _type(qtbot, dialog.note, note)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # Return in the form reviews
    assert dialog.step == dialog.FORM
    assert words in dialog.error_text(field)
    assert [f for f in ("amount", "reason", "note") if dialog.error_text(f)] == [field]
    stripe_database.runner.wait_for_done(WAIT)
    assert _requests(session_factory) == []
    assert _purchase(session_factory, purchase_id) == before
    assert _refunds_in_stripe(localstripe, before.stripe_payment_intent_id) == []


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.one_of(
    st.decimals(max_value=0, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(min_value="30.01", max_value="1e9", places=2).map(str),
    st.text(alphabet="abc,.-$e ", min_size=1, max_size=8)))
def test_any_bad_amount_stays_in_the_form(qtbot, stripe_database, paid_purchase_once, amount):
    """Whatever is typed that is not a refundable amount, the dialog stays on the form with a
    message under Amount (the service's validator decides; the dialog never skips it)."""
    dialog = _open(qtbot, stripe_database, "purchase", paid_purchase_once)
    dialog.amount.setText(amount)
    reviewed = dialog.review()
    assert not reviewed and dialog.step == dialog.FORM
    assert dialog.error_text("amount")


@pytest.fixture
def paid_purchase_once(paid_purchase):
    return paid_purchase("30.00")


def test_other_with_a_note_is_sent_with_the_note(qtbot, stripe_database, session_factory,
                                                 paid_purchase):
    purchase_id = paid_purchase("30.00")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    qtbot.keyClicks(dialog.note, "Charged twice by the bank")
    _review(qtbot, dialog)
    assert "Reason: Other — Charged twice by the bank" in dialog.confirm_text.text()
    assert _refund(qtbot, dialog).status == "succeeded"
    [request] = _requests(session_factory)
    assert (request.reason, request.note) == ("other", "Charged twice by the bank")


def test_double_click_on_refund_sends_one_refund(qtbot, stripe_database, session_factory,
                                                 paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _review(qtbot, dialog)
    outcomes = []
    dialog.refund_finished.connect(outcomes.append)
    qtbot.mouseDClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    dialog.submit()  # and once more by code, as a queued second click would
    qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=WAIT)
    stripe_database.runner.wait_for_done(WAIT)
    qtbot.wait(100)
    assert len(outcomes) == 1
    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    assert len(_refunds_in_stripe(localstripe, intent)) == 1
    assert len(_requests(session_factory)) == 1


def test_escape_while_sending_keeps_the_dialog_until_stripe_answers(
        qtbot, stripe_database, session_factory, paid_purchase):
    purchase_id = paid_purchase("30.00")
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _review(qtbot, dialog)
    with qtbot.waitSignal(dialog.refund_finished, timeout=WAIT):
        qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
        assert dialog.is_busy and not dialog.refund_button.isEnabled()
        assert dialog.busy.isVisibleTo(dialog)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        dialog.close()
        assert dialog.isVisible()
    assert dialog.step == dialog.OUTCOME
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert [r.status for r in _requests(session_factory)] == ["succeeded"]


def test_refused_refund_is_explained_and_cannot_be_sent(qtbot, stripe_database, paid_purchase,
                                                        session_factory):
    purchase_id = paid_purchase("30.00")
    first = _open(qtbot, stripe_database, "purchase", purchase_id)
    _review(qtbot, first)
    _refund(qtbot, first)
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    assert "already refunded in full" in dialog.refusal.text()
    assert dialog.refusal.isVisibleTo(dialog)
    assert not dialog.review_button.isEnabled() and not dialog.amount.isEnabled()
    assert not dialog.review()
    assert len(_requests(session_factory)) == 1


def test_stripe_error_is_shown_and_the_request_marked_failed(
        qtbot, stripe_database, session_factory, paid_purchase):
    purchase_id = paid_purchase("30.00")
    with session_factory.begin() as s:  # a payment Stripe does not know
        s.execute(text("UPDATE purchases SET stripe_payment_intent_id = 'pi_unknown_to_stripe' "
                       "WHERE id = :id"), {"id": purchase_id})
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _review(qtbot, dialog)
    outcome = _refund(qtbot, dialog)
    assert outcome.status == "failed"
    assert "The refund failed; nothing was changed." in dialog.outcome_text.text()
    assert dialog.retry_button.isHidden()
    [request] = _requests(session_factory)
    assert request.status == "failed" and request.failure_message
    assert request.failure_message in dialog.outcome_text.text()  # Stripe's own words
    status, refunded_at, *_ = _purchase(session_factory, purchase_id)
    assert (status, refunded_at) == ("completed", None)
    assert _has_access(session_factory, purchase_id)


def test_stripe_unreachable_leaves_it_pending_and_retry_finishes_it(
        qtbot, stripe_database, session_factory, paid_purchase, localstripe,
        unreachable_gateway, stripe_gateway):
    purchase_id = paid_purchase("30.00")
    stripe_database.backend.gateway = unreachable_gateway  # Stripe is down
    dialog = _open(qtbot, stripe_database, "purchase", purchase_id)
    _review(qtbot, dialog)
    outcome = _refund(qtbot, dialog)
    assert outcome.status == "pending"
    assert PENDING_HINT in dialog.outcome_text.text()
    assert dialog.retry_button.isVisibleTo(dialog)
    assert _purchase(session_factory, purchase_id).status == "completed"

    stripe_database.backend.gateway = stripe_gateway  # Stripe is back
    with qtbot.waitSignal(dialog.refund_finished, timeout=WAIT) as signal:
        qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].status == "succeeded"
    assert signal.args[0].request_id == dialog.request_id
    assert dialog.retry_button.isHidden()
    [request] = _requests(session_factory)
    assert request.status == "succeeded"
    intent = _purchase(session_factory, purchase_id).stripe_payment_intent_id
    assert len(_refunds_in_stripe(localstripe, intent)) == 1
    assert _purchase(session_factory, purchase_id).status == "refunded"


def test_booking_paid_with_credits_is_cancelled_and_tokens_return(
        qtbot, stripe_database, session_factory, credit_booking):
    booking_id = credit_booking(credits=30)
    dialog = _open(qtbot, stripe_database, "booking", booking_id)
    assert dialog.amount.text() == "0.00" and not dialog.amount.isEnabled()  # no money
    assert "paid 30 tokens" in dialog.summary.text()
    _review(qtbot, dialog)
    assert dialog.refund_button.text() == "&Cancel booking, return 30 tokens"
    confirmation = dialog.confirm_text.text()
    assert "is cancelled" in confirmation
    assert "30 tokens are returned to the customer's balance" in confirmation
    outcome = _refund(qtbot, dialog)
    assert outcome.status == "succeeded" and outcome.credits_returned == 30
    with session_factory() as s:
        status, balance = s.execute(text(
            "SELECT b.status, c.current_balance FROM offering_bookings b "
            "JOIN credit_balances c ON c.customer_id = b.customer_id WHERE b.id = :id"),
            {"id": booking_id}).one()
    assert (status, balance) == ("canceled", 5 + 30)


def test_card_booking_refund_cancels_the_booking(qtbot, stripe_database, session_factory,
                                                 card_booking, localstripe):
    booking_id = card_booking("40.00")
    dialog = _open(qtbot, stripe_database, "booking", booking_id)
    assert dialog.amount.text() == "40.00"
    _review(qtbot, dialog)
    assert "40.00 USD back to the customer's original payment method" in dialog.confirm_text.text()
    assert _refund(qtbot, dialog).status == "succeeded"
    with session_factory() as s:
        status, canceled_at, intent = s.execute(text(
            "SELECT status, canceled_at, stripe_payment_intent_id FROM offering_bookings "
            "WHERE id = :id"), {"id": booking_id}).one()
    assert status == "canceled" and canceled_at is not None
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [4000]


def test_without_stripe_the_dialog_says_so(qtbot, empty_database, session_factory,
                                           paid_purchase):
    purchase_id = paid_purchase("30.00")  # a real payment, but this app has no Stripe key
    dialog = _open(qtbot, empty_database, "purchase", purchase_id)
    _review(qtbot, dialog)
    qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.is_busy, timeout=WAIT)
    assert "Stripe is not configured" in dialog.message.text()
    assert dialog.step == dialog.CONFIRM
    assert _requests(session_factory) == []


def test_a_made_up_demo_payment_is_refused(qtbot, stripe_demo_database, demo_engine):
    with demo_engine.connect() as conn:
        purchase_id = conn.execute(text(
            "SELECT id FROM purchases WHERE status = 'completed' "
            "AND stripe_payment_intent_id LIKE 'pi_demo_%' LIMIT 1")).scalar_one()
    dialog = _open(qtbot, stripe_demo_database, "purchase", purchase_id)
    assert dialog.refusal.text() and not dialog.review_button.isEnabled()
