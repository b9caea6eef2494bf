"""The Revenue page's figures, computed by PostgreSQL from one consistent snapshot.

Everything the page shows (every chart's series, the top-ten list and the KPI row) comes from
:func:`load_revenue`, which must run inside one REPEATABLE READ transaction: open it with
:func:`snapshot_session` (or :func:`begin_snapshot` on a fresh session), so that all its
queries see the database as it was at one instant, the "as of" time the page shows.

What counts (the database's view ``admin.revenue_events``, migration 0004, is the single
definition):

* a **sale** is a completed or refunded content purchase, at ``purchased_at`` (its
  ``created_at`` if unset), or an offering booking paid by card (``payment_method =
  'purchase'``, ``amount_paid > 0``), at its ``created_at``;
* a **refund** is a refunded purchase at ``refunded_at``, or a canceled card-paid booking at
  ``canceled_at``: refunds count in the period they happened, not the period of the sale;
* **net** = sales − refunds of the period.

Periods are calendar days, ISO weeks (Monday) or months in the platform's time zone
(``platform_settings.timezone``): ``date_trunc(g, (ts AT TIME ZONE 'UTC') AT TIME ZONE tz)``,
the platform's timestamps being naive UTC. A range is widened to whole periods at its start;
its last period ends with the range.

**MRR** at a period is the monthly equivalent (yearly prices / 12) of the subscriptions paying
at the period's end (or now, for the current one), at the tiers' current prices (the schema
keeps no price history). A subscription pays from its creation, or the end of its trial, until
it was canceled (``canceled_at``, else ``current_period_end``); ``trialing`` ones do not pay.
*Active subscribers* counts paying subscriptions; *churned* counts paying subscriptions that
ended in the period.

**Rollup.** On big databases (``pg_class.reltuples`` of ``purchases`` at least
:data:`ROLLUP_MIN_PURCHASES`) the daily rollup (materialized views, local days before the
rollup's ``boundary_day``) replaces the scan of old rows; the days since its refresh are read
from the tables themselves (through the event-time indexes), so figures stay current. Rows
written later with a timestamp before the boundary (back-dated imports) show after the next
refresh; the page refreshes the rollup once a day (see :func:`refresh_rollup`). A rollup built
for another time zone is ignored until rebuilt.

Money is :class:`~decimal.Decimal` throughout; tokens are integers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from data.models.content import CONTENT_TYPES

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
PRESETS = {"30d": "30 days", "90d": "90 days", "12m": "12 months", "all": "All time"}
"""Range presets: name → label. Each ends today (platform time)."""

ROLLUP_MIN_PURCHASES = 50_000
"""From this many purchases (planner estimate) on, the page reads the rollup."""

ROLLUP_VIEWS = (
    "revenue_rollup_info", "revenue_daily", "revenue_daily_content", "revenue_monthly_payers",
    "credit_daily",
)
SOURCES = ("content", "offering")
BOOKING_CURRENCY = "usd"
"""Offering bookings carry no currency on the platform: the view counts them in this one
(as the refund service does), and the page says so."""
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# -- snapshot transactions ---------------------------------------------------------------------


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


# -- results -----------------------------------------------------------------------------------


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
        return tuple(r[0] for r in self.rows)

    def values(self, column: str) -> tuple[Any, ...]:
        i = self.columns.index(column) + 1
        return tuple(r[i] for r in self.rows)

    def value_at(self, period: dt.datetime, column: str) -> Any:
        i = self.columns.index(column) + 1
        for r in self.rows:
            if r[0] == period:
                return r[i]
        raise KeyError(period)


@dataclass(frozen=True)
class TopContent:
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
        return self.by_currency[currency]

    @property
    def periods(self) -> tuple[dt.datetime, ...]:
        return self.revenue.periods

    def tables(self) -> dict[str, SeriesTable]:
        return {t.name: t for t in (self.revenue, self.by_source, self.by_type,
                                    self.subscriptions, self.tokens)}


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


# -- periods -----------------------------------------------------------------------------------


def period_floor(day: dt.date, granularity: Granularity) -> dt.date:
    """The first day of the period containing ``day`` (weeks start on Monday)."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown granularity {granularity!r}")


