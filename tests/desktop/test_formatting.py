"""How counts read under the lists: singular, plural, and estimates said as such."""

from __future__ import annotations

from desktop.pages.formatting import format_count


def test_counts_read_as_staff_would_say_them():
    assert format_count(1, "user") == "1 user"
    assert format_count(0, "item") == "0 items"
    assert format_count(12345, "balance") == "12,345 balances"
    assert format_count(1_000_000, "user", exact=False) == "about 1,000,000 users"
