"""How values read on screen: dates, money, yes/no, counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

_UTC = ZoneInfo("UTC")
_time_zone: ZoneInfo = _UTC


def set_time_zone(name: str) -> None:
    """Show every time in ``name`` (the platform's zone, set once when a database opens)."""
    global _time_zone
    _time_zone = ZoneInfo(name)


def time_zone_name() -> str:
    """The zone times are shown in, for the one place the screen names it."""
    return _time_zone.key


def in_time_zone(value: dt.datetime) -> dt.datetime:
    """``value`` as wall-clock time in the shown zone. The platform's timestamps are naive
    UTC (``TIMESTAMP`` columns written by ``NOW()`` on a UTC server); aware ones convert."""
    aware = value.replace(tzinfo=_UTC) if value.tzinfo is None else value
    return aware.astimezone(_time_zone)


def format_wall_clock(value: dt.datetime | None) -> str:
    """A time already in the platform's zone (revenue's local periods): shown as it is."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return in_time_zone(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_money(amount: Decimal | None, currency: str = "usd") -> str:
    """The app's one way to write money: ``1,234.50 USD``, ``-55.00 EUR`` (the sign kept)."""
    if amount is None:
        return ""
    return f"{amount:,.2f} {currency.upper()}"


def format_tokens(amount: int | None) -> str:
    """Tokens are not money: a whole number and the word, ``1,250 tokens``."""
    if amount is None:
        return ""
    return f"{amount:,} token{'' if abs(amount) == 1 else 's'}"


def format_count(value: int, noun: str, *, exact: bool = True) -> str:
    """'1 user', '12,345 users', or 'about 1,000,000 users' for an estimate."""
    text = f"{value:,} {noun}{'' if value == 1 and exact else 's'}"
    return text if exact else f"about {text}"
