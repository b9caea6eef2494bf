"""Refund operations: they call Stripe, so they run on the payments queue."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from data.operations.base import Changes, PaymentOperation
from data.services import refunds


def _refund_changes(kind: str | None, target_id: uuid.UUID | None,
                    request_id: uuid.UUID | None) -> Changes:
    table = {"purchase": "purchases", "booking": "offering_bookings"}.get(kind or "")
    changed = Changes.of(refund_requests=request_id if request_id else None)
    if table is None:  # not known which: whatever shows purchases or bookings reloads
        return changed | Changes.of(purchases=None, offering_bookings=None,
                                    credit_balances=None)
    # A booking paid with tokens gets them back: the balance changes too.
    return changed | Changes.of(**{table: target_id}) | Changes.of(credit_balances=None)


@dataclass(frozen=True)
class RefundPurchase(PaymentOperation):
    """Refund a purchase or booking (``kind``) through Stripe, once per ``request_id``."""

    kind: str
    target_id: uuid.UUID
    refund: refunds.RefundInput
    request_id: uuid.UUID
    action = "refund"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> refunds.RefundOutcome:
        return refunds.submit_refund(session_factory, gateway, actor, self.kind,
                                     self.target_id, self.refund, self.request_id)

    def changes(self, result: refunds.RefundOutcome) -> Changes:
        return _refund_changes(self.kind, self.target_id, result.request_id)


@dataclass(frozen=True)
class RetryRefund(PaymentOperation):
    """Ask Stripe again about an open request, with its stored idempotency key."""

    request_id: uuid.UUID
    kind: str | None = None
    target_id: uuid.UUID | None = None
    action = "retry the refund"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> refunds.RefundOutcome:
        return refunds.retry_refund(session_factory, gateway, actor, self.request_id)

    def changes(self, result: refunds.RefundOutcome) -> Changes:
        return _refund_changes(self.kind, self.target_id, self.request_id)


@dataclass(frozen=True)
class FinishOpenRefunds(PaymentOperation):
    """Ask Stripe about every open request and finish those it has answered."""

    action = "check the open refunds"

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> list[refunds.RefundOutcome]:
        return refunds.finish_open_refunds(session_factory, gateway, actor)

    def changes(self, result: list[refunds.RefundOutcome]) -> Changes:
        if not result:
            return Changes()
        return _refund_changes(None, None, None)
