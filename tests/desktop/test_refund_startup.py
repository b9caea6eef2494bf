"""Refunds at start-up: the demo's own Stripe, recovery of open requests after the window
opens, the ``refunds recover`` command, and how the Stripe key is found."""

from __future__ import annotations

import uuid
from decimal import Decimal

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import text

from data.payments import STRIPE_KEY_ENV
from data.services import refunds as service
from data.services.refunds import RefundInput, load_refundable, validate_refund
from desktop import cli
from desktop.refund_recovery import RefundRecovery
from desktop.startup import open_filled_demo, open_url, prepare_demo_payments

WAIT = 20_000


@pytest.fixture
def no_keyring(monkeypatch):
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv(STRIPE_KEY_ENV, raising=False)
    yield
    keyring.set_keyring(before)


def _leave_open(session_factory, purchase_id, reason="duplicate", note=None) -> uuid.UUID:
    """A request recorded and committed, as if the app died before Stripe's answer was
    stored."""
    request_id = uuid.uuid4()
    with session_factory() as s:
        r = load_refundable(s, "purchase", purchase_id)
    with session_factory.begin() as s:
        service._record(s, r, RefundInput(Decimal("30.00"), reason, note), request_id)
    return request_id


def _purchase_status(session_factory, purchase_id) -> str:
    with session_factory() as s:
        return s.execute(text("SELECT status FROM purchases WHERE id = :id"),
                         {"id": purchase_id}).scalar_one()


def test_demo_payments_are_real_payment_intents_and_refund_through_stripe():
    backend = open_filled_demo(150, real_payments=4, real_bookings=2)
    try:
        # Until its payments are made (behind the window), the demo calls no Stripe.
        assert backend.gateway is None and backend.demo_payments is not None
        factory = backend.session_factory
        import threading

        result = {}

        def work():  # the backend's engine refuses SQL on the main (GUI) thread
            result["note"] = prepare_demo_payments(backend)
            with factory() as s:
                real = list(s.execute(text(
                    "SELECT id FROM purchases WHERE stripe_payment_intent_id NOT LIKE "
                    "'pi_demo_%' ORDER BY id")).scalars())
                made_up = s.execute(text(
                    "SELECT id FROM purchases WHERE status = 'completed' AND "
                    "stripe_payment_intent_id LIKE 'pi_demo_%' LIMIT 1")).scalar_one()
                refundable = load_refundable(s, "purchase", real[0])
                result["made_up"] = load_refundable(s, "purchase", made_up).refusal
            clean = validate_refund(refundable, str(refundable.remaining), "duplicate", None)
            result["real"] = real
            result["outcome"] = service.submit_refund(factory, backend.gateway, "demo",
                                                      "purchase", real[0], clean, uuid.uuid4())

        thread = threading.Thread(target=work)
        thread.start()
        thread.join(60)
        local = backend.local_stripe
        assert result["note"] is None and backend.gateway is not None and local.running
        assert len(result["real"]) == 4
        assert result["outcome"].status == "succeeded" and result["outcome"].full_refund
        assert "never made in the demo's Stripe" in result["made_up"]
    finally:
        backend.close()
    assert not local.running


def test_connecting_without_a_key_disables_refunds_and_says_why(db_url, no_keyring):
    backend = open_url(db_url, lambda *a: None)
    try:
        assert backend.gateway is None
        assert "Refunds are disabled" in backend.stripe_notes[-1]
    finally:
        backend.close()


def test_connecting_with_a_key_from_the_environment(db_url, no_keyring, monkeypatch,
                                                    localstripe):
    monkeypatch.setenv(STRIPE_KEY_ENV, localstripe.api_key)
    backend = open_url(db_url, lambda *a: None, stripe_api_base=localstripe.api_base)
    try:
        assert backend.gateway is not None
        assert backend.gateway.api_base == localstripe.api_base
        assert backend.stripe_notes == []
    finally:
        backend.close()


def test_recovery_after_the_window_opens_finishes_open_requests(
        qtbot, stripe_database, session_factory, paid_purchase):
    purchase_id = paid_purchase("30.00")
    request_id = _leave_open(session_factory, purchase_id)
    recovery = RefundRecovery(stripe_database)
    messages = []
    recovery.status_reported.connect(messages.append)
    with qtbot.waitSignal(recovery.refunds_checked, timeout=WAIT) as blocker:
        recovery.start()
    [outcome] = blocker.args[0]
    assert outcome.request_id == request_id and outcome.status == "succeeded"
    assert messages == ["Open refunds checked with Stripe: 1 finished."]
    assert _purchase_status(session_factory, purchase_id) == "refunded"
    assert recovery.timer.isActive()
    recovery.timer.stop()


def test_recovery_without_stripe_reports_refunds_disabled(qtbot, empty_database):
    empty_database.backend.stripe_notes = ["Refunds are disabled: no Stripe secret key."]
    recovery = RefundRecovery(empty_database)
    with qtbot.waitSignal(recovery.status_reported, timeout=WAIT) as blocker:
        recovery.start()
    assert blocker.args == ["Refunds are disabled: no Stripe secret key."]
    assert not recovery.timer.isActive()


def test_run_payment_without_a_gateway_fails_in_plain_words(qtbot, empty_database):
    failures = []
    empty_database.run_payment(lambda *a: None, on_failure=failures.append)
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=WAIT)
    assert "Stripe is not configured" in str(failures[0])


def test_refunds_recover_command(db_url, session_factory, paid_purchase, localstripe,
                                 monkeypatch, no_keyring, capsys):
    purchase_id = paid_purchase("30.00")
    # "other" sends no ``reason`` to Stripe: the command's gateway is a production one, and
    # localstripe would reject the parameter.
    request_id = _leave_open(session_factory, purchase_id, "other", "Charged twice")
    url = db_url.render_as_string(hide_password=False)
    assert cli.main(["refunds", "recover", "--database-url", url]) == 2
    assert "Refunds are disabled" in capsys.readouterr().err

    monkeypatch.setenv(STRIPE_KEY_ENV, localstripe.api_key)
    argv = ["refunds", "recover", "--database-url", url, "--stripe-api-base",
            localstripe.api_base]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{request_id} succeeded 30.00 USD" in out and "1 finished" in out
    assert _purchase_status(session_factory, purchase_id) == "refunded"
    assert cli.main(argv) == 0
    assert "No open refunds." in capsys.readouterr().out


def test_main_window_shows_recovered_refunds_in_the_status_bar_and_refunds_tab(
        qtbot, stripe_database, session_factory, paid_purchase, settings):
    """What staff see at start-up after a crash mid-refund: the status bar says it was
    finished, and the Refunds tab lists it as succeeded without pressing F5."""
    from desktop.main_window import MainWindow

    purchase_id = paid_purchase("30.00")
    request_id = _leave_open(session_factory, purchase_id)
    recovery = RefundRecovery(stripe_database)
    window = MainWindow(stripe_database, settings, refund_recovery=recovery)
    qtbot.addWidget(window)
    window.show()
    page = window.refunds_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    assert page.model.row_at(0).status in ("requested", "pending")
    with qtbot.waitSignal(recovery.refunds_checked, timeout=WAIT):
        recovery.start()
    recovery.timer.stop()
    assert "1 finished" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1
                    and page.model.row_at(0).status == "succeeded", timeout=WAIT)
    assert page.model.row_at(0).id == request_id
