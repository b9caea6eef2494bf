"""A refund waiting on a Stripe that does not answer holds up no other save."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from sqlalchemy import text

from data.payments import StripeGateway, load_stripe_config
from data.services.credits import adjust_balance
from data.services.refunds import (
    finish_open_refunds,
    load_refundable,
    submit_refund,
    validate_refund,
)
from tests.desktop.conftest import _database

WAIT_MS = 60_000


class SilentServer:
    """A local socket server that accepts connections and never replies: a Stripe that does
    not answer (no real Stripe can be made to hang on demand)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_stripe():
    server = SilentServer()
    yield server
    server.close()


def test_a_refund_waiting_on_stripe_lets_a_token_adjustment_save_meanwhile(
        qtbot, db_url, engine, runner, gui_sql, session_factory, paid_purchase, localstripe,
        silent_stripe):
    purchase_id = paid_purchase("30.00")
    config = load_stripe_config(silent_stripe.url,
                                env={"PLATFORM_ADMIN_STRIPE_SECRET_KEY": "sk_test_x"},
                                use_keyring=False).config
    gateway = StripeGateway(config, sleep=lambda _s: None, timeout=8)
    with session_factory() as s:
        refundable = load_refundable(s, "purchase", purchase_id)
    clean = validate_refund(refundable, "30.00", "duplicate", None)
    outcomes, failures, saved = [], [], []
    with _database(db_url, runner, gui_sql, gateway=gateway) as database:
        refund = database.run_payment(
            lambda factory, gw, actor: submit_refund(factory, gw, actor, "purchase",
                                                     purchase_id, clean, uuid.uuid4()),
            on_success=outcomes.append, on_failure=failures.append)
        qtbot.waitUntil(lambda: bool(silent_stripe.accepted), timeout=WAIT_MS)  # asking Stripe
        write = database.write(
            lambda s, actor: adjust_balance(s, actor, refundable.customer_id, 5,
                                            "Goodwill", uuid.uuid4()),
            on_success=saved.append, on_failure=failures.append)
        with qtbot.waitSignal(write.finished, timeout=WAIT_MS):
            pass
        assert saved and not failures
        assert refund.is_running and outcomes == []  # the refund still waits on Stripe
        with qtbot.waitSignal(refund.finished, timeout=WAIT_MS):
            pass
    assert failures == []
    [outcome] = outcomes
    assert outcome.status == "pending"
    assert outcome.message == (
        "The refund of 30.00 USD is waiting: Stripe did not answer within 8 seconds; it may "
        "still have made the refund, so a retry first looks for it. Use Retry.")
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT current_balance FROM credit_balances WHERE customer_id = :c"),
            {"c": refundable.customer_id}).scalar_one() >= 5
    # The request stays recoverable: with Stripe back, it is finished once.
    back = StripeGateway(localstripe.config(), sleep=lambda _s: None)
    assert [o.status for o in finish_open_refunds(session_factory, back, "anna")] == \
        ["succeeded"]
