"""A customer's subscription, fixed by support through Stripe: cancel at period end, resume,
cancel now. Imitates refunds (:mod:`data.services.refunds`):

1. **Stored before the call.** The dialog makes a request id when it opens. The request is
   written to ``admin.subscription_requests`` and committed BEFORE Stripe is called, under a
   lock on the subscription row; the id is the call's idempotency key.
2. **Exactly once.** The same request id again (a double click, a retry) finds its row: a
   finished one answers its stored result (``replayed``), an open one asks Stripe again with
   the same key (the three changes are idempotent at Stripe anyway) and is finished once.
   Two staff at once: the second waits on the subscription's row lock, then finds the
   first's open request (refused: :class:`ConflictError`) or its result (refused: nothing
   left to do). One open request per subscription is also a unique index.
3. **Finished on the next start.** If the app stopped after Stripe answered, the request is
   still ``requested``: :func:`recover_subscription_requests` asks Stripe again and writes
   the answer.
4. **The row follows Stripe's answer.** Status (only the four the schema can store: Stripe's
   ``incomplete``, ``unpaid``, ``paused``… are recorded on the request, never written to the
   row), cancel at period end, current period end, canceled at; with the audit record, in
   one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from data.errors import ConflictError, DomainError, NotFoundError, ValidationError
from data.models.subscriptions import SUBSCRIPTION_STATUSES
from data.payments.gateway import PaymentDeclinedError, StripeGateway
from data.payments.subscriptions import (
    StripeSubscription,
    cancel_subscription,
    set_cancel_at_period_end,
)
from data.services.audit import record_change

ACTIONS = ("cancel_at_period_end", "resume", "cancel_now")
ACTION_LABELS = {"cancel_at_period_end": "cancel at the end of the period",
                 "resume": "resume", "cancel_now": "cancel now"}


@dataclass(frozen=True)
class SubscriptionState:
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_email: str
    tier_id: uuid.UUID
    tier_name: str
    stripe_subscription_id: str
    status: str
    billing_period: str
    current_period_start: dt.datetime
    current_period_end: dt.datetime
    cancel_at_period_end: bool
    trial_end: dt.datetime | None
    created_at: dt.datetime
    canceled_at: dt.datetime | None


@dataclass(frozen=True)
class ChangeResult:
    request_id: uuid.UUID
    action: str
    status: str  # succeeded | failed | requested (Stripe not reached: finish it later)
    subscription: SubscriptionState
    stripe_status: str | None = None
    message: str | None = None
    replayed: bool = False


_STATE_SQL = """
    SELECT s.id, s.customer_id, u.email AS customer_email, s.tier_id, t.name AS tier_name,
           s.stripe_subscription_id, s.status, s.billing_period, s.current_period_start,
           s.current_period_end, s.cancel_at_period_end, s.trial_end, s.created_at,
           s.canceled_at
    FROM subscriptions s JOIN users u ON u.id = s.customer_id
    JOIN subscription_tiers t ON t.id = s.tier_id WHERE s.id = :id"""


def get_subscription(session: Session, subscription_id: uuid.UUID, *,
                     for_update: bool = False) -> SubscriptionState:
    r = session.execute(text(_STATE_SQL + (" FOR UPDATE OF s" if for_update else "")),
                        {"id": subscription_id}).first()
    if r is None:
        raise NotFoundError("This subscription no longer exists.")
    return SubscriptionState(**r._mapping)


def refusal(state: SubscriptionState, action: str) -> str | None:
    """Why ``action`` makes no sense for the subscription as it is now, or None."""
    if state.status == "canceled":
        return "This subscription is already canceled."
    if action == "cancel_at_period_end" and state.cancel_at_period_end:
        return "This subscription is already set to cancel at the end of its period."
    if action == "resume" and not state.cancel_at_period_end:
        return "This subscription is not set to cancel: there is nothing to resume."
    return None


def idempotency_key(request_id: uuid.UUID) -> str:
    return f"platform-admin-subscription-{request_id}"


def _request(session: Session, request_id: uuid.UUID, *, for_update: bool = False) -> Any:
    return session.execute(text(
        "SELECT * FROM admin.subscription_requests WHERE id = :id"
        + (" FOR UPDATE" if for_update else "")), {"id": request_id}).first()


def _stored(session: Session, req: Any) -> ChangeResult:
    return ChangeResult(req.id, req.action, req.status,
                        get_subscription(session, req.subscription_id), req.stripe_status,
                        req.failure_message, replayed=True)


def open_request(session: Session, actor: str, request_id: uuid.UUID,
                 subscription_id: uuid.UUID, action: str) -> Any:
    """Record the request (the caller commits before calling Stripe); answers the stored
    row when ``request_id`` was already used."""
    if action not in ACTIONS:
        raise ValidationError({"action": f"Choose one of: {', '.join(ACTIONS)}."})
    state = get_subscription(session, subscription_id, for_update=True)
    existing = _request(session, request_id)
    if existing is not None:
        if existing.subscription_id != subscription_id or existing.action != action:
            raise DomainError("This request was already used for another change.")
        return existing
    other = session.execute(text(
        "SELECT actor, action FROM admin.subscription_requests "
        "WHERE subscription_id = :s AND status = 'requested'"), {"s": subscription_id}).first()
    if other is not None:
        raise ConflictError(f"{other.actor} is already changing this subscription "
                            f"({ACTION_LABELS[other.action]}); try again when that is done.",
                            current=state)
    if (why := refusal(state, action)) is not None:
        raise DomainError(why)
    session.execute(text(
        "INSERT INTO admin.subscription_requests (id, subscription_id, stripe_subscription_id, "
        "action) VALUES (:id, :s, :stripe, :a)"),
        {"id": request_id, "s": subscription_id, "stripe": state.stripe_subscription_id,
         "a": action})
    return _request(session, request_id)


def call_stripe(gateway: StripeGateway, req: Any) -> StripeSubscription:
    key = idempotency_key(req.id)
    if req.action == "cancel_now":
        return cancel_subscription(gateway, req.stripe_subscription_id, idempotency_key=key)
    return set_cancel_at_period_end(gateway, req.stripe_subscription_id,
                                    req.action == "cancel_at_period_end", idempotency_key=key)


_AUDITED = ("status", "cancel_at_period_end", "current_period_end", "canceled_at")


def finish_request(session: Session, actor: str, request_id: uuid.UUID,
                   answer: StripeSubscription) -> ChangeResult:
    """Write Stripe's answer to the subscription row, the audit and the request, once."""
    req = _request(session, request_id, for_update=True)
    if req is None:
        raise NotFoundError("This subscription change was never recorded.")
    if req.status != "requested":
        return _stored(session, req)
    before = get_subscription(session, req.subscription_id, for_update=True)
    values: dict[str, Any] = {"cancel_at_period_end": answer.cancel_at_period_end}
    if answer.status in SUBSCRIPTION_STATUSES:
        values["status"] = answer.status
    if answer.current_period_end is not None:
        values["current_period_end"] = answer.current_period_end
    if answer.status == "canceled" and before.canceled_at is None:
        values["canceled_at"] = answer.canceled_at or dt.datetime.now(dt.UTC).replace(
            tzinfo=None)
    assignments = ", ".join(f"{k} = :{k}" for k in values)
    session.execute(text(f"UPDATE subscriptions SET {assignments}, updated_at = now() "
                         "WHERE id = :id"), {**values, "id": req.subscription_id})
    after = get_subscription(session, req.subscription_id)
    unstorable = None if answer.status in SUBSCRIPTION_STATUSES else answer.status
    record_change(session, actor=actor, action=f"subscription.{req.action}",
                  entity_type="subscription", entity_id=req.subscription_id,
                  old_values={k: getattr(before, k) for k in _AUDITED},
                  new_values={k: getattr(after, k) for k in _AUDITED}
                  | ({"stripe_status": unstorable} if unstorable else {}),
                  reason=f"request {req.id}")
    session.execute(text(
        "UPDATE admin.subscription_requests SET status = 'succeeded', stripe_status = :st, "
        "completed_at = now() WHERE id = :id"), {"st": answer.status, "id": request_id})
    message = (f"Stripe reports the status “{unstorable}”, which the platform cannot store: "
               "the row keeps its status.") if unstorable else None
    return ChangeResult(req.id, req.action, "succeeded", after, answer.status, message)


