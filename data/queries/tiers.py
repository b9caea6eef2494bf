"""Read-side queries of the Subscription tiers page: the list with subscribers and MRR, one
tier with its price history, the access-change preview and a tier's subscribers.

**MRR** of a tier is the monthly equivalent (a yearly price / 12) of its paying subscriptions
(``active`` and ``past_due``; ``trialing`` ones do not pay yet), each at the price that was in
force (``admin.tier_prices``) when its current period began: a price change applies to new
subscribers only. A subscription whose current period began before the history reaches back
(or of a tier with no history) is counted at the tier's current price, and counted in
``priced_now`` so the screen can say so.

Every function takes a ``Session`` and returns frozen dataclasses (plain data).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import NotFoundError
from data.models.offerings import OFFERING_TYPES

TierSort = Literal["mrr", "subscribers", "name"]
TIER_SORTS: tuple[TierSort, ...] = ("mrr", "subscribers", "name")
CURRENT_STATUSES = ("active", "trialing", "past_due")
TIER_CURRENCY = "usd"
"""``subscription_tiers`` has no currency column: the platform charges plans in USD (as it
does bookings); the price history records the currency of each version."""


@dataclass(frozen=True)
class TierFilter:
    search: str = ""
    status: str = "all"  # "all", "active" or "archived"
    sort: TierSort = "mrr"


@dataclass(frozen=True)
class TierRow:
    id: uuid.UUID
    name: str
    price_monthly: Decimal | None
    price_yearly: Decimal | None
    currency: str
    subscribers: int
    """Active and trialing subscriptions."""
    past_due: int
    mrr: Decimal
    priced_now: int
    """Paying subscriptions counted at the current price (the history does not reach back)."""
    monthly_credits: int
    credit_rollover: bool
    active: bool


# The price in force when each current subscription's period began. Each tier and billing
# period is cut into ranges of period starts: one per history version [effective_from, next
# version's), and one before the history (or the whole line, for a tier without history) at
# the current price, flagged. Each range counts its subscriptions with an index-only range
# scan (ix_admin_subscriptions_tier_period_start): no per-subscription join.
_TIER_FIGURES = """
    ranges AS (
        SELECT tier_id, billing_period, amount, true AS from_history,
               effective_from AS since,
               lead(effective_from) OVER (PARTITION BY tier_id, billing_period
                                          ORDER BY effective_from, id) AS until
        FROM admin.tier_prices
        UNION ALL
        SELECT t.id, p.period, p.amount, false, '-infinity'::timestamp,
               (SELECT min(h.effective_from) FROM admin.tier_prices h
                WHERE h.tier_id = t.id AND h.billing_period = p.period)
        FROM subscription_tiers t
        CROSS JOIN LATERAL (VALUES ('monthly', t.price_monthly), ('yearly', t.price_yearly))
            AS p(period, amount)
    ), figures AS (
        SELECT r.tier_id,
               sum(c.subscribers)::bigint AS subscribers, sum(c.past_due)::bigint AS past_due,
               round(sum(c.paying * CASE WHEN r.billing_period = 'yearly'
                                         THEN coalesce(r.amount, 0) / 12
                                         ELSE coalesce(r.amount, 0) END), 2) AS mrr,
               coalesce(sum(c.paying) FILTER (WHERE NOT r.from_history), 0)::bigint AS priced_now
        FROM ranges r
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE s.status IN ('active', 'trialing')) AS subscribers,
                   count(*) FILTER (WHERE s.status = 'past_due') AS past_due,
                   count(*) FILTER (WHERE s.status <> 'trialing') AS paying
            FROM subscriptions s
            WHERE s.tier_id = r.tier_id AND s.billing_period = r.billing_period
              AND s.current_period_start >= r.since
              AND s.current_period_start < coalesce(r.until, 'infinity'::timestamp)
              AND s.status IN ('active', 'trialing', 'past_due')) c
        WHERE true {where_subs}
        GROUP BY r.tier_id
    )"""

_LISTED = """
    WITH {figures}, listed AS (
        SELECT t.id, t.name, t.price_monthly, t.price_yearly, t.monthly_credits,
               t.credit_rollover, t.active,
               coalesce(f.subscribers, 0) AS subscribers, coalesce(f.past_due, 0) AS past_due,
               coalesce(f.mrr, 0) AS mrr, coalesce(f.priced_now, 0) AS priced_now,
               lower(t.name) AS name_key
        FROM subscription_tiers t LEFT JOIN figures f ON f.tier_id = t.id
        WHERE {where_tiers}
    )
    SELECT * FROM listed"""

_ORDER = {
    "mrr": ("mrr", "DESC"),
    "subscribers": ("subscribers", "DESC"),
    "name": ("name_key", "ASC"),
}


def _tier_conditions(flt: TierFilter, params: dict[str, Any]) -> str:
    conditions = ["true"]
    if flt.status == "active":
        conditions.append("t.active")
    elif flt.status == "archived":
        conditions.append("NOT t.active")
    search = " ".join(flt.search.split()).lower() if isinstance(flt.search, str) else ""
    if search:
        params["search"] = "%" + search.replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        conditions.append("lower(t.name) LIKE :search")
    return " AND ".join(conditions)


def _row(r: Any) -> TierRow:
    return TierRow(id=r.id, name=r.name, price_monthly=r.price_monthly,
                   price_yearly=r.price_yearly, currency=TIER_CURRENCY,
                   subscribers=int(r.subscribers), past_due=int(r.past_due),
                   mrr=Decimal(r.mrr), priced_now=int(r.priced_now), monthly_credits=r.monthly_credits,
                   credit_rollover=r.credit_rollover, active=r.active)


def list_tiers_page(session: Session, flt: TierFilter, cursor: tuple | None, limit: int
                    ) -> tuple[list[TierRow], tuple | None]:
    """One keyset page of tiers in ``flt.sort`` order (MRR or subscribers highest first,
    or name A–Z), ties broken by id."""
    key, direction = _ORDER.get(flt.sort, _ORDER["mrr"])
    params: dict[str, Any] = {"limit": limit + 1}
    sql = _LISTED.format(figures=_TIER_FIGURES.format(where_subs=""),
                         where_tiers=_tier_conditions(flt, params))
    op = "<" if direction == "DESC" else ">"
    if cursor is not None:
        sql += f" WHERE ({key}, id) {op} (:k, :id)"
        params["k"], params["id"] = cursor
    sql += f" ORDER BY {key} {direction}, id {direction} LIMIT :limit"
    raw = session.execute(text(sql), params).all()
    more = len(raw) > limit
    raw = raw[:limit]
    next_cursor = (getattr(raw[-1], key), raw[-1].id) if more and raw else None
    return [_row(r) for r in raw], next_cursor


@dataclass(frozen=True)
class TierCount:
    value: int
    exact: bool = True


def count_tiers(session: Session, flt: TierFilter) -> TierCount:
    """Exact: a platform has a few dozen tiers at most."""
    params: dict[str, Any] = {}
    where = _tier_conditions(flt, params)
    return TierCount(int(session.execute(
        text(f"SELECT count(*) FROM subscription_tiers t WHERE {where}"), params).scalar_one()))


def get_tier_row(session: Session, tier_id: uuid.UUID) -> TierRow | None:
    """The list's row of one tier (after a change), or None."""
    sql = _LISTED.format(figures=_TIER_FIGURES.format(where_subs="AND r.tier_id = :tier"),
                         where_tiers="t.id = :tier")
    r = session.execute(text(sql), {"tier": tier_id}).first()
    return _row(r) if r is not None else None


