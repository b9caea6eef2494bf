"""The drill-down: the sales and refunds behind one period of a chart, a keyset page at a time.

Read now, not from the snapshot the chart came from: later changes show here first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.queries.revenue.figures import BOOKING_CURRENCY
from data.queries.revenue.periods import (
    Granularity,
    local_midnights_utc,
    local_time_sql,
    period_bounds,
)


@dataclass(frozen=True)
class PeriodEvent:
    """One sale or refund behind a period (what a click on a chart lists)."""

    at: dt.datetime
    """Wall-clock time in the platform's time zone."""
    event: str
    source: str
    kind: str
    title: str
    customer_email: str
    amount: Decimal
    record_id: Any
    status: str
    currency: str = BOOKING_CURRENCY


def purchases_in_period(
    session: Session,
    period_start: dt.datetime | dt.date,
    granularity: Granularity,
    tz: str,
    *,
    cursor: tuple | None = None,
    limit: int = 200,
    end: dt.date | None = None,
) -> tuple[list[PeriodEvent], tuple | None]:
    """The sales and refunds of one period, in time order, a keyset page at a time.

    ``end`` (a local day, exclusive) cuts the period where the chart's range ended. Returns
    the rows and the cursor of the next page (None at the end).
    """
    first, after = period_bounds(period_start, granularity)
    if end is not None:
        after = min(after, end)
    a, b = local_midnights_utc(session, tz, first, after)
    params: dict[str, Any] = {"a": a, "b": b, "tz": tz, "n": limit + 1}
    if cursor is not None:
        params.update(ct=cursor[0], ce=cursor[1], ci=cursor[2])

    def branch(event: str, source: str, ts: str, row_id: str, table: str, rule: str) -> str:
        # The same rules as the view admin.revenue_events (a test holds them equal), on the
        # table itself: a join inside a view's UNION ALL branch cannot walk the time index
        # in order, so a month of sales would be sorted to show 200 of them.
        after = "" if cursor is None else \
            f" AND {ts} >= :ct AND ({ts}, '{event}', {row_id}) > (:ct, :ce, :ci)"
        item = "content_id" if source == "content" else "offering_id"
        alias = row_id.split(".")[0]
        currency = "lower(p.currency)::text" if source == "content" \
            else f"'{BOOKING_CURRENCY}'::text"
        return f"""
            (SELECT {ts} AS ts, '{event}'::text AS event, '{source}'::text AS source,
                    {alias}.{item} AS item_id, {alias}.customer_id,
                    {alias}.amount_paid AS amount, {row_id} AS record_id,
                    {alias}.status::text AS status, {currency} AS currency
             FROM {table}
             WHERE {rule} AND {ts} >= :a AND {ts} < :b{after}
             ORDER BY {ts}, {row_id}
             LIMIT :n)"""

    paid_booking = "b.payment_method = 'purchase' AND b.amount_paid > 0"
    branches = " UNION ALL ".join((
        branch("sale", "content", "coalesce(p.purchased_at, p.created_at)", "p.id",
               "purchases p", "p.status IN ('completed', 'refunded')"),
        branch("refund", "content", "p.refunded_at", "p.id", "purchases p",
               "p.status = 'refunded' AND p.refunded_at IS NOT NULL"),
        branch("sale", "offering", "b.created_at", "b.id", "offering_bookings b", paid_booking),
        branch("refund", "offering", "b.canceled_at", "b.id", "offering_bookings b",
               f"{paid_booking} AND b.status = 'canceled' AND b.canceled_at IS NOT NULL"),
    ))
    rows = session.execute(text(f"""
        WITH page AS MATERIALIZED (
            SELECT * FROM ({branches}) u
            ORDER BY ts, event, record_id
            LIMIT :n
        )
        SELECT {local_time_sql('e.ts')}, e.event, e.source,
               coalesce(c.content_type::text, o.offering_type::text, ''),
               coalesce(c.title, o.title, ''), u.email, e.amount, e.record_id, e.status, e.ts,
               e.currency
        FROM page e
        LEFT JOIN content c ON e.source = 'content' AND c.id = e.item_id
        LEFT JOIN offerings o ON e.source = 'offering' AND o.id = e.item_id
        JOIN users u ON u.id = e.customer_id
        ORDER BY e.ts, e.event, e.record_id"""), params).all()
    more = len(rows) > limit
    rows = rows[:limit]
    events = [PeriodEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[10])
              for r in rows]
    next_cursor = (rows[-1][9], rows[-1][1], rows[-1][7]) if more and rows else None
    return events, next_cursor
