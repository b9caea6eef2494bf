"""Refunds of purchases and offering bookings through Stripe. This is money.

The database must end up agreeing with Stripe whatever happens in between, so the flow is:

1. **Record** a refund request in ``admin.refund_requests`` (target, amount, reason, note,
   actor, a fresh idempotency key, status ``requested``) with its audit record, and COMMIT.
   The database refuses a second open request for the same purchase or booking (partial
   unique index) and any amount beyond what was paid (trigger); both become a message on
   the amount field.
2. **Ask Stripe** for the refund with the stored key, the request id in the refund's
   metadata. The attempt counter is committed before each call, so a later run knows Stripe
   may already have made the refund and first looks for it (by metadata) before asking
   again: exactly one refund even on servers that ignore idempotency keys (localstripe).
   Transient failures (network, rate limit, 5xx) are retried with the same key and backoff
   by the gateway, then the request is left ``pending`` for a Retry.
3. **Record Stripe's answer** in one transaction: the request (``succeeded``/``pending``/
   ``failed``, Stripe's refund id and status) and, on success, the effects: a purchase
   refunded in full becomes ``refunded`` (``refunded_at``, ``refund_reason``) and its
   purchased ``content_access`` is revoked; a partial refund keeps the purchase; a booking
   is cancelled (``canceled_at``, ``cancellation_reason``), its portal access revoked, and
   tokens paid for it come back through :func:`data.services.credits.adjust_balance`. Each
   step writes its audit record in its own transaction.

Steps 2 and 3 for one request run under a PostgreSQL advisory lock on the request id, held
by a connection of its own, so two threads or two app instances submitting or retrying the
same request make one Stripe call between them: the second waits, then answers the first's
result. If the app dies between Stripe's answer and step 3, :func:`finish_open_refunds`
(run at start-up and periodically) asks Stripe and finishes every open request.

Every write of a request (step 1, each attempt, step 3 and a success's effects on the
purchase or booking) is a ``SECURITY DEFINER`` function in ``admin`` (migration 0030:
:data:`REFUND_FUNCTIONS`), which support may run while it may not write
``admin.refund_requests`` or ``purchases`` itself. The request's actor and every audit row
name the session user, never the ``actor`` argument (kept for the callers). A login that may
not run the functions (no staff roles set up; table rights granted by hand) takes the same
steps with its own rights, still recording the session user.

Unlike other services, :func:`submit_refund`, :func:`retry_refund` and
:func:`finish_open_refunds` take a ``sessionmaker`` and own their transactions: the request
must be committed before Stripe is called, and Stripe must never be called while a
transaction holds row locks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from data.definer_functions import execute_minding_rights, may_run
from data.errors import ConflictError, NotFoundError, ValidationError
from data.models import RefundRequest
from data.payments.gateway import (
    REQUEST_METADATA_KEY,
    PaymentDeclinedError,
    PaymentUnavailableError,
    StripeGateway,
    StripeRefund,
    to_minor_units,
)
from data.services.audit import record_change
from data.services.credits import adjust_balance
from data.services.text import clean_multiline

log = logging.getLogger(__name__)

REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent", "other")
REFUND_REASON_LABELS = {
    "requested_by_customer": "Requested by customer",
    "duplicate": "Duplicate",
    "fraudulent": "Fraudulent",
    "other": "Other (note required)",
}
OPEN_STATUSES = ("requested", "pending")
"""Request statuses that block a new request for the same purchase or booking."""
REQUEST_STATUSES = ("requested", "pending", "succeeded", "failed")
KINDS = ("purchase", "booking")
MAX_NOTE = 500
MAX_AMOUNT = Decimal("99999999.99")  # NUMERIC(10,2)

REQUEST_ACTION = "refund.request"
RESULT_ACTION = "refund.result"
PURCHASE_ACTION = "refund.purchase"
BOOKING_ACTION = "refund.booking"
ACCESS_ACTION = "refund.revoke_access"

MADE_UP_INTENT_PREFIX = "pi_demo_"
"""Payment ids the demo data invents; only the demo's most recent payments are real ones
(``data.payments.demo``). Stripe would refuse the others, so they are refused up front."""
_MADE_UP = ("This demo payment was never made in the demo's Stripe (only the most recent "
            "demo purchases and bookings were): pick a recent one to try a refund.")

REFUND_FUNCTIONS = (
    "admin.record_refund_request(uuid, text, uuid, numeric, text, text)",
    "admin.count_refund_attempt(uuid)",
    "admin.record_refund_answer(uuid, text, text, text, text)",
)
"""The definer functions that write refund requests (migration 0030), as ``db roles`` grants
them to support. A login that may not run them (no staff roles set up, table rights granted
by hand) writes the same rows with its own rights."""

_RECORD_REQUEST = text(
    "SELECT admin.record_refund_request(:id, :kind, :target_id, :amount, :reason, :note)")
_COUNT_ATTEMPT = text("SELECT admin.count_refund_attempt(:id)")
_RECORD_ANSWER = text(
    "SELECT admin.record_refund_answer(:id, :status, :refund_id, :stripe_status, :failure)")

_LOCK_CLASS = 5005  # advisory lock namespace of refund requests (migration 0005)
_CREDITS_NAMESPACE = uuid.UUID("6f1c1f0e-3f0b-4b7e-9d55-0f4f5e0a0005")


# -- what can be refunded -----------------------------------------------------------------

@dataclass(frozen=True)
class Refundable:
    """A purchase or booking as a refund sees it, with what can still be refunded."""

    kind: str                     # "purchase" | "booking"
    target_id: uuid.UUID          # purchases.id or offering_bookings.id
    customer_id: uuid.UUID
    customer_email: str
    title: str                    # content title / offering title
    amount_paid: Decimal          # paid through Stripe (0 for a credits-only booking)
    currency: str
    refunded: Decimal             # succeeded refunds so far
    remaining: Decimal            # what can still be refunded now
    credits_paid: int             # tokens paid for a booking (0 otherwise)
    status: str                   # purchase / booking status now
    open_request_id: uuid.UUID | None
    refusal: str | None           # None if a refund can be requested; else why not
    payment_intent_id: str | None = None
    credits_returned: int = 0     # tokens already returned (or being returned)

    @property
    def credits_only(self) -> bool:
        return self.amount_paid == 0 and self.credits_paid > 0


_PURCHASE = text("""
SELECT p.id, p.customer_id, u.email, c.title, p.amount_paid, p.currency, p.status,
       p.stripe_payment_intent_id,
       coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0) AS refunded,
       coalesce(sum(r.amount) FILTER (WHERE r.status IN ('requested', 'pending')), 0),
       (array_agg(r.id) FILTER (WHERE r.status IN ('requested', 'pending')))[1]
