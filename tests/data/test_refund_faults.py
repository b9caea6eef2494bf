"""Refund faults produced on demand with real parts: a lock connection killed by the
server, a request held by another instance, a Stripe server that refuses ``reason``
(localstripe, reached the way ``--stripe-api-base`` reaches it), a Stripe that never answers."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

import data.services.refunds as refunds
from data.payments import StripeGateway, load_stripe_config
from data.services.refunds import (
    finish_open_refunds,
    load_refundable,
    submit_refund,
    summarize_outcomes,
    validate_refund,
)
from tests.data.test_stripe_gateway import RecordingHTTPClient, error_body


def _submit(session_factory, gateway, purchase_id, amount="30.00",
            reason="requested_by_customer", note=None):
    with session_factory() as s:
        clean = validate_refund(load_refundable(s, "purchase", purchase_id), amount, reason,
                                note)
    return submit_refund(session_factory, gateway, "anna", "purchase", purchase_id, clean,
                         uuid.uuid4())


def _requests(session_factory):
    with session_factory() as s:
        return s.execute(text(
            "SELECT status, stripe_refund_id, attempts FROM admin.refund_requests")).all()


def test_lock_connection_killed_after_the_record_reports_the_refund(
        session_factory, engine, stripe_gateway, paid_purchase, monkeypatch, caplog):
    """The server ends the lock's connection (pg_terminate_backend) right after the result
    was committed: the refund happened and was recorded, so that is what is answered; the
    lost lock connection is only logged."""
    purchase_id = paid_purchase("30.00")
    finish = refunds._finish

    def finish_then_kill_lock_connection(*args, **kwargs):
        outcome = finish(*args, **kwargs)
        with engine.connect() as conn:
            killed = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = 5005 AND granted")).all()
        assert killed == [(True,)]
        return outcome

    monkeypatch.setattr(refunds, "_finish", finish_then_kill_lock_connection)
    with caplog.at_level(logging.WARNING, logger="data.services.refunds"):
        outcome = _submit(session_factory, stripe_gateway, purchase_id)
    assert outcome.status == "succeeded"
    assert outcome.message == "Refunded 30.00 USD (full refund)."
    assert [s for s, *_ in _requests(session_factory)] == ["succeeded"]
    assert any("lock connection" in r.getMessage() for r in caplog.records)


@pytest.fixture
def unreachable_gateway(localstripe):
    """A gateway to a loopback port nobody listens on (Stripe down), no retries."""
    from data.payments import StripeConfig

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return StripeGateway(StripeConfig(localstripe.api_key, f"http://127.0.0.1:{port}",
                                      send_reason=False), sleep=lambda _s: None, retry_delays=())


def test_recover_counts_a_request_another_instance_holds(
        session_factory, engine, stripe_gateway, unreachable_gateway, paid_purchase):
    """A second real connection holds the request's advisory lock, as a running instance
    finishing it does: recovery leaves it alone and says so, never "No open refunds."."""
    purchase_id = paid_purchase("30.00")
    waiting = _submit(session_factory, unreachable_gateway, purchase_id)
    assert waiting.status == "pending"
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_xact_lock(5005, :k)"),
                      {"k": refunds._lock_key(waiting.request_id)})
        outcomes = finish_open_refunds(session_factory, stripe_gateway, "anna")
        assert [(o.request_id, o.status, o.elsewhere) for o in outcomes] == [
            (waiting.request_id, "pending", True)]
        assert summarize_outcomes(outcomes) == \
            "Open refunds checked with Stripe: 1 being finished elsewhere."
        other.rollback()
    outcomes = finish_open_refunds(session_factory, stripe_gateway, "anna")
    assert [(o.status, o.elsewhere) for o in outcomes] == [("succeeded", False)]


def test_stripe_api_base_to_localstripe_refunds_with_a_reason(
        session_factory, localstripe, paid_purchase, caplog):
    """The configuration path the CLI uses (``load_stripe_config(--stripe-api-base)``) sends
    the reason; localstripe refuses it ("Unexpected reason"): the refund is asked again
    without it, made once, and the message says where the reason is kept."""
    result = load_stripe_config(localstripe.api_base,
                                env={"PLATFORM_ADMIN_STRIPE_SECRET_KEY": localstripe.api_key},
                                use_keyring=False)
    assert result.config is not None and result.config.send_reason
    gateway = StripeGateway(result.config, sleep=lambda _s: None)
    first, second = paid_purchase("30.00"), paid_purchase("20.00")
    with caplog.at_level(logging.WARNING, logger="data.payments.gateway"):
        outcome = _submit(session_factory, gateway, first, reason="duplicate")
    assert outcome.status == "succeeded", outcome.message
    assert "reason is kept in the app's record" in outcome.message
    assert any("refused a refund reason" in r.getMessage() for r in caplog.records)
    # Later refunds go straight without it; "other" never sends one.
    assert _submit(session_factory, gateway, second, "5.00", "fraudulent").status == \
        "succeeded"
    assert _submit(session_factory, gateway, second, "5.00", "other", "Asked twice").status \
        == "succeeded"
    with session_factory() as s:
        assert s.execute(text(
            "SELECT reason FROM admin.refund_requests ORDER BY created_at")).scalars().all() \
            == ["duplicate", "fraudulent", "other"]


def test_other_invalid_requests_are_not_asked_again(session_factory, paid_purchase):
    """A refusal that is not about ``reason`` fails the request after one call (a recording
    client: real Stripe's refusals cannot be produced on demand)."""
    purchase_id = paid_purchase("30.00")
    client = RecordingHTTPClient([(400, error_body("invalid_request_error",
                                                   "Refund amount exceeds charge"))])
    gateway = StripeGateway(load_stripe_config(
        "https://stripe.invalid", env={"PLATFORM_ADMIN_STRIPE_SECRET_KEY": "sk_test_x"},
        use_keyring=False).config, http_client=client, sleep=lambda _s: None)
    outcome = _submit(session_factory, gateway, purchase_id)
    assert outcome.status == "failed"
    assert len(client.requests) == 1


@pytest.fixture
def silent_stripe():
    """A local socket server that accepts connections and never replies: a Stripe that does
    not answer (no real Stripe can be made to hang on demand)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_stripe_that_never_answers_times_out_and_leaves_the_request_open(
        session_factory, localstripe, silent_stripe, paid_purchase):
    purchase_id = paid_purchase("30.00")
    config = load_stripe_config(silent_stripe,
                                env={"PLATFORM_ADMIN_STRIPE_SECRET_KEY": "sk_test_x"},
                                use_keyring=False).config
    gateway = StripeGateway(config, sleep=lambda _s: None, timeout=1)
    outcome = _submit(session_factory, gateway, purchase_id)
    assert outcome.status == "pending"
    assert "Stripe did not answer within 1 seconds" in outcome.message
    assert "Use Retry" in outcome.message
    assert _requests(session_factory) == [("pending", None, 1)]
    # Stripe is back: the open request is finished once.
    back = StripeGateway(localstripe.config(), sleep=lambda _s: None)
    assert [o.status for o in finish_open_refunds(session_factory, back, "anna")] == \
        ["succeeded"]
    with session_factory() as s:
        assert load_refundable(s, "purchase", purchase_id).remaining == Decimal("0")


def test_the_gateway_has_a_timeout_by_default(localstripe):
    gateway = StripeGateway(localstripe.config())
    assert 0 < gateway.timeout <= 30




def test_refunds_recover_counts_a_request_held_elsewhere_and_exits_1(
        db_url, engine, session_factory, localstripe, unreachable_gateway, paid_purchase):
    """The command line as a person runs it, while a second real connection holds the open
    request's lock (another running instance finishing it)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    purchase_id = paid_purchase("30.00")
    waiting = _submit(session_factory, unreachable_gateway, purchase_id)
    env = dict(os.environ, PLATFORM_ADMIN_STRIPE_SECRET_KEY=localstripe.api_key)
    command = [sys.executable, "-m", "desktop", "refunds", "recover",
               "--database-url", db_url.render_as_string(hide_password=False),
               "--stripe-api-base", localstripe.api_base]
    root = Path(__file__).resolve().parents[2]
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_xact_lock(5005, :k)"),
                      {"k": refunds._lock_key(waiting.request_id)})
        held = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=120)
        other.rollback()
    assert held.returncode == 1, held.stderr
    assert "No open refunds" not in held.stdout
    assert held.stdout.splitlines()[-1] == \
        "Open refunds checked with Stripe: 1 being finished elsewhere."
    assert "Traceback" not in held.stderr
    assert [s for s, *_ in _requests(session_factory)] == ["pending"]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Open refunds checked with Stripe: 1 finished."
