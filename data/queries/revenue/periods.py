"""Calendar math of the Revenue page: granularities, range presets, and periods.

Periods are calendar days, ISO weeks (starting on Monday) or months in the platform's time
zone (``platform_settings.timezone``). In SQL a timestamp is put in its period with
``date_trunc(g, (ts AT TIME ZONE 'UTC') AT TIME ZONE tz)`` (:func:`local_time_sql`), the
platform's timestamps being naive UTC; a local day becomes a UTC instant by PostgreSQL's own
time zone rules (:func:`local_midnights_utc`), never Python's, so both agree on every DST
change.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")
PRESETS = {"30d": "30 days", "90d": "90 days", "12m": "12 months", "all": "All time"}
"""Range presets: name → label. Each ends today (platform time)."""


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
    """The first day of the period after the one starting on ``day``."""
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


def period_bounds(period_start: dt.datetime | dt.date, granularity: Granularity
                  ) -> tuple[dt.date, dt.date]:
    """The local days [first, last + 1) of the period starting at ``period_start``."""
    day = period_start.date() if isinstance(period_start, dt.datetime) else period_start
    first = period_floor(day, granularity)
    return first, next_period(first, granularity)


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


def midnight(day: dt.date) -> dt.datetime:
    """The start of ``day`` as a naive datetime (how periods are keyed)."""
    return dt.datetime(day.year, day.month, day.day)


def local_midnights_utc(session: Session, tz: str, *days: dt.date) -> list[dt.datetime]:
    """Local midnights of ``days`` as naive UTC, by PostgreSQL's own time zone rules."""
    params = {"tz": tz, **{f"d{i}": midnight(d) for i, d in enumerate(days)}}
    cols = ", ".join(
        f"(CAST(:d{i} AS timestamp) AT TIME ZONE :tz) AT TIME ZONE 'UTC'" for i in range(len(days))
    )
    return list(session.execute(text(f"SELECT {cols}"), params).one())


def local_time_sql(ts: str) -> str:
    """SQL for the naive UTC timestamp expression ``ts`` as wall-clock time in ``:tz``."""
    return f"(({ts} AT TIME ZONE 'UTC') AT TIME ZONE :tz)"
