"""Read-side queries of refund requests: the Refunds view and a purchase's or booking's
history. Keyset pages on ``(created_at, id)`` (``ix_refund_requests_created`` /
``ix_refund_requests_status_created``), never OFFSET; frozen dataclasses out."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

from data.models import Content, Offering, OfferingBooking, Purchase, RefundRequest, User
from data.services.refunds import KINDS, OPEN_STATUSES, REQUEST_STATUSES


@dataclass(frozen=True)
class RefundRequestRow:
    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
    kind: str                     # purchase | booking
    target_id: uuid.UUID
    customer_id: uuid.UUID
    customer_email: str
    title: str
    amount: Decimal
    currency: str
    reason: str
    note: str | None
    actor: str
    status: str
    stripe_refund_id: str | None
    failure_message: str | None
    attempts: int
    retryable: bool               # status in OPEN_STATUSES
    credits_returned: int = 0
    full_refund: bool = False
    completed_at: dt.datetime | None = None


def _base() -> Select:
    r = RefundRequest
    kind = case((r.purchase_id.is_not(None), literal("purchase")), else_=literal("booking"))
    return (
        select(
            r.id, r.created_at, r.updated_at, kind.label("kind"),
            func.coalesce(r.purchase_id, r.booking_id).label("target_id"), r.customer_id,
            User.email, func.coalesce(Content.title, Offering.title, "").label("title"),
            r.amount, r.currency, r.reason, r.note, r.actor, r.status, r.stripe_refund_id,
            r.failure_message, r.attempts, r.credits_returned, r.full_refund, r.completed_at,
        )
        .join(User, User.id == r.customer_id)
        .outerjoin(Purchase, Purchase.id == r.purchase_id)
        .outerjoin(Content, Content.id == Purchase.content_id)
        .outerjoin(OfferingBooking, OfferingBooking.id == r.booking_id)
        .outerjoin(Offering, Offering.id == OfferingBooking.offering_id)
    )


def _row(raw: Any) -> RefundRequestRow:
    (rid, created, updated, kind, target, customer, email, title, amount, currency, reason,
     note, actor, status, refund_id, failure, attempts, credits, full, completed) = raw
    return RefundRequestRow(rid, created, updated, kind, target, customer, email, title, amount,
                            currency, reason, note, actor, status, refund_id, failure, attempts,
                            status in OPEN_STATUSES, credits, full, completed)


def refund_requests_page(
    session: Session,
    statuses: Sequence[str] | None = None,
    *,
    cursor: tuple[dt.datetime, uuid.UUID] | None = None,
    limit: int = 100,
) -> tuple[list[RefundRequestRow], Any]:
    """Refund requests newest first, optionally only those in ``statuses``; one keyset page
    after ``cursor`` and the cursor of the next (None at the end). Works with
    ``Database.page_fetcher(refund_requests_page, statuses)``."""
    r = RefundRequest
    stmt = _base()
    if statuses:
        unknown = set(statuses) - set(REQUEST_STATUSES)
        if unknown:
            raise ValueError(f"unknown refund statuses: {sorted(unknown)}")
        stmt = stmt.where(r.status.in_(list(statuses)))
    if cursor is not None:
        stmt = stmt.where(tuple_(r.created_at, r.id) < tuple_(*cursor))
    stmt = stmt.order_by(r.created_at.desc(), r.id.desc()).limit(limit + 1)
    raw = session.execute(stmt).all()
    more = len(raw) > limit
    rows = [_row(x) for x in raw[:limit]]
    next_cursor = (rows[-1].created_at, rows[-1].id) if more and rows else None
    return rows, next_cursor


def refund_requests_for(session: Session, kind: str, target_id: uuid.UUID,
                        ) -> list[RefundRequestRow]:
    """Every refund request of one purchase or booking, newest first."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    column = RefundRequest.purchase_id if kind == "purchase" else RefundRequest.booking_id
    stmt = _base().where(column == target_id).order_by(
        RefundRequest.created_at.desc(), RefundRequest.id.desc())
    return [_row(x) for x in session.execute(stmt).all()]


def refund_request(session: Session, request_id: uuid.UUID) -> RefundRequestRow | None:
    """One refund request, or None."""
    raw = session.execute(_base().where(RefundRequest.id == request_id)).first()
    return None if raw is None else _row(raw)


def open_refund_count(session: Session) -> int:
    """How many requests are open (``requested`` or ``pending``): for a status-bar hint."""
    return session.execute(
        select(func.count()).select_from(RefundRequest)
        .where(RefundRequest.status.in_(OPEN_STATUSES))
    ).scalar_one()
