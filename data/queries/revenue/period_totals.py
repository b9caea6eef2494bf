"""The sums behind a snapshot, per period: revenue, top content, tokens, subscriptions.

Each reader follows a :class:`ReadPlan`: with a usable rollup, the local days before its
``boundary_day`` come from the daily rollup tables and the days since from the tables
themselves (through the event-time indexes), so figures stay current; without one, the tables
cover the whole range. A period may then come back twice (rollup + tail): the caller adds the
rows up. Every reader runs in the caller's snapshot transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from data.queries.revenue.figures import TopContent
from data.queries.revenue.periods import (
    Granularity,
    local_midnights_utc,
    local_time_sql,
    next_period,
)
from data.queries.revenue.rollup_state import RollupInfo


@dataclass(frozen=True)
class ReadPlan:
    """Where each part of the range is read from."""

    tz: str
    granularity: Granularity
    from_day: dt.date  # first local day (inclusive)
    to_day: dt.date  # last local day + 1 (exclusive)
    from_utc: dt.datetime
    to_utc: dt.datetime
    rollup: bool
    roll_to_day: dt.date | None = None  # rollup covers [from_day, roll_to_day)
    tail_from_utc: dt.datetime | None = None  # raw rows from here on

    @property
    def raw_from_utc(self) -> dt.datetime:
        """Where the rows read from the tables start (naive UTC)."""
        if not self.rollup:
            return self.from_utc
        if self.tail_from_utc is None:
            # plan_range always sets both; a plan built otherwise would read no raw rows.
            raise ValueError("a rollup read plan needs tail_from_utc")
        return self.tail_from_utc


def plan_range(session: Session, tz: str, granularity: Granularity, from_day: dt.date,
               to_day: dt.date, info: RollupInfo | None) -> ReadPlan:
    """The plan for local days [``from_day``, ``to_day``); ``info`` None reads no rollup."""
    if info is None or not info.populated or info.boundary_day is None:
        from_utc, to_utc = local_midnights_utc(session, tz, from_day, to_day)
        return ReadPlan(tz, granularity, from_day, to_day, from_utc, to_utc, rollup=False)
    roll_to = min(max(info.boundary_day, from_day), to_day)
    from_utc, to_utc, tail_utc = local_midnights_utc(session, tz, from_day, to_day, roll_to)
    return ReadPlan(tz, granularity, from_day, to_day, from_utc, to_utc, rollup=True,
                    roll_to_day=roll_to, tail_from_utc=tail_utc)


def revenue_by_period(session: Session, plan: ReadPlan) -> list[Row[*tuple[Any, ...]]]:
    """(period_start, currency, source, kind, gross, refunds) rows; a key may appear twice
    (rollup + tail), the caller adds them up."""
    params = {"g": plan.granularity, "tz": plan.tz, "a": plan.raw_from_utc, "b": plan.to_utc}
    raw = f"""
        SELECT date_trunc(:g, {local_time_sql('e.ts')}) AS period, e.currency, e.source, e.kind,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0),
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0)
        FROM admin.revenue_events e WHERE e.ts >= :a AND e.ts < :b
        GROUP BY 1, 2, 3, 4"""
    rows = list(session.execute(text(raw), params))
    if plan.rollup:
        rows += session.execute(text("""
            SELECT date_trunc(:g, d.day::timestamp), d.currency, d.source, d.kind,
                   sum(d.gross), sum(d.refunds)
            FROM admin.revenue_daily d WHERE d.day >= :fd AND d.day < :td
            GROUP BY 1, 2, 3, 4"""),
            {"g": plan.granularity, "fd": plan.from_day, "td": plan.roll_to_day},
        ).all()
    return rows


def top_content(session: Session, plan: ReadPlan, limit: int = 10
                ) -> dict[str, tuple[TopContent, ...]]:
    """Each currency's top ``limit`` items by net revenue in the range."""
    parts = ["""
        SELECT e.currency, e.item_id AS content_id,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'sale'), 0) AS gross,
               coalesce(sum(e.amount) FILTER (WHERE e.event = 'refund'), 0) AS refunds,
               count(*) FILTER (WHERE e.event = 'sale') AS sales,
               count(*) FILTER (WHERE e.event = 'refund') AS refund_count
        FROM admin.revenue_events e
        WHERE e.source = 'content' AND e.ts >= :a AND e.ts < :b
        GROUP BY 1, 2"""]
    if plan.rollup:
        parts.append("""
        SELECT d.currency, d.content_id, sum(d.gross), sum(d.refunds), sum(d.sales),
               sum(d.refund_count)
        FROM admin.revenue_daily_content d WHERE d.day >= :fd AND d.day < :td
        GROUP BY 1, 2""")
    sql = f"""
        WITH per_item AS (
            SELECT currency, content_id, sum(gross) AS gross, sum(refunds) AS refunds,
                   sum(sales)::bigint AS sales, sum(refund_count)::bigint AS refund_count
            FROM ({' UNION ALL '.join(parts)}) u GROUP BY currency, content_id
        ), ranked AS (
            SELECT i.currency, i.content_id, c.title, c.content_type, i.gross, i.refunds,
                   i.gross - i.refunds AS net, i.sales, i.refund_count,
                   row_number() OVER (PARTITION BY i.currency
                                      ORDER BY i.gross - i.refunds DESC, c.title,
                                               i.content_id) AS rank
            FROM per_item i JOIN content c ON c.id = i.content_id
        )
        SELECT currency, content_id, title, content_type, gross, refunds, net, sales,
               refund_count
        FROM ranked WHERE rank <= :n ORDER BY currency, rank"""
    params = {"a": plan.raw_from_utc, "b": plan.to_utc, "fd": plan.from_day,
              "td": plan.roll_to_day, "n": limit}
    out: dict[str, list[TopContent]] = defaultdict(list)
    for currency, *rest in session.execute(text(sql), params):
        out[currency].append(TopContent(*rest))
    return {c: tuple(items) for c, items in out.items()}


