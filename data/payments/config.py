"""Where the Stripe secret key comes from: an environment variable or the OS keyring.

The key is never written to disk by the app and never logged: :class:`StripeConfig` leaves it
out of its ``repr``, and messages name only where it came from. A headless machine often has
no keyring backend; that is reported in plain words and the environment variable still works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

STRIPE_KEY_ENV = "PLATFORM_ADMIN_STRIPE_SECRET_KEY"
KEYRING_SERVICE = "platform-admin"
KEYRING_USERNAME = "stripe-secret-key"
STRIPE_API_BASE = "https://api.stripe.com"


@dataclass(frozen=True)
class StripeConfig:
    """How to reach Stripe. ``send_reason`` is false only for localstripe, which rejects a
    refund's ``reason`` (the reason then travels in the refund's metadata only)."""

    api_key: str = field(repr=False)
    api_base: str = STRIPE_API_BASE
    source: str = "given"
    send_reason: bool = True

    @property
    def is_test_mode(self) -> bool:
        return self.api_key.startswith(("sk_test_", "rk_test_"))


@dataclass(frozen=True)
class StripeConfigResult:
    """What :func:`load_stripe_config` found: a config (or None) and notes for the status bar."""

    config: StripeConfig | None
    notes: tuple[str, ...] = ()


def _from_keyring() -> tuple[str | None, str | None]:
    """The key stored in the OS keyring, or None and why not (never raises)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME), None
        except KeyringError as exc:
            return None, f"The OS keyring could not be read ({type(exc).__name__})."
    except Exception as exc:  # noqa: BLE001 - any backend failure must not stop the app
        return None, f"No usable OS keyring ({type(exc).__name__})."


def load_stripe_config(
    api_base: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    use_keyring: bool = True,
) -> StripeConfigResult:
    """Find the Stripe secret key: ``$PLATFORM_ADMIN_STRIPE_SECRET_KEY`` first, then the OS
    keyring (service ``platform-admin``, user ``stripe-secret-key``).

    Returns no config (and a note saying how to add a key) when there is none: the app then
    runs with refunds disabled. ``api_base`` points at a test server (``--stripe-api-base``).
    """
    env = os.environ if env is None else env
    base = (api_base or STRIPE_API_BASE).strip().rstrip("/")
    notes: list[str] = []
    problem = api_base_problem(base)
    if problem:
        return StripeConfigResult(None, (f"{problem} Refunds are disabled.",))
    key = (env.get(STRIPE_KEY_ENV) or "").strip()
    source = f"${STRIPE_KEY_ENV}"
    problem = None
    if not key and use_keyring:
        stored, problem = _from_keyring()
        key = (stored or "").strip()
        source = "the OS keyring"
    if not key:
        if problem:
            notes.append(f"Refunds are disabled: no Stripe secret key. {problem} "
                         f"Set ${STRIPE_KEY_ENV} to enable refunds.")
        else:
            notes.append(f"Refunds are disabled: no Stripe secret key (set ${STRIPE_KEY_ENV}, "
                         "or store it with 'platform-admin stripe set-key').")
        return StripeConfigResult(None, tuple(notes))
    if not key.startswith(("sk_", "rk_")):
        notes.append(f"The Stripe key from {source} does not look like a secret key "
                     "(sk_… or rk_…); refunds are disabled.")
        return StripeConfigResult(None, tuple(notes))
    return StripeConfigResult(StripeConfig(key, base, source), tuple(notes))


def api_base_problem(api_base: str) -> str | None:
    """What is wrong with a Stripe API address, in one sentence, or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(api_base)
        port = parts.port  # raises ValueError for a port that is not a number or too big
    except ValueError:
        port, parts = -1, None
    if parts is None or port == -1 or parts.scheme not in ("http", "https") or not parts.hostname:
        return (f'The Stripe API address "{api_base}" is not an address: expected '
                "https://host or http://host:port.")
    return None


def store_key_in_keyring(key: str) -> None:
    """Save the secret key in the OS keyring; raises ``keyring.errors.KeyringError`` (or
    ``RuntimeError`` with no backend) so the caller can say it did not work."""
    import keyring

    keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, key.strip())
