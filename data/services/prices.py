"""Prices as staff type them: one parser for content and series prices (NUMERIC(10,2))."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from data.models import Content
from data.services.text import decimal_bounds, parse_decimal

MAX_PRICE, PRICE_SCALE = decimal_bounds(Content.__table__.c.price)
"""The largest NUMERIC(10,2) (99,999,999.99) and its two decimals, read from the column."""


def parse_price(value: Any, field: str = "price") -> Decimal | None:
    """A price from a form: blank means none (None); otherwise a Decimal >= 0 with at most
    two decimals and at most :data:`MAX_PRICE`. Raises ValidationError naming ``field``
    (``1e30``, ``NaN``, 29 digits included: never ``decimal.InvalidOperation``).

    A comma is refused rather than guessed at: "1,5" could mean 1.50 or 15.
    """
    return parse_decimal(field, value, maximum=MAX_PRICE, scale=PRICE_SCALE, label="Price",
                         blank_hint="; leave it blank for none")
