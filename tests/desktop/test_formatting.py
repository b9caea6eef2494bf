"""How counts read under the lists: singular, plural, and estimates said as such."""

from __future__ import annotations

from desktop.formatting import format_count


def test_counts_read_as_staff_would_say_them():
    assert format_count(1, "user") == "1 user"
    assert format_count(0, "item") == "0 items"
    assert format_count(12345, "balance") == "12,345 balances"
    assert format_count(1_000_000, "user", exact=False) == "about 1,000,000 users"


def test_money_is_written_one_way_with_its_currency():
    from decimal import Decimal

    from desktop.formatting import format_money
    from desktop.pages.revenue_snapshot_view import money

    assert format_money(Decimal("1234.5"), "usd") == "1,234.50 USD"
    assert format_money(Decimal("-55.00"), "eur") == "-55.00 EUR"  # the sign is kept
    assert format_money(None) == ""
    # The Revenue page's charts hand floats over; they read the same way.
    assert money(24.99, "eur") == "24.99 EUR" and money(Decimal("10"), "usd") == "10.00 USD"


def test_tokens_are_not_money():
    from desktop.formatting import format_tokens
    from desktop.pages.revenue_snapshot_view import tokens

    assert format_tokens(1250) == "1,250 tokens"
    assert format_tokens(1) == "1 token" and format_tokens(-1) == "-1 token"
    assert tokens(3.0) == "3 tokens"


def test_times_are_shown_in_the_platform_zone():
    """Naive timestamps are the platform's UTC; shown in the zone set for the database."""
    import datetime as dt

    from desktop.formatting import (
        format_value,
        format_wall_clock,
        set_time_zone,
        time_zone_name,
    )

    naive_utc = dt.datetime(2026, 7, 1, 22, 30)
    assert format_value(naive_utc) == "2026-07-01 22:30"
    set_time_zone("Europe/Berlin")
    try:
        assert time_zone_name() == "Europe/Berlin"
        assert format_value(naive_utc) == "2026-07-02 00:30"  # summer time: UTC+2
        assert format_value(dt.datetime(2026, 1, 1, 22, 30)) == "2026-01-01 23:30"
        # Already the platform's wall clock (revenue's periods): left as it is.
        assert format_wall_clock(naive_utc) == "2026-07-01 22:30"
    finally:
        set_time_zone("UTC")
