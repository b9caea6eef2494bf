"""Keep the Revenue page's daily rollup current: the tables of migration 0016.

The rollup holds the local days before its ``boundary_day`` (today, platform time, when it
was last refreshed); the page reads it on big databases (see
:mod:`data.queries.revenue.rollup_state`) and asks for a refresh once a day, or when the
platform's time zone changed. A refresh is the database function
``admin.refresh_revenue_rollup()``: it rebuilds only the days touched since the last one
(found by a watermark, back-dated and refunded rows included) and the days that became
complete, or everything when the rollup was never built or is for another time zone.

Like every service, :func:`refresh_rollup` takes a ``Session`` and never commits: the caller
owns the transaction (the page: ``Database.perform``).
"""

from __future__ import annotations

import datetime as dt
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
    """The days the rollup holds after a (partial) build; the days rebuilt after an
    incremental refresh."""
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
    kind = session.execute(text(f"SELECT {ROLLUP_REFRESH.replace('integer', ':chunk')}"),
                           {"chunk": chunk_months}).scalar_one()
    if kind == "busy":
        return RollupRefresh("busy", 0)
    days, built_from = session.execute(text(
        "SELECT last_days, built_from FROM admin.revenue_rollup_info WHERE id = 1")).one()
    return RollupRefresh(kind, days, built_from)


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
