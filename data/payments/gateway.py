"""The app's one door to Stripe: refunds (and, for the demo and tests, payment intents).

Built on ``stripe.StripeClient`` with stripe-python's own network retries switched off: the
gateway retries transient failures itself (connection errors, rate limits, Stripe 5xx), with
backoff and always with the SAME idempotency key, the one the app stored before the first
call. stripe-python's own per-call key would protect only its own retries.

Errors, in words a support person can act on:

- :class:`PaymentDeclinedError`: Stripe said no for good (a card error or an invalid request,
  e.g. more than the charge or a payment intent Stripe does not know). Retrying won't help.
- :class:`PaymentUnavailableError`: Stripe could not be reached or asked us to slow down, or
  failed itself, after every retry; or the key was refused. Retrying later can help.

Every Stripe answer crosses threads as a frozen :class:`StripeRefund`, never a live object.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from data.errors import DomainError
from data.payments.config import StripeConfig
from data.payments.stripe_library import stripe

if TYPE_CHECKING:  # stripe-python's typed parameters, for annotations only
    from stripe import RequestOptions
    from stripe.params import RefundCreateParams, RefundListParams

log = logging.getLogger(__name__)

REQUEST_METADATA_KEY = "admin_refund_request"
"""Refund metadata naming the app's request: how recovery finds a refund Stripe already made."""
DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0)
DEFAULT_TIMEOUT = 25.0
"""Seconds a Stripe call may take before it is given up (stripe-python's own default is 80 s,
with retries): a slow Stripe must not hold a refund for minutes."""
ZERO_DECIMAL_CURRENCIES = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})


class PaymentError(DomainError):
    """A Stripe call did not do what was asked. ``code`` is Stripe's error code if any."""

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.code = code


class PaymentDeclinedError(PaymentError):
    """Stripe refused for good (card or invalid-request error): the same call will fail again."""


class PaymentUnavailableError(PaymentError):
    """Stripe could not answer (network, rate limit, 5xx, refused key, no answer in time):
    try again later."""


class PaymentTimeoutError(PaymentUnavailableError):
    """Stripe did not answer within the gateway's timeout. It may still have made the
    refund: the request stays open, and a retry first looks for it."""


@dataclass(frozen=True)
class StripeRefund:
    """A refund as Stripe reports it. ``amount`` is in minor units (cents)."""

    id: str
    status: str  # succeeded | pending | requires_action | failed | canceled
    amount: int
    currency: str
    payment_intent: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    failure_reason: str | None = None
    reason_sent: bool = True
    """False when the server refused a refund ``reason`` (a test server such as localstripe):
    the reason is then kept only in the app's record and the refund's metadata."""


def to_minor_units(amount: Any, currency: str) -> int:
    """Dollars (Decimal) to Stripe's integer minor units."""
    from decimal import Decimal

    value = Decimal(amount)
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return int(value)
    return int((value * 100).to_integral_value())


def from_minor_units(amount: int, currency: str):
    from decimal import Decimal

    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


def _refund(raw: Any) -> StripeRefund:
    obj = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    metadata = obj.get("metadata") or {}
    return StripeRefund(
        id=obj["id"],
        status=obj.get("status") or "pending",
        amount=int(obj.get("amount") or 0),
        currency=obj.get("currency") or "",
        payment_intent=obj.get("payment_intent"),
        metadata={str(k): str(v) for k, v in dict(metadata).items()},
        failure_reason=obj.get("failure_reason"),
    )


def _is_transient(exc: stripe.StripeError) -> bool:
    if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
        return True
    status = getattr(exc, "http_status", None)
    return isinstance(exc, stripe.APIError) or (status is not None and status >= 500)


def _message(exc: stripe.StripeError) -> str:
    text = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    return text.strip()


def _is_timeout(exc: stripe.StripeError) -> bool:
    if not isinstance(exc, stripe.APIConnectionError):
        return False
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 10:
        if isinstance(cause, TimeoutError) or "timed out" in str(cause).lower() \
                or "timeout" in type(cause).__name__.lower():
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


