"""Stripe's subscription API through the gateway: read, cancel at period end, resume,
cancel now, list (the drift check); create (demo data and tests).

Kept beside :mod:`data.payments.gateway` (same client, same retries with the caller's
idempotency key, same errors) rather than in it. Facts about localstripe 1.15 that shape
this (DESIGN §5): it keeps ``current_period_end`` on the subscription while Stripe's newer
API keeps it on the items (both are read); an unknown id is a plain 404 (decided on the HTTP
status); listing hides canceled subscriptions and pages by 10 (``status=all``, pages
followed). Every answer crosses threads as a frozen :class:`StripeSubscription`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from data.payments.gateway import StripeGateway
from data.payments.stripe_library import stripe

__all__ = ["StripeSubscription", "cancel_subscription", "create_subscription",
           "iter_subscriptions", "retrieve_subscription", "set_cancel_at_period_end"]


@dataclass(frozen=True)
class StripeSubscription:
    id: str
    status: str
    """Stripe's status: besides the four the schema stores, ``incomplete``,
    ``incomplete_expired``, ``unpaid`` and ``paused``."""
    cancel_at_period_end: bool
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    canceled_at: dt.datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)


def _time(value: Any) -> dt.datetime | None:
    """Stripe's epoch seconds as the platform's naive UTC."""
    if value in (None, ""):
        return None
    return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)


def _subscription(raw: Any) -> StripeSubscription:
    obj = raw.to_dict() if hasattr(raw, "to_dict") else dict(raw)
    items = ((obj.get("items") or {}).get("data") or [{}])
    first = items[0] if items else {}
    start = obj.get("current_period_start") or first.get("current_period_start")
    end = obj.get("current_period_end") or first.get("current_period_end")
    return StripeSubscription(
        id=obj["id"], status=str(obj.get("status") or ""),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        current_period_start=_time(start), current_period_end=_time(end),
        canceled_at=_time(obj.get("canceled_at") or obj.get("ended_at")),
        metadata={str(k): str(v) for k, v in dict(obj.get("metadata") or {}).items()})


def retrieve_subscription(gateway: StripeGateway, subscription_id: str
                          ) -> StripeSubscription | None:
    """Stripe's view of a subscription; None when Stripe does not know it (HTTP 404)."""
    def call(client: stripe.StripeClient) -> StripeSubscription | None:
        try:
            return _subscription(client.v1.subscriptions.retrieve(subscription_id))
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "http_status", None) == 404:
                return None
            raise
    return gateway.call(call)


def set_cancel_at_period_end(gateway: StripeGateway, subscription_id: str, cancel: bool, *,
                             idempotency_key: str) -> StripeSubscription:
    """Cancel at the period's end (``cancel``) or resume; the same key on every retry."""
    return gateway.call(lambda client: _subscription(client.v1.subscriptions.update(
        subscription_id, params={"cancel_at_period_end": cancel},
        options={"idempotency_key": idempotency_key})))


def cancel_subscription(gateway: StripeGateway, subscription_id: str, *,
                        idempotency_key: str) -> StripeSubscription:
    """End the subscription now (Stripe answers a canceled one as it is)."""
    return gateway.call(lambda client: _subscription(client.v1.subscriptions.cancel(
        subscription_id, options={"idempotency_key": idempotency_key})))


def iter_subscriptions(gateway: StripeGateway) -> Iterator[StripeSubscription]:
    """Every subscription Stripe holds, canceled ones included, page after page."""
    starting_after = None
    while True:
        params: dict[str, Any] = {"status": "all", "limit": 100}
        if starting_after:
            params["starting_after"] = starting_after
        page = _list_page(gateway, params)
        for obj in page.data:
            yield _subscription(obj)
        if not page.has_more or not page.data:
            return
        starting_after = page.data[-1]["id"]


def _list_page(gateway: StripeGateway, params: dict[str, Any]) -> Any:
    return gateway.call(
        lambda client: client.v1.subscriptions.list(params=params))


def create_subscription(gateway: StripeGateway, email: str, amount: int, interval: str,
                        *, currency: str = "usd",
                        metadata: Mapping[str, str] | None = None) -> StripeSubscription:
    """A paying customer with a card and a subscription to a plan of ``amount`` minor units
    a ``interval`` ("month" or "year"). For test servers and the demo."""
    def create(stripe_client: stripe.StripeClient) -> StripeSubscription:
        client = stripe_client.v1
        pm = client.payment_methods.create(params={"type": "card", "card": {
            "number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
        customer = client.customers.create(params={
            "email": email, "payment_method": pm.id,
            "invoice_settings": {"default_payment_method": pm.id}})
        product = client.products.create(params={"name": f"Plan {amount} {interval}"})
        plan = client.plans.create(params={"amount": amount, "currency": currency,
                                           "interval": interval, "product": product.id})
        return _subscription(client.subscriptions.create(params={
            "customer": customer.id, "items": [{"plan": plan.id}],
            "metadata": dict(metadata or {})}))
    return gateway.call(create)


DEMO_REAL_SUBSCRIPTIONS = 20
"""How many of the most recent current demo subscriptions get a real one on localstripe
(five calls each; localstripe slows with every object it holds)."""


def make_subscriptions_real(session_factory: Any, gateway: StripeGateway,
                            count: int = DEMO_REAL_SUBSCRIPTIONS) -> int:
    """Give the most recent active, trialing and past-due demo subscriptions a real
    subscription on a test Stripe (their tier's price; cancel at period end as the row
    says) and write its id and period back; returns how many. Test-mode keys only."""
    from sqlalchemy import text  # noqa: PLC0415 - the payments package needs no SQL otherwise

    if not gateway.config.is_test_mode:
        raise ValueError("make_subscriptions_real only runs against a test-mode Stripe key")
    with session_factory() as session:
        rows = session.execute(text("""
            SELECT s.id, u.email, s.billing_period, s.cancel_at_period_end,
                   CASE s.billing_period WHEN 'yearly' THEN t.price_yearly
                        ELSE t.price_monthly END AS price
            FROM subscriptions s JOIN users u ON u.id = s.customer_id
            JOIN subscription_tiers t ON t.id = s.tier_id
            WHERE s.status IN ('active', 'trialing', 'past_due')
              AND s.stripe_subscription_id LIKE 'sub_demo_%'
            ORDER BY s.created_at DESC, s.id DESC LIMIT :n"""), {"n": count}).all()
    for r in rows:
        amount = int((r.price or 0) * 100) or 100
        real = create_subscription(gateway, r.email, amount,
                                   "year" if r.billing_period == "yearly" else "month",
                                   metadata={"platform_subscription": str(r.id)})
        if r.cancel_at_period_end:
            real = set_cancel_at_period_end(gateway, real.id, True,
                                            idempotency_key=f"demo-cape-{r.id}")
        with session_factory.begin() as session:
            session.execute(text(
                "UPDATE subscriptions SET stripe_subscription_id = :sid, "
                "current_period_start = coalesce(:start, current_period_start), "
                "current_period_end = coalesce(:end, current_period_end) WHERE id = :id"),
                {"sid": real.id, "start": real.current_period_start,
                 "end": real.current_period_end, "id": r.id})
    return len(rows)
