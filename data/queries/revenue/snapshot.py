"""One consistent snapshot of every Revenue page figure, computed by PostgreSQL.

:func:`load_revenue` runs inside one REPEATABLE READ transaction (open it with
:func:`snapshot_session`, or :func:`begin_snapshot` on a fresh session), so that all its
queries see the database as it was at one instant, the "as of" time the page shows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from data.models.content import CONTENT_TYPES
from data.queries.revenue.figures import (
    BOOKING_CURRENCY,
    CurrencyFigures,
    RevenueKpis,
    RevenueSnapshot,
    SeriesTable,
)
from data.queries.revenue.period_totals import (
    first_activity_day,
    paying_customers,
    plan_range,
    revenue_by_period,
    subscriptions_at_current_price,
    subscriptions_by_period,
    tokens_by_period,
    top_content,
)
from data.queries.revenue.periods import (
    GRANULARITIES,
    Granularity,
    midnight,
    next_period,
    period_floor,
    period_starts,
    preset_start,
)
from data.queries.revenue.rollup_state import rollup_status

SOURCES = ("content", "offering")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def begin_snapshot(session: Session) -> Session:
    """Start ``session``'s transaction as REPEATABLE READ, READ ONLY; returns the session.

    Must be the session's first use (the isolation level is set when the transaction
    begins).
    """
    if session.in_transaction():
        raise RuntimeError("begin_snapshot() needs a session with no transaction yet")
    session.connection(execution_options={
        "isolation_level": "REPEATABLE READ", "postgresql_readonly": True,
    })
    return session


@contextmanager
def snapshot_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in a REPEATABLE READ, read-only transaction, rolled back at the end."""
    with session_factory() as session:
        begin_snapshot(session)
        try:
            yield session
        finally:
            session.rollback()


@dataclass(frozen=True)
class RollupMissing:
    """The database is big and the rollup unusable: build it before loading."""

    note: str
    """Why the rollup is unusable (never built, or for another time zone)."""


def load_revenue_snapshot(
    session: Session,
    *,
    preset: str | None,
    start: dt.date | None,
    end: dt.date | None,
    granularity: Granularity,
    allow_raw: bool,
) -> RevenueSnapshot | RollupMissing:
    """What the Revenue page loads, on a fresh ``session``: its snapshot, begun here.

    Unless ``allow_raw``, a big database whose rollup is unusable answers
    :class:`RollupMissing` instead: reading millions of rows would take long, while the
    rollup is built once and then every view of the page is quick.
    """
    begin_snapshot(session)
    if not allow_raw:
        status = rollup_status(session)
        if status.wanted and not status.usable:
            return RollupMissing(status.note)
    return load_revenue(session, preset=preset, start=start, end=end,
                        granularity=granularity)


def _first_whole_period(day: dt.date, granularity: Granularity, end: dt.date) -> dt.date:
    """The first period starting on or after ``day`` (``day`` itself if none starts by
    ``end``)."""
    first = period_floor(day, granularity)
    if first < day:
        first = next_period(first, granularity)
    return first if first <= end else day