def next_period(day: dt.date, granularity: Granularity) -> dt.date:
    if granularity == "day":
        return day + dt.timedelta(days=1)
    if granularity == "week":
        return day + dt.timedelta(days=7)
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def period_starts(start: dt.date, end: dt.date, granularity: Granularity) -> list[dt.date]:
    """Every period from the one containing ``start`` to the one containing ``end``."""
    out, p = [], period_floor(start, granularity)
    while p <= end:
        out.append(p)
        p = next_period(p, granularity)
    return out


def preset_start(preset: str, today: dt.date) -> dt.date | None:
    """The first day of a preset range ending ``today``; None for all time."""
    if preset == "30d":
        return today - dt.timedelta(days=29)
    if preset == "90d":
        return today - dt.timedelta(days=89)
    if preset == "12m":
        try:
            return today.replace(year=today.year - 1) + dt.timedelta(days=1)
        except ValueError:  # 29 February
            return today.replace(year=today.year - 1, day=28) + dt.timedelta(days=1)
    if preset == "all":
        return None
    raise ValueError(f"unknown range preset {preset!r}")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


# -- the rollup --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupInfo:
    populated: bool
    refreshed_at: dt.datetime | None
    timezone: str | None
    boundary_day: dt.date | None


def rollup_info(session: Session) -> RollupInfo:
    populated = bool(session.execute(text(
        "SELECT relispopulated FROM pg_class WHERE oid = 'admin.revenue_rollup_info'::regclass"
    )).scalar_one())
    if not populated:
        return RollupInfo(False, None, None, None)
    row = session.execute(text(
        "SELECT refreshed_at, timezone, boundary_day FROM admin.revenue_rollup_info"
    )).first()
    if row is None:
        return RollupInfo(False, None, None, None)
    return RollupInfo(True, row[0], row[1], row[2])


@dataclass(frozen=True)
class RollupStatus:
    info: RollupInfo
    wanted: bool
    """``purchases`` is big enough for the rollup to pay."""
    usable: bool
    """Built, and for the platform's current time zone."""
    needs_refresh: bool
    note: str


def rollup_status(session: Session, tz: str | None = None,
                  today: dt.date | None = None) -> RollupStatus:
    """Whether the rollup is wanted, usable and current (cheap: catalog and one row)."""
    if tz is None or today is None:
        tz, today = session.execute(text(
            "SELECT tz, (now() AT TIME ZONE tz)::date FROM admin.platform_timezone() AS tz"
        )).one()
    info = rollup_info(session)
    note, needs_refresh = "", False
    if not info.populated:
        note, needs_refresh = "The rollup has not been built yet.", True
    elif info.timezone != tz:
        note = f"The rollup was built for {info.timezone}, the platform now uses {tz}."
        needs_refresh = True
    elif info.boundary_day is not None and info.boundary_day < today:
        needs_refresh = True
    return RollupStatus(
        info=info,
        wanted=_estimated_purchases(session) >= ROLLUP_MIN_PURCHASES,
        usable=info.populated and info.timezone == tz,
        needs_refresh=needs_refresh,
        note=note,
    )


def refresh_rollup(session: Session) -> bool:
    """Rebuild the rollup for today's data and time zone; the caller commits.

    Refreshes every rollup view in one transaction (one ``now()``, one time zone), each
    CONCURRENTLY once it has data, so the page keeps reading the old rollup meanwhile.
    Returns False without doing anything when another session is refreshing it already.
    """
    got = session.execute(text(
        "SELECT pg_try_advisory_xact_lock(hashtext('platform-admin revenue rollup'))"
    )).scalar_one()
    if not got:
        return False
    for name in ROLLUP_VIEWS:
        populated = session.execute(
            text("SELECT relispopulated FROM pg_class WHERE oid = CAST(:v AS regclass)"),
            {"v": f"admin.{name}"},
        ).scalar_one()
        how = "CONCURRENTLY " if populated else ""
        session.execute(text(f"REFRESH MATERIALIZED VIEW {how}admin.{name}"))
    return True


# -- loading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
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
        return self.tail_from_utc if self.rollup else self.from_utc