# -- one tier -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TierRecord:
    """One tier as the editor sees it, with ``version`` (the row's xmin) for safe saves."""

    id: uuid.UUID
    name: str
    description: str | None
    price_monthly: Decimal | None
    price_yearly: Decimal | None
    category_access: tuple[str, ...]
    full_catalog_access: bool
    offering_access_rules: tuple[Any, ...]
    """The platform's JSON list as stored (``[{type, included}, …]``, unknown keys too)."""
    monthly_credits: int
    credit_rollover: bool
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    def offering_included(self, offering_type: str) -> bool:
        for rule in self.offering_access_rules:
            if isinstance(rule, Mapping) and rule.get("type") == offering_type:
                return bool(rule.get("included"))
        return False


@dataclass(frozen=True)
class PriceVersion:
    billing_period: str
    amount: Decimal | None
    currency: str
    effective_from: dt.datetime
    changed_by: str


@dataclass(frozen=True)
class SubscriberCounts:
    active: int = 0
    trialing: int = 0
    past_due: int = 0
    canceled: int = 0

    @property
    def current(self) -> int:
        return self.active + self.trialing + self.past_due


@dataclass(frozen=True)
class TierDetail:
    record: TierRecord
    counts: SubscriberCounts
    row: TierRow
    prices: tuple[PriceVersion, ...]
    empty_categories: tuple[str, ...]
    """Categories the tier grants that no published item has (allowed, with a warning)."""

    @property
    def ever_used(self) -> bool:
        return self.counts.current + self.counts.canceled > 0