def fail_request(session: Session, request_id: uuid.UUID, message: str) -> None:
    session.execute(text(
        "UPDATE admin.subscription_requests SET status = 'failed', failure_message = :m, "
        "completed_at = now() WHERE id = :id AND status = 'requested'"),
        {"m": message, "id": request_id})


def change_subscription(session_factory: sessionmaker[Session], gateway: StripeGateway,
                        actor: str, request_id: uuid.UUID, subscription_id: uuid.UUID,
                        action: str) -> ChangeResult:
    """Cancel at period end, resume or cancel now, exactly once per ``request_id``.

    Stripe declining fails the request (:class:`PaymentDeclinedError` re-raised); Stripe
    unreachable leaves it open (the same request id again, or the next start, finishes it).
    """
    with session_factory.begin() as session:
        req = open_request(session, actor, request_id, subscription_id, action)
        if req.status != "requested":
            return _stored(session, req)
    try:
        answer = call_stripe(gateway, req)
    except PaymentDeclinedError as exc:
        with session_factory.begin() as session:
            fail_request(session, request_id, str(exc))
        raise
    with session_factory.begin() as session:
        return finish_request(session, actor, request_id, answer)


def open_requests(session: Session) -> list[Any]:
    return list(session.execute(text(
        "SELECT * FROM admin.subscription_requests WHERE status = 'requested' "
        "ORDER BY created_at")).all())