def _rejects_reason(exc: stripe.InvalidRequestError) -> bool:
    """A server that does not know a refund's ``reason`` parameter (localstripe says
    "Unexpected reason"); real Stripe accepts the ones the app sends."""
    param = getattr(exc, "param", None)
    text = _message(exc).lower()
    return param == "reason" or ("unexpected" in text and "reason" in text)


def _transient_cause(exc: stripe.StripeError) -> str:
    """A short cause for staff; the full text (e.g. urllib3's) goes to the log only."""
    log.info("Stripe unavailable: %s: %s", type(exc).__name__, _message(exc))
    if isinstance(exc, stripe.APIConnectionError):
        return "network error: no answer from Stripe"
    if isinstance(exc, stripe.RateLimitError):
        return "Stripe's rate limit: too many requests"
    status = getattr(exc, "http_status", None)
    return f"Stripe server error, HTTP {status}" if status else "Stripe server error"


class StripeGateway:
    """Calls Stripe. Thread-safe (stripe-python's client is); one per app.

    ``http_client`` replaces stripe-python's HTTP client (tests give a recording one);
    ``sleep`` and ``retry_delays`` shape the backoff between retries of transient failures
    (``len(retry_delays)`` retries after the first try). ``timeout`` (seconds) bounds each
    call; a call that times out is not retried (Stripe may still be working on it): it
    fails with :class:`PaymentTimeoutError` and the caller leaves the refund open.
    """

    def __init__(
        self,
        config: StripeConfig,
        *,
        http_client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.config = config
        self._sleep = sleep
        self._retry_delays = tuple(retry_delays)
        self.timeout = timeout
        # Set once a server refused ``reason`` (localstripe): later calls leave it out.
        self._reason_refused = False
        if http_client is None:
            http_client = stripe.RequestsClient(timeout=timeout)
        self._client = stripe.StripeClient(
            config.api_key,
            base_addresses={"api": config.api_base},
            http_client=http_client,
            max_network_retries=0,
        )

    def __repr__(self) -> str:
        return f"StripeGateway(api_base={self.config.api_base!r})"

    @property
    def api_base(self) -> str:
        return self.config.api_base

    # -- refunds ---------------------------------------------------------------------------

    def create_refund(
        self,
        payment_intent: str,
        amount: int,
        *,
        idempotency_key: str,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        on_attempt: Callable[[int], None] | None = None,
    ) -> StripeRefund:
        """Refund ``amount`` minor units of ``payment_intent``, once per ``idempotency_key``.

        ``reason`` is one of Stripe's (``requested_by_customer``, ``duplicate``,
        ``fraudulent``) or None; it is sent when the config says so, and always kept in the
        metadata. A server that refuses the parameter (a test server such as localstripe,
        reached with ``--stripe-api-base``) is asked once more without it, and the answer says
        so (``reason_sent=False``). Transient failures are retried with the same key;
        ``on_attempt(n)`` is called before each try (n from 1).
        """
        params: RefundCreateParams = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": dict(metadata or {}),
        }
        if reason and self.config.send_reason and not self._reason_refused:
            params["reason"] = reason
        send_reason = "reason" in params

        def create(with_params: RefundCreateParams) -> StripeRefund:
            return self._with_retries(
                lambda: _refund(self._client.v1.refunds.create(
                    params=with_params, options={"idempotency_key": idempotency_key})),
                on_attempt,
            )

        if not send_reason:
            refund = create(params)
            return replace(refund, reason_sent=False) if reason and self._reason_refused \
                else refund
        try:
            return create(params)
        except PaymentDeclinedError as exc:
            cause = exc.__cause__
            if not (isinstance(cause, stripe.InvalidRequestError) and _rejects_reason(cause)):
                raise
        # A refused parameter makes no refund, so asking again with the same key is safe.
        log.warning("Stripe at %s refused a refund reason (%s); refunds there are asked "
                    "without it and the reason is kept in the app's record and the refund's "
                    "metadata only.", self.config.api_base, _message(cause))
        self._reason_refused = True
        params.pop("reason")
        return replace(create(params), reason_sent=False)

    def retrieve_refund(self, refund_id: str) -> StripeRefund:
        """Stripe's current view of a refund (e.g. one that was pending)."""
        return self._with_retries(lambda: _refund(self._client.v1.refunds.retrieve(refund_id)))

    def find_refund(self, payment_intent: str, request_id: str) -> StripeRefund | None:
        """The refund of ``payment_intent`` that carries ``request_id`` in its metadata, if
        Stripe made one (the app may have died before recording Stripe's answer)."""

        def find() -> StripeRefund | None:
            starting_after = None
            while True:
                params: RefundListParams = {"payment_intent": payment_intent, "limit": 100}
                if starting_after:
                    params["starting_after"] = starting_after
                page = self._client.v1.refunds.list(params=params)
                for obj in page.data:
                    refund = _refund(obj)
                    if refund.metadata.get(REQUEST_METADATA_KEY) == request_id:
                        return refund
                if not page.has_more or not page.data:
                    return None
                starting_after = page.data[-1]["id"]

        return self._with_retries(find)

    # -- payments (demo data and tests) ----------------------------------------------------

    def create_payment_intent(
        self,
        amount: int,
        currency: str = "usd",
        *,
        payment_method: str = "pm_card_visa",
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        """Create and confirm a card payment; returns its id. For test servers and the demo."""
        options: RequestOptions = {"idempotency_key": idempotency_key} if idempotency_key else {}
        pi = self._with_retries(lambda: self._client.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": currency,
                "payment_method": payment_method,
                "confirm": True,
                "metadata": dict(metadata or {}),
            },
            options=options,
        ))
        if pi["status"] != "succeeded":
            raise PaymentDeclinedError(f"The payment was not completed ({pi['status']}).")
        return pi["id"]

    def call(self, request: Callable[[stripe.StripeClient], Any]) -> Any:
        """``request(client)`` with the gateway's retries and its translation of Stripe's
        errors (declined, unavailable): how other Stripe resources (subscriptions) are asked
        without reaching into the client. Pass the same idempotency key on every retry."""
        return self._with_retries(lambda: request(self._client))

    # -- retries ---------------------------------------------------------------------------

    def _with_retries(self, call: Callable[[], Any],
                      on_attempt: Callable[[int], None] | None = None) -> Any:
        attempt = 0
        while True:
            attempt += 1
            if on_attempt is not None:
                on_attempt(attempt)
            try:
                return call()
            except (stripe.CardError, stripe.InvalidRequestError, stripe.IdempotencyError) as exc:
                raise PaymentDeclinedError(_message(exc), code=getattr(exc, "code", None)) \
                    from exc
            except (stripe.AuthenticationError, stripe.PermissionError) as exc:
                raise PaymentUnavailableError(
                    "Stripe refused the app's API key; check the key and try again.",
                    code=getattr(exc, "code", None),
                ) from exc
            except stripe.StripeError as exc:
                if _is_timeout(exc):
                    log.info("Stripe call timed out after %.0f s: %s", self.timeout,
                             _message(exc))
                    raise PaymentTimeoutError(
                        f"Stripe did not answer within {self.timeout:g} seconds; it may still have "
                        "made the refund, so a retry first looks for it.",
                        code=getattr(exc, "code", None),
                    ) from exc
                if not _is_transient(exc):
                    raise PaymentDeclinedError(_message(exc),
                                               code=getattr(exc, "code", None)) from exc
                if attempt > len(self._retry_delays):
                    raise PaymentUnavailableError(
                        f"Stripe could not be reached after {attempt} tries "
                        f"({_transient_cause(exc)}).",
                        code=getattr(exc, "code", None),
                    ) from exc
                delay = self._retry_delays[attempt - 1]
                log.info("Stripe call failed (%s); retry %d in %.1fs",
                         type(exc).__name__, attempt, delay)
                self._sleep(delay)
