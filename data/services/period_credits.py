"""This period's subscription credits by hand: support's fix when the platform missed a
subscription's monthly grant. This is money.

One ``earned_subscription`` ledger row (``subscription_id`` set) for the tier's
``monthly_credits``, written by the definer function ``admin.grant_period_credits``
(migration 0017) in the caller's transaction, with the balance, the grant row and the audit
record. Guarantees:

- **A period is granted once.** ``admin.period_credit_grants`` is keyed by (subscription,
  period start): a double click or a retry (the same request id, made when the dialog opened)
  answers the first result again (``replayed``); a second member of staff, or a second dialog,
  is refused with who granted it and when.
- **Not over the platform's own grant.** The function refuses a period for which the
  platform already wrote an ``earned_subscription`` row of that subscription (dated at or
  after the period start), and a period that is no longer current.
- **No lost update; balance agrees with its ledger.** The customer's balance row is locked
  before anything is decided; the row and the balance are written by one call.

A login without EXECUTE on the function (founders) is refused by PostgreSQL: the caller sees
:class:`~data.errors.PermissionDeniedError` (through ``translate_db_error``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import ConflictError, DomainError, NotFoundError, ValidationError
from data.services.text import parse_id

GRANT_FUNCTION = "admin.grant_period_credits(uuid, uuid, timestamp without time zone, uuid)"
PERIOD_CREDIT_FUNCTIONS = (GRANT_FUNCTION,)
"""The definer functions behind this module (migration 0017), as ``db roles`` grants them."""
GRANTING_STATUSES = ("active", "trialing")


class PeriodAlreadyGrantedError(ConflictError):
    """The credits of this period were already granted (by the platform or by staff)."""


@dataclass(frozen=True)
class PeriodCreditState:
    """A subscription's current period and whether its credits were granted."""

    subscription_id: uuid.UUID
    customer_id: uuid.UUID
    customer_email: str
    tier_name: str
    status: str
    current_period_start: dt.datetime
    current_period_end: dt.datetime
    monthly_credits: int
    credit_rollover: bool
    balance: int
    platform_granted_at: dt.datetime | None
    platform_granted_amount: int | None
    staff_granted_at: dt.datetime | None
    staff_granted_by: str | None
    staff_granted_amount: int | None

    @property
    def refusal(self) -> str | None:
        """Why this period's credits cannot be granted by hand, in a sentence, or None."""
        if self.platform_granted_at is not None:
            return platform_granted_message(self.platform_granted_amount,
                                            self.platform_granted_at)
        if self.staff_granted_at is not None:
            return staff_granted_message(self.staff_granted_amount, self.staff_granted_by,
                                         self.staff_granted_at)
        if self.status not in GRANTING_STATUSES:
            return not_current_message(self.status)
        if self.monthly_credits <= 0:
            return NO_CREDITS
        return None


@dataclass(frozen=True)
class PeriodGrantResult:
    subscription_id: uuid.UUID
    customer_id: uuid.UUID
    period_start: dt.datetime
    amount: int
    balance_before: int
    balance_after: int
    transaction_id: uuid.UUID
    created_at: dt.datetime
    replayed: bool = False