FROM purchases p
JOIN users u ON u.id = p.customer_id
JOIN content c ON c.id = p.content_id
LEFT JOIN admin.refund_requests r ON r.purchase_id = p.id
WHERE p.id = :id
GROUP BY p.id, u.email, c.title
""")

_BOOKING = text("""
SELECT b.id, b.customer_id, u.email, o.title, b.payment_method,
       coalesce(b.amount_paid, 0), coalesce(b.credits_used, 0), b.status,
       b.stripe_payment_intent_id,
       coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0) AS refunded,
       coalesce(sum(r.amount) FILTER (WHERE r.status IN ('requested', 'pending')), 0),
       (array_agg(r.id) FILTER (WHERE r.status IN ('requested', 'pending')))[1],
       coalesce(sum(r.credits_returned) FILTER (WHERE r.status <> 'failed'), 0)
FROM offering_bookings b
JOIN users u ON u.id = b.customer_id
JOIN offerings o ON o.id = b.offering_id
LEFT JOIN admin.refund_requests r ON r.booking_id = b.id
WHERE b.id = :id
GROUP BY b.id, u.email, o.title
""")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown kind {kind!r}: purchase or booking."})


# A booking's offering is locked before the booking, as every booking write does (pretix's
# rule: lock what you count): finishing a refund changes ``booking_count``, and taking the
# booking first would deadlock with a booking write holding the offering.
_LOCK_BOOKING_OFFERING = text("""
SELECT 1 FROM offerings
WHERE id = (SELECT offering_id FROM offering_bookings WHERE id = :id) FOR UPDATE
""")


def _lock_target(session: Session, kind: str, target_id: uuid.UUID) -> None:
    """Lock the purchase, or the booking's offering and then the booking."""
    if kind == "purchase":
        table = "purchases"
    else:
        table = "offering_bookings"
        session.execute(_LOCK_BOOKING_OFFERING, {"id": target_id})
    session.execute(text(f"SELECT 1 FROM {table} WHERE id = :id FOR UPDATE"), {"id": target_id})


def load_refundable(session: Session, kind: str, target_id: uuid.UUID) -> Refundable:
    """What ``kind`` (purchase or booking) ``target_id`` paid, what was refunded, what remains,
    and whether a refund can be requested now (``refusal`` says why not, in plain words).

    Raises :class:`NotFoundError` when it does not exist.
    """
    _check_kind(kind)
    if kind == "purchase":
        row = session.execute(_PURCHASE, {"id": target_id}).first()
        if row is None:
            raise NotFoundError("This purchase no longer exists.")
        (pid, customer_id, email, title, paid, currency, status, intent, refunded, reserved,
         open_id) = row
        remaining = max(paid - refunded - reserved, Decimal("0"))
        refusal = None
        if open_id is not None:
            refusal = ("A refund of this purchase is already in progress; retry it or wait "
                       "for Stripe's answer before asking for another.")
        elif status == "refunded":
            refusal = "This purchase was already refunded in full."
        elif status != "completed":
            refusal = f"This purchase was never paid (it is {status}): nothing to refund."
        elif remaining <= 0:
            refusal = "Everything paid for this purchase has been refunded."
        elif not intent:
            refusal = "No Stripe payment is recorded for this purchase."
        elif intent.startswith(MADE_UP_INTENT_PREFIX):
            refusal = _MADE_UP
        return Refundable("purchase", pid, customer_id, email, title, paid, currency,
                          refunded, remaining, 0, status, open_id, refusal, intent)

    row = session.execute(_BOOKING, {"id": target_id}).first()
    if row is None:
        raise NotFoundError("This booking no longer exists.")
    (bid, customer_id, email, title, method, paid, credits, status, intent, refunded,
     reserved, open_id, credits_back) = row
    paid = paid if method == "purchase" else Decimal("0")
    credits = credits if method == "credits" else 0
    remaining = max(paid - refunded - reserved, Decimal("0"))
    refusal = None
    if open_id is not None:
        refusal = ("A refund of this booking is already in progress; retry it or wait for "
                   "Stripe's answer before asking for another.")
    elif method == "subscription" or (paid == 0 and credits == 0):
        refusal = ("This booking was covered by the customer's subscription: nothing was "
                   "paid, so there is nothing to refund.")
    elif status == "canceled" and refunded == 0 and credits_back == 0:
        refusal = "This booking was already cancelled on the platform."
    elif credits and credits_back >= credits:
        refusal = "The tokens paid for this booking were already returned."
    elif paid and remaining <= 0:
        refusal = "Everything paid for this booking has been refunded."
    elif paid and not intent:
        refusal = "No Stripe payment is recorded for this booking."
    elif paid and intent and intent.startswith(MADE_UP_INTENT_PREFIX):
        refusal = _MADE_UP
    return Refundable("booking", bid, customer_id, email, title, paid, "usd", refunded,
                      remaining, credits, status, open_id, refusal, intent, credits_back)


