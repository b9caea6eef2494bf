"""What every staff change of a booking shares: lock the offering, then count under the lock.

Capacity holds for every writer of the app (pretix's rule: lock what you count): each
change that adds, removes or re-labels a booking first locks the offering row
(:func:`lock_offering`, ``SELECT … FOR UPDATE``), then counts under that lock with the rules
of :mod:`data.schedules` and writes in the same transaction. Every path that locks a booking
row takes its offering first, so two writers never wait on each other in a circle. Each
change answers with a :class:`BookingResult` and writes its audit row under one of the
action names below.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import NotFoundError
from data.services.text import clean_line, require_reason

__all__ = ["ACCESS_ACTION", "BOOK_ACTION", "CANCEL_ACTION", "MARK_ACTION", "MAX_REASON",
           "BookingResult", "LockedOffering", "counted_bookings", "lock_offering",
           "read_reason"]

MAX_REASON = 500

BOOK_ACTION = "booking.create"
CANCEL_ACTION = "booking.cancel"
MARK_ACTION = "booking.mark"
ACCESS_ACTION = "booking.portal_access"


@dataclass(frozen=True)
class BookingResult:
    """What a booking action did: the booking, its offering and customer, its status now,
    the tokens moved (negative: paid) and whether this answered an earlier request."""

    booking_id: uuid.UUID
    offering_id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    tokens: int = 0
    replayed: bool = False
    message: str = ""


@dataclass(frozen=True)
class LockedOffering:
    id: uuid.UUID
    title: str
    offering_type: str
    max_participants: int | None
    credit_cost: int | None
    status: str
    deadline: dt.datetime | None
    deleted: bool
    schedule: Any
    portal_config: Any
    now: dt.datetime


_LOCK = text("""
SELECT id, title, offering_type, max_participants, credit_cost, status,
       registration_deadline, deleted_at IS NOT NULL, schedule, portal_config,
       now()::timestamp
FROM offerings WHERE id = :id FOR UPDATE
""")


def lock_offering(session: Session, offering_id: uuid.UUID) -> LockedOffering:
    """Lock the offering row (until commit) and read what the rules need."""
    row = session.execute(_LOCK, {"id": offering_id}).first()
    if row is None:
        raise NotFoundError("This offering no longer exists.")
    return LockedOffering(*row)


_BOOKINGS_OF = text("SELECT status, booking_details FROM offering_bookings "
                    "WHERE offering_id = :id")


def counted_bookings(session: Session, offering_id: uuid.UUID) -> list[tuple[str, Any]]:
    return [tuple(r) for r in session.execute(_BOOKINGS_OF, {"id": offering_id})]


def read_reason(field: str, value: Any, required: bool) -> str | None:
    """``field``'s reason, one line of at most :data:`MAX_REASON` characters: required
    (a field error when blank) or optional (None when blank)."""
    if required:
        return require_reason(field, value, MAX_REASON)
    return clean_line(field, value, MAX_REASON) or None
