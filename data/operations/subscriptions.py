"""Operations on a customer's subscription through Stripe (cancel at period end, resume,
cancel now). They call Stripe, so they run on the payments queue and own their
transactions; each announces the subscription it changed (and its customer's and tier's
rows, whose counts and MRR follow)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from data.operations.base import Changes, PaymentOperation
from data.services import subscriptions as service
from data.services.subscriptions import ChangeResult

__all__ = ["ChangeSubscription", "CheckSubscriptionDrift", "FinishOpenSubscriptionChanges"]


@dataclass(frozen=True)
class ChangeSubscription(PaymentOperation):
    """``action`` (``cancel_at_period_end``, ``resume`` or ``cancel_now``) of one
    subscription, once per ``request_id`` (made when the dialog opened)."""

    request_id: uuid.UUID
    subscription_id: uuid.UUID
    change: str
    action = "change the subscription"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> ChangeResult:
        return service.change_subscription(session_factory, gateway, actor, self.request_id,
                                           self.subscription_id, self.change)

    def changes(self, result: ChangeResult) -> Changes:
        s = result.subscription
        return Changes.of(subscriptions=s.id, users=s.customer_id, subscription_tiers=s.tier_id)


@dataclass(frozen=True)
class FinishOpenSubscriptionChanges(PaymentOperation):
    """Finish every subscription change left open (the app stopped after Stripe answered,
    or Stripe was unreachable): ``(results, sentences for those still open)``."""

    action = "finish open subscription changes"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> tuple[list[ChangeResult], list[str]]:
        return service.recover_subscription_requests(session_factory, gateway, actor)

    def changes(self, result: tuple[list[ChangeResult], list[str]]) -> Changes:
        changed = Changes()
        for r in result[0]:
            s = r.subscription
            changed |= Changes.of(subscriptions=s.id, users=s.customer_id,
                                  subscription_tiers=s.tier_id)
        return changed


@dataclass(frozen=True)
class CheckSubscriptionDrift(PaymentOperation):
    """Read only: every difference between the current subscriptions and Stripe."""

    action = "compare the subscriptions with Stripe"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> list[service.Drift]:
        with session_factory() as session:
            return service.check_drift(session, gateway)