def _to_utc(session: Session, tz: str, *days: dt.date) -> list[dt.datetime]:
    """Local midnights of ``days`` as naive UTC, by PostgreSQL's own time zone rules."""
    params = {"tz": tz, **{f"d{i}": _midnight(d) for i, d in enumerate(days)}}
    cols = ", ".join(
        f"(CAST(:d{i} AS timestamp) AT TIME ZONE :tz) AT TIME ZONE 'UTC'" for i in range(len(days))
    )
    return list(session.execute(text(f"SELECT {cols}"), params).one())


def _plan(session: Session, tz: str, granularity: Granularity, from_day: dt.date,
          to_day: dt.date, info: RollupInfo | None) -> _Plan:
    if info is None or not info.populated or info.boundary_day is None:
        from_utc, to_utc = _to_utc(session, tz, from_day, to_day)
        return _Plan(tz, granularity, from_day, to_day, from_utc, to_utc, rollup=False)
    roll_to = min(max(info.boundary_day, from_day), to_day)
    from_utc, to_utc, tail_utc = _to_utc(session, tz, from_day, to_day, roll_to)
    return _Plan(tz, granularity, from_day, to_day, from_utc, to_utc, rollup=True,
                 roll_to_day=roll_to, tail_from_utc=tail_utc)


_LOCAL = "(({ts} AT TIME ZONE 'UTC') AT TIME ZONE :tz)"


def _local(ts: str) -> str:
    return _LOCAL.format(ts=ts)


def _revenue_by_period(session: Session, plan: _Plan) -> list[tuple]:
    """(period_start, currency, source, kind, gross, refunds) rows; a key may appear twice
    (rollup + tail), the caller adds them up."""
    params = {"g": plan.granularity, "tz": plan.tz, "a": plan.raw_from_utc, "b": plan.to_utc}
    raw = f"""
        SELECT date_trunc(:g, {_local('e.ts')}) AS period, e.currency, e.source, e.kind,
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


def _top_content(session: Session, plan: _Plan, limit: int = 10
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


def _tokens_by_period(session: Session, plan: _Plan) -> list[tuple]:
    rows = list(session.execute(text(f"""
        SELECT date_trunc(:g, {_local('t.created_at')}),
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


_SUBSCRIPTION_EVENTS = """
    WITH subs AS (
        SELECT CASE s.billing_period WHEN 'yearly' THEN coalesce(t.price_yearly, 0)
                    ELSE 12 * coalesce(t.price_monthly, 0) END AS annual,
               greatest(s.created_at, coalesce(s.trial_end, s.created_at)) AS paying_from,
               CASE WHEN s.status = 'canceled'
                    THEN coalesce(s.canceled_at, s.current_period_end) END AS ended_at
        FROM subscriptions s JOIN subscription_tiers t ON t.id = s.tier_id
        WHERE s.status <> 'trialing'
    ), events AS (
        SELECT paying_from AS ts, annual, 1 AS subs, 0 AS churned FROM subs
        WHERE ended_at IS NULL OR ended_at > paying_from
        UNION ALL
        SELECT ended_at, -annual, -1, 1 FROM subs WHERE ended_at > paying_from
    )"""


def _subscriptions_by_period(session: Session, plan: _Plan, as_of_utc: dt.datetime):
    """(bucket, period, annualised MRR change, subscriber change, churned) where bucket is
    'before' the range, 'in' it, or 'after' it; only events up to now count."""
    return session.execute(text(f"""{_SUBSCRIPTION_EVENTS}
        SELECT CASE WHEN ts < :a THEN 'before' WHEN ts >= :b THEN 'after' ELSE 'in' END AS bucket,
               CASE WHEN ts >= :a AND ts < :b THEN date_trunc(:g, {_local('ts')}) END AS period,
               sum(annual), sum(subs), sum(churned)
        FROM events WHERE ts <= :now
        GROUP BY 1, 2"""),
        {"g": plan.granularity, "tz": plan.tz, "a": plan.from_utc, "b": plan.to_utc,
         "now": as_of_utc}).all()


def _first_day(session: Session, tz: str, info: RollupInfo | None) -> dt.date | None:
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
        tail = _to_utc(session, tz, info.boundary_day)[0]
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
    local = session.execute(text(f"SELECT {_local('CAST(:t AS timestamp)')}"),
                            {"t": first, "tz": tz}).scalar_one()
    return local.date()