def load_revenue(
    session: Session,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    granularity: Granularity = "day",
    preset: str | None = None,
    use_rollup: bool | None = None,
) -> RevenueSnapshot:
    """Every figure of the Revenue page, from the caller's REPEATABLE READ transaction.

    The range is ``start``..``end`` (local days, inclusive), or ``preset`` (a key of
    :data:`~data.queries.revenue.periods.PRESETS`) ending today; ``start`` None means from
    the first activity, ``end`` None means today (platform time). ``use_rollup`` None decides
    by the size of ``purchases``; True uses the rollup whenever it is usable (built, same
    time zone). Raises ValueError for a bad granularity, preset or range, and RuntimeError
    outside a REPEATABLE READ (or SERIALIZABLE) transaction.
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}")
    head = session.execute(text(
        "SELECT now(), current_setting('transaction_isolation'), admin.platform_timezone()"
    )).one()
    as_of, isolation, tz = head
    if isolation not in ("repeatable read", "serializable"):
        raise RuntimeError(
            "load_revenue() needs a REPEATABLE READ transaction (see snapshot_session)")
    as_of_utc = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    as_of_local = session.execute(text("SELECT now() AT TIME ZONE :tz"), {"tz": tz}).scalar_one()
    today = as_of_local.date()

    status = rollup_status(session, tz, today)
    info, usable, wanted = status.info, status.usable, status.wanted
    note, needs_refresh = status.note, status.needs_refresh
    if use_rollup is None:
        use_rollup = usable and wanted
    elif use_rollup and not usable:
        use_rollup = False
    read_info = info if use_rollup else None

    if preset is not None:
        if start is not None or end is not None:
            raise ValueError("give either a preset or a start and end, not both")
        start = preset_start(preset, today)
    end = today if end is None else end
    if start is None:
        start = first_activity_day(session, tz, read_info) or end
    if start > end:
        raise ValueError(f"the range starts ({start}) after it ends ({end})")
    if read_info is not None and read_info.built_from is not None \
            and read_info.built_from > end:
        read_info = None  # a range older than the build so far: from its tables (indexed)
        use_rollup = False
    if read_info is not None and read_info.built_from is not None \
            and start < read_info.built_from:
        # A build from nothing is under way, newest months first: show the whole periods
        # it holds; older ones follow as they are built.
        start = _first_whole_period(read_info.built_from, granularity, end)
        note = f"{note} The chart starts there; older periods follow as they are built."
    periods = [midnight(p) for p in period_starts(start, end, granularity)]
    from_day = periods[0].date()
    plan = plan_range(session, tz, granularity, from_day, end + dt.timedelta(days=1), read_info)

    # Revenue: currency → period → (source, kind) → [gross, refunds]. Never summed across
    # currencies.
    cells: dict[str, dict[dt.datetime, dict[tuple[str, str], list[Decimal]]]] = \
        defaultdict(lambda: defaultdict(dict))
    kinds_seen: set[str] = set()
    for period, currency, source, kind, gross, refunds in revenue_by_period(session, plan):
        cell = cells[currency][period].setdefault((source, kind), [ZERO, ZERO])
        cell[0] += _dec(gross)
        cell[1] += _dec(refunds)
        if source == "content":
            kinds_seen.add(kind)
    content_types = tuple(CONTENT_TYPES) + tuple(sorted(kinds_seen - set(CONTENT_TYPES)))
    tables = {c: _money_tables(cells[c], periods, content_types) for c in cells}

    # Subscriptions: running totals from the events.
    base_annual, base_subs = Decimal(0), 0
    after_annual, after_subs = Decimal(0), 0
    per_period: dict[dt.datetime, tuple[Decimal, int, int]] = {}
    for bucket, period, annual, subs, churned in subscriptions_by_period(session, plan,
                                                                         as_of_utc):
        if bucket == "before":
            base_annual += _dec(annual)
            base_subs += int(subs)
        elif bucket == "after":
            after_annual += _dec(annual)
            after_subs += int(subs)
        else:
            per_period[period] = (_dec(annual), int(subs), int(churned))
    running_annual, running_subs, sub_rows = base_annual, base_subs, []
    for p in periods:
        d_annual, d_subs, churned = per_period.get(p, (Decimal(0), 0, 0))
        running_annual += d_annual
        running_subs += d_subs
        sub_rows.append((p, _monthly(running_annual), running_subs, churned))
    subscriptions = SeriesTable("subscriptions", ("mrr", "active_subscribers", "churned"),
                                tuple(sub_rows))
    now_annual, now_subs = running_annual + after_annual, running_subs + after_subs
    at_current_price = subscriptions_at_current_price(session)

    # Tokens
    token_cells: dict[dt.datetime, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for period, *values in tokens_by_period(session, plan):
        token_cell = token_cells[period]
        for i, v in enumerate(values):
            token_cell[i] += int(v or 0)
    tokens = SeriesTable("tokens", ("granted", "spent", "expired", "net_change"),
                         tuple((p, *token_cells.get(p, [0, 0, 0, 0])) for p in periods))

    top = top_content(session, plan)

    # KPIs, per currency
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    month_plan = plan_range(session, tz, "day", last_month, today + dt.timedelta(days=1),
                            read_info)
    daily_net: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    month_gross: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for period, currency, _source, _kind, gross, refunds in revenue_by_period(session,
                                                                              month_plan):
        daily_net[currency][period.date()] += _dec(gross) - _dec(refunds)
        month_gross[currency] += _dec(gross)
    same_day = min(today.day, (this_month - last_month).days)
    payers = paying_customers(session, tz, last_month, read_info)

    currencies = set(cells) | set(daily_net) | set(top) | set(payers)
    if not currencies:
        currencies = {BOOKING_CURRENCY}
    empty = _money_tables({}, periods, content_types)
    by_currency: dict[str, CurrencyFigures] = {}
    weight: dict[str, Decimal] = {}
    for currency in currencies:
        revenue, by_source, by_type = tables.get(currency, empty)
        net_by_day = daily_net.get(currency, {})
        this_month_net = sum((v for d, v in net_by_day.items() if d >= this_month), ZERO)
        last_month_net = sum((v for d, v in net_by_day.items() if d < this_month), ZERO)
        last_to_date = sum((v for d, v in net_by_day.items()
                            if d < this_month and d.day <= same_day), ZERO)
        n_payers = payers.get(currency, 0)
        range_gross = sum(revenue.values("gross"), ZERO)
        range_refunds = sum(revenue.values("refunds"), ZERO)
        weight[currency] = range_gross + month_gross.get(currency, ZERO)
        kpis = RevenueKpis(
            this_month_net=this_month_net,
            last_month_net=last_month_net,
            last_month_to_date_net=last_to_date,
            mrr=_monthly(now_annual),
            mrr_at_current_price=at_current_price,
            active_subscribers=now_subs,
            range_gross=range_gross,
            range_refunds=range_refunds,
            range_net=range_gross - range_refunds,
            refund_rate=(range_refunds / range_gross).quantize(Decimal("0.0001"),
                                                                ROUND_HALF_UP)
            if range_gross else None,
            arppu_month=last_month,
            arppu=(last_month_net / n_payers).quantize(CENT, ROUND_HALF_UP)
            if n_payers else None,
            paying_customers=n_payers,
        )
        by_currency[currency] = CurrencyFigures(currency, revenue, by_source, by_type,
                                                top.get(currency, ()), kpis)
    # The main currency: the most sales in the range and the KPI months.
    order = tuple(sorted(currencies, key=lambda c: (-weight[c], c)))
    main = by_currency[order[0]]
    refreshed = info.refreshed_at if info.populated else None
    return RevenueSnapshot(
        as_of=as_of.astimezone(dt.UTC),
        as_of_local=as_of_local,
        timezone=tz,
        start=from_day,
        end=end,
        granularity=granularity,
        preset=preset,
        revenue=main.revenue,
        by_source=main.by_source,
        by_type=main.by_type,
        subscriptions=subscriptions,
        tokens=tokens,
        top_content=main.top_content,
        kpis=main.kpis,
        used_rollup=use_rollup,
        rollup_refreshed_at=refreshed,
        rollup_age=(as_of - refreshed) if refreshed is not None else None,
        rollup_timezone=info.timezone,
        rollup_note=note,
        rollup_needs_refresh=needs_refresh,
        rollup_wanted=wanted,
        currencies=order,
        by_currency=by_currency,
    )


def _money_tables(cells: dict[dt.datetime, dict[tuple[str, str], list[Decimal]]],
                  periods: list[dt.datetime], content_types: tuple[str, ...]
                  ) -> tuple[SeriesTable, SeriesTable, SeriesTable]:
    """One currency's revenue, by-source and by-type tables from its cells."""
    revenue_rows, source_rows, type_rows = [], [], []
    for p in periods:
        totals: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for (source, kind), (g, r) in cells.get(p, {}).items():
            for key in ("", source, f"content:{kind}" if source == "content" else None):
                if key is not None:
                    totals[key][0] += g
                    totals[key][1] += r
        g, r = totals[""]
        revenue_rows.append((p, g, r, g - r))
        row: list[Any] = [p]
        for src in SOURCES:
            sg, sr = totals[src]
            row += [sg, sr, sg - sr]
        source_rows.append(tuple(row))
        row = [p]
        for ct in content_types:
            tg, tr = totals[f"content:{ct}"]
            row += [tg, tr, tg - tr]
        type_rows.append(tuple(row))
    measures = ("gross", "refunds", "net")
    return (
        SeriesTable("revenue", measures, tuple(revenue_rows)),
        SeriesTable("by_source", tuple(f"{s}_{m}" for s in SOURCES for m in measures),
                    tuple(source_rows)),
        SeriesTable("by_type", tuple(f"{t}_{m}" for t in content_types for m in measures),
                    tuple(type_rows)),
    )


def _monthly(annual: Decimal) -> Decimal:
    return (annual / 12).quantize(CENT, ROUND_HALF_UP)


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)