# -- validation ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RefundInput:
    """A validated refund: amount in the schema's dollars, one of :data:`REFUND_REASONS`,
    and a note (required for "other")."""

    amount: Decimal
    reason: str
    note: str | None


def _parse_amount(value: object) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(",", "").removeprefix("$").strip()
        if not cleaned or not all(c in "0123456789.+-" for c in cleaned):
            return None
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def money(amount: Decimal, currency: str = "usd") -> str:
    """``12.00 USD``: the app's one way to write money (as the pages' ``format_money``)."""
    return f"{amount:,.2f} {currency.upper()}"


def _amount_error(refundable: Refundable, amount: object) -> tuple[Decimal | None, str | None]:
    if refundable.credits_only:
        number = _parse_amount(amount) if amount not in (None, "") else Decimal("0")
        if number is None or number != 0:
            return None, ("This booking was paid with tokens only: there is no money to "
                          "refund (the tokens are returned). Leave the amount at 0.")
        return Decimal("0.00"), None
    number = _parse_amount(amount)
    if number is None:
        return None, "Enter an amount in dollars and cents, e.g. 12.50."
    if number <= 0:
        return None, "Enter an amount greater than zero."
    # Size first: quantizing 27+ digits exceeds Decimal's precision (InvalidOperation).
    too_much = (f"At most {money(refundable.remaining, refundable.currency)} can be "
                f"refunded (paid {money(refundable.amount_paid, refundable.currency)}, "
                f"refunded {money(refundable.refunded, refundable.currency)}).")
    if number > MAX_AMOUNT or number > refundable.remaining:
        return None, too_much
    # An int for the finite numbers _parse_amount returns ('n', 'N', 'F' mark NaN, infinity).
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(Decimal("0.01")):
        return None, "Enter at most two decimals (cents)."
    number = number.quantize(Decimal("0.01"))
    if number > refundable.remaining:
        return None, too_much
    return number, None


def validate_refund(refundable: Refundable, amount: str | Decimal, reason: str,
                    note: str | None) -> RefundInput:
    """Check a refund against what can still be refunded; returns it clean.

    Raises :class:`ValidationError` with keys among ``amount`` (not a number, zero, negative,
    fractions of a cent, more than remains; or why no refund can be requested now),
    ``reason`` (not one of :data:`REFUND_REASONS`) and ``note`` ("other" without a note, too
    long, control characters).
    """
    errors: dict[str, str] = {}
    clean_amount, amount_error = _amount_error(refundable, amount)
    if refundable.refusal:
        errors["amount"] = refundable.refusal
    elif amount_error:
        errors["amount"] = amount_error
    if not isinstance(reason, str) or reason not in REFUND_REASONS:
        errors["reason"] = "Choose a reason: " + ", ".join(
            REFUND_REASON_LABELS[r] for r in REFUND_REASONS) + "."
    clean_note: str | None = None
    try:
        clean_note = clean_multiline(
            "note", note, MAX_NOTE,
            required=("Say why: a note is required when the reason is “Other”."
                      if reason == "other" else None)) or None
    except ValidationError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise ValidationError(errors)
    assert clean_amount is not None
    return RefundInput(clean_amount, reason, clean_note)


def _is_full(refundable: Refundable, refund: RefundInput) -> bool:
    return refundable.amount_paid > 0 and \
        refundable.refunded + refund.amount >= refundable.amount_paid


def describe_refund(refundable: Refundable, refund: RefundInput) -> list[str]:
    """Plain-words lines for the confirmation: exactly what will happen."""
    lines: list[str] = []
    if refund.amount > 0:
        lines.append(f"{money(refund.amount, refundable.currency)} back to the customer's "
                     f"original payment method ({refundable.customer_email})")
    if refundable.kind == "purchase":
        if _is_full(refundable, refund):
            lines.append(f"Access to “{refundable.title}” is revoked (full refund)")
        else:
            left = refundable.amount_paid - refundable.refunded - refund.amount
            lines.append(f"Partial refund: the customer keeps access to “{refundable.title}” "
                         f"({money(left, refundable.currency)} stays paid)")
    else:
        lines.append(f"The booking of “{refundable.title}” is cancelled")
        if refundable.credits_paid > 0:
            lines.append(f"{refundable.credits_paid:,} tokens are returned to the customer's "
                         "balance")
    lines.append(f"Reason: {REFUND_REASON_LABELS[refund.reason].removesuffix(' (note required)')}"
                 + (f" — {refund.note}" if refund.note else ""))
    return lines


