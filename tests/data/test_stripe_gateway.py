"""Stripe answers localstripe cannot give, through a recording HTTP client.

localstripe rejects a refund's ``reason``, ignores idempotency keys and never returns a
pending refund or a transient failure. These tests give ``stripe.StripeClient`` (through the
gateway's ``http_client=``) a subclass of stripe-python's ``HTTPClient`` that records every
request and answers from a script, as real Stripe would. Everything else is real: the
gateway, stripe-python's request and error handling, the refund service and PostgreSQL.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from decimal import Decimal

import pytest
import stripe
from sqlalchemy import text

from data.payments import (
    PaymentDeclinedError,
    PaymentUnavailableError,
    StripeConfig,
    StripeGateway,
)
from data.services.refunds import (
    finish_open_refunds,
    load_refundable,
    retry_refund,
    submit_refund,
    validate_refund,
)


class RecordingHTTPClient(stripe.HTTPClient):
    """Records each request; answers with the next scripted reply: an exception to raise
    (e.g. ``stripe.APIConnectionError``) or ``(status, json body)``."""

    name = "recording"

    def __init__(self, replies):
        super().__init__()
        self.replies = list(replies)
        self.requests: list[dict] = []

    def request(self, method, url, headers, post_data=None):
        params = urllib.parse.parse_qs(post_data or urllib.parse.urlsplit(url).query)
        self.requests.append({
            "method": method.upper(),
            "path": urllib.parse.urlsplit(url).path,
            "key": (headers or {}).get("Idempotency-Key"),
            "params": {k: v[0] for k, v in params.items()},
        })
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        status, body = reply
        return json.dumps(body), status, {"request-id": f"req_{len(self.requests)}"}

    def request_stream(self, method, url, headers, post_data=None):
        raise NotImplementedError

    def close(self):
        pass


def refund_body(status="succeeded", amount=3000, request_id="", refund_id="re_scripted1"):
    return {"id": refund_id, "object": "refund", "status": status, "amount": amount,
            "currency": "usd", "payment_intent": "pi_scripted",
            "metadata": {"admin_refund_request": request_id} if request_id else {}}


def error_body(kind, message, code=None):
    return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


def connection_error():
    return stripe.APIConnectionError("Connection refused")


@pytest.fixture
def sleeps():
    return []


def make_gateway(replies, sleeps, *, send_reason=True):
    client = RecordingHTTPClient(replies)
    config = StripeConfig("sk_test_scripted", "https://stripe.invalid", send_reason=send_reason)
    return StripeGateway(config, http_client=client, sleep=sleeps.append,
                         retry_delays=(0.5, 1.0, 2.0)), client


@pytest.fixture
def purchase(paid_purchase):
    """A completed $30.00 purchase (its payment intent lives on localstripe, but these tests
    answer Stripe calls from a script)."""
    return paid_purchase("30.00")


def _submit(session_factory, gateway, purchase_id, amount="30.00", reason="duplicate",
            request_id=None):
    with session_factory() as s:
        clean = validate_refund(load_refundable(s, "purchase", purchase_id), amount, reason,
                                None)
    return submit_refund(session_factory, gateway, "anna", "purchase", purchase_id, clean,
                         request_id or uuid.uuid4())


def _stored(session_factory, request_id):
    with session_factory() as s:
        return s.execute(text(
            "SELECT r.status, r.idempotency_key, r.attempts, r.stripe_refund_id, "
            "r.failure_message, p.status FROM admin.refund_requests r "
            "JOIN purchases p ON p.id = r.purchase_id WHERE r.id = :id"),
            {"id": request_id}).one()


# -- the gateway alone --------------------------------------------------------------------

def test_reason_and_idempotency_key_are_sent(sleeps):
    gateway, client = make_gateway([(200, refund_body())], sleeps)
    refund = gateway.create_refund("pi_1", 1250, idempotency_key="admin-refund-k1",
                                   reason="fraudulent", metadata={"admin_refund_request": "r1"})
    assert refund.status == "succeeded" and refund.amount == 3000
    [sent] = client.requests
    assert (sent["method"], sent["path"], sent["key"]) == ("POST", "/v1/refunds",
                                                           "admin-refund-k1")
    assert sent["params"]["reason"] == "fraudulent" and sent["params"]["amount"] == "1250"
    assert sent["params"]["metadata[admin_refund_request]"] == "r1"


def test_reason_is_left_out_for_localstripe(sleeps):
    gateway, client = make_gateway([(200, refund_body())], sleeps, send_reason=False)
    gateway.create_refund("pi_1", 100, idempotency_key="k", reason="duplicate")
    assert "reason" not in client.requests[0]["params"]


def test_transient_failures_are_retried_with_the_same_key_and_backoff(sleeps):
    gateway, client = make_gateway([
        connection_error(),
        (429, error_body("invalid_request_error", "Too many requests", "rate_limit")),
        (500, error_body("api_error", "Something went wrong on Stripe's end")),
        (200, refund_body()),
    ], sleeps)
    assert gateway.create_refund("pi_1", 100, idempotency_key="same-key").status == "succeeded"
    assert [r["key"] for r in client.requests] == ["same-key"] * 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_after_the_last_retry_stripe_is_unavailable(sleeps):
    gateway, _ = make_gateway([connection_error()] * 4, sleeps)
    with pytest.raises(PaymentUnavailableError, match="could not be reached after 4 tries"):
        gateway.create_refund("pi_1", 100, idempotency_key="k")


def test_card_and_invalid_request_errors_are_not_retried(sleeps):
    gateway, client = make_gateway([
        (402, error_body("card_error", "Your card was declined.", "card_declined")),
        (400, error_body("invalid_request_error", "Amount exceeds the charge.")),
    ], sleeps)
    with pytest.raises(PaymentDeclinedError, match="declined") as err:
        gateway.create_refund("pi_1", 100, idempotency_key="k")
    assert err.value.code == "card_declined"
    with pytest.raises(PaymentDeclinedError, match="exceeds"):
        gateway.create_refund("pi_1", 100, idempotency_key="k2")
    assert len(client.requests) == 2 and sleeps == []


# -- the refund flow over scripted answers ------------------------------------------------

def test_flow_sends_reason_and_its_stored_key(session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, client = make_gateway([(200, refund_body(request_id=str(request_id)))], sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "succeeded"
    status, key, attempts, refund_id, _, purchase_status = _stored(session_factory, request_id)
    [sent] = client.requests
    assert sent["key"] == key and sent["params"]["reason"] == "duplicate"
    assert sent["params"]["amount"] == "3000"
    assert (status, attempts, refund_id, purchase_status) == (
        "succeeded", 1, "re_scripted1", "refunded")


def test_connection_errors_then_success_use_one_key(session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, client = make_gateway(
        [connection_error(), connection_error(), (200, refund_body(request_id=str(request_id)))],
        sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "succeeded"
    status, key, attempts, *_ = _stored(session_factory, request_id)
    assert [r["key"] for r in client.requests] == [key] * 3 and attempts == 3


def test_stripe_unreachable_leaves_pending_then_retry_reuses_the_key(
        session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, client = make_gateway([connection_error()] * 4, sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "pending" and "Retry" in outcome.message
    status, key, attempts, refund_id, failure, purchase_status = _stored(session_factory,
                                                                         request_id)
    assert (status, attempts, refund_id, purchase_status) == ("pending", 4, None, "completed")
    assert "could not be reached" in failure
    with session_factory() as s:
        assert load_refundable(s, "purchase", purchase).open_request_id == request_id

    # Retry: first look for a refund Stripe may have made, then ask with the SAME key.
    client.replies = [(200, {"object": "list", "data": [], "has_more": False,
                             "url": "/v1/refunds"}),
                      (200, refund_body(request_id=str(request_id)))]
    again = retry_refund(session_factory, gateway, "anna", request_id)
    assert again.status == "succeeded" and not again.replayed
    assert client.requests[-2]["method"] == "GET"
    assert client.requests[-1]["key"] == key
    assert {r["key"] for r in client.requests if r["method"] == "POST"} == {key}


def test_retry_finds_a_refund_stripe_already_made(session_factory, purchase, sleeps):
    """Stripe made the refund but its answer never arrived: the retry finds it by the
    request id in its metadata and does not ask for a second one."""
    request_id = uuid.uuid4()
    gateway, client = make_gateway([connection_error()] * 4, sleeps)
    _submit(session_factory, gateway, purchase, request_id=request_id)
    client.replies = [(200, {"object": "list", "has_more": False, "url": "/v1/refunds",
                             "data": [refund_body(refund_id="re_other", request_id="x"),
                                      refund_body(refund_id="re_made",
                                                  request_id=str(request_id))]})]
    outcome = retry_refund(session_factory, gateway, "anna", request_id)
    assert outcome.status == "succeeded" and outcome.stripe_refund_id == "re_made"
    assert [r["method"] for r in client.requests[-1:]] == ["GET"]


def test_pending_refund_then_succeeded(session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, client = make_gateway(
        [(200, refund_body(status="pending", request_id=str(request_id)))], sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "pending" and "still processing" in outcome.message
    status, _, _, refund_id, _, purchase_status = _stored(session_factory, request_id)
    assert (status, refund_id, purchase_status) == ("pending", "re_scripted1", "completed")

    client.replies = [(200, refund_body(status="pending"))]
    [still] = finish_open_refunds(session_factory, gateway, "checker")
    assert still.status == "pending"
    client.replies = [(200, refund_body(status="succeeded"))]
    [done] = finish_open_refunds(session_factory, gateway, "checker")
    assert done.status == "succeeded" and done.full_refund
    assert client.requests[-1]["method"] == "GET"
    assert client.requests[-1]["path"] == "/v1/refunds/re_scripted1"
    assert _stored(session_factory, request_id)[-1] == "refunded"


def test_card_error_fails_the_request_and_changes_nothing_else(
        session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, _ = make_gateway(
        [(402, error_body("card_error", "Your card was declined.", "card_declined"))], sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "failed" and "Your card was declined." in outcome.message
    status, _, _, refund_id, failure, purchase_status = _stored(session_factory, request_id)
    assert (status, refund_id, purchase_status) == ("failed", None, "completed")
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase)
        access = s.execute(text("SELECT count(*) FROM content_access")).scalar_one()
    assert r.refusal is None and r.remaining == Decimal("30.00") and access == 1


def test_refund_that_stripe_reports_failed(session_factory, purchase, sleeps):
    request_id = uuid.uuid4()
    gateway, _ = make_gateway([(200, {**refund_body(status="failed"),
                                      "failure_reason": "expired_or_canceled_card"})], sleeps)
    outcome = _submit(session_factory, gateway, purchase, request_id=request_id)
    assert outcome.status == "failed" and "expired_or_canceled_card" in outcome.message
    assert _stored(session_factory, request_id)[-1] == "completed"
