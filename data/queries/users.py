"""Read-side queries of the Users page: keyset pages, search, and one user's whole story.

Every function takes a ``Session`` and returns frozen dataclasses: plain data that may cross
to the GUI thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Row, and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from data.errors import NotFoundError
from data.models import (
    Content,
    CreditBalance,
    CreditTransaction,
    Purchase,
    Referral,
    ReferralCode,
    RefundRequest,
    Subscription,
    SubscriptionTier,
    User,
)
from data.queries.bounded import AUTO, Bounds, KeysOf, ordered_after, search_page
from data.services.text import clean_search

UserStatus = Literal["all", "active", "deleted", "unverified"]
UserSort = Literal["created", "email"]
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class UserFilter:
    """What the list shows: a search text, a role, a status and a sort order."""

    search: str = ""
    role: str | None = None
    status: UserStatus = "all"
    sort: UserSort = "created"


@dataclass(frozen=True)
class UserRow:
    id: uuid.UUID
    email: str
    full_name: str
    role: str
    verified: bool
    created_at: dt.datetime
    deleted_at: dt.datetime | None


_LIST_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.email_verified_at.is_not(None).label("verified"),
    User.created_at,
    User.deleted_at,
)

_WORD = re.compile(r"\w+", re.UNICODE)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_words(column: Any, words: list[str]) -> list[ColumnElement[bool]]:
    """Each word occurs in ``lower(column)`` (a LIKE: the cheapest test), at its start or
    after a character that is neither letter nor digit (a regular expression, tested only
    where the LIKE holds): true of every text with a (``simple`` full-text) word starting
    with it, and much cheaper to test than the text's tsvector, so a walk tests it first."""
    lowered = func.lower(column)
    tests: list[ColumnElement[bool]] = []
    for w in words:
        tests.append(lowered.like(func.lower(literal("%" + _escape_like(w) + "%"))))
        tests.append(lowered.op("~")(func.lower(literal("(^|[^[:alnum:]])" + w))))
    return tests


def search_condition(search: str) -> ColumnElement[bool] | None:
    """Match the start of the email, the start of any word of the name, or an exact id.

    Core PostgreSQL only (the embedded server has no pg_trgm): ``lower(email) LIKE 'q%'``
    uses a ``text_pattern_ops`` b-tree, and the name words a GIN full-text index.
    """
    q = clean_search(search)
    if not q:
        return None
    conditions: list[ColumnElement[bool]] = []
    if " " not in q:
        conditions.append(func.lower(User.email).like(_escape_like(q.lower()) + "%"))
    words = _WORD.findall(q.lower())
    if words:
        tsquery = " & ".join(f"{w}:*" for w in words)
        conditions.append(and_(
            *contains_words(User.full_name, words),
            func.to_tsvector(text("'simple'::regconfig"), User.full_name).op("@@")(
                func.to_tsquery(text("'simple'::regconfig"), tsquery)
            ),
        ))
    with contextlib.suppress(ValueError):
        conditions.append(User.id == uuid.UUID(q))
    if not conditions:
        return literal(False)
    return or_(*conditions)


def _filtered(flt: UserFilter, *, search: bool = True):
    stmt = select(*_LIST_COLUMNS)
    cond = search_condition(flt.search) if search else None
    if cond is not None:
        stmt = stmt.where(cond)
    if flt.role:
        stmt = stmt.where(User.role == flt.role)
    if flt.status == "active":
        stmt = stmt.where(User.deleted_at.is_(None))
    elif flt.status == "deleted":
        stmt = stmt.where(User.deleted_at.is_not(None))
    elif flt.status == "unverified":
        stmt = stmt.where(User.email_verified_at.is_(None), User.deleted_at.is_(None))
    return stmt


def _sort_keys(sort: UserSort) -> KeysOf:
    if sort == "email":
        return lambda c: ([c.email], True)  # emails are unique: the email is the key
    return lambda c: ([c.created_at, c.id], False)


