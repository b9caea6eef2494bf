"""localstripe as a separate process, and where the Stripe key comes from."""

from __future__ import annotations

import logging
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from data.payments import (
    STRIPE_KEY_ENV,
    LocalStripe,
    StripeGateway,
    load_stripe_config,
    to_minor_units,
)
from data.payments.gateway import from_minor_units


def test_localstripe_starts_takes_payments_and_stops():
    server = LocalStripe.start()
    try:
        assert server.running and server.api_base.startswith("http://127.0.0.1:")
        gateway = StripeGateway(server.config())
        intent = gateway.create_payment_intent(1234, "usd")
        refund = gateway.create_refund(intent, 234, idempotency_key="k", reason="duplicate",
                                       metadata={"admin_refund_request": "r1"})
        assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 234,
                                                                        intent)
        assert gateway.find_refund(intent, "r1") == refund
        assert gateway.find_refund(intent, "r2") is None
    finally:
        server.stop()
    assert not server.running


def test_localstripe_is_not_imported():
    import sys

    import data.payments  # noqa: F401

    assert "localstripe" not in sys.modules


@pytest.fixture
def no_keyring():
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_key_from_environment(no_keyring):
    result = load_stripe_config("http://127.0.0.1:1/", env={STRIPE_KEY_ENV: "sk_test_abc123"})
    assert result.config is not None and result.config.api_base == "http://127.0.0.1:1"
    assert result.config.api_key == "sk_test_abc123"
    assert "sk_test_abc123" not in repr(result.config)


def test_headless_machine_without_keyring_says_so_and_does_not_crash(no_keyring):
    result = load_stripe_config(env={})
    assert result.config is None
    assert any("keyring" in n for n in result.notes)
    assert any(STRIPE_KEY_ENV in n and "disabled" in n for n in result.notes)


def test_a_key_that_is_not_a_secret_key_is_refused(no_keyring):
    result = load_stripe_config(env={STRIPE_KEY_ENV: "pk_live_publishable"})
    assert result.config is None and "does not look like a secret key" in result.notes[-1]
    assert "pk_live_publishable" not in " ".join(result.notes)


def test_the_key_is_never_logged(localstripe, caplog):
    caplog.set_level(logging.DEBUG)
    gateway = StripeGateway(localstripe.config())
    intent = gateway.create_payment_intent(500)
    gateway.create_refund(intent, 500, idempotency_key="k-log")
    assert localstripe.api_key not in caplog.text
    assert localstripe.api_key not in repr(gateway)


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("12.34", "usd", 1234), ("0.01", "usd", 1), ("1500", "jpy", 1500), ("30", "eur", 3000)])
def test_minor_units(amount, currency, minor):
    from decimal import Decimal

    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


def test_localstripe_child_gets_a_clean_environment_without_secrets(monkeypatch):
    from data.payments import LocalStripe

    monkeypatch.setenv("PLATFORM_ADMIN_STRIPE_SECRET_KEY", "sk_live_secret_value")
    monkeypatch.setenv("PLATFORM_ADMIN_DATABASE_URL", "postgresql://u:pw@h/d")
    monkeypatch.setenv("SOME_OTHER_TOKEN", "s3cr3t")
    with LocalStripe.start() as server:
        raw = Path(f"/proc/{server.process.pid}/environ").read_bytes()
        env = dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    assert b"PLATFORM_ADMIN_STRIPE_SECRET_KEY" not in env
    assert b"PLATFORM_ADMIN_DATABASE_URL" not in env
    assert b"SOME_OTHER_TOKEN" not in env
    assert b"sk_live_secret_value" not in raw
    assert set(env) <= {b"PATH", b"HOME", b"TMPDIR", b"LANG", b"LC_ALL", b"LC_CTYPE", b"TZ",
                        b"PYTHONUNBUFFERED"}
