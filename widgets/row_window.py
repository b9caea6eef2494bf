"""The books of a lazy table's bounded row window: pages, where each held row is, and the
keys at each page's edges.

Plain Python (no Qt), under :class:`~widgets.lazy_table_model.LazyTableModel`, which decides
when to drop and refetch and tells Qt about every change. This keeps, on top of
:class:`~widgets.row_pages.RowPages`:

- the position of every held row by its key (``row_key``), so an edited row is replaced in
  place and a row is never listed twice;
- each page's first and last key as it was last held. A dropped page is fetched again from
  its cursor with room for more rows than it had, and :meth:`RowWindow.rows_for_refill`
  keeps exactly the rows that are still its own: up to its old last row, or up to the next
  page's first row when that one is gone. Without these edges a refetched page kept its old
  length whatever happened meanwhile: after deletes it borrowed the next page's first rows
  (listed twice once that page was fetched again too), after inserts its last rows were
  pushed past the next page's cursor and never listed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from widgets.row_pages import RowPages

__all__ = ["RowWindow"]


class RowWindow:
    """Pages of a listing, held or dropped, with the held rows' positions by key."""

    __slots__ = ("pages", "_key", "_positions", "_edges")

    def __init__(self, row_key: Callable[[Any], Hashable] | None = None) -> None:
        self.pages = RowPages()
        self._key = row_key
        self._positions: dict[Hashable, int] = {}
        # Per page: (first key, last key) when it was last held with rows, else None.
        self._edges: list[tuple[Hashable, Hashable] | None] = []

    def __len__(self) -> int:
        return len(self.pages)

    @property
    def held_rows(self) -> int:
        return self.pages.held_rows

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def key_of(self, row: Any) -> Hashable:
        assert self._key is not None
        return self._key(row)

    def position(self, key: Hashable) -> int | None:
        """Where the held row with ``key`` is, or None (not loaded, or on a dropped page)."""
        return self._positions.get(key)

    def row(self, row: int) -> Any:
        return self.pages.row(row)

    def held(self) -> Iterator[tuple[int, list[Any]]]:
        return self.pages.held()

    # -- changes ------------------------------------------------------------------------------

    def append(self, cursor: object | None, rows: list[Any]) -> None:
        first = len(self.pages)
        self.pages.append(cursor, rows)
        self._edges.append(self._edges_of(rows))
        if self._key is not None:
            key = self._key
            for offset, row in enumerate(rows):
                self._positions[key(row)] = first + offset

    def set_row(self, row: int, value: Any) -> None:
        """Replace a held row by a fresh version of it (same key)."""
        self.pages.set_row(row, value)

    def remove(self, row: int) -> None:
        page = self.pages.page_of(row)
        self.pages.remove(row)
        self._note_edges(page)
        self._rebuild_positions()

    def drop(self, page: int) -> None:
        """Forget ``page``'s rows (it keeps its length, cursor and edges)."""
        if self._key is not None and self.pages.is_held(page):
            first, length = self.pages.span(page)
            for offset in range(length):
                self._positions.pop(self._key(self.pages.row(first + offset)), None)
        self.pages.drop(page)

    def rows_for_refill(self, page: int, fetched: list[Any], limit: int) -> list[Any]:
        """The rows of ``fetched`` (from ``page``'s cursor, at most ``limit``) that are
        ``page``'s own now: those up to its old last row, or before the next page's first.

        Rows held elsewhere (moved there by an edit) are left out. When neither edge is
        among a full answer (both rows deleted or moved), the page keeps its old length.
        """
        first, length = self.pages.span(page)
        if self._key is None:
            return fetched[:length]
        key = self._key
        own = self._edges[page]
        last_key = own[1] if own else None
        following = self._edges[page + 1] if page + 1 < len(self._edges) else None
        next_first = following[0] if following else None
        rows: list[Any] = []
        for row in fetched:
            row_key = key(row)
            if next_first is not None and row_key == next_first:
                return rows
            at = self._positions.get(row_key)
            if at is not None and not first <= at < first + length:
                continue  # held elsewhere: not listed twice
            rows.append(row)
            if last_key is not None and row_key == last_key:
                return rows
        if len(fetched) < limit:
            return rows  # the listing ends within the answer
        return rows[:length]

    def resize_dropped(self, page: int, length: int) -> None:
        """A dropped page now counts ``length`` rows (the rows after it move)."""
        self.pages.resize_dropped(page, length)
        self._rebuild_positions()

    def refill(self, page: int, rows: list[Any]) -> None:
        """Hold ``rows`` (as many as the page counts) as ``page`` again."""
        first, _length = self.pages.span(page)
        self.pages.refill(page, rows)
        self._note_edges(page)
        if self._key is not None:
            key = self._key
            for offset, row in enumerate(rows):
                self._positions[key(row)] = first + offset

    # -- internals ----------------------------------------------------------------------------

    def _edges_of(self, rows: list[Any]) -> tuple[Hashable, Hashable] | None:
        if self._key is None or not rows:
            return None
        return self._key(rows[0]), self._key(rows[-1])

    def _note_edges(self, page: int) -> None:
        # An emptied page keeps its old edges: the next page's first key still bounds it.
        if self.pages.is_held(page):
            first, length = self.pages.span(page)
            rows = [self.pages.row(first + offset) for offset in (0, length - 1)] \
                if length else []
            edges = self._edges_of(rows)
            if edges is not None:
                self._edges[page] = edges

    def _rebuild_positions(self) -> None:
        if self._key is not None:
            key = self._key
            self._positions = {key(row): first + offset
                               for first, rows in self.pages.held()
                               for offset, row in enumerate(rows)}
