"""Prices as staff type them: one parser for content and series prices (NUMERIC(10,2))."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

MAX_PRICE = Decimal("99999999.99")
"""The largest NUMERIC(10,2)."""


def parse_price(value: Any) -> Decimal | None:
    """A price from a form: blank means none (None); otherwise a Decimal >= 0 with at most
    two decimals. Raises ValueError with a message for the price field.

    A comma is refused rather than guessed at: "1,5" could mean 1.50 or 15.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        raise ValueError("Enter the price as a decimal number, e.g. 9.99.")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"“{value.strip()}” is not a number; enter e.g. 9.99 "
                             "(a dot for cents, no thousands separator).") from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError("Enter the price as a decimal number, e.g. 9.99.")
    if value < 0:
        raise ValueError("The price cannot be negative (below zero); leave it blank for none.")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("At most 2 decimal places (cents).")
    if value > MAX_PRICE:
        raise ValueError(f"At most {MAX_PRICE:,}.")
    return value.quantize(Decimal("0.01"))