def recover_subscription_requests(session_factory: sessionmaker[Session],
                                  gateway: StripeGateway, actor: str
                                  ) -> tuple[list[ChangeResult], list[str]]:
    """Finish every request left open (the app stopped after or during the Stripe call):
    the results, and a sentence for each that stays open (Stripe still unreachable)."""
    with session_factory() as session:
        pending = open_requests(session)
    done, still_open = [], []
    for req in pending:
        try:
            answer = call_stripe(gateway, req)
        except PaymentDeclinedError as exc:
            with session_factory.begin() as session:
                fail_request(session, req.id, str(exc))
            continue
        except DomainError as exc:
            still_open.append(f"{req.stripe_subscription_id}: {exc}")
            continue
        with session_factory.begin() as session:
            done.append(finish_request(session, actor, req.id, answer))
    return done, still_open


# -- drift from Stripe --------------------------------------------------------------------------

@dataclass(frozen=True)
class Drift:
    """One difference between a current subscription and Stripe's view of it."""

    subscription_id: uuid.UUID
    stripe_subscription_id: str
    customer_email: str
    field: str  # status | current_period_end | cancel_at_period_end | missing
    ours: str
    stripes: str
    note: str = ""

    def __str__(self) -> str:
        if self.field == "missing":
            return (f"{self.stripe_subscription_id} ({self.customer_email}): Stripe does not "
                    f"know this subscription (ours: {self.ours})")
        text = (f"{self.stripe_subscription_id} ({self.customer_email}): {self.field} is "
                f"{self.ours} here, {self.stripes} at Stripe")
        return text + (f" — {self.note}" if self.note else "")


def _second(value: dt.datetime | None) -> str:
    return "none" if value is None else value.replace(microsecond=0).isoformat(sep=" ")


def check_drift(session: Session, gateway: StripeGateway) -> list[Drift]:
    """Compare every active, trialing and past-due subscription with Stripe (status, current
    period end, cancel at period end); nothing is written. Stripe's subscriptions are listed
    once (all statuses, every page), not fetched one by one."""
    from data.payments.subscriptions import iter_subscriptions  # noqa: PLC0415

    stripe_subs = {s.id: s for s in iter_subscriptions(gateway)}
    rows = session.execute(text("""
        SELECT s.id, s.stripe_subscription_id, u.email, s.status, s.current_period_end,
               s.cancel_at_period_end
        FROM subscriptions s JOIN users u ON u.id = s.customer_id
        WHERE s.status IN ('active', 'trialing', 'past_due')
        ORDER BY s.created_at DESC, s.id DESC""")).all()
    drifts: list[Drift] = []
    for r in rows:
        theirs = stripe_subs.get(r.stripe_subscription_id)
        if theirs is None:
            drifts.append(Drift(r.id, r.stripe_subscription_id, r.email, "missing", r.status,
                                "unknown"))
            continue
        if theirs.status != r.status:
            note = ("a status the platform cannot store: shown, never written"
                    if theirs.status not in SUBSCRIPTION_STATUSES else "")
            drifts.append(Drift(r.id, r.stripe_subscription_id, r.email, "status", r.status,
                                theirs.status, note))
        if _second(theirs.current_period_end) != _second(r.current_period_end):
            drifts.append(Drift(r.id, r.stripe_subscription_id, r.email, "current_period_end",
                                _second(r.current_period_end),
                                _second(theirs.current_period_end)))
        if theirs.cancel_at_period_end != r.cancel_at_period_end:
            drifts.append(Drift(r.id, r.stripe_subscription_id, r.email,
                                "cancel_at_period_end", str(r.cancel_at_period_end).lower(),
                                str(theirs.cancel_at_period_end).lower()))
    return drifts