def tokens_by_period(session: Session, plan: ReadPlan) -> list[Row[*tuple[Any, ...]]]:
    """(period_start, granted, spent, expired, net_change) rows; a period may appear twice
    (rollup + tail), the caller adds them up."""
    rows = list(session.execute(text(f"""
        SELECT date_trunc(:g, {local_time_sql('t.created_at')}),
               coalesce(sum(t.amount) FILTER (WHERE t.amount > 0), 0),
               coalesce(-sum(t.amount) FILTER (WHERE t.type = 'spent_offering'), 0),
               coalesce(-sum(t.amount) FILTER (WHERE t.type = 'expired'), 0),
               coalesce(sum(t.amount), 0)
        FROM credit_transactions t WHERE t.created_at >= :a AND t.created_at < :b
        GROUP BY 1"""),
        {"g": plan.granularity, "tz": plan.tz, "a": plan.raw_from_utc, "b": plan.to_utc}))
    if plan.rollup:
        rows += session.execute(text("""
            SELECT date_trunc(:g, d.day::timestamp), sum(d.granted), sum(d.spent),
                   sum(d.expired), sum(d.net_change)
            FROM admin.credit_daily d WHERE d.day >= :fd AND d.day < :td GROUP BY 1"""),
            {"g": plan.granularity, "fd": plan.from_day, "td": plan.roll_to_day}).all()
    return rows


# Each subscription at the price in force when its current period began (admin.tier_prices,
# migration 0012: a price change applies to new subscribers only); the tier's current price
# where the history does not reach back that far.
_PRICE_VERSIONS = """
    versions AS (
        SELECT tier_id, billing_period, amount, effective_from,
               lead(effective_from) OVER (PARTITION BY tier_id, billing_period
                                          ORDER BY effective_from, id) AS until
        FROM admin.tier_prices
    )"""
# The version in force when subscription ``s``'s current period began (``v`` NULL: none).
_IN_FORCE = """LEFT JOIN versions v ON v.tier_id = s.tier_id AND v.billing_period = s.billing_period
             AND s.current_period_start >= v.effective_from
             AND (v.until IS NULL OR s.current_period_start < v.until)"""

_SUBSCRIPTION_EVENTS = f"""
    WITH {_PRICE_VERSIONS}, subs AS (
        SELECT CASE s.billing_period
                    WHEN 'yearly' THEN coalesce(CASE WHEN v.tier_id IS NOT NULL THEN v.amount
                                                     ELSE t.price_yearly END, 0)
                    ELSE 12 * coalesce(CASE WHEN v.tier_id IS NOT NULL THEN v.amount
                                            ELSE t.price_monthly END, 0) END AS annual,
               greatest(s.created_at, coalesce(s.trial_end, s.created_at)) AS paying_from,
               CASE WHEN s.status = 'canceled'
                    THEN coalesce(s.canceled_at, s.current_period_end) END AS ended_at
        FROM subscriptions s JOIN subscription_tiers t ON t.id = s.tier_id
        {_IN_FORCE}
        WHERE s.status <> 'trialing'
    ), events AS (
        SELECT paying_from AS ts, annual, 1 AS subs, 0 AS churned FROM subs
        WHERE ended_at IS NULL OR ended_at > paying_from
        UNION ALL
        SELECT ended_at, -annual, -1, 1 FROM subs WHERE ended_at > paying_from
    )"""


