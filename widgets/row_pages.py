"""The rows of a keyset listing kept as pages, of which only a bounded window is held.

A page is what one fetch returned. It keeps, for as long as the listing lives, its length and
the cursor it was fetched with (a keyset key, a few dozen bytes); its rows may be dropped and
fetched again from that cursor. A dropped page still counts its rows, so row numbers never
move when rows are dropped and the item model above stays valid for Qt without a reset.

Plain Python (no Qt): the model decides when to drop and refetch; this only keeps the books.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

__all__ = ["RowPages"]


class RowPages:
    """Pages of rows, each held (a list) or dropped (None) but always counted."""

    __slots__ = ("_rows", "_starts", "_lengths", "_cursors", "held_rows")

    def __init__(self) -> None:
        self._rows: list[list[Any] | None] = []
        self._starts: list[int] = []
        self._lengths: list[int] = []
        self._cursors: list[object | None] = []
        self.held_rows = 0
        """How many rows are held now (dropped pages not counted)."""

    def __len__(self) -> int:
        """Rows of the listing so far, held or dropped."""
        return self._starts[-1] + self._lengths[-1] if self._starts else 0

    @property
    def page_count(self) -> int:
        return len(self._rows)

    def page_of(self, row: int) -> int:
        return bisect_right(self._starts, row) - 1

    def span(self, page: int) -> tuple[int, int]:
        """(first row, row count) of ``page``."""
        return self._starts[page], self._lengths[page]

    def cursor(self, page: int) -> object | None:
        """The cursor ``page`` was fetched with: fetching from it again gives the page anew."""
        return self._cursors[page]

    def is_held(self, page: int) -> bool:
        return self._rows[page] is not None

    def row(self, row: int) -> Any:
        """The row at ``row``, or None when its page is dropped."""
        page = bisect_right(self._starts, row) - 1
        rows = self._rows[page]
        return None if rows is None else rows[row - self._starts[page]]

    def set_row(self, row: int, value: Any) -> None:
        page = self.page_of(row)
        rows = self._rows[page]
        assert rows is not None, "only a held row can be replaced"
        rows[row - self._starts[page]] = value

    def append(self, cursor: object | None, rows: list[Any]) -> None:
        """Add the page fetched from ``cursor`` at the end."""
        self._starts.append(len(self))
        self._lengths.append(len(rows))
        self._cursors.append(cursor)
        self._rows.append(rows)
        self.held_rows += len(rows)

    def drop(self, page: int) -> None:
        rows = self._rows[page]
        if rows is not None:
            self.held_rows -= len(rows)
            self._rows[page] = None

    def refill(self, page: int, rows: list[Any]) -> None:
        """Hold ``rows`` as ``page`` again; their count may differ from the page's length
        (rows deleted or added meanwhile): the pages after it move by the difference."""
        self.drop(page)
        self._rows[page] = rows
        self.held_rows += len(rows)
        self._resize(page, len(rows))

    def resize_dropped(self, page: int, length: int) -> None:
        """A dropped page now counts ``length`` rows (rows deleted or added since it was
        dropped): the pages after it move by the difference."""
        assert self._rows[page] is None, "only a dropped page is resized"
        self._resize(page, length)

    def remove(self, row: int) -> None:
        page = self.page_of(row)
        rows = self._rows[page]
        assert rows is not None, "only a held row can be removed"
        del rows[row - self._starts[page]]
        self.held_rows -= 1
        self._resize(page, len(rows))

    def held(self) -> Iterator[tuple[int, list[Any]]]:
        """(first row, rows) of every held page."""
        for page, rows in enumerate(self._rows):
            if rows is not None:
                yield self._starts[page], rows

    def _resize(self, page: int, length: int) -> None:
        change = length - self._lengths[page]
        if change:
            self._lengths[page] = length
            for later in range(page + 1, len(self._starts)):
                self._starts[later] += change
