"""Time in the demo: whole seconds relative to the anchor, and how they are formatted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MINUTE = 60
HOUR = 3_600
DAY = 86_400
USER_SPAN = 3 * 365 * DAY  # users signed up over the last three years
PURCHASE_SPAN = 548 * DAY  # purchases cover the last eighteen months
RECENT = 90 * DAY  # deletions are recent
FAR_FUTURE = 1 << 40  # "never": larger than any offset the clock can format

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Clock:
    """Formats instants given as whole seconds relative to the anchor (negative = before it).

    Keeping times as ints makes the arithmetic cheap, and formatting is two table look-ups: far
    cheaper than building ``datetime`` objects and letting psycopg dump them."""

    DAYS_BEFORE = 1_200
    DAYS_AFTER = 800

    def __init__(self, anchor: datetime) -> None:
        self.anchor = anchor
        self._day_offset = self.DAYS_BEFORE
        self._anchor_second = anchor.hour * HOUR + anchor.minute * MINUTE + anchor.second
        first = anchor.date() - timedelta(days=self.DAYS_BEFORE)
        self._days = [
            (first + timedelta(days=d)).isoformat()
            for d in range(self.DAYS_BEFORE + self.DAYS_AFTER + 1)
        ]
        self._times = [
            f" {h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def ts(self, offset: int) -> str:
        """The timestamp ``offset`` seconds from the anchor, as PostgreSQL reads it."""
        day, second = divmod(offset + self._anchor_second, DAY)
        return self._days[day + self._day_offset] + self._times[second]

    def date(self, offset: int) -> str:
        """The ISO date of that instant."""
        return self._days[(offset + self._anchor_second) // DAY + self._day_offset]

    def weekday(self, offset: int) -> str:
        """The lower-case English weekday of that instant."""
        moment = self.anchor + timedelta(seconds=offset)
        return WEEKDAYS[moment.weekday()]


def ts_or_none(clock: Clock, offset: int | None) -> str | None:
    """``clock.ts(offset)``, or None for a time that never came."""
    return None if offset is None else clock.ts(offset)


def normalise_anchor(anchor: datetime | None) -> datetime:
    """Naive UTC, whole seconds; the default is now, so the demo runs up to the current time
    (a demo that stopped at midnight made every chart's running period plunge)."""
    if anchor is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if anchor.tzinfo is not None:
        anchor = anchor.astimezone(UTC).replace(tzinfo=None)
    return anchor.replace(microsecond=0)