def subscriptions_at_current_price(session: Session) -> int:
    """How many paying subscriptions (active or past due) the MRR prices at their tier's
    current price because the price history does not reach back to their period's start."""
    return int(session.execute(text(f"""
        WITH {_PRICE_VERSIONS}
        SELECT count(*) FROM subscriptions s {_IN_FORCE}
        WHERE s.status IN ('active', 'past_due') AND v.tier_id IS NULL""")).scalar_one())


def subscriptions_by_period(session: Session, plan: ReadPlan, as_of_utc: dt.datetime):
    """(bucket, period, annualised MRR change, subscriber change, churned) where bucket is
    'before' the range, 'in' it, or 'after' it; only events up to now count."""
    return session.execute(text(f"""{_SUBSCRIPTION_EVENTS}
        SELECT CASE WHEN ts < :a THEN 'before' WHEN ts >= :b THEN 'after' ELSE 'in' END AS bucket,
               CASE WHEN ts >= :a AND ts < :b THEN date_trunc(:g, {local_time_sql('ts')}) END AS period,
               sum(annual), sum(subs), sum(churned)
        FROM events WHERE ts <= :now
        GROUP BY 1, 2"""),
        {"g": plan.granularity, "tz": plan.tz, "a": plan.from_utc, "b": plan.to_utc,
         "now": as_of_utc}).all()


def first_activity_day(session: Session, tz: str, info: RollupInfo | None) -> dt.date | None:
    """The first local day with any revenue, subscription or token activity."""
    sql = """
        SELECT least(
            (SELECT min(ts) FROM admin.revenue_events),
            (SELECT min(created_at) FROM subscriptions),
            (SELECT min(created_at) FROM credit_transactions))"""
    params: dict[str, Any] = {"tz": tz}
    if info is not None and info.populated and info.boundary_day is not None:
        # Old days from the rollup (tiny, indexed); the tables only when it has none, and
        # then only the days after its boundary.
        first = session.execute(text("""
            SELECT least(
                (SELECT min(day) FROM admin.revenue_daily)::timestamp,
                (SELECT min(day) FROM admin.credit_daily)::timestamp,
                (SELECT (min(created_at) AT TIME ZONE 'UTC') AT TIME ZONE :tz
                   FROM subscriptions))"""), params).scalar_one()
        if first is not None and first.date() < info.boundary_day:
            return first.date()
        tail = local_midnights_utc(session, tz, info.boundary_day)[0]
        tail_first = session.execute(text("""
            SELECT (least((SELECT min(ts) FROM admin.revenue_events WHERE ts >= :tail),
                          (SELECT min(created_at) FROM credit_transactions
                           WHERE created_at >= :tail)) AT TIME ZONE 'UTC') AT TIME ZONE :tz
            """), {"tz": tz, "tail": tail}).scalar_one()
        candidates = [d for d in (first, tail_first) if d is not None]
        return min(candidates).date() if candidates else None
    first = session.execute(text(sql)).scalar_one()
    if first is None:
        return None
    local = session.execute(text(f"SELECT {local_time_sql('CAST(:t AS timestamp)')}"),
                            {"t": first, "tz": tz}).scalar_one()
    return local.date()


def paying_customers(session: Session, tz: str, month: dt.date, info: RollupInfo | None
                     ) -> dict[str, int]:
    """Distinct paying customers of ``month``, per currency."""
    if info is not None and info.populated and info.boundary_day is not None \
            and next_period(month, "month") <= info.boundary_day:
        rows = session.execute(text(
            "SELECT currency, payers FROM admin.revenue_monthly_payers WHERE month = :m"),
            {"m": month}).all()
        return {c: int(n) for c, n in rows}
    a, b = local_midnights_utc(session, tz, month, next_period(month, "month"))
    rows = session.execute(text(
        "SELECT currency, count(DISTINCT customer_id) FROM admin.revenue_events "
        "WHERE event = 'sale' AND ts >= :a AND ts < :b GROUP BY 1"), {"a": a, "b": b}).all()
    return {c: int(n) for c, n in rows}