# -- the flow -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RefundOutcome:
    """Where a refund request stands after a submit, retry or check."""

    request_id: uuid.UUID
    status: str                   # succeeded | pending | failed | requested
    amount: Decimal
    stripe_refund_id: str | None
    message: str                  # plain words for staff
    full_refund: bool
    credits_returned: int
    replayed: bool                # the request was already finished by an earlier call (a
                                  # double click, a racing thread): its stored state is answered
    elsewhere: bool = False       # another run (another app instance) holds the request and
                                  # is finishing it: it was left alone and stays open for now


@dataclass(frozen=True)
class _Request:
    """A refund request's stored state (plain data, read in a short transaction)."""

    id: uuid.UUID
    kind: str
    target_id: uuid.UUID
    customer_id: uuid.UUID
    amount: Decimal
    currency: str
    credits: int
    reason: str
    note: str | None
    actor: str
    key: str
    intent: str | None
    status: str
    stripe_refund_id: str | None
    stripe_status: str | None
    failure_message: str | None
    attempts: int
    full_refund: bool


def _read_request(session: Session, request_id: uuid.UUID, *,
                  lock: bool = False) -> _Request | None:
    stmt = select(RefundRequest).where(RefundRequest.id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    r = session.execute(stmt).scalar_one_or_none()
    if r is None:
        return None
    kind = "purchase" if r.purchase_id is not None else "booking"
    target = r.purchase_id if r.purchase_id is not None else r.booking_id
    assert target is not None
    return _Request(r.id, kind, target, r.customer_id, r.amount, r.currency, r.credits_returned,
                    r.reason, r.note, r.actor, r.idempotency_key, r.stripe_payment_intent_id,
                    r.status, r.stripe_refund_id, r.stripe_status, r.failure_message,
                    r.attempts, r.full_refund)


def _outcome(req: _Request, message: str, *, replayed: bool) -> RefundOutcome:
    credits = req.credits if req.status == "succeeded" else 0
    return RefundOutcome(req.id, req.status, req.amount, req.stripe_refund_id, message,
                         req.full_refund, credits, replayed)


def _stored_message(req: _Request) -> str:
    amount = money(req.amount, req.currency)
    if req.status == "succeeded":
        what = f"Refunded {amount}" if req.amount > 0 else "Booking cancelled"
        if req.credits:
            what += f"; {req.credits:,} tokens returned"
        return what + (" (full refund)." if req.full_refund else ".")
    if req.status == "failed":
        return f"The refund of {amount} failed: {req.failure_message or 'Stripe said no.'}"
    if req.stripe_refund_id:
        return (f"Stripe is still processing the refund of {amount}; it is checked again "
                "later.")
    if req.failure_message:
        return f"The refund of {amount} is waiting: {req.failure_message} Use Retry."
    return f"The refund of {amount} has been requested and not sent to Stripe yet."


def _constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return (getattr(diag, "constraint_name", None) or "") if diag else ""


def _uses_functions(session: Session) -> bool:
    """Whether this login writes refund requests through the definer functions."""
    return may_run(session.connection(), REFUND_FUNCTIONS)


def _record_with_function(session: Session, kind: str, target_id: uuid.UUID,
                          refund: RefundInput, request_id: uuid.UUID) -> bool:
    """Step 1 through ``admin.record_refund_request``: the database locks the target, reads
    what it needs from it and writes the request and its audit row as the session user.
    False when the request id was recorded meanwhile (a racing submit of it)."""
    done = execute_minding_rights(session.connection(), _RECORD_REQUEST, {
        "id": request_id, "kind": kind, "target_id": target_id, "amount": refund.amount,
        "reason": refund.reason, "note": refund.note}).scalar_one()
    return bool(done == "recorded")


def _record(session: Session, refundable: Refundable, refund: RefundInput,
            request_id: uuid.UUID) -> None:
    """Step 1 with the login's own table rights (no refund functions to run)."""
    actor = session.execute(text("SELECT session_user")).scalar_one()
    full = _is_full(refundable, refund)
    credits = refundable.credits_paid - refundable.credits_returned \
        if refundable.kind == "booking" else 0
    values: dict[str, Any] = {
        "id": request_id,
        "purchase_id": refundable.target_id if refundable.kind == "purchase" else None,
        "booking_id": refundable.target_id if refundable.kind == "booking" else None,
        "customer_id": refundable.customer_id,
        "amount": refund.amount,
        "currency": refundable.currency,
        "credits_returned": max(credits, 0),
        "full_refund": full,
        "reason": refund.reason,
        "note": refund.note,
        "actor": actor,
        "idempotency_key": f"admin-refund-{uuid.uuid4()}",
        "stripe_payment_intent_id": refundable.payment_intent_id if refund.amount > 0 else None,
        "status": "requested",
    }
    session.add(RefundRequest(**values))
    session.flush()
    record_change(session, actor=actor, action=REQUEST_ACTION, entity_type="refund_request",
                  entity_id=request_id, old_values=None,
                  new_values={k: v for k, v in values.items() if k != "id"},
                  reason=refund.note or REFUND_REASON_LABELS[refund.reason])


def submit_refund(session_factory: sessionmaker[Session], gateway: StripeGateway, actor: str,
                  kind: str, target_id: uuid.UUID, refund: RefundInput, request_id: uuid.UUID,
                  ) -> RefundOutcome:
    """The whole safe flow (see the module docstring), once per ``request_id``.

    ``request_id`` is created when the dialog opens: a double click, a second thread or a
    retry of the same dialog answers the first request (``replayed=True``) instead of making
    another refund. Raises :class:`ValidationError` (bad input, nothing to refund, more than
    remains, another request open) with nothing written and nothing sent to Stripe;
    :class:`ConflictError` when ``request_id`` was used for a different refund. Stripe's own
    refusals and outages are not raised: they come back as a ``failed``/``pending`` outcome.
    """
    _check_kind(kind)
    replayed = False
    try:
        with session_factory.begin() as session:
            if _uses_functions(session):
                # The function locks the target. Read what can be refunded before looking
                # for the request: a racing submit of it committed in between is then found.
                refundable = load_refundable(session, kind, target_id)
                existing = _read_request(session, request_id)
                if existing is None:
                    clean = validate_refund(refundable, refund.amount, refund.reason,
                                            refund.note)
                    if not _record_with_function(session, kind, target_id, clean, request_id):
                        existing = _read_request(session, request_id)
            else:
                # Lock first: a racing submit of the same request is then seen committed.
                _lock_target(session, kind, target_id)
                existing = _read_request(session, request_id)
                if existing is None:
                    refundable = load_refundable(session, kind, target_id)
                    clean = validate_refund(refundable, refund.amount, refund.reason,
                                            refund.note)
                    _record(session, refundable, clean, request_id)
    except IntegrityError as exc:
        name = _constraint(exc)
        if name == "refund_requests_pkey":
            existing = None  # the same request was recorded by a racing submit
            replayed = True
        elif name.startswith("ix_refund_requests_open_"):
            raise ValidationError({"amount": f"A refund of this {kind} is already in "
                                             "progress; retry it or wait for it."}) from exc
        elif name == "refund_requests_within_paid":
            raise ValidationError({"amount": "That is more than remains to be refunded: "
                                             "another refund was recorded meanwhile. "
                                             "Reopen the refund to see what remains."}) from exc
        else:
            raise
    if existing is not None:
        replayed = True
        if existing.kind != kind or existing.target_id != target_id or \
                existing.amount != Decimal(refund.amount).quantize(Decimal("0.01")):
            raise ConflictError(
                "This refund request was already used for another refund; nothing more was "
                "changed. Open the refund again to make a new one.",
                current=_outcome(existing, _stored_message(existing), replayed=True),
            )
    return _process(session_factory, gateway, actor, request_id, replayed=replayed)


def retry_refund(session_factory: sessionmaker[Session], gateway: StripeGateway, actor: str,
                 request_id: uuid.UUID) -> RefundOutcome:
    """Retry an open (``requested``/``pending``) request with its stored idempotency key.

    A request that is already finished is answered as it stands (``replayed=True``).
    Raises :class:`NotFoundError` for an unknown request.
    """
    with session_factory() as session:
        if _read_request(session, request_id) is None:
            raise NotFoundError("This refund request does not exist.")
    return _process(session_factory, gateway, actor, request_id, replayed=False)


def finish_open_refunds(session_factory: sessionmaker[Session], gateway: StripeGateway,
                        actor: str) -> list[RefundOutcome]:
    """Start-up recovery and the periodic pending check: ask Stripe about every open request
    (oldest first) and finish it. Requests another app instance is working on are skipped.
    """
    with session_factory() as session:
        ids = list(session.execute(
            select(RefundRequest.id)
            .where(RefundRequest.status.in_(OPEN_STATUSES))
            .order_by(RefundRequest.created_at, RefundRequest.id)
        ).scalars())
    outcomes = []
    for request_id in ids:
        outcome = _process(session_factory, gateway, actor, request_id, replayed=True,
                           wait=False)
        if outcome is None:  # held by another run: counted, so it is not reported as none
            with session_factory() as session:
                req = _read_request(session, request_id)
            if req is not None and req.status in OPEN_STATUSES:
                outcome = replace(
                    _outcome(req, "Being finished elsewhere (another instance of the app "
                                  "holds this request); it is checked again later.",
                             replayed=True),
                    elsewhere=True)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def summarize_outcomes(outcomes: list[RefundOutcome]) -> str:
    """One line for the status bar or the command line about a recovery / pending check."""
    if not outcomes:
        return "No open refunds."
    by_status: dict[str, int] = {}
    for outcome in outcomes:
        by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
    parts = []
    if by_status.get("succeeded"):
        parts.append(f"{by_status['succeeded']} finished")
    if by_status.get("failed"):
        parts.append(f"{by_status['failed']} failed")
    elsewhere = sum(1 for o in outcomes if o.elsewhere)
    waiting = by_status.get("pending", 0) + by_status.get("requested", 0) - elsewhere
    if elsewhere:
        parts.append(f"{elsewhere} being finished elsewhere")
    if waiting:
        parts.append(f"{waiting} still open (see Refunds)")
    return "Open refunds checked with Stripe: " + ", ".join(parts) + "."


def _lock_key(request_id: uuid.UUID) -> int:
    return int.from_bytes(request_id.bytes[:4], "big", signed=True)


def _process(session_factory: sessionmaker[Session], gateway: StripeGateway, actor: str,
             request_id: uuid.UUID, *, replayed: bool, wait: bool = True) -> Any:
    """Steps 2 and 3 under the request's advisory lock (see the module docstring)."""
    with session_factory() as guard:
        if wait:
            guard.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"),
                          {"c": _LOCK_CLASS, "k": _lock_key(request_id)})
        elif not guard.execute(text("SELECT pg_try_advisory_xact_lock(:c, :k)"),
                               {"c": _LOCK_CLASS, "k": _lock_key(request_id)}).scalar():
            return None
        try:
            return _process_locked(session_factory, gateway, actor, request_id, replayed)
        finally:
            _release(guard, request_id)