def _day(when: dt.datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"


def platform_granted_message(amount: int | None, when: dt.datetime) -> str:
    return (f"The platform already granted this period's credits ({amount or 0:,} tokens on "
            f"{_day(when)}); nothing was granted.")


def staff_granted_message(amount: int | None, actor: str | None, when: dt.datetime) -> str:
    return (f"This period's credits were already granted by hand ({amount or 0:,} tokens, by "
            f"{actor} on {_day(when)}); nothing was granted.")


def not_current_message(status: str) -> str:
    return (f"This subscription is {status.replace('_', ' ')}: only an active or trialing "
            "subscription earns its period's credits. Nothing was granted.")


NO_CREDITS = "This subscription's tier grants no monthly credits; nothing was granted."
PERIOD_CHANGED = ("This subscription's period changed since the dialog opened; nothing was "
                  "granted. Close the dialog and look again.")


_STATE = text("""
SELECT s.id AS subscription_id, s.customer_id, u.email AS customer_email,
       t.name AS tier_name, s.status, s.current_period_start, s.current_period_end,
       t.monthly_credits, t.credit_rollover,
       coalesce((SELECT b.current_balance FROM credit_balances b
                 WHERE b.customer_id = s.customer_id), 0) AS balance,
       p.created_at AS platform_granted_at, p.amount AS platform_granted_amount,
       g.created_at AS staff_granted_at, g.actor AS staff_granted_by,
       g.amount AS staff_granted_amount
FROM subscriptions s
JOIN users u ON u.id = s.customer_id
JOIN subscription_tiers t ON t.id = s.tier_id
LEFT JOIN admin.period_credit_grants g
       ON g.subscription_id = s.id AND g.period_start = s.current_period_start
LEFT JOIN LATERAL (
    SELECT ct.created_at, ct.amount FROM credit_transactions ct
    WHERE ct.customer_id = s.customer_id AND ct.subscription_id = s.id
      AND ct.type = 'earned_subscription' AND ct.created_at >= s.current_period_start
      AND NOT EXISTS (SELECT FROM admin.period_credit_grants pg
                      WHERE pg.transaction_id = ct.id)
    ORDER BY ct.created_at LIMIT 1) p ON true
WHERE s.id = :id
""")


def get_period_credit_state(session: Session, subscription_id: uuid.UUID) -> PeriodCreditState:
    """The subscription's current period, its tier's credits and who granted them."""
    r = session.execute(_STATE, {"id": subscription_id}).first()
    if r is None:
        raise NotFoundError("This subscription no longer exists.")
    return PeriodCreditState(**r._mapping)


_GRANT = text("SELECT * FROM admin.grant_period_credits(:request_id, :subscription_id, "
              "CAST(:period_start AS timestamp), :transaction_id)")


def grant_period_credits(session: Session, request_id: uuid.UUID, subscription_id: object,
                         period_start: dt.datetime,
                         transaction_id: uuid.UUID | None = None) -> PeriodGrantResult:
    """Grant the subscription's tier's monthly credits for the period starting
    ``period_start`` (the one the dialog showed), once per period. In the caller's
    transaction; the function records ``session_user`` as the actor.

    Raises :class:`PeriodAlreadyGrantedError` (the platform or staff granted it),
    :class:`ConflictError` (the period changed; the request id was used for another grant),
    :class:`DomainError` (not active or trialing; no monthly credits; beyond the largest
    balance), :class:`NotFoundError`.
    """
    sub_id = parse_id("subscription", subscription_id)
    if not isinstance(period_start, dt.datetime):
        raise ValidationError({"period_start": "Not a date and time."})
    if period_start.tzinfo is not None:  # the platform's periods are timestamps without zone
        period_start = period_start.replace(tzinfo=None)
    params = {"request_id": request_id, "subscription_id": sub_id,
              "period_start": period_start, "transaction_id": transaction_id or uuid.uuid4()}
    row = session.execute(_GRANT, params).one()
    return _from_outcome(sub_id, period_start, row)


def _from_outcome(sub_id: uuid.UUID, period_start: dt.datetime,
                  row: Any) -> PeriodGrantResult:
    outcome, customer, amount, before, after, transaction_id, created_at, actor = row
    if outcome in ("applied", "replayed"):
        return PeriodGrantResult(sub_id, customer, period_start, amount, before, after,
                                 transaction_id, created_at, replayed=outcome == "replayed")
    if outcome == "missing":
        raise NotFoundError("This subscription no longer exists; nothing was granted.")
    if outcome == "already_granted":
        raise PeriodAlreadyGrantedError(staff_granted_message(amount, actor, created_at))
    if outcome == "platform_granted":
        raise PeriodAlreadyGrantedError(platform_granted_message(amount, created_at))
    if outcome == "period_changed":
        raise ConflictError(PERIOD_CHANGED)
    if outcome == "request_reused":
        raise ConflictError("This request already granted another period; nothing was "
                            "granted. Close the dialog and open it again.")
    if outcome == "not_current":
        raise DomainError(not_current_message(actor or "canceled"))
    if outcome == "no_credits":
        raise DomainError(NO_CREDITS)
    if outcome == "too_large":
        raise DomainError("That would exceed the largest balance a customer can hold; "
                          "nothing was granted.")
    raise RuntimeError(f"period grant {sub_id}: unknown outcome {outcome!r}")
