"""Operations on offering bookings: book on behalf, cancel, mark, portal access."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from data.operations.base import BatchOperation, Changes, Operation
from data.services import bookings
from data.services.bookings import BookingResult


class _BookingOperation(Operation):
    def changes(self, result: BookingResult) -> Changes:
        changed = Changes.of(offering_bookings=result.booking_id, offerings=result.offering_id,
                             offering_portal_access=None, users=result.customer_id)
        if result.tokens:
            changed = changed | Changes.of(credit_balances=result.customer_id,
                                           credit_transactions=None)
        return changed


@dataclass(frozen=True)
class BookOnBehalf(_BookingOperation):
    """Book a customer on an offering (complimentary or with credits), once per
    ``request_id`` (the new booking's id)."""

    offering_id: uuid.UUID
    customer_id: Any
    payment: str
    request_id: uuid.UUID
    override_reason: Any = None
    session_slot: Any = None
    action = "book the offering"

    def run(self, session: Session, actor: str) -> BookingResult:
        return bookings.book_on_behalf(session, actor, self.offering_id, self.customer_id,
                                       self.payment, self.request_id,
                                       override_reason=self.override_reason,
                                       session_slot=self.session_slot)


@dataclass(frozen=True)
class CancelBooking(_BookingOperation):
    """Cancel a booking not paid by card, with a reason (credits go back once)."""

    booking_id: uuid.UUID
    reason: Any
    action = "cancel the booking"

    def run(self, session: Session, actor: str) -> BookingResult:
        return bookings.cancel_booking(session, actor, self.booking_id, self.reason)


@dataclass(frozen=True)
class MarkBooking(_BookingOperation):
    """Mark a booking completed or no-show."""

    booking_id: uuid.UUID
    status: str
    action = "mark the booking"

    def run(self, session: Session, actor: str) -> BookingResult:
        return bookings.mark_booking(session, actor, self.booking_id, self.status)


@dataclass(frozen=True)
class SetPortalAccess(_BookingOperation):
    """Give or extend a booking's portal access until ``expires_at``."""

    booking_id: uuid.UUID
    expires_at: dt.datetime | None
    reason: Any = None
    action = "change the portal access"

    def run(self, session: Session, actor: str) -> BookingResult:
        return bookings.set_portal_access(session, actor, self.booking_id, self.expires_at,
                                          self.reason)


@dataclass(frozen=True)
class RevokePortalAccess(_BookingOperation):
    """End a booking's portal access now."""

    booking_id: uuid.UUID
    reason: Any
    action = "revoke the portal access"

    def run(self, session: Session, actor: str) -> BookingResult:
        return bookings.revoke_portal_access(session, actor, self.booking_id, self.reason)


@dataclass(frozen=True)
class CancelOfferingBookings(BatchOperation):
    """Cancel an offering's previewed bookings batch by batch, each return keyed by its
    booking (a card booking's refund by offering and booking); Resume (run again) never
    returns twice. ``gateway`` is the Stripe gateway for the card refunds (None: Stripe is
    not configured, card bookings stay confirmed and are listed)."""

    offering_id: uuid.UUID
    reason: Any
    booking_ids: tuple[uuid.UUID, ...]
    gateway: Any = field(default=None, compare=False)
    action = "cancel the offering's bookings"

    def run(self, session_factory: sessionmaker[Session], actor: str,
            progress: Callable[[int, int], None],
            should_stop: Callable[[], bool]) -> bookings.BulkCancelResult:
        return bookings.run_offering_cancellation(
            session_factory, actor, self.offering_id, self.reason, list(self.booking_ids),
            progress=progress, should_stop=should_stop, gateway=self.gateway)

    def changes(self, result: bookings.BulkCancelResult) -> Changes:
        return Changes.of(offering_bookings=self.booking_ids, offerings=self.offering_id,
                          offering_portal_access=None, credit_balances=None,
                          credit_transactions=None, refund_requests=None)
