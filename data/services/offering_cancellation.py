"""Cancelling an offering with its bookings: a guided bulk.

A preview says what each confirmed booking gets back and how
(:func:`offering_cancellation_preview`); the run cancels them batch by batch with progress
and a stop (:func:`run_offering_cancellation`). Each return is keyed by its booking
(credits: :func:`~data.services.booking_status.return_key`; a card booking's refund, through
the refund flow: :func:`card_refund_key`), so a rerun or a Resume never returns anything
twice. Stripe is never called inside a transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import ConflictError, NotFoundError, ValidationError
from data.models import RefundRequest
from data.services import refunds
from data.services.audit import record_change
from data.services.booking_rules import MAX_REASON, lock_offering
from data.services.booking_status import cancel_booking
from data.services.text import parse_id, require_reason

__all__ = ["BulkCancelResult", "BulkLine", "card_refund_key", "offering_cancellation_preview",
           "run_offering_cancellation"]


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
