"""A booking's status changed by staff: cancelled (saying first what that returns), or
marked completed or no-show.

Cancelling frees the place (``booking_count`` follows), ends the portal access and gives back
what was paid with credits, through the ledger keyed by :func:`return_key` (once, whatever is
retried); a subscription booking returns nothing. A booking paid by card is cancelled through
the refund flow (:mod:`data.services.refunds`), never by :func:`cancel_booking`. Each change
locks the offering first (:func:`~data.services.booking_rules.lock_offering`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import ConflictError, NotFoundError, ValidationError
from data.services.audit import record_change
from data.services.booking_rules import (
    CANCEL_ACTION,
    MARK_ACTION,
    MAX_REASON,
    BookingResult,
    lock_offering,
)
from data.services.credits import move_booking_credits
from data.services.portal_access import end_portal_access
from data.services.text import parse_id, require_reason

__all__ = ["MARKS", "CancellationPlan", "cancel_booking", "cancellation_plan", "mark_booking",
           "return_key"]

_RETURN = uuid.UUID("c7a1e2f0-3b4d-4c5e-8f60-71829304a5b6")


def return_key(booking_id: uuid.UUID) -> uuid.UUID:
    """The ledger request id of the tokens given back for a booking: one per booking."""
    return uuid.uuid5(_RETURN, str(booking_id))


@dataclass(frozen=True)
class CancellationPlan:
    """What cancelling a booking will do, for the one dialog that says so first."""

    booking_id: uuid.UUID
    status: str
    payment_method: str
    amount_paid: Any
    credits: int
    by_card: bool
    lines: tuple[str, ...]
    refusal: str | None


def cancellation_plan(session: Session, booking_id: Any) -> CancellationPlan:
    """What :func:`cancel_booking` would do to ``booking_id`` (nothing written)."""
    booking_id = parse_id("booking", booking_id)
    row = session.execute(text("""
        SELECT b.status, b.payment_method, coalesce(b.amount_paid, 0),
               coalesce(b.credits_used, 0), o.title,
               EXISTS (SELECT FROM offering_portal_access a WHERE a.booking_id = b.id)
        FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id WHERE b.id = :id
    """), {"id": booking_id}).first()
    if row is None:
        raise NotFoundError("This booking no longer exists.")
    status, method, paid, credits, title, portal = row
    by_card = method == "purchase" and paid > 0
    lines = [f"The booking of “{title}” is cancelled and its place freed."]
    if by_card:
        lines.append(f"Paid {paid} by card: the refund dialog returns the money (full or "
                     "partial) through Stripe, and cancels the booking when Stripe confirms.")
    elif method == "credits" and credits:
        lines.append(f"{credits:,} credits go back to the customer's balance (once).")
    elif method == "subscription":
        lines.append("Covered by the customer's subscription: nothing to return.")
    else:
        lines.append("Nothing was paid: nothing to return.")
    if portal:
        lines.append("The customer's portal access ends now.")
    refusal = None
    if status == "canceled":
        refusal = "This booking is already cancelled."
    elif status != "confirmed":
        refusal = f"This booking is {status.replace('_', '-')}: the session took place."
    return CancellationPlan(booking_id, status, method, paid, credits if method == "credits"
                            else 0, by_card, tuple(lines), refusal)


def cancel_booking(session: Session, actor: str, booking_id: Any, reason: Any
                   ) -> BookingResult:
    """Cancel a confirmed booking not paid by card, with a reason: credits go back through
    the ledger keyed by the booking (once), a subscription booking returns nothing; the
    portal access ends and ``booking_count`` follows. Cancelling it again answers the first
    cancellation (``replayed``) and returns nothing more."""
    booking_id = parse_id("booking", booking_id)
    why = require_reason("reason", reason, MAX_REASON)
    offering_id = session.execute(text("SELECT offering_id FROM offering_bookings "
                                       "WHERE id = :id"), {"id": booking_id}).scalar()
    if offering_id is None:
        raise NotFoundError("This booking no longer exists.")
    o = lock_offering(session, offering_id)
    row = session.execute(text("""
        SELECT customer_id, status, payment_method, coalesce(amount_paid, 0),
               coalesce(credits_used, 0), canceled_at, cancellation_reason
        FROM offering_bookings WHERE id = :id FOR UPDATE
    """), {"id": booking_id}).one()
    customer_id, status, method, paid, credits, canceled_at, old_reason = row
    if status == "canceled":
        return BookingResult(booking_id, offering_id, customer_id, status, replayed=True,
                             message="This booking was already cancelled.")
    if status != "confirmed":
        raise ConflictError(f"This booking is {status.replace('_', '-')}: the session took "
                            "place, so it cannot be cancelled.")
    if method == "purchase" and paid > 0:
        raise ConflictError("This booking was paid by card: cancel it with a refund.")
    session.execute(text("""
        UPDATE offering_bookings SET status = 'canceled', canceled_at = :now,
            cancellation_reason = :why, updated_at = :now WHERE id = :id
    """), {"now": o.now, "why": why, "id": booking_id})
    session.execute(text("UPDATE offerings SET booking_count = greatest(booking_count - 1, 0) "
                         "WHERE id = :o"), {"o": offering_id})
    end_portal_access(session, actor, booking_id, why)
    returned = credits if method == "credits" else 0
    if returned:
        move_booking_credits(session, actor, booking_id, "return", customer_id, returned,
                             f"Cancelled booking of “{o.title}” ({booking_id})"[:MAX_REASON],
                             return_key(booking_id))
    record_change(session, actor=actor, action=CANCEL_ACTION, entity_type="offering_booking",
                  entity_id=booking_id,
                  old_values={"status": status, "canceled_at": canceled_at,
                              "cancellation_reason": old_reason},
                  new_values={"status": "canceled", "canceled_at": o.now,
                              "cancellation_reason": why, "credits_returned": returned},
                  reason=why)
    return BookingResult(booking_id, offering_id, customer_id, "canceled", returned,
                         message="Booking cancelled" + (f"; {returned:,} credits returned."
                                                        if returned else "."))


MARKS = ("completed", "no_show")


def mark_booking(session: Session, actor: str, booking_id: Any, status: str) -> BookingResult:
    """Mark a booking completed or no-show (each keeps its place)."""
    booking_id = parse_id("booking", booking_id)
    if status not in MARKS:
        raise ValidationError({"status": "Mark it completed or no-show."})
    offering_id = session.execute(text("SELECT offering_id FROM offering_bookings "
                                       "WHERE id = :id"), {"id": booking_id}).scalar()
    if offering_id is None:
        raise NotFoundError("This booking no longer exists.")
    o = lock_offering(session, offering_id)  # recurring_fixed counts confirmed seats
    customer_id, old = session.execute(text(
        "SELECT customer_id, status FROM offering_bookings WHERE id = :id FOR UPDATE"),
        {"id": booking_id}).one()
    if old == status:
        return BookingResult(booking_id, offering_id, customer_id, status, replayed=True)
    if old == "canceled":
        raise ConflictError("This booking is cancelled; it cannot be marked.")
    session.execute(text("UPDATE offering_bookings SET status = :s, updated_at = :now "
                         "WHERE id = :id"), {"s": status, "now": o.now, "id": booking_id})
    record_change(session, actor=actor, action=MARK_ACTION, entity_type="offering_booking",
                  entity_id=booking_id, old_values={"status": old},
                  new_values={"status": status})
    return BookingResult(booking_id, offering_id, customer_id, status,
                         message=f"Marked {status.replace('_', '-')}.")
