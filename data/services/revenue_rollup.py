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

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLLUP_REFRESH = "admin.refresh_revenue_rollup()"
"""The SECURITY DEFINER function that refreshes them; every staff group may run it."""


@dataclass(frozen=True)
class RollupRefresh:
    """What one refresh did."""

    kind: str
    """``full``, ``incremental`` or ``busy`` (another session is refreshing: nothing done)."""
    days: int
    """Full: the days the rollup now holds; incremental: the days rebuilt."""


def refresh_rollup_report(session: Session) -> RollupRefresh:
    """Bring the rollup up to today for the current time zone; the caller commits."""
    kind = session.execute(text(f"SELECT {ROLLUP_REFRESH}")).scalar_one()
    if kind == "busy":
        return RollupRefresh("busy", 0)
    days = session.execute(text(
        "SELECT last_days FROM admin.revenue_rollup_info WHERE id = 1")).scalar_one()
    return RollupRefresh(kind, days)


def refresh_rollup(session: Session) -> bool:
    """Refresh the rollup (see :func:`refresh_rollup_report`); False without doing anything
    when another session is refreshing it already (it is refused at once, never waited for)."""
    return refresh_rollup_report(session).kind != "busy"
