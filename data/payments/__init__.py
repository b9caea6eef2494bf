"""Payments: the Stripe gateway, where its key comes from, and a local Stripe for the demo."""

from data.payments.config import (
    KEYRING_SERVICE,
    KEYRING_USERNAME,
    STRIPE_KEY_ENV,
    StripeConfig,
    StripeConfigResult,
    load_stripe_config,
)
from data.payments.gateway import (
    REQUEST_METADATA_KEY,
    PaymentDeclinedError,
    PaymentError,
    PaymentTimeoutError,
    PaymentUnavailableError,
    StripeGateway,
    StripeRefund,
    from_minor_units,
    to_minor_units,
)
from data.payments.localstripe import LocalStripe, LocalStripeError

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
