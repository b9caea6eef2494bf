"""Offering bookings made and changed by staff: book on behalf, cancel, mark, portal access.

Capacity holds for every writer of the app (pretix's rule: lock what you count): each
change that adds, removes or re-labels a booking first locks the offering row
(``SELECT … FOR UPDATE``), then counts under that lock with the rules of
:mod:`data.schedules` and writes in the same transaction. The same lock makes "one confirmed
booking per customer per offering" hold for the app's writes (the platform's table has no
constraint for it, and the app adds none). ``booking_count`` moves with each change: it is
the number of bookings not canceled. Every path that locks a booking row takes its
offering first, the refund flow finishing a card booking included, so two writers never
wait on each other in a circle.

Once only: a booking made here has the request id its dialog created as its own id, so a
double click or a retry finds it and answers it (``replayed``). Tokens move only through
:func:`data.services.credits.move_booking_credits` (``spent_offering`` and its return, with
``offering_booking_id``), keyed by the booking
(:func:`spend_key`, :func:`return_key`): a booking's credits are taken once and given back
once, whatever is retried. A booking paid by card is cancelled through the refund flow
(:mod:`data.services.refunds`), never by :func:`cancel_booking`; cancelling a whole offering
refunds its card bookings through that flow too (:func:`run_offering_cancellation`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data import schedules
from data.errors import ConflictError, NotFoundError, ValidationError
from data.models import RefundRequest
from data.services import refunds
from data.services.audit import record_change
from data.services.credits import move_booking_credits
from data.services.text import clean_line, parse_id, require_reason

__all__ = [
    "PAYMENTS",
    "BookingResult",
    "book_on_behalf",
    "cancel_booking",
    "cancellation_plan",
    "lock_offering",
    "mark_booking",
    "return_key",
    "revoke_portal_access",
    "set_portal_access",
    "spend_key",
]

PAYMENTS = ("complimentary", "credits")
"""How staff may pay for a booking they make (card payment is the platform's checkout)."""
MAX_REASON = 500
_SPEND = uuid.UUID("5b0c4d6e-8d3f-4f39-9d7e-0a6f1c2b3e41")
_RETURN = uuid.UUID("c7a1e2f0-3b4d-4c5e-8f60-71829304a5b6")

BOOK_ACTION = "booking.create"
CANCEL_ACTION = "booking.cancel"
MARK_ACTION = "booking.mark"
ACCESS_ACTION = "booking.portal_access"


def spend_key(booking_id: uuid.UUID) -> uuid.UUID:
    """The ledger request id of the tokens paid for a booking: one per booking."""
    return uuid.uuid5(_SPEND, str(booking_id))


def return_key(booking_id: uuid.UUID) -> uuid.UUID:
    """The ledger request id of the tokens given back for a booking: one per booking."""
    return uuid.uuid5(_RETURN, str(booking_id))


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


def _reason(field: str, value: Any, required: bool) -> str | None:
    if required:
        return require_reason(field, value, MAX_REASON)
    return clean_line(field, value, MAX_REASON) or None


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
    override = _reason("override_reason", override_reason, False)
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
        raise ConflictError(f"“{o.title}” is full: all {o.max_participants:,} places are "
                            f"taken{on}. Nothing was booked.")
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


def set_portal_access(session: Session, actor: str, booking_id: Any, expires_at: Any,
                      reason: Any = None) -> BookingResult:
    """Give or extend a booking's portal access until ``expires_at`` (None: no end)."""
    booking_id = parse_id("booking", booking_id)
    if expires_at is not None and not isinstance(expires_at, dt.datetime):
        raise ValidationError({"expires_at": "Choose a date and time."})
    if isinstance(expires_at, dt.datetime) and expires_at.tzinfo is not None:
        expires_at = expires_at.astimezone(dt.UTC).replace(tzinfo=None)
    why = _reason("reason", reason, False)
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


# -- cancelling an offering with its bookings (a guided bulk) ---------------------------------

@dataclass(frozen=True)
class BulkLine:
    """What one booking gets back when its offering is cancelled, and how."""

    booking_id: uuid.UUID
    customer: str
    returns: str
    how: str
    by_card: bool
    amount: Decimal = Decimal("0")  # what a card booking gets back through Stripe


@dataclass(frozen=True)
class BulkCancelResult:
    cancelled: int
    already: int
    by_card: int                  # card bookings left confirmed (their refund failed/waits)
    total: int
    stopped: bool
    credits_returned: int
    card_refunded: int = 0        # card bookings refunded through Stripe in this run
    amount_refunded: Decimal = Decimal("0")
    left: tuple[tuple[uuid.UUID, str], ...] = ()  # (booking, why it is still confirmed)


_REFUND_NS = uuid.UUID("0f3c1d52-77a4-4b0e-9d6c-5e2b8a4f1c93")


def card_refund_key(offering_id: uuid.UUID, booking_id: uuid.UUID) -> uuid.UUID:
    """The refund request id of a card booking's refund when its offering is cancelled: one
    per (offering, booking), so a rerun or a Resume finds the first request, never a second."""
    return uuid.uuid5(_REFUND_NS, f"{offering_id}:{booking_id}")


def offering_cancellation_preview(session: Session, offering_id: Any) -> list[BulkLine]:
    """Each confirmed booking of the offering with what cancelling returns and how."""
    offering_id = parse_id("offering", offering_id)
    rows = session.execute(text("""
        SELECT b.id, u.full_name || ' <' || u.email || '>', b.payment_method,
               coalesce(b.amount_paid, 0), coalesce(b.credits_used, 0),
               (SELECT coalesce(sum(r.amount), 0) FROM admin.refund_requests r
                WHERE r.booking_id = b.id AND r.status = 'succeeded')
        FROM offering_bookings b JOIN users u ON u.id = b.customer_id
        WHERE b.offering_id = :o AND b.status = 'confirmed' ORDER BY b.created_at, b.id
    """), {"o": offering_id}).all()
    out = []
    for bid, customer, method, paid, credits, refunded in rows:
        if method == "purchase" and paid > 0:
            remaining = max(paid - refunded, Decimal("0"))
            out.append(BulkLine(bid, customer, refunds.money(remaining),
                                "card: refunded in full through Stripe, once", True,
                                remaining))
        elif method == "credits" and credits:
            out.append(BulkLine(bid, customer, f"{credits:,} credits",
                                "back to the balance through the ledger, once", False))
        elif method == "subscription":
            out.append(BulkLine(bid, customer, "nothing", "covered by the subscription", False))
        else:
            out.append(BulkLine(bid, customer, "nothing", "complimentary", False))
    return out


def _refund_card_booking(session_factory, gateway, actor: str, offering_id: uuid.UUID,
                         booking_id: uuid.UUID, why: str) -> tuple[str, str, Decimal]:
    """Refund a card booking in full through the refund flow (request stored before the
    Stripe call, finished at start-up if the app dies after Stripe answered), with the
    request id :func:`card_refund_key`. Returns ``(state, message, amount)``: state is
    ``refunded``, ``already`` or ``left`` (still confirmed; the message says why)."""
    if gateway is None:
        return "left", ("Stripe is not configured: refund it with Refund once it is."), \
            Decimal("0")
    request_id = card_refund_key(offering_id, booking_id)
    with session_factory() as session:
        known = session.get(RefundRequest, request_id) is not None
        refundable = None if known else refunds.load_refundable(session, "booking", booking_id)
    try:
        if known:
            outcome = refunds.retry_refund(session_factory, gateway, actor, request_id)
        else:
            assert refundable is not None
            if refundable.refusal:
                return "left", refundable.refusal, Decimal("0")
            note = f"Offering cancelled: {why}"[:refunds.MAX_NOTE]
            outcome = refunds.submit_refund(
                session_factory, gateway, actor, "booking", booking_id,
                refunds.RefundInput(refundable.remaining, "other", note), request_id)
    except (ValidationError, ConflictError, NotFoundError) as exc:
        return "left", str(exc), Decimal("0")
    if outcome.status == "succeeded":
        return ("already" if outcome.replayed else "refunded"), outcome.message, outcome.amount
    return "left", outcome.message, Decimal("0")


def _card_bookings(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    return set(session.execute(text("""
        SELECT id FROM offering_bookings WHERE id = ANY(:ids) AND status = 'confirmed'
            AND payment_method = 'purchase' AND coalesce(amount_paid, 0) > 0
    """), {"ids": ids}).scalars())


def run_offering_cancellation(session_factory, actor: str, offering_id: uuid.UUID,
                              reason: Any, booking_ids: list[uuid.UUID], *,
                              batch_size: int = 50, progress=None, should_stop=None,
                              gateway=None) -> BulkCancelResult:
    """Cancel the bookings previewed, batch by batch (each batch one transaction); each
    return is keyed by its booking (:func:`return_key`), so a rerun or a Resume never
    returns anything twice. A card booking is refunded in full through the refund flow
    (:func:`_refund_card_booking`, keyed by :func:`card_refund_key`), outside any
    transaction, which cancels it when Stripe confirms; one that Stripe refuses (or that
    cannot be refunded) stays confirmed and is listed with the reason, and the run carries
    on. When none is left confirmed, the offering is archived."""
    why = require_reason("reason", reason, MAX_REASON)
    cancelled = already = credits = refunded_n = 0
    amount = Decimal("0")
    left: list[tuple[uuid.UUID, str]] = []
    total = len(booking_ids)

    def result(stopped: bool) -> BulkCancelResult:
        return BulkCancelResult(cancelled + refunded_n, already, len(left), total, stopped,
                                credits, refunded_n, amount, tuple(left))

    if progress is not None:
        progress(0, total)
    for start in range(0, total, batch_size):
        if should_stop is not None and should_stop():
            return result(True)
        batch = booking_ids[start:start + batch_size]
        with session_factory.begin() as session:
            cards = _card_bookings(session, batch)
            for bid in batch:
                if bid in cards:
                    continue
                try:
                    done = cancel_booking(session, actor, bid, why)
                except ConflictError as exc:
                    left.append((bid, str(exc)))  # it took place (or was paid) meanwhile
                    continue
                except NotFoundError:
                    continue
                if done.replayed:
                    already += 1
                else:
                    cancelled += 1
                    credits += done.tokens
        done_in_batch = len(batch) - len(cards)
        for bid in batch:  # Stripe is never called inside a transaction
            if bid not in cards:
                continue
            if progress is not None:  # a Stripe call takes a while: show each one
                progress(start + done_in_batch, total)
            done_in_batch += 1
            if should_stop is not None and should_stop():
                return result(True)  # the rest of the batch is left for Resume
            state, message, refunded = _refund_card_booking(session_factory, gateway, actor,
                                                            offering_id, bid, why)
            if state == "refunded":
                refunded_n += 1
                amount += refunded
            elif state == "already":
                already += 1
            else:
                left.append((bid, message))
        if progress is not None:
            progress(min(start + batch_size, total), total)
    with session_factory.begin() as session:
        lock_offering(session, offering_id)
        remaining = session.execute(text("SELECT count(*) FROM offering_bookings WHERE "
                                         "offering_id = :o AND status = 'confirmed'"),
                                    {"o": offering_id}).scalar_one()
        if remaining == 0:
            old = session.execute(text("UPDATE offerings o SET status = 'archived', "
                                       "updated_at = now()::timestamp FROM offerings p "
                                       "WHERE o.id = :o AND p.id = o.id AND o.status <> "
                                       "'archived' RETURNING p.status"),
                                  {"o": offering_id}).scalar()
            if old is not None:
                record_change(session, actor=actor, action="offering.status",
                              entity_type="offering", entity_id=offering_id,
                              old_values={"status": old}, new_values={"status": "archived"},
                              reason=why)
    return result(False)
