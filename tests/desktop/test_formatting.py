"""How counts read under the lists: singular, plural, and estimates said as such."""

from __future__ import annotations

from desktop.pages.formatting import format_count


def test_counts_read_as_staff_would_say_them():
    assert format_count(1, "user") == "1 user"
    assert format_count(0, "item") == "0 items"
    assert format_count(12345, "balance") == "12,345 balances"
    assert format_count(1_000_000, "user", exact=False) == "about 1,000,000 users"


def test_money_is_written_one_way_with_its_currency():
    from decimal import Decimal

    from desktop.pages.formatting import format_money
    from desktop.pages.revenue import money

    assert format_money(Decimal("1234.5"), "usd") == "1,234.50 USD"
    assert format_money(Decimal("-55.00"), "eur") == "-55.00 EUR"  # the sign is kept
    assert format_money(None) == ""
    # The Revenue page's charts hand floats over; they read the same way.
    assert money(24.99, "eur") == "24.99 EUR" and money(Decimal("10"), "usd") == "10.00 USD"


def test_tokens_are_not_money():
    from desktop.pages.formatting import format_tokens
    from desktop.pages.revenue import tokens

    assert format_tokens(1250) == "1,250 tokens"
    assert format_tokens(1) == "1 token" and format_tokens(-1) == "-1 token"
    assert tokens(3.0) == "3 tokens"