def list_users_page(
    session: Session, flt: UserFilter, cursor: tuple | None, limit: int,
    *, bounds: Bounds = AUTO,
) -> tuple[list[UserRow], tuple | None]:
    """One keyset page of users after ``cursor``; returns the rows and the next cursor.

    Without a search the page walks the sort index. With one, :func:`bounded.search_page`
    finds it at a bounded cost whether the term matches a few users or most of them.
    """
    keys_of = _sort_keys(flt.sort)
    cond = search_condition(flt.search)
    if cond is not None:
        raw = search_page(session, _filtered(flt, search=False), cond, keys_of, cursor,
                          limit, bounds)
    else:
        stmt = ordered_after(_filtered(flt), *keys_of(User.__table__.c), cursor)
        raw = list(session.execute(stmt.limit(limit + 1)))
    rows = [UserRow(*r) for r in raw]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, ((last.email,) if flt.sort == "email" else (last.created_at, last.id))


def iter_users(session: Session, flt: UserFilter, batch: int = 5_000) -> Iterator[list[UserRow]]:
    """Every user matching ``flt``, batch by batch, in the list's order (for export)."""
    cursor = None
    while True:
        rows, cursor = list_users_page(session, flt, cursor, batch)
        if rows:
            yield rows
        if cursor is None:
            return


@dataclass(frozen=True)
class UserCount:
    value: int
    exact: bool


def count_users(session: Session, flt: UserFilter) -> UserCount:
    """Exact for small filtered sets; the planner's estimate for the unfiltered table."""
    if flt == UserFilter(sort=flt.sort):
        estimate = session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass")
        ).scalar_one()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return UserCount(int(estimate), False)
    capped = _filtered(flt).limit(EXACT_COUNT_LIMIT + 1).subquery()
    n = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return UserCount(min(n, EXACT_COUNT_LIMIT), n <= EXACT_COUNT_LIMIT)


@dataclass(frozen=True)
class UserProfile:
    """The editable profile, with ``version`` (the row's xmin) for conflict-safe saves."""

    id: uuid.UUID
    email: str
    full_name: str
    role: str
    bio: str | None
    profile_image_url: str | None
    email_verified_at: dt.datetime | None
    stripe_customer_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    version: int


PROFILE_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.bio,
    User.profile_image_url,
    User.email_verified_at,
    User.stripe_customer_id,
    User.created_at,
    User.updated_at,
    User.deleted_at,
    text("users.xmin::text::bigint AS version"),
)


