"""Whether the daily revenue rollup is there, for which time zone, and whether it pays.

The rollup (tables of migration 0016, kept by
:func:`data.services.revenue_rollup.refresh_rollup`) replaces the scan of old rows on big
databases: from :data:`ROLLUP_MIN_PURCHASES` purchases on (``pg_class.reltuples``, the
planner's estimate, so asking is free). A rollup built for another time zone is unusable until
rebuilt. Everything here is cheap: the catalog and one row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLLUP_MIN_PURCHASES = 50_000
"""From this many purchases (planner estimate) on, the page reads the rollup."""


@dataclass(frozen=True)
class RollupInfo:
    """The rollup's own record: when it was built, for which time zone, up to which day."""

    populated: bool
    refreshed_at: dt.datetime | None
    timezone: str | None
    boundary_day: dt.date | None
    """The rollup holds the local days before this one."""
    built_from: dt.date | None = None
    """While a build from nothing is under way (newest months first): the first local day
    it holds so far. None once it holds everything."""


def rollup_info(session: Session) -> RollupInfo:
    """The rollup's record; ``populated`` False when it was never built."""
    row = session.execute(text(
        "SELECT refreshed_at, timezone, boundary_day, built_from FROM admin.revenue_rollup_info"
    )).first()
    if row is None:
        return RollupInfo(False, None, None, None)
    return RollupInfo(True, row[0], row[1], row[2], row[3])


@dataclass(frozen=True)
class RollupStatus:
    """What the page needs to know of the rollup before reading figures."""

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
    elif info.built_from is not None:
        note = (f"The rollup is being built, newest months first: it holds the days from "
                f"{info.built_from:%-d %B %Y} so far.")
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


def _estimated_purchases(session: Session) -> int:
    n = session.execute(text(
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'purchases'::regclass"
    )).scalar_one()
    return max(int(n or 0), 0)
