"""The Revenue page's figures, computed by PostgreSQL from one consistent snapshot.

Everything the page shows (every chart's series, the top-ten list and the KPI row) comes from
:func:`load_revenue`, which must run inside one REPEATABLE READ transaction: open it with
:func:`snapshot_session`, so that all its queries see the database as it was at one instant,
the "as of" time the page shows.

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
at the period's end (or now, for the current one), each at the price in force when its
current period began (``admin.tier_prices``), or the tier's current price where that history
does not reach back so far. A subscription pays from its creation, or the end of its trial, until
it was canceled (``canceled_at``, else ``current_period_end``); ``trialing`` ones do not pay.
*Active subscribers* counts paying subscriptions; *churned* counts paying subscriptions that
ended in the period.

**Rollup.** On big databases (``pg_class.reltuples`` of ``purchases`` at least
:data:`~data.queries.revenue.rollup_state.ROLLUP_MIN_PURCHASES`) the daily rollup
(tables in ``admin``, local days before the rollup's ``boundary_day``) replaces the scan of
old rows; the days since its refresh are read from the tables themselves (through the
event-time indexes), so figures stay current. Rows written later with a timestamp before the
boundary (back-dated imports) show after the next refresh; the page refreshes the rollup once
a day (a write: :func:`data.services.revenue_rollup.refresh_rollup`), which adds only what
changed since (by delta, migration 0018). A rollup built for another time zone is ignored until rebuilt.

The units: :mod:`.periods` (calendar math: periods, presets, local time in SQL),
:mod:`.figures` (the snapshot's frozen results), :mod:`.snapshot` (the transaction and
:func:`load_revenue`), :mod:`.period_totals` (the per-period sums it reads),
:mod:`.rollup_state` (whether the rollup is usable), :mod:`.period_events` (the drill-down).
Money is :class:`~decimal.Decimal` throughout; tokens are integers.
"""

from data.queries.revenue.figures import (
    BOOKING_CURRENCY,
    RevenueSnapshot,
    SeriesTable,
    series_csv_rows,
)
from data.queries.revenue.period_events import purchases_in_period
from data.queries.revenue.periods import (
    PRESETS,
    Granularity,
    next_period,
    period_bounds,
    period_floor,
    period_starts,
)
from data.queries.revenue.rollup_state import rollup_info
from data.queries.revenue.snapshot import (
    RollupMissing,
    load_revenue,
    load_revenue_snapshot,
    snapshot_session,
)

__all__ = [
    "BOOKING_CURRENCY",
    "PRESETS",
    "Granularity",
    "RevenueSnapshot",
    "RollupMissing",
    "SeriesTable",
    "load_revenue",
    "load_revenue_snapshot",
    "next_period",
    "period_bounds",
    "period_floor",
    "period_starts",
    "purchases_in_period",
    "rollup_info",
    "series_csv_rows",
    "snapshot_session",
]