def _release(guard: Session, request_id: uuid.UUID) -> None:
    """End the lock's transaction (releasing the lock). If its connection died meanwhile,
    PostgreSQL has released the lock already: the refund's own outcome (recorded on other
    connections) is what is reported, and the lost lock connection is only logged."""
    try:
        guard.rollback()
    except Exception:  # noqa: BLE001 - the outcome must not be hidden by the lock's end
        log.warning("The lock connection of refund request %s was lost after its work; "
                    "the server released the lock", request_id, exc_info=True)
        try:
            guard.close()
        except Exception:  # noqa: BLE001
            log.debug("Closing the lost lock connection failed", exc_info=True)


def _process_locked(session_factory: sessionmaker[Session], gateway: StripeGateway, actor: str,
                    request_id: uuid.UUID, replayed: bool) -> RefundOutcome:
    with session_factory() as session:
        req = _read_request(session, request_id)
    if req is None:
        raise NotFoundError("This refund request does not exist.")
    if req.status not in OPEN_STATUSES:
        return _outcome(req, _stored_message(req), replayed=True)
    # This call moves the request on (whoever recorded it): its answer is not a replay.
    replayed = False
    if req.amount == 0:
        return _finish(session_factory, actor, req, None, replayed)
    assert req.intent is not None
    refund: StripeRefund | None = None
    try:
        if req.stripe_refund_id:
            refund = gateway.retrieve_refund(req.stripe_refund_id)
        elif req.attempts > 0:
            # Stripe may have made it before the app could record the answer.
            refund = gateway.find_refund(req.intent, str(req.id))
        if refund is None:
            refund = gateway.create_refund(
                req.intent,
                to_minor_units(req.amount, req.currency),
                idempotency_key=req.key,
                reason=req.reason if req.reason != "other" else None,
                metadata=_metadata(req),
                on_attempt=lambda _n: _count_attempt(session_factory, req.id),
            )
    except PaymentDeclinedError as exc:
        if req.stripe_refund_id:  # the refund exists; Stripe just could not show it now
            return _mark_waiting(session_factory, actor, req, str(exc), replayed)
        return _mark_failed(session_factory, actor, req, None, str(exc), replayed)
    except PaymentUnavailableError as exc:
        return _mark_waiting(session_factory, actor, req, str(exc), replayed)
    outcome = _apply_answer(session_factory, actor, req, refund, replayed)
    if not refund.reason_sent and req.reason != "other":
        outcome = replace(outcome, message=outcome.message + (
            " This Stripe server does not take a refund reason: the reason is kept in the "
            "app's record (and the refund's metadata) only."))
    return outcome


