"""What a revenue snapshot holds: plain frozen data, safe to hand from a worker to the GUI.

Money is :class:`~decimal.Decimal` throughout; tokens are integers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from data.queries.revenue.periods import Granularity

BOOKING_CURRENCY = "usd"
"""Offering bookings carry no currency on the platform: the view counts them in this one
(as the refund service does), and the page says so."""


@dataclass(frozen=True)
class SeriesTable:
    """One chart's data: ``rows`` are ``(period_start, value, ...)`` in ``columns`` order.

    ``period_start`` is a naive datetime, wall-clock time in the platform's time zone.
    """

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    @property
    def periods(self) -> tuple[dt.datetime, ...]:
        """Every row's period start, in order."""
        return tuple(r[0] for r in self.rows)

    def values(self, column: str) -> tuple[Any, ...]:
        """One column's values, a value per period."""
        i = self.columns.index(column) + 1
        return tuple(r[i] for r in self.rows)

    def value_at(self, period: dt.datetime, column: str) -> Any:
        """One cell; KeyError for a period not in the table."""
        i = self.columns.index(column) + 1
        for r in self.rows:
            if r[0] == period:
                return r[i]
        raise KeyError(period)


@dataclass(frozen=True)
class TopContent:
    """One item of the top-content list: its sales and refunds in the range."""

    content_id: Any
    title: str
    content_type: str
    gross: Decimal
    refunds: Decimal
    net: Decimal
    sales: int
    refund_count: int


@dataclass(frozen=True)
class RevenueKpis:
    """The KPI row of one currency."""

    this_month_net: Decimal
    """Net revenue of the current month (platform time) up to now."""
    last_month_net: Decimal
    """Net revenue of the whole previous month."""
    last_month_to_date_net: Decimal
    """Net revenue of the previous month up to the same day of the month as today."""
    mrr: Decimal
    active_subscribers: int
    range_gross: Decimal
    range_refunds: Decimal
    range_net: Decimal
    refund_rate: Decimal | None
    """Refunds / sales of the range (amounts), None without sales."""
    arppu_month: dt.date
    """The month ARPPU is about: the last complete month."""
    arppu: Decimal | None
    """That month's net revenue per paying customer; None when nobody paid."""
    paying_customers: int
    mrr_at_current_price: int = 0
    """Paying subscriptions the MRR prices at today's price: their period began before the
    tier's price history."""


@dataclass(frozen=True)
class CurrencyFigures:
    """The money figures of one currency: amounts of different currencies are never added."""

    currency: str
    """Lower case, as the platform stores it (``usd``, ``eur``)."""
    revenue: SeriesTable
    by_source: SeriesTable
    by_type: SeriesTable
    top_content: tuple[TopContent, ...]
    kpis: RevenueKpis
    """Its money KPIs; MRR and subscribers are the platform's (plan prices carry no
    currency) and the same in every currency's figures."""


@dataclass(frozen=True)
class RevenueSnapshot:
    """Everything the Revenue page shows, read at ``as_of`` in one transaction."""

    as_of: dt.datetime
    """Aware (UTC): when the snapshot's transaction began."""
    as_of_local: dt.datetime
    timezone: str
    start: dt.date
    """First day of the first period (the requested start, widened to a whole period)."""
    end: dt.date
    """Last day of the range (inclusive)."""
    granularity: Granularity
    preset: str | None
    revenue: SeriesTable
    by_source: SeriesTable
    by_type: SeriesTable
    subscriptions: SeriesTable
    tokens: SeriesTable
    top_content: tuple[TopContent, ...]
    kpis: RevenueKpis
    used_rollup: bool
    rollup_refreshed_at: dt.datetime | None
    rollup_age: dt.timedelta | None
    rollup_timezone: str | None
    rollup_note: str
    """Why the rollup is not used, or is out of date; empty when all is well."""
    rollup_needs_refresh: bool
    """The rollup is missing, for another time zone, or was built before today."""
    rollup_wanted: bool
    """``purchases`` is big enough for the rollup to pay (so keep it up to date)."""
    currencies: tuple[str, ...] = ()
    """Every currency with money in the range or this or last month, the main one first (the
    one with the most sales); ``revenue``, ``by_source``, ``by_type``, ``top_content`` and
    ``kpis`` are the main currency's."""
    by_currency: dict[str, CurrencyFigures] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """The main currency (the one the default figures are in)."""
        return self.currencies[0] if self.currencies else BOOKING_CURRENCY

    def figures(self, currency: str) -> CurrencyFigures:
        """The money figures of ``currency`` (one of :attr:`currencies`)."""
        return self.by_currency[currency]

    @property
    def periods(self) -> tuple[dt.datetime, ...]:
        """The start of every period of the range."""
        return self.revenue.periods

    def tables(self) -> dict[str, SeriesTable]:
        """The main currency's money tables and the subscription and token tables, by name."""
        return {t.name: t for t in (self.revenue, self.by_source, self.by_type,
                                    self.subscriptions, self.tokens)}


def series_csv_rows(table: SeriesTable) -> Iterator[tuple[Any, ...]]:
    """The table as CSV rows (header first): ISO dates, then the values as they are (Decimal
    money with two decimals, integer counts), for a writer that keeps numbers as numbers."""
    yield ("period_start", *table.columns)
    for row in table.rows:
        yield (row[0].date().isoformat(), *row[1:])