_RECORD_SQL = """
    SELECT id, name, description, price_monthly, price_yearly, category_access,
           full_catalog_access, offering_access_rules, monthly_credits, credit_rollover,
           active, created_at, updated_at, xmin::text::bigint AS version
    FROM subscription_tiers WHERE id = :id"""


def _categories(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(c) for c in value if isinstance(c, str | int | float))


def get_tier(session: Session, tier_id: uuid.UUID, *, for_update: bool = False) -> TierRecord:
    r = session.execute(text(_RECORD_SQL + (" FOR UPDATE" if for_update else "")),
                        {"id": tier_id}).first()
    if r is None:
        raise NotFoundError("This subscription tier no longer exists.")
    rules = r.offering_access_rules if isinstance(r.offering_access_rules, list) else []
    return TierRecord(
        id=r.id, name=r.name, description=r.description, price_monthly=r.price_monthly,
        price_yearly=r.price_yearly, category_access=_categories(r.category_access),
        full_catalog_access=r.full_catalog_access, offering_access_rules=tuple(rules),
        monthly_credits=r.monthly_credits, credit_rollover=r.credit_rollover, active=r.active,
        created_at=r.created_at, updated_at=r.updated_at, version=r.version)


def subscriber_counts(session: Session, tier_id: uuid.UUID) -> SubscriberCounts:
    rows = session.execute(text(
        "SELECT status, count(*) FROM subscriptions WHERE tier_id = :id GROUP BY status"),
        {"id": tier_id}).all()
    found = {status: n for status, n in rows}
    return SubscriberCounts(**{k: found.get(k, 0) for k in
                               ("active", "trialing", "past_due", "canceled")})


def price_history(session: Session, tier_id: uuid.UUID) -> tuple[PriceVersion, ...]:
    """Newest first."""
    rows = session.execute(text(
        "SELECT billing_period, amount, currency, effective_from, changed_by "
        "FROM admin.tier_prices WHERE tier_id = :id ORDER BY effective_from DESC, id DESC"),
        {"id": tier_id}).all()
    return tuple(PriceVersion(*r) for r in rows)


def empty_categories(session: Session, categories: Sequence[str]) -> tuple[str, ...]:
    """Those of ``categories`` no published item has."""
    if not categories:
        return ()
    found = set(session.execute(text(
        "SELECT DISTINCT category FROM content WHERE category = ANY(:c) "
        "AND status = 'published' AND deleted_at IS NULL"), {"c": list(categories)}).scalars())
    return tuple(c for c in categories if c not in found)


def get_tier_detail(session: Session, tier_id: uuid.UUID) -> TierDetail | None:
    try:
        record = get_tier(session, tier_id)
    except NotFoundError:
        return None
    row = get_tier_row(session, tier_id)
    assert row is not None
    return TierDetail(record=record, counts=subscriber_counts(session, tier_id), row=row,
                      prices=price_history(session, tier_id),
                      empty_categories=empty_categories(session, record.category_access))


def catalog_categories(session: Session) -> tuple[str, ...]:
    """The catalog's existing categories (of items not deleted), A–Z: the editor's chips."""
    return tuple(session.execute(text(
        "SELECT DISTINCT category FROM content WHERE category IS NOT NULL "
        "AND category <> '' AND deleted_at IS NULL ORDER BY category")).scalars())


# -- the access-change preview ----------------------------------------------------------------

@dataclass(frozen=True)
class AccessPreview:
    """What an access change does, for everyone on the tier at once."""

    items_gained: int
    items_lost: int
    offerings_gained: int
    offerings_lost: int
    subscribers: int
    """Current subscribers (active, trialing, past due) whose access changes."""

    @property
    def changes_anything(self) -> bool:
        return any((self.items_gained, self.items_lost, self.offerings_gained,
                    self.offerings_lost))