def _metadata(req: _Request) -> dict[str, str]:
    data = {
        REQUEST_METADATA_KEY: str(req.id),
        f"{req.kind}_id": str(req.target_id),
        "reason": req.reason,
        "actor": req.actor[:500],
    }
    if req.note:
        data["note"] = req.note[:500]
    return data


def _count_attempt(session_factory: sessionmaker[Session], request_id: uuid.UUID) -> None:
    """Committed before each Stripe call: a later run knows to look for the refund first."""
    with session_factory.begin() as session:
        if _uses_functions(session):
            execute_minding_rights(session.connection(), _COUNT_ATTEMPT, {"id": request_id})
            return
        session.execute(
            text("UPDATE admin.refund_requests SET attempts = attempts + 1, updated_at = now() "
                 "WHERE id = :id"), {"id": request_id})


def _apply_answer(session_factory, actor, req: _Request, refund: StripeRefund,
                  replayed: bool) -> RefundOutcome:
    if refund.status == "succeeded":
        return _finish(session_factory, actor, req, refund, replayed)
    if refund.status in ("failed", "canceled"):
        why = refund.failure_reason or refund.status
        return _mark_failed(session_factory, actor, req, refund,
                            f"Stripe could not complete the refund ({why}).", replayed)
    return _mark_stripe_pending(session_factory, actor, req, refund, replayed)