def get_profile(session: Session, user_id: uuid.UUID, *, for_update: bool = False) -> UserProfile:
    stmt = select(*PROFILE_COLUMNS).select_from(User).where(User.id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    # SQLAlchemy's types for a select stop at ten columns (an open tail from the tenth on), so
    # mypy cannot match this to the dataclass: the row is read untyped, fields in column order.
    row: Row[*tuple[Any, ...]] | None = session.execute(stmt).first()
    if row is None:
        raise NotFoundError("This user no longer exists.")
    return UserProfile(*row)


@dataclass(frozen=True)
class PurchaseLine:
    id: uuid.UUID
    content_title: str
    amount_paid: Decimal
    currency: str
    status: str
    purchased_at: dt.datetime | None
    refunded_at: dt.datetime | None
    refunded: Decimal
    """Money given back: the app's succeeded refunds (partial ones too), or everything paid
    for a purchase the platform itself marked refunded."""


@dataclass(frozen=True)
class SubscriptionLine:
    id: uuid.UUID
    tier_name: str
    status: str
    billing_period: str
    current_period_start: dt.datetime
    current_period_end: dt.datetime
    cancel_at_period_end: bool


@dataclass(frozen=True)
class LedgerLine:
    created_at: dt.datetime
    type: str
    amount: int
    balance_after: int
    description: str | None


@dataclass(frozen=True)
class TokenBalance:
    current_balance: int
    lifetime_earned: int
    lifetime_spent: int


@dataclass(frozen=True)
class ReferralLine:
    user_id: uuid.UUID
    email: str
    status: str
    referred_at: dt.datetime


@dataclass(frozen=True)
class UserDetail:
    """Everything the detail pane shows about one user, read in one transaction."""

    profile: UserProfile
    purchases: tuple[PurchaseLine, ...]
    subscriptions: tuple[SubscriptionLine, ...]
    balance: TokenBalance | None
    ledger: tuple[LedgerLine, ...]
    referral_code: str | None
    referred_by: ReferralLine | None
    referred: tuple[ReferralLine, ...]
    """A customer's bookings page on their own (``list_customer_bookings_page``)."""


DETAIL_LIMIT = 200
LEDGER_LINES = 20


def _succeeded_refunds(target: Any, column: Any) -> Any:
    """The sum of ``column`` over the app's succeeded refunds of one purchase or booking."""
    return (select(func.coalesce(func.sum(column), 0))
            .where(target, RefundRequest.status == "succeeded")
            .scalar_subquery())


def get_user_detail(session: Session, user_id: uuid.UUID) -> UserDetail:
    profile = get_profile(session, user_id)
    by_app = _succeeded_refunds(RefundRequest.purchase_id == Purchase.id, RefundRequest.amount)
    purchases = tuple(
        PurchaseLine(*r)
        for r in session.execute(
            select(Purchase.id, Content.title, Purchase.amount_paid, Purchase.currency,
                   Purchase.status, Purchase.purchased_at, Purchase.refunded_at,
                   # A purchase refunded by the platform itself has no request of ours.
                   func.greatest(by_app, case((Purchase.status == "refunded",
                                               Purchase.amount_paid), else_=0)))
            .join(Content, Content.id == Purchase.content_id)
            .where(Purchase.customer_id == user_id)
            .order_by(Purchase.created_at.desc())
            .limit(DETAIL_LIMIT)
        )
    )
    subscriptions = tuple(
        SubscriptionLine(*r)
        for r in session.execute(
            select(Subscription.id, SubscriptionTier.name, Subscription.status,
                   Subscription.billing_period, Subscription.current_period_start,
                   Subscription.current_period_end, Subscription.cancel_at_period_end)
            .join(SubscriptionTier, SubscriptionTier.id == Subscription.tier_id)
            .where(Subscription.customer_id == user_id)
            .order_by(Subscription.created_at.desc())
            .limit(DETAIL_LIMIT)
        )
    )
    bal = session.execute(
        select(CreditBalance.current_balance, CreditBalance.lifetime_earned,
               CreditBalance.lifetime_spent).where(CreditBalance.customer_id == user_id)
    ).first()
    ledger = tuple(
        LedgerLine(*r)
        for r in session.execute(
            select(CreditTransaction.created_at, CreditTransaction.type,
                   CreditTransaction.amount, CreditTransaction.balance_after,
                   CreditTransaction.description)
            .where(CreditTransaction.customer_id == user_id)
            .order_by(CreditTransaction.created_at.desc(), CreditTransaction.id.desc())
            .limit(LEDGER_LINES)
        )
    )
    code = session.execute(
        select(ReferralCode.code).where(ReferralCode.user_id == user_id)
    ).scalar_one_or_none()
    referrer = session.execute(
        select(Referral.referrer_id, User.email, Referral.status, Referral.referred_at)
        .join(User, User.id == Referral.referrer_id)
        .where(Referral.referred_id == user_id)
    ).first()
    referred = tuple(
        ReferralLine(*r)
        for r in session.execute(
            select(Referral.referred_id, User.email, Referral.status, Referral.referred_at)
            .join(User, User.id == Referral.referred_id)
            .where(Referral.referrer_id == user_id)
            .order_by(Referral.referred_at.desc())
            .limit(DETAIL_LIMIT)
        )
    )
    return UserDetail(
        profile=profile,
        purchases=purchases,
        subscriptions=subscriptions,
        balance=TokenBalance(*bal) if bal else None,
        ledger=ledger,
        referral_code=code,
        referred_by=ReferralLine(*referrer) if referrer else None,
        referred=referred,
    )


def profile_values(profile: UserProfile) -> dict[str, Any]:
    """The profile's editable fields, as the form and the audit record see them."""
    return {
        "email": profile.email,
        "full_name": profile.full_name,
        "role": profile.role,
        "bio": profile.bio,
        "profile_image_url": profile.profile_image_url,
    }


def get_user_row(session: Session, user_id: uuid.UUID) -> UserRow | None:
    """One user's list row (after a change), or None when there is no such user."""
    row = session.execute(select(*_LIST_COLUMNS).where(User.id == user_id)).first()
    return UserRow(*row) if row is not None else None