def _payers(session: Session, tz: str, month: dt.date, info: RollupInfo | None
            ) -> dict[str, int]:
    """Distinct paying customers of ``month``, per currency."""
    if info is not None and info.populated and info.boundary_day is not None \
            and next_period(month, "month") <= info.boundary_day:
        rows = session.execute(text(
            "SELECT currency, payers FROM admin.revenue_monthly_payers WHERE month = :m"),
            {"m": month}).all()
        return {c: int(n) for c, n in rows}
    a, b = _to_utc(session, tz, month, next_period(month, "month"))
    rows = session.execute(text(
        "SELECT currency, count(DISTINCT customer_id) FROM admin.revenue_events "
        "WHERE event = 'sale' AND ts >= :a AND ts < :b GROUP BY 1"), {"a": a, "b": b}).all()
    return {c: int(n) for c, n in rows}


def _estimated_purchases(session: Session) -> int:
    n = session.execute(text(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'purchases'::regclass"
    )).scalar_one()
    return max(int(n or 0), 0)


def _dec(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


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
    :data:`PRESETS`) ending today; ``start`` None means from the first activity, ``end``
    None means today (platform time). ``use_rollup`` None decides by the size of
    ``purchases``; True uses the rollup whenever it is usable (built, same time zone).
    Raises ValueError for a bad granularity, preset or range, and RuntimeError outside a
    REPEATABLE READ (or SERIALIZABLE) transaction.
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
        start = _first_day(session, tz, read_info) or end
    if start > end:
        raise ValueError(f"the range starts ({start}) after it ends ({end})")
    periods = [_midnight(p) for p in period_starts(start, end, granularity)]
    from_day = periods[0].date()
    plan = _plan(session, tz, granularity, from_day, end + dt.timedelta(days=1), read_info)

    # Revenue: currency → period → (source, kind) → [gross, refunds]. Never summed across
    # currencies.
    cells: dict[str, dict[dt.datetime, dict[tuple[str, str], list[Decimal]]]] = \
        defaultdict(lambda: defaultdict(dict))
    kinds_seen: set[str] = set()
    for period, currency, source, kind, gross, refunds in _revenue_by_period(session, plan):
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
    for bucket, period, annual, subs, churned in _subscriptions_by_period(session, plan,
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

    # Tokens
    token_cells: dict[dt.datetime, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for period, *values in _tokens_by_period(session, plan):
        cell = token_cells[period]
        for i, v in enumerate(values):
            cell[i] += int(v or 0)
    tokens = SeriesTable("tokens", ("granted", "spent", "expired", "net_change"),
                         tuple((p, *token_cells.get(p, [0, 0, 0, 0])) for p in periods))

    top = _top_content(session, plan)

    # KPIs, per currency
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    month_plan = _plan(session, tz, "day", last_month, today + dt.timedelta(days=1), read_info)
    daily_net: dict[str, dict[dt.date, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    month_gross: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for period, currency, _source, _kind, gross, refunds in _revenue_by_period(session,
                                                                               month_plan):
        daily_net[currency][period.date()] += _dec(gross) - _dec(refunds)
        month_gross[currency] += _dec(gross)
    same_day = min(today.day, (this_month - last_month).days)
    payers = _payers(session, tz, last_month, read_info)

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


# -- what is behind a period -------------------------------------------------------------------


def period_bounds(period_start: dt.datetime | dt.date, granularity: Granularity
                  ) -> tuple[dt.date, dt.date]:
    """The local days [first, last + 1) of the period starting at ``period_start``."""
    day = period_start.date() if isinstance(period_start, dt.datetime) else period_start
    first = period_floor(day, granularity)
    return first, next_period(first, granularity)


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
    a, b = _to_utc(session, tz, first, after)
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
        SELECT {_local('e.ts')}, e.event, e.source,
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


def series_csv_rows(table: SeriesTable) -> Iterator[tuple[Any, ...]]:
    """The table as CSV rows (header first): ISO dates, then the values as they are (Decimal
    money with two decimals, integer counts), for a writer that keeps numbers as numbers."""
    yield ("period_start", *table.columns)
    for row in table.rows:
        yield (row[0].date().isoformat(), *row[1:])