_UPDATE_REQUEST = text("""
UPDATE admin.refund_requests
SET status = :status, stripe_refund_id = coalesce(:refund_id, stripe_refund_id),
    stripe_status = coalesce(:stripe_status, stripe_status), failure_message = :failure,
    full_refund = :full, updated_at = now(),
    completed_at = CASE WHEN :status IN ('succeeded', 'failed') THEN now() END
WHERE id = :id AND status IN ('requested', 'pending')
RETURNING id
""")


def _update_request(session: Session, actor: str, req: _Request, *, status: str,
                    refund: StripeRefund | None, failure: str | None,
                    full: bool | None = None) -> _Request | None:
    """Move an open request to its new state with its audit record; None if it was no
    longer open (another run finished it first). Through ``admin.record_refund_answer``
    when this login may run it (which also applies a success's effects: see
    :func:`_finish`)."""
    if _uses_functions(session):
        answered = execute_minding_rights(session.connection(), _RECORD_ANSWER, {
            "id": req.id, "status": status, "refund_id": refund.id if refund else None,
            "stripe_status": refund.status if refund else None, "failure": failure,
        }).scalar_one()
        if answered is None:
            return None
        return replace(req, status=status, failure_message=failure, full_refund=answered,
                       stripe_refund_id=refund.id if refund else req.stripe_refund_id,
                       stripe_status=refund.status if refund else req.stripe_status)
    full = req.full_refund if full is None else full
    done = session.execute(_UPDATE_REQUEST, {
        "id": req.id, "status": status, "refund_id": refund.id if refund else None,
        "stripe_status": refund.status if refund else None, "failure": failure, "full": full,
    }).first()
    if done is None:
        return None
    new = replace(req, status=status, failure_message=failure, full_refund=full,
                  stripe_refund_id=refund.id if refund else req.stripe_refund_id,
                  stripe_status=refund.status if refund else req.stripe_status)
    record_change(
        session, actor=actor, action=RESULT_ACTION, entity_type="refund_request",
        entity_id=req.id,
        old_values={"status": req.status, "stripe_refund_id": req.stripe_refund_id,
                    "stripe_status": req.stripe_status},
        new_values={"status": status, "stripe_refund_id": new.stripe_refund_id,
                    "stripe_status": new.stripe_status, "failure_message": failure,
                    "attempts": req.attempts},
        reason=failure,
    )
    return new


def _in_transaction(session_factory, fn: Callable[[Session], _Request | None],
                    req: _Request, replayed: bool, message: Callable[[_Request], str],
                    ) -> RefundOutcome:
    with session_factory.begin() as session:
        new = fn(session)
    if new is None:  # finished by another run meanwhile: answer what it stored
        with session_factory() as session:
            stored = _read_request(session, req.id)
        assert stored is not None
        return _outcome(stored, _stored_message(stored), replayed=True)
    return _outcome(new, message(new), replayed=replayed)


def _mark_failed(session_factory, actor, req, refund, failure: str, replayed) -> RefundOutcome:
    return _in_transaction(
        session_factory,
        lambda s: _update_request(s, actor, req, status="failed", refund=refund,
                                  failure=failure, full=False),
        req, replayed,
        lambda new: f"The refund of {money(new.amount, new.currency)} failed: "
                    f"{failure.rstrip('. ')}. Nothing was changed.",
    )


def _mark_waiting(session_factory, actor, req, failure: str, replayed) -> RefundOutcome:
    return _in_transaction(
        session_factory,
        lambda s: _update_request(s, actor, req, status="pending", refund=None, failure=failure),
        req, replayed, _stored_message,
    )


def _mark_stripe_pending(session_factory, actor, req, refund, replayed) -> RefundOutcome:
    return _in_transaction(
        session_factory,
        lambda s: _update_request(s, actor, req, status="pending", refund=refund, failure=None),
        req, replayed, _stored_message,
    )


def _finish(session_factory, actor, req: _Request, refund: StripeRefund | None,
            replayed: bool) -> RefundOutcome:
    def apply(session: Session) -> _Request | None:
        if _uses_functions(session):
            # The function locks the request and the target, applies the effects and
            # records the answer; the tokens come back through the ledger's function.
            new = _update_request(session, actor, req, status="succeeded", refund=refund,
                                  failure=None)
            if new is not None and req.kind == "booking":
                _return_credits(session, actor, req)
            return new
        locked = _read_request(session, req.id, lock=True)
        if locked is None or locked.status not in OPEN_STATUSES:
            return None
        _lock_target(session, req.kind, req.target_id)
        if req.kind == "purchase":
            full = _finish_purchase(session, actor, req)
        else:
            full = _finish_booking(session, actor, req)
        return _update_request(session, actor, locked, status="succeeded", refund=refund,
                               failure=None, full=full)

    return _in_transaction(session_factory, apply, req, replayed, _stored_message)


def _reason_text(req: _Request) -> str:
    label = REFUND_REASON_LABELS[req.reason].removesuffix(" (note required)")
    return f"{label}: {req.note}" if req.note else label


