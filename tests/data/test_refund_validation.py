"""Bad refund input: a message naming the field, nothing sent to Stripe, nothing written."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ValidationError
from data.payments import StripeConfig, StripeGateway
from data.services.refunds import (
    REFUND_REASONS,
    Refundable,
    RefundInput,
    describe_refund,
    load_refundable,
    submit_refund,
    validate_refund,
)
from tests.data.test_stripe_gateway import RecordingHTTPClient

PURCHASE = Refundable(
    kind="purchase", target_id=uuid.uuid4(), customer_id=uuid.uuid4(),
    customer_email="ada@example.com", title="Deep Work", amount_paid=Decimal("30.00"),
    currency="usd", refunded=Decimal("10.00"), remaining=Decimal("20.00"), credits_paid=0,
    status="completed", open_request_id=None, refusal=None, payment_intent_id="pi_1",
)
STRIPE_REASONS = [r for r in REFUND_REASONS if r != "other"]


def _errors(amount, reason="duplicate", note=None, refundable=PURCHASE) -> dict[str, str]:
    with pytest.raises(ValidationError) as err:
        validate_refund(refundable, amount, reason, note)
    return err.value.field_errors


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20.00"), places=2),
       st.sampled_from(STRIPE_REASONS))
def test_any_amount_within_what_remains_is_accepted(amount, reason):
    clean = validate_refund(PURCHASE, str(amount), reason, None)
    assert clean == RefundInput(amount, reason, None)


@given(st.decimals(max_value=Decimal("0"), allow_nan=False, allow_infinity=False))
def test_zero_and_negative_amounts_are_refused(amount):
    assert set(_errors(str(amount))) == {"amount"}


@given(st.decimals(min_value=Decimal("20.01"), max_value=Decimal("1e12"), places=2))
def test_more_than_remains_is_refused_with_the_numbers(amount):
    message = _errors(amount)["amount"]
    assert "At most 20.00 USD" in message and "paid 30.00 USD" in message


@given(st.text().filter(lambda s: not _is_number(s)))
def test_text_that_is_not_a_number_is_refused(amount):
    assert "amount" in _errors(amount)


def _is_number(s: str) -> bool:
    try:
        Decimal(s.strip().replace(",", "").removeprefix("$").strip())
        return True
    except Exception:  # noqa: BLE001
        return False


@given(st.sampled_from(["nan", "inf", "-inf", "1e400", "12.345", "0.001", "1.2.3", ""]))
def test_odd_numbers_are_refused(amount):
    assert "amount" in _errors(amount)


@given(st.one_of(st.none(), st.text(alphabet=" \t\n", max_size=5)))
def test_other_without_a_note_names_the_note(note):
    errors = _errors("5.00", "other", note)
    assert set(errors) == {"note"} and "required" in errors["note"]


@given(st.text(min_size=1).filter(lambda r: r not in REFUND_REASONS))
def test_unknown_reason_names_the_reason(reason):
    assert "reason" in _errors("5.00", reason)


def test_a_refusal_is_shown_on_the_amount():
    refused = Refundable(**{**PURCHASE.__dict__, "refusal": "Already refunded in full."})
    assert validate_refund(PURCHASE, "1.00", "duplicate", None).amount == Decimal("1.00")
    assert _errors("1.00", refundable=refused) == {"amount": "Already refunded in full."}


def test_describe_says_exactly_what_happens():
    lines = describe_refund(PURCHASE, RefundInput(Decimal("20.00"), "other", "Double charge"))
    assert lines[0] == "20.00 USD back to the customer's original payment method (ada@example.com)"
    assert lines[1] == "Access to “Deep Work” is revoked (full refund)"
    assert lines[2] == "Reason: Other — Double charge"
    partial = describe_refund(PURCHASE, RefundInput(Decimal("5.00"), "duplicate", None))
    assert "keeps access" in partial[1]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.one_of(
    st.decimals(max_value=Decimal("0"), places=2, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=Decimal("30.01"), max_value=Decimal("99999"), places=2)),
    reason=st.sampled_from(REFUND_REASONS))
def test_service_refuses_bad_input_before_stripe_and_writes_nothing(
        session_factory, paid_purchase_once, amount, reason):
    """The service validates again (a caller may skip the dialog): no Stripe call (the
    recording client has no answer to give), no row."""
    client = RecordingHTTPClient([])
    gateway = StripeGateway(StripeConfig("sk_test_x", "https://stripe.invalid"),
                            http_client=client)
    with pytest.raises(ValidationError) as err:
        submit_refund(session_factory, gateway, "anna", "purchase", paid_purchase_once,
                      RefundInput(amount, reason, None), uuid.uuid4())
    assert "amount" in err.value.field_errors
    assert client.requests == []
    with session_factory() as s:
        assert s.execute(text("SELECT count(*) FROM admin.refund_requests")).scalar_one() == 0
        assert s.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one() == 0
        assert load_refundable(s, "purchase", paid_purchase_once).remaining == Decimal("30.00")


@pytest.fixture
def paid_purchase_once(paid_purchase):
    return paid_purchase("30.00")


@pytest.mark.parametrize("amount", [
    "1" * 27, "9" * 40, "1" * 26 + ".5", Decimal("1" * 30), Decimal("1e30"), "1e30", "1E+28",
    "NaN", Decimal("NaN"), "Infinity", Decimal("-Infinity"), "-5", "0", "0.00", "12.345",
    Decimal("12.345"), "-0.001",
])
def test_huge_odd_or_non_positive_amounts_name_the_amount_field(amount):
    """27+ digits used to escape as decimal.InvalidOperation from quantize()."""
    errors = _errors(amount)
    assert set(errors) == {"amount"}
    assert errors["amount"].startswith(("At most", "Enter"))


@pytest.mark.parametrize("note", ["Double\x00charge", "\ud800", "fine \udfff", "esc\x1b[31m"])
def test_nul_lone_surrogates_and_control_characters_in_the_note_are_refused(note):
    errors = _errors("5.00", "other", note)
    assert set(errors) == {"note"}
    assert "character" in errors["note"]


@pytest.mark.parametrize("reason", ["duplicate\x00", "\ud800", "other\u200b"])
def test_nul_or_surrogates_in_the_reason_name_the_reason(reason):
    assert set(_errors("5.00", reason)) == {"reason"}


@pytest.mark.parametrize("note", ["\u200b", "\u200b\u200d \u2060", "\ufeff"])
def test_a_note_of_invisible_characters_is_no_note(note):
    errors = _errors("5.00", "other", note)
    assert set(errors) == {"note"} and "required" in errors["note"]


def test_a_huge_amount_at_the_service_writes_nothing_and_calls_no_stripe(
        session_factory, paid_purchase_once):
    client = RecordingHTTPClient([])
    gateway = StripeGateway(StripeConfig("sk_test_x", "https://stripe.invalid"),
                            http_client=client)
    with pytest.raises(ValidationError) as err:
        submit_refund(session_factory, gateway, "anna", "purchase", paid_purchase_once,
                      RefundInput(Decimal("9" * 30), "duplicate", None), uuid.uuid4())
    assert set(err.value.field_errors) == {"amount"}
    assert client.requests == []
    with session_factory() as s:
        assert s.execute(text("SELECT count(*) FROM admin.refund_requests")).scalar_one() == 0