def _included_types(rules: Sequence[Any]) -> list[str]:
    included = []
    for t in OFFERING_TYPES:
        for rule in rules:
            if isinstance(rule, Mapping) and rule.get("type") == t:
                if rule.get("included"):
                    included.append(t)
                break
    return included


def preview_access(session: Session, tier_id: uuid.UUID, *, categories: Sequence[str],
                   full_catalog: bool, offering_rules: Sequence[Any]) -> AccessPreview:
    """How many published items and offerings the tier gains and loses if its access
    becomes ``categories`` / ``full_catalog`` / ``offering_rules``, and how many current
    subscribers that touches; counted by PostgreSQL in one statement."""
    current = get_tier(session, tier_id)
    r = session.execute(text("""
        WITH items AS (
            -- coalesce: an item without a category is in no category (not "unknown")
            SELECT (:old_full OR coalesce(c.category = ANY(CAST(:old_cats AS text[])), false))
                       AS had,
                   (:new_full OR coalesce(c.category = ANY(CAST(:new_cats AS text[])), false))
                       AS has
            FROM content c WHERE c.status = 'published' AND c.deleted_at IS NULL
        ), offers AS (
            SELECT o.offering_type = ANY(CAST(:old_types AS text[])) AS had,
                   o.offering_type = ANY(CAST(:new_types AS text[])) AS has
            FROM offerings o WHERE o.status = 'published'
        )
        SELECT (SELECT count(*) FROM items WHERE has AND NOT had) AS items_gained,
               (SELECT count(*) FROM items WHERE had AND NOT has) AS items_lost,
               (SELECT count(*) FROM offers WHERE has AND NOT had) AS offerings_gained,
               (SELECT count(*) FROM offers WHERE had AND NOT has) AS offerings_lost,
               (SELECT count(*) FROM subscriptions s WHERE s.tier_id = :tier
                  AND s.status IN ('active', 'trialing', 'past_due')) AS subscribers"""), {
        "old_full": current.full_catalog_access, "old_cats": list(current.category_access),
        "new_full": bool(full_catalog), "new_cats": [str(c) for c in categories],
        "old_types": _included_types(current.offering_access_rules),
        "new_types": _included_types(offering_rules), "tier": tier_id,
    }).one()
    preview = AccessPreview(r.items_gained, r.items_lost, r.offerings_gained,
                            r.offerings_lost, r.subscribers)
    if not preview.changes_anything:
        return AccessPreview(0, 0, 0, 0, 0)
    return preview


# -- a tier's subscribers ---------------------------------------------------------------------

@dataclass(frozen=True)
class SubscriberFilter:
    status: str | None = None
    period: str | None = None


@dataclass(frozen=True)
class SubscriberRow:
    id: uuid.UUID
    customer_id: uuid.UUID
    customer_email: str
    status: str
    billing_period: str
    current_period_start: dt.datetime
    current_period_end: dt.datetime
    cancel_at_period_end: bool
    trial_end: dt.datetime | None
    created_at: dt.datetime


def list_tier_subscribers(session: Session, flt: SubscriberFilter, owner_id: uuid.UUID,
                          cursor: tuple | None, limit: int
                          ) -> tuple[list[SubscriberRow], tuple | None]:
    """One keyset page of a tier's subscriptions, newest first (on the app's indexes
    ``ix_admin_subscriptions_tier_created`` and ``…_tier_status``)."""
    params: dict[str, Any] = {"tier": owner_id, "limit": limit + 1}
    where = ["s.tier_id = :tier"]
    if flt.status:
        where.append("s.status = :status")
        params["status"] = flt.status
    if flt.period:
        where.append("s.billing_period = :period")
        params["period"] = flt.period
    if cursor is not None:
        where.append("(s.created_at, s.id) < (:c_at, :c_id)")
        params["c_at"], params["c_id"] = cursor
    raw = session.execute(text(f"""
        SELECT s.id, s.customer_id, u.email AS customer_email, s.status, s.billing_period,
               s.current_period_start, s.current_period_end, s.cancel_at_period_end,
               s.trial_end, s.created_at
        FROM subscriptions s JOIN users u ON u.id = s.customer_id
        WHERE {' AND '.join(where)}
        ORDER BY s.created_at DESC, s.id DESC LIMIT :limit"""), params).all()
    more = len(raw) > limit
    rows = [SubscriberRow(**r._mapping) for r in raw[:limit]]
    return rows, ((rows[-1].created_at, rows[-1].id) if more and rows else None)
