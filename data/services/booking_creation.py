"""Booking on behalf of a customer: complimentary, or with credits through the ledger.

Under the offering's lock (:func:`~data.services.booking_rules.lock_offering`) the booking
is checked against the capacity rules of :mod:`data.schedules`, the registration deadline
(unless overridden with a reason) and "one confirmed booking per customer per offering",
then written with its counter and portal access in one statement. Once only: the booking
has the request id its dialog created as its own id, so a double click or a retry finds it
and answers it (``replayed``); its credits are taken through
:func:`data.services.credits.move_booking_credits` keyed by :func:`spend_key`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data import schedules
from data.errors import ConflictError, ValidationError
from data.services.audit import record_change
from data.services.booking_rules import (
    BOOK_ACTION,
    MAX_REASON,
    BookingResult,
    LockedOffering,
    lock_offering,
    read_reason,
)
from data.services.credits import move_booking_credits
from data.services.text import parse_id

__all__ = ["PAYMENTS", "book_on_behalf", "spend_key"]

PAYMENTS = ("complimentary", "credits")
"""How staff may pay for a booking they make (card payment is the platform's checkout)."""
_SPEND = uuid.UUID("5b0c4d6e-8d3f-4f39-9d7e-0a6f1c2b3e41")


def spend_key(booking_id: uuid.UUID) -> uuid.UUID:
    """The ledger request id of the tokens paid for a booking: one per booking."""
    return uuid.uuid5(_SPEND, str(booking_id))


def _holding(session: Session, offering_id: uuid.UUID, slot: tuple[str, str] | None
             ) -> list[tuple[str, Any]]:
    """The bookings the capacity rule counts for one more booking (on ``slot``): counted by
    status in SQL, or only those on that session of a recurring_bookable offering."""
    if slot is not None:
        on = json.dumps({"booked_sessions": [{"date": slot[0], "time": slot[1]}]})
        return [tuple(r) for r in session.execute(text(
            "SELECT status, booking_details FROM offering_bookings WHERE offering_id = :o "
            "AND booking_details @> CAST(:on AS jsonb)"), {"o": offering_id, "on": on})]
    counts = session.execute(text("SELECT status, count(*) FROM offering_bookings "
                                  "WHERE offering_id = :o GROUP BY status"),
                             {"o": offering_id}).all()
    return [(status, None) for status, n in counts for _ in range(n)]


def _portal_expiry(o: LockedOffering) -> dt.datetime | None:
    """Access ends ``access_after_days`` after the last day of a dated offering."""
    config = o.portal_config if isinstance(o.portal_config, dict) else {}
    after = config.get("access_after_days")
    if not isinstance(after, int) or isinstance(after, bool) or o.offering_type not in \
            schedules.DATED_TYPES:
        return None
    try:
        s = schedules.parse(o.offering_type, o.schedule)
    except ValidationError:
        return None
    last = s["end_date"] or s["date"] or s["cohort_start_date"]
    if s["cohort_start_date"]:
        last = s["cohort_start_date"] + dt.timedelta(weeks=s["weeks"])
    return dt.datetime.combine(last, dt.time(0)) + dt.timedelta(days=after + 1)


def _session_of(o: LockedOffering, value: Any) -> tuple[str, str] | None:
    """The ``(date, time)`` a recurring_bookable booking is for, checked."""
    if o.offering_type != "recurring_bookable":
        return None
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValidationError({"session": "Choose the session's date and time."})
    date, time = value
    errors: dict[str, str] = {}
    day = at = None
    try:
        day = schedules.read_date("session_date", date)
    except ValidationError as exc:
        errors.update(exc.field_errors)
    try:
        at = schedules.read_time("session_time", time)
    except ValidationError as exc:
        errors.update(exc.field_errors)
    if errors or day is None or at is None:
        raise ValidationError(errors)
    return day.isoformat(), at.strftime("%H:%M")


def book_on_behalf(
    session: Session, actor: str, offering_id: Any, customer_id: Any, payment: str,
    request_id: Any, *, override_reason: Any = None, session_slot: Any = None,
) -> BookingResult:
    """Book ``customer_id`` on ``offering_id``, paid ``complimentary`` or with ``credits``
    (the offering's credit cost, through the ledger service), once per ``request_id``
    (which becomes the booking's id).

    Refused (nothing written): the offering is full under the capacity rules, or not
    published; the customer already holds a confirmed booking; the registration deadline
    has passed, unless ``override_reason`` says why; too few tokens. A recurring_bookable
    booking names its ``session_slot`` ``(date, time)``; it gets portal access like any.
    """
    offering_id = parse_id("offering", offering_id)
    customer_id = parse_id("customer", customer_id, "Choose a customer.")
    booking_id = parse_id("request_id", request_id)
    if payment not in PAYMENTS:
        raise ValidationError({"payment": "Choose complimentary or credits."})
    override = read_reason("override_reason", override_reason, False)
    o, facts = _lock_for_booking(session, offering_id, booking_id, customer_id)
    if facts["replay"] is not None:
        return _replayed(booking_id, offering_id, customer_id, facts["replay"])
    slot = _session_of(o, session_slot)
    if o.deleted or o.status != "published":
        raise ConflictError(f"“{o.title}” is not published ({o.status}); it cannot be booked.")
    if facts["held"]:
        raise ValidationError({"customer": "This customer already holds a confirmed booking "
                                           "of this offering."})
    if o.deadline is not None and o.now > o.deadline and override is None:
        raise ValidationError({"override_reason": "Registration closed on "
                               f"{o.deadline:%Y-%m-%d %H:%M}; give a reason to book anyway."})
    holding = _holding(session, offering_id, slot) if slot is not None else \
        [(status, None) for status, n in (facts["counts"] or {}).items() for _ in range(n)]
    full = schedules.capacity_problems(o.offering_type, o.max_participants, holding, extra=1,
                                       session=slot)
    if full:
        on = f" on the session of {slot[0]} {slot[1]}" if slot else ""
        taken = ("its one place is taken" if o.max_participants == 1
                 else f"all {o.max_participants:,} places are taken")
        raise ConflictError(f"“{o.title}” is full: {taken}{on}. Nothing was booked.")
    if payment == "credits" and not o.credit_cost:
        raise ValidationError({"payment": "This offering cannot be booked with credits."})
    if not facts["customer"]:
        raise ValidationError({"customer": "No such customer (or the account is deleted)."})
    credits = (o.credit_cost or 0) if payment == "credits" else 0
    details: dict[str, Any] = {"booked_by_staff": True}
    if payment == "complimentary":
        details["complimentary"] = True
    if override is not None:
        details["override_reason"] = override
    if slot is not None:
        details["booked_sessions"] = [{"date": slot[0], "time": slot[1]}]
    if o.offering_type == "cohort_course" and isinstance(o.schedule, dict):
        details["cohort_start_date"] = o.schedule.get("cohort_start_date")
    # The booking, the counter and the portal access: one statement, one round trip.
    session.execute(_BOOK, {"id": booking_id, "c": customer_id, "o": offering_id,
                            "now": o.now, "method": "credits" if credits else "purchase",
                            "credits": credits, "details": json.dumps(details),
                            "expires": _portal_expiry(o)})
    if credits:
        move_booking_credits(session, actor, booking_id, "spend", customer_id, -credits,
                             f"Booking of “{o.title}” ({booking_id})"[:MAX_REASON],
                             spend_key(booking_id))
    record_change(session, actor=actor, action=BOOK_ACTION, entity_type="offering_booking",
                  entity_id=booking_id, old_values=None,
                  new_values={"offering_id": offering_id, "customer_id": customer_id,
                              "payment": payment, "credits_used": credits,
                              "booking_details": details},
                  reason=override)
    return BookingResult(booking_id, offering_id, customer_id, "confirmed", -credits,
                         message=f"Booked “{o.title}”"
                                 + (f" for {credits:,} credits." if credits else
                                    " (complimentary)."))


# Read after the lock, in a statement of its own: a statement that waited for the row lock
# still sees the rest of the database as of its start (READ COMMITTED re-reads only the
# locked row), so counting in the locking statement would miss the bookings committed by
# the transaction it waited for. (Measured: eight racers all got a seat that way.)
_FACTS = text("""
SELECT (SELECT jsonb_build_array(b.offering_id, b.customer_id, b.status, b.credits_used)
        FROM offering_bookings b WHERE b.id = :b),
       EXISTS (SELECT FROM offering_bookings b WHERE b.offering_id = :o
               AND b.customer_id = :c AND b.status = 'confirmed'),
       EXISTS (SELECT FROM users u WHERE u.id = :c AND u.deleted_at IS NULL),
       (SELECT jsonb_object_agg(s.status, s.n) FROM (
            SELECT b.status, count(*) AS n FROM offering_bookings b
            WHERE b.offering_id = :o GROUP BY b.status) s)
""")

_BOOK = text("""
WITH booking AS (
    INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method, amount_paid,
        credits_used, booking_details, status, created_at, updated_at)
    VALUES (:id, :c, :o, :method, 0, :credits, CAST(:details AS jsonb), 'confirmed', :now,
            :now)
    RETURNING id
), counter AS (
    UPDATE offerings SET booking_count = booking_count + 1
    WHERE id = :o AND EXISTS (SELECT FROM booking)
)
INSERT INTO offering_portal_access (booking_id, user_id, offering_id, granted_at, expires_at,
    created_at, updated_at)
SELECT id, :c, :o, :now, :expires, :now, :now FROM booking
""")


def _lock_for_booking(session: Session, offering_id: uuid.UUID, booking_id: uuid.UUID,
                      customer_id: uuid.UUID) -> tuple[LockedOffering, dict[str, Any]]:
    """Lock the offering, then read under the lock, in one more round trip, what booking
    decides on: an earlier answer to this request, a confirmed booking the customer holds,
    whether the customer exists, and the bookings by status."""
    o = lock_offering(session, offering_id)
    row = session.execute(_FACTS, {"o": offering_id, "b": booking_id,
                                   "c": customer_id}).one()
    return o, {"replay": row[0], "held": row[1], "customer": row[2], "counts": row[3]}


def _replayed(booking_id: uuid.UUID, offering_id: uuid.UUID, customer_id: uuid.UUID,
              stored: list[Any]) -> BookingResult:
    if (str(offering_id), str(customer_id)) != (stored[0], stored[1]):
        raise ConflictError("This request was already used for another booking; open the "
                            "dialog again to make a new one.")
    return BookingResult(booking_id, offering_id, customer_id, stored[2],
                         -int(stored[3] or 0), replayed=True,
                         message="This booking was already made.")
