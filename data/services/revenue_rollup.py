"""Keep the Revenue page's daily rollup current: the tables of migrations 0016 and 0018.

The rollup holds every local day (today's too, so a day becoming complete costs nothing);
the page reads the days before its ``boundary_day`` (today, platform time, when it was last
refreshed) on big databases (see
:mod:`data.queries.revenue.rollup_state`) and asks for a refresh once a day, or when the
platform's time zone changed. A refresh is the database function
``admin.refresh_revenue_rollup()`` (migration 0018): it reads the money events arriving
since the last one's watermark (back-dated sales, refunds, cancellations, refund requests,
ledger rows) and adds each one's contribution to its day and month, or subtracts what a
changed or deleted one had added (a record of the recent events counted says what that was);
a day the record cannot settle is rebuilt. Past purchases and card bookings the platform
changed since (found by ``updated_at`` through an index, migration 0025: a sale imported
with an old ``created_at``, a refund with an old ``refunded_at``, a status or amount changed)
have their days rebuilt. Everything, when the rollup was never built or is for another time
zone. Its upkeep follows what changed, not the history.

Like every service, :func:`refresh_rollup` takes a ``Session`` and never commits: the caller
owns the transaction (the page: ``Database.perform``).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLLUP_REFRESH = "admin.refresh_revenue_rollup(integer)"
"""The SECURITY DEFINER function that refreshes them; every staff group may run it."""

ROLLUP_FIRST_DAY = "admin.revenue_rollup_first_day(text)"
"""The first local day with a sale or a ledger row (a plain read, for the build's progress)."""


@dataclass(frozen=True)
class RollupRefresh:
    """What one refresh did."""

    kind: str
    """``full`` (built from nothing, all of it), ``incremental`` (the days touched since the
    last refresh), ``building`` (from nothing or further back, but not all of it yet: the
    newest months first), ``built`` (the last months of a build) or ``busy`` (another session
    is refreshing: nothing done)."""
    days: int
    """The days the rollup holds after a (partial) build; the days changed (by delta or
    rebuilt) after an incremental refresh."""
    built_from: dt.date | None = None
    """While building: the first local day the rollup holds so far; None once complete."""

    @property
    def complete(self) -> bool:
        return self.kind in ("full", "incremental", "built")


def refresh_rollup_report(session: Session, chunk_months: int | None = None) -> RollupRefresh:
    """Bring the rollup up to today for the current time zone; the caller commits.

    ``chunk_months`` None builds everything that is missing in this transaction; a number
    builds at most that many months more (from nothing: the newest first), so a cold start
    can commit and show the recent months while the rest builds, call by call."""
    _one_snapshot(session)
    kind = session.execute(text(f"SELECT {ROLLUP_REFRESH.replace('integer', ':chunk')}"),
                           {"chunk": chunk_months}).scalar_one()
    if kind == "busy":
        return RollupRefresh("busy", 0)
    days, built_from = session.execute(text(
        "SELECT last_days, built_from FROM admin.revenue_rollup_info WHERE id = 1")).one()
    return RollupRefresh(kind, days, built_from)


def _one_snapshot(session: Session) -> None:
    """Run the refresh in one REPEATABLE READ snapshot when it is the transaction's first use
    (the page's and the benchmark's): the function reads the events arriving, the payers and
    any day it rebuilds in separate statements, and a row committed between two of them must
    be seen by all or none. Later in a transaction the level is fixed; the refresh runs as is
    (READ COMMITTED: a row committed during the refresh may be counted twice or not at all on
    a day it rebuilds, until the rollup is rebuilt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "execution_options ignored": already begun
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def months_to_build(session: Session) -> int:
    """How many local months of history a rollup built from nothing covers (for progress)."""
    return int(session.execute(text("""
        SELECT coalesce((SELECT (extract(year FROM age(date_trunc('month', now() AT TIME ZONE tz),
                                                       date_trunc('month', f))) * 12
                                 + extract(month FROM age(date_trunc('month', now() AT TIME ZONE tz),
                                                          date_trunc('month', f))))::int + 1
                         FROM admin.revenue_rollup_first_day(tz) AS f), 1)
        FROM admin.platform_timezone() AS tz""")).scalar_one())


def refresh_rollup(session: Session) -> bool:
    """Refresh the rollup (see :func:`refresh_rollup_report`); False without doing anything
    when another session is refreshing it already (it is refused at once, never waited for)."""
    return refresh_rollup_report(session).kind != "busy"