def _finish_purchase(session: Session, actor: str, req: _Request) -> bool:
    """Record a succeeded refund on the purchase; returns whether it is now refunded in full."""
    row = session.execute(text("""
        SELECT p.amount_paid, p.status, p.refunded_at, p.refund_reason, p.customer_id,
               p.content_id,
               (SELECT coalesce(sum(r.amount), 0) FROM admin.refund_requests r
                WHERE r.purchase_id = p.id AND (r.status = 'succeeded' OR r.id = :rid))
        FROM purchases p WHERE p.id = :id
    """), {"id": req.target_id, "rid": req.id}).one()
    paid, status, refunded_at, old_reason, customer_id, content_id, refunded = row
    if refunded < paid:
        return False  # partial: the purchase stays as it is; the request records the amount
    now = session.execute(text("SELECT now()::timestamp")).scalar_one()
    clash = session.execute(text("""
        SELECT 1 FROM purchases WHERE customer_id = :c AND content_id = :ct
        AND status = 'refunded' AND id <> :id
    """), {"c": customer_id, "ct": content_id, "id": req.target_id}).first()
    new_status = status if clash else "refunded"  # the platform allows one refunded per item
    session.execute(text("""
        UPDATE purchases SET status = :status, refunded_at = :now, refund_reason = :reason,
               updated_at = :now
        WHERE id = :id
    """), {"status": new_status, "now": now, "reason": _reason_text(req), "id": req.target_id})
    record_change(
        session, actor=actor, action=PURCHASE_ACTION, entity_type="purchase",
        entity_id=req.target_id,
        old_values={"status": status, "refunded_at": refunded_at, "refund_reason": old_reason},
        new_values={"status": new_status, "refunded_at": now, "refund_reason": _reason_text(req),
                    "refund_request_id": req.id},
        reason=_reason_text(req),
    )
    revoked = session.execute(text("""
        DELETE FROM content_access
        WHERE user_id = :c AND content_id = :ct AND access_type = 'purchased'
        RETURNING id, access_type, granted_at, expires_at
    """), {"c": customer_id, "ct": content_id}).mappings().all()
    for access in revoked:
        record_change(
            session, actor=actor, action=ACCESS_ACTION, entity_type="content_access",
            entity_id=access["id"],
            old_values={**access, "user_id": customer_id, "content_id": content_id},
            new_values=None, reason=f"Full refund of purchase {req.target_id}",
        )
    return True


def _finish_booking(session: Session, actor: str, req: _Request) -> bool:
    """Cancel the booking, revoke its portal access, return its tokens; returns whether the
    money paid is now refunded in full."""
    row = session.execute(text("""
        SELECT b.status, b.canceled_at, b.cancellation_reason, b.offering_id,
               coalesce(b.amount_paid, 0), b.payment_method,
               (SELECT coalesce(sum(r.amount), 0) FROM admin.refund_requests r
                WHERE r.booking_id = b.id AND (r.status = 'succeeded' OR r.id = :rid))
        FROM offering_bookings b WHERE b.id = :id
    """), {"id": req.target_id, "rid": req.id}).one()
    status, canceled_at, old_reason, offering_id, paid, method, refunded = row
    reason = f"Refunded: {_reason_text(req)}"
    if status != "canceled":
        now = session.execute(text("SELECT now()::timestamp")).scalar_one()
        session.execute(text("""
            UPDATE offering_bookings
            SET status = 'canceled', canceled_at = :now, cancellation_reason = :reason,
                updated_at = :now
            WHERE id = :id
        """), {"now": now, "reason": reason, "id": req.target_id})
        session.execute(text("""
            UPDATE offerings SET booking_count = greatest(booking_count - 1, 0)
            WHERE id = :o
        """), {"o": offering_id})
        record_change(
            session, actor=actor, action=BOOKING_ACTION, entity_type="offering_booking",
            entity_id=req.target_id,
            old_values={"status": status, "canceled_at": canceled_at,
                        "cancellation_reason": old_reason},
            new_values={"status": "canceled", "canceled_at": now, "cancellation_reason": reason,
                        "refund_request_id": req.id},
            reason=_reason_text(req),
        )
        portal = session.execute(text("""
            DELETE FROM offering_portal_access WHERE booking_id = :id
            RETURNING id, booking_id, user_id, offering_id, granted_at, expires_at
        """), {"id": req.target_id}).mappings().all()
        for access in portal:  # under the booking's id, so the booking's History shows it
            record_change(
                session, actor=actor, action=ACCESS_ACTION, entity_type="offering_portal_access",
                entity_id=req.target_id, old_values=dict(access), new_values=None,
                reason=f"Booking {req.target_id} refunded",
            )
    _return_credits(session, actor, req)
    return method == "purchase" and paid > 0 and refunded >= paid


def _return_credits(session: Session, actor: str, req: _Request) -> None:
    """The tokens paid for a refunded booking, back once (the request id is derived)."""
    if req.credits > 0:
        adjust_balance(
            session, actor, req.customer_id, req.credits,
            f"Refund of booking {req.target_id} ({_reason_text(req)})"[:500],
            uuid.uuid5(_CREDITS_NAMESPACE, str(req.id)),
        )


__all__ = [
    "KINDS",
    "OPEN_STATUSES",
    "REFUND_FUNCTIONS",
    "REFUND_REASONS",
    "REFUND_REASON_LABELS",
    "REQUEST_STATUSES",
    "Refundable",
    "RefundInput",
    "RefundOutcome",
    "describe_refund",
    "finish_open_refunds",
    "load_refundable",
    "money",
    "retry_refund",
    "submit_refund",
    "summarize_outcomes",
    "validate_refund",
]
