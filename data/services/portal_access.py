"""A booking's portal access: given or extended until a time, revoked, or ended with the
booking; each change audited under the booking's id, so the booking's History shows it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import ConflictError, NotFoundError, ValidationError
from data.services.audit import record_change
from data.services.booking_rules import (
    ACCESS_ACTION,
    MAX_REASON,
    BookingResult,
    lock_offering,
    read_reason,
)
from data.services.text import parse_id, require_reason

__all__ = ["end_portal_access", "revoke_portal_access", "set_portal_access"]


def end_portal_access(session: Session, actor: str, booking_id: uuid.UUID, why: str) -> int:
    """Delete the booking's portal access rows, each audited under the booking's id (as an
    extension is), so the booking's History shows it; the row's own id stays in the old
    values. Returns how many there were."""
    gone = session.execute(text("""
        DELETE FROM offering_portal_access WHERE booking_id = :id
        RETURNING id, booking_id, user_id, offering_id, granted_at, expires_at
    """), {"id": booking_id}).mappings().all()
    for access in gone:
        record_change(session, actor=actor, action=ACCESS_ACTION,
                      entity_type="offering_portal_access", entity_id=booking_id,
                      old_values=dict(access), new_values=None, reason=why)
    return len(gone)


def set_portal_access(session: Session, actor: str, booking_id: Any, expires_at: Any,
                      reason: Any = None) -> BookingResult:
    """Give or extend a booking's portal access until ``expires_at`` (None: no end)."""
    booking_id = parse_id("booking", booking_id)
    if expires_at is not None and not isinstance(expires_at, dt.datetime):
        raise ValidationError({"expires_at": "Choose a date and time."})
    if isinstance(expires_at, dt.datetime) and expires_at.tzinfo is not None:
        expires_at = expires_at.astimezone(dt.UTC).replace(tzinfo=None)
    why = read_reason("reason", reason, False)
    offering_id = session.execute(text("SELECT offering_id FROM offering_bookings "
                                       "WHERE id = :id"), {"id": booking_id}).scalar()
    if offering_id is None:
        raise NotFoundError("This booking no longer exists.")
    now = lock_offering(session, offering_id).now  # the offering first, as every writer
    customer_id, status = session.execute(text(
        "SELECT customer_id, status FROM offering_bookings WHERE id = :id FOR UPDATE"),
        {"id": booking_id}).one()
    if status == "canceled":
        raise ConflictError("This booking is cancelled: it gives no portal access.")
    if expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "Choose a time in the future (to end access "
                                             "now, revoke it)."})
    old = session.execute(text(
        "SELECT id, expires_at FROM offering_portal_access WHERE booking_id = :id"),
        {"id": booking_id}).mappings().first()
    if old is None:
        session.execute(text("""
            INSERT INTO offering_portal_access (booking_id, user_id, offering_id, granted_at,
                expires_at, created_at, updated_at) VALUES (:b, :u, :o, :now, :e, :now, :now)
        """), {"b": booking_id, "u": customer_id, "o": offering_id, "now": now,
               "e": expires_at})
    else:
        session.execute(text("UPDATE offering_portal_access SET expires_at = :e, "
                             "updated_at = :now WHERE booking_id = :b"),
                        {"e": expires_at, "now": now, "b": booking_id})
    record_change(session, actor=actor, action=ACCESS_ACTION,
                  entity_type="offering_portal_access", entity_id=booking_id,
                  old_values=None if old is None else {"expires_at": old["expires_at"]},
                  new_values={"booking_id": booking_id, "expires_at": expires_at}, reason=why)
    return BookingResult(booking_id, offering_id, customer_id, status,
                         message="Portal access until "
                                 + (f"{expires_at:%Y-%m-%d %H:%M}." if expires_at
                                    else "further notice."))


def revoke_portal_access(session: Session, actor: str, booking_id: Any, reason: Any
                         ) -> BookingResult:
    """End a booking's portal access now, with a reason."""
    booking_id = parse_id("booking", booking_id)
    why = require_reason("reason", reason, MAX_REASON)
    row = session.execute(text("SELECT customer_id, offering_id, status FROM offering_bookings "
                               "WHERE id = :id"), {"id": booking_id}).first()
    if row is None:
        raise NotFoundError("This booking no longer exists.")
    n = end_portal_access(session, actor, booking_id, why)
    return BookingResult(booking_id, row[1], row[0], row[2], replayed=n == 0,
                         message="Portal access revoked." if n else "There was no access.")
