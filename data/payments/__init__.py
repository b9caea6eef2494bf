"""Payments: the Stripe gateway, where its key comes from, and a local Stripe for the demo."""

from data.payments.config import (
    KEYRING_SERVICE,
    KEYRING_USERNAME,
    STRIPE_KEY_ENV,
    StripeConfig,
    StripeConfigResult,
    load_stripe_config,
)
from data.payments.localstripe import LocalStripe, LocalStripeError

_GATEWAY = frozenset({
    "REQUEST_METADATA_KEY", "PaymentDeclinedError", "PaymentError", "PaymentTimeoutError",
    "PaymentUnavailableError", "StripeGateway", "StripeRefund", "from_minor_units",
    "to_minor_units",
})


def __getattr__(name: str):
    """The gateway's names, imported on first use: the Stripe library takes about a second
    to import (aiohttp with it), and the app's window opens before any payment is needed."""
    if name in _GATEWAY:
        from data.payments import gateway

        return getattr(gateway, name)
    raise AttributeError(f"module 'data.payments' has no attribute {name!r}")

__all__ = [
    "KEYRING_SERVICE",
    "KEYRING_USERNAME",
    "REQUEST_METADATA_KEY",
    "STRIPE_KEY_ENV",
    "LocalStripe",
    "LocalStripeError",
    "PaymentDeclinedError",
    "PaymentTimeoutError",
    "PaymentError",
    "PaymentUnavailableError",
    "StripeConfig",
    "StripeConfigResult",
    "StripeGateway",
    "StripeRefund",
    "from_minor_units",
    "load_stripe_config",
    "to_minor_units",
]
