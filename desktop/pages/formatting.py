"""How values read on screen: dates, money, yes/no, counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
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
