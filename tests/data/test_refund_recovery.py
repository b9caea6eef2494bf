"""The app dies after Stripe answered and before the database recorded it: the next start
finishes the refund exactly once. The death is real: a child process runs the flow and
``os._exit`` ends it the moment Stripe's answer arrives (no cleanup, connections dropped)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import stripe
from sqlalchemy import text

from data.services.refunds import (
    RefundInput,
    finish_open_refunds,
    load_refundable,
    submit_refund,
)

ROOT = Path(__file__).parents[2]

CHILD = r"""
import os, sys, uuid
from decimal import Decimal
from data.db import make_engine, make_session_factory
from data.payments import StripeConfig, StripeGateway
from data.services.refunds import RefundInput, submit_refund

url, api_base, api_key, purchase_id, request_id = sys.argv[1:]


class DyingGateway(StripeGateway):
    def create_refund(self, *args, **kwargs):
        super().create_refund(*args, **kwargs)
        os._exit(9)  # Stripe has answered; the database never hears of it


engine = make_engine(url)
gateway = DyingGateway(StripeConfig(api_key, api_base, send_reason=False))
submit_refund(make_session_factory(engine), gateway, "anna", "purchase",
              uuid.UUID(purchase_id), RefundInput(Decimal("30.00"), "duplicate", None),
              uuid.UUID(request_id))
sys.exit(0)
"""


def test_killed_after_stripe_answered_is_finished_once_on_next_start(
        db_url, session_factory, stripe_gateway, paid_purchase, localstripe):
    purchase_id = paid_purchase("30.00")
    request_id = uuid.uuid4()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, db_url.render_as_string(hide_password=False),
         localstripe.api_base,
         localstripe.api_key, str(purchase_id), str(request_id)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == 9, child.stderr
    with session_factory() as s:
        status, attempts, intent = s.execute(text(
            "SELECT r.status, r.attempts, p.stripe_payment_intent_id "
            "FROM admin.refund_requests r JOIN purchases p ON p.id = r.purchase_id "
            "WHERE r.id = :id"), {"id": request_id}).one()
        assert load_refundable(s, "purchase", purchase_id).status == "completed"
    assert (status, attempts) == ("requested", 1)
    client = stripe.StripeClient(localstripe.api_key, base_addresses={"api": localstripe.api_base})

    def refunds():
        return client.v1.refunds.list(params={"payment_intent": intent, "limit": 100}).data

    assert len(refunds()) == 1

    # Next start: recovery asks Stripe, finds the refund by its metadata, finishes it.
    [outcome] = finish_open_refunds(session_factory, stripe_gateway, "recovery")
    assert outcome.request_id == request_id and outcome.status == "succeeded"
    assert outcome.stripe_refund_id == refunds()[0].id
    assert finish_open_refunds(session_factory, stripe_gateway, "recovery") == []
    # The dialog's own retry of the same request answers it; Stripe still has one refund.
    with session_factory() as s:
        refundable = load_refundable(s, "purchase", purchase_id)
        access = s.execute(text("SELECT count(*) FROM content_access")).scalar_one()
    assert refundable.status == "refunded" and access == 0
    again = submit_refund(session_factory, stripe_gateway, "anna", "purchase", purchase_id,
                          RefundInput(Decimal("30.00"), "duplicate", None), request_id)
    assert again.replayed and again.status == "succeeded"
    assert len(refunds()) == 1
