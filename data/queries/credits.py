"""Read-side queries of the Token balances page: balances and one customer's ledger.

Keyset pages on the app's indexes (``ix_admin_credit_balances_*`` and
``ix_admin_credit_transactions_customer_created``), never OFFSET. Every function takes a
``Session`` and returns frozen dataclasses: plain data that may cross to the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Result, Select, exists, func, select, text, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from data.models import CreditAdjustment, CreditBalance, CreditTransaction, User
from data.queries.users import EXACT_COUNT_LIMIT, search_condition

BalanceSort = Literal["balance", "last_change"]


@dataclass(frozen=True)
class BalanceFilter:
    """What the balances list shows: a customer search (email prefix, name words, or id),
    a sort order, and optionally only customers with ledger activity in a date range
    (both ends inclusive, whole days)."""

    search: str = ""
    sort: BalanceSort = "last_change"
    active_from: dt.date | None = None
    active_to: dt.date | None = None

    @property
    def is_unfiltered(self) -> bool:
        return not self.search.strip() and self.active_from is None and self.active_to is None


@dataclass(frozen=True)
class BalanceRow:
    customer_id: uuid.UUID
    email: str
    full_name: str
    current_balance: int
    lifetime_earned: int
    lifetime_spent: int
    updated_at: dt.datetime
    balance_id: uuid.UUID


_BALANCE_COLUMNS = (
    CreditBalance.customer_id,
    User.email,
    User.full_name,
    CreditBalance.current_balance,
    CreditBalance.lifetime_earned,
    CreditBalance.lifetime_spent,
    CreditBalance.updated_at,
    CreditBalance.id.label("balance_id"),
)


def _activity_condition(flt: BalanceFilter):
    """Has a ledger row in the range: an EXISTS probe on (customer_id, created_at)."""
    if flt.active_from is None and flt.active_to is None:
        return None
    conditions = [CreditTransaction.customer_id == CreditBalance.customer_id]
    if flt.active_from is not None:
        start = dt.datetime.combine(flt.active_from, dt.time())
        conditions.append(CreditTransaction.created_at >= start)
    if flt.active_to is not None:
        end = dt.datetime.combine(flt.active_to + dt.timedelta(days=1), dt.time())
        conditions.append(CreditTransaction.created_at < end)
    return exists().where(*conditions)


def filtered_balances(flt: BalanceFilter) -> Select:
    """Balances joined with their customer, narrowed by ``flt`` (not sorted, not paged)."""
    stmt = select(*_BALANCE_COLUMNS).select_from(CreditBalance).join(
        User, User.id == CreditBalance.customer_id
    )
    cond = search_condition(flt.search)
    if cond is not None:
        stmt = stmt.where(cond)
    activity = _activity_condition(flt)
    if activity is not None:
        stmt = stmt.where(activity)
    return stmt


def list_balances_page(
    session: Session, flt: BalanceFilter, cursor: tuple | None, limit: int
) -> tuple[list[BalanceRow], tuple | None]:
    """One keyset page of balances after ``cursor``; returns the rows and the next cursor.

    The cursor is (sort key, balance id). Without a search the page walks the sort index;
    with one, the matching customers are found first through the users' search indexes (a
    MATERIALIZED CTE), as :func:`data.queries.users.list_users_page` explains.
    """
    stmt = filtered_balances(flt)
    # The sort key and id: the CTE's columns when searching, else the table's.
    key: ColumnElement[Any] | InstrumentedAttribute[Any]
    id_: ColumnElement[Any] | InstrumentedAttribute[Any]
    if search_condition(flt.search) is not None:
        matches = stmt.cte("matches").prefix_with("MATERIALIZED")
        stmt = select(matches)
        key = matches.c.current_balance if flt.sort == "balance" else matches.c.updated_at
        id_ = matches.c.balance_id
    else:
        key = CreditBalance.current_balance if flt.sort == "balance" else CreditBalance.updated_at
        id_ = CreditBalance.id
    if cursor is not None:
        stmt = stmt.where(tuple_(key, id_) < tuple_(*cursor))
    stmt = stmt.order_by(key.desc(), id_.desc()).limit(limit + 1)
    rows = [BalanceRow(*r) for r in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    sort_key = last.current_balance if flt.sort == "balance" else last.updated_at
    return rows, (sort_key, last.balance_id)


def get_balance(session: Session, customer_id: uuid.UUID) -> BalanceRow | None:
    """One customer's balance row, or None when they have none."""
    row = session.execute(
        filtered_balances(BalanceFilter()).where(CreditBalance.customer_id == customer_id)
    ).first()
    return BalanceRow(*row) if row else None


@dataclass(frozen=True)
class BalanceCount:
    value: int
    exact: bool


def count_balances(session: Session, flt: BalanceFilter) -> BalanceCount:
    """Exact for small filtered sets; the planner's estimate for the unfiltered table."""
    if flt.is_unfiltered:
        estimate = session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'credit_balances'::regclass")
        ).scalar_one()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return BalanceCount(int(estimate), False)
    capped = filtered_balances(flt).limit(EXACT_COUNT_LIMIT + 1).subquery()
    n = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return BalanceCount(min(n, EXACT_COUNT_LIMIT), n <= EXACT_COUNT_LIMIT)


@dataclass(frozen=True)
class LedgerLine:
    """One ledger row; ``actor`` is who made it when it is an adjustment made in the app."""

    id: uuid.UUID
    created_at: dt.datetime
    type: str
    amount: int
    balance_after: int
    description: str | None
    subscription_id: uuid.UUID | None
    offering_booking_id: uuid.UUID | None
    expires_at: dt.datetime | None
    actor: str | None


def list_ledger_page(
    session: Session, customer_id: uuid.UUID, cursor: tuple | None, limit: int
) -> tuple[list[LedgerLine], tuple | None]:
    """One keyset page of a customer's ledger, newest first; cursor is (created_at, id)."""
    t = CreditTransaction
    stmt = (
        select(t.id, t.created_at, t.type, t.amount, t.balance_after, t.description,
               t.subscription_id, t.offering_booking_id, t.expires_at, CreditAdjustment.actor)
        .outerjoin(CreditAdjustment, CreditAdjustment.transaction_id == t.id)
        .where(t.customer_id == customer_id)
    )
    if cursor is not None:
        stmt = stmt.where(tuple_(t.created_at, t.id) < tuple_(*cursor))
    stmt = stmt.order_by(t.created_at.desc(), t.id.desc()).limit(limit + 1)
    # SQLAlchemy's types for a select stop at ten columns (an open tail from the tenth on), so
    # mypy cannot match this to the dataclass: each row is read untyped, fields in column order.
    result: Result[*tuple[Any, ...]] = session.execute(stmt)
    rows = [LedgerLine(*r) for r in result]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    return rows, (rows[-1].created_at, rows[-1].id)
