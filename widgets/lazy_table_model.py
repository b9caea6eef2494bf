"""The model of a lazy table: rows fetched page by page off the GUI thread, of which only a
bounded window is held.

The model never sees SQL: a ``PageFetcher`` (``(cursor, limit) -> Page``) runs on a worker
thread (:mod:`widgets.page_requests` keeps which answer is awaited) and the rows it returns
are kept as pages (:mod:`widgets.row_window`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal

from widgets.lazy_columns import AnyIndex, Column, Page, PageFetcher, RowRole
from widgets.operations import OperationRunner
from widgets.page_requests import PageRequest, PageRequests
from widgets.row_window import RowWindow

__all__ = ["WINDOW_ROWS", "LazyTableModel"]

WINDOW_ROWS = 4000
"""How many rows a model holds at most (about a page more while one arrives): far from the
view, rows are dropped and fetched again by their page's keyset cursor on the way back."""

_DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)
# Qt asks a cell for about seven roles each time it paints it (a screen: ~1,400 calls into
# Python): the flags and alignments are worked out once, not per call (a Python enum's ``|``
# costs microseconds), and a role the model does not answer returns before any other work.
_ROW_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
              | Qt.ItemFlag.ItemNeverHasChildren)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


class LazyTableModel(QAbstractTableModel):
    """Rows fetched page by page through an OperationRunner.

    Every request carries the generation it was made for; ``set_fetcher()`` and ``refresh()``
    start a new generation, so answers to older requests are dropped when they arrive. At
    most one request is in flight at a time.

    Rows should be immutable (tuples, frozen dataclasses): they are shared with the worker
    that produced them.

    Only a window of ``window_rows`` rows is held: when more arrive, whole pages farthest
    from the rows shown (``show_rows()``, called by the view) are dropped. A dropped page
    keeps its place, length and the cursor it was fetched with, so row numbers never move;
    its rows read as empty placeholders (``row_at()`` gives None) until ``show_rows()``
    asks for them and they are fetched again from that cursor. The page then takes back
    exactly its own rows as they are now (up to its old last row; see
    :class:`~widgets.row_window.RowWindow`), so it may grow or shrink: rows added or deleted
    meanwhile are inserted or removed there, and no row is borrowed from the next page. Pages holding a persistent
    index (the view's selection and current row) are never dropped.

    Signals:
        rows_loaded(int): a page arrived; the argument is the number of rows appended
            (rows whose key was already loaded replace the old row instead).
        load_failed(object): the fetcher raised; the argument is the exception. Further
            pages are not requested until ``refresh()`` or ``retry()``.
        loading_changed(bool): ``is_loading`` changed - a request started while idle (True),
            or the answer arrived and nothing else is in flight (False).
    """

    rows_loaded = Signal(int)
    load_failed = Signal(object)
    loading_changed = Signal(bool)

    def __init__(
        self,
        columns: Sequence[Column],
        runner: OperationRunner,
        *,
        page_size: int = 200,
        row_key: Callable[[Any], Hashable] | None = None,
        window_rows: int = WINDOW_ROWS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if page_size < 1:
            raise ValueError("page_size must be positive")
        if window_rows < 2 * page_size:
            raise ValueError("window_rows must hold at least two pages")
        self._columns = tuple(columns)
        self._alignments = tuple(
            None if c.align is None else c.align | Qt.AlignmentFlag.AlignVCenter
            for c in self._columns)
        self._runner = runner
        self._page_size = page_size
        self._row_key = row_key
        self._fetcher: PageFetcher | None = None
        self._window_rows = window_rows
        self._window = RowWindow(row_key)
        self._shown: tuple[int, int] | None = None
        self._requests = PageRequests(runner)
        self._next_cursor: object | None = None
        self._exhausted = False
        self._last_error: BaseException | None = None
        self._announced_loading = False
        self._resetting = False

    # -- public API ---------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def generation(self) -> int:
        """Bumped by every ``set_fetcher()``/``refresh()``; answers for older ones are dropped."""
        return self._requests.generation

    @property
    def row_count_loaded(self) -> int:
        """Rows of the listing fetched so far, including dropped ones (= ``rowCount()``)."""
        return len(self._window)

    @property
    def rows_held(self) -> int:
        """Rows held in memory now: at most about ``window_rows``."""
        return self._window.held_rows

    @property
    def is_loading(self) -> bool:
        """True while the next page is awaited (not while dropped rows are fetched again)."""
        awaited = self._requests.awaited
        return awaited is not None and awaited.refill is None

    @property
    def is_exhausted(self) -> bool:
        """True once the fetcher said there are no more rows."""
        return self._exhausted

    @property
    def last_error(self) -> BaseException | None:
        """The exception of the last failed request of this generation, if any."""
        return self._last_error

    def set_fetcher(self, fetcher: PageFetcher | None) -> None:
        """Show rows from ``fetcher``: forget the current rows and request the first page."""
        self._fetcher = fetcher
        self._start_generation()

    def refresh(self) -> None:
        """Reload from the first page with the same fetcher."""
        self._start_generation()

    def retry(self) -> None:
        """After a failed page, request it again, keeping the rows already loaded."""
        if self._last_error is None or self._fetcher is None or self._requests.awaited:
            return
        self._last_error = None
        if not self._refill_shown() and not self._exhausted:
            self._request_page()
        self._announce_loading()

    def show_rows(self, first: int, last: int) -> None:
        """The view shows rows ``first``..``last``: fetch any dropped there (and a page
        either side) again, and drop rows far from them when the window is full."""
        self._shown = (first, last)
        if self._requests.awaited is None and self._last_error is None:
            self._refill_shown()

    def row_at(self, row: int) -> Any:
        """The row object at ``row`` (None while its page is dropped); IndexError when out
        of range."""
        if not 0 <= row < len(self._window):
            raise IndexError(row)
        return self._window.row(row)

    def row_index(self, key: Hashable) -> int | None:
        """Position of the row with ``key`` (needs ``row_key``), or None if not loaded."""
        return self._window.position(key)

    def replace_row(self, new_row: Any) -> bool:
        """Swap in a fresh version of a loaded row, matched by ``row_key``.

        Returns False if no loaded row has that key (e.g. it is on a page not fetched yet).
        """
        self._require_row_key()
        index = self._window.position(self._window.key_of(new_row))
        if index is None:
            return False
        self._window.set_row(index, new_row)
        self.dataChanged.emit(
            self.index(index, 0),
            self.index(index, len(self._columns) - 1),
            [_DISPLAY_ROLE, _TOOLTIP_ROLE, RowRole],
        )
        return True

    def remove_row(self, key: Hashable) -> bool:
        """Drop the loaded row with ``key``; returns False if there is none."""
        self._require_row_key()
        index = self._window.position(key)
        if index is None:
            return False
        self.beginRemoveRows(QModelIndex(), index, index)
        self._window.remove(index)
        self.endRemoveRows()
        return True

    # -- Qt model overrides -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._window)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = _DISPLAY_ROLE) -> Any:
        # An invalid index has row and column -1: the range checks refuse it.
        role = int(role)
        if role in (_DISPLAY_ROLE, _TOOLTIP_ROLE):
            row, column = index.row(), index.column()
            pages = self._window.pages
            if not (0 <= row < len(pages) and 0 <= column < len(self._columns)):
                return None
            value = pages.row(row)
            if value is None:  # dropped, on its way back
                return "" if role == _DISPLAY_ROLE else None
            # The tooltip repeats the text so that cells cut off by the column width can
            # still be read in full.
            return self._columns[column].text_for(value)
        if role == _ALIGNMENT_ROLE:
            column = index.column()
            return self._alignments[column] if 0 <= column < len(self._alignments) else None
        if role == RowRole:
            row = index.row()
            pages = self._window.pages
            return pages.row(row) if 0 <= row < len(pages) else None
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = _DISPLAY_ROLE,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        role = int(role)
        if role == _DISPLAY_ROLE:
            return self._columns[section].title
        if role == _TOOLTIP_ROLE:
            return self._columns[section].tooltip
        if role == _ALIGNMENT_ROLE:
            align = self._columns[section].align
            return None if align is None else align | Qt.AlignmentFlag.AlignVCenter
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

    def canFetchMore(self, parent: AnyIndex) -> bool:
        # False while a request is in flight, so scrolling cannot stack duplicate requests;
        # False after a failure, so Qt does not retry in a tight loop against a broken server;
        # False during a reset, because views and model testers ask from inside endResetModel().
        return (
            not parent.isValid()
            and self._fetcher is not None
            and self._requests.awaited is None
            and not self._resetting
            and not self._exhausted
            and self._last_error is None
        )

    def fetchMore(self, parent: AnyIndex) -> None:
        if self.canFetchMore(parent):
            self._request_page()
            self._announce_loading()


    # -- internals ----------------------------------------------------------------------------

    def _start_generation(self) -> None:
        self._requests.new_generation()
        self._resetting = True
        try:
            self.beginResetModel()
            self._window = RowWindow(self._row_key)
            self._shown = None
            self._next_cursor = None
            self._exhausted = self._fetcher is None
            self._last_error = None
            self.endResetModel()
        finally:
            self._resetting = False
        if self._fetcher is not None and self._requests.awaited is None:
            self._request_page()
        self._announce_loading()

    def _request_page(self, refill: int | None = None) -> None:
        """Ask for the next page, or (``refill``) for a dropped page again."""
        fetcher = self._fetcher
        assert fetcher is not None
        if refill is None:
            cursor, limit = self._next_cursor, self._page_size
        else:
            # Room for rows added meanwhile: the window keeps the page's own (up to its
            # old last row), so none is pushed past the next page's cursor and lost.
            pages = self._window.pages
            cursor = pages.cursor(refill)
            limit = pages.span(refill)[1] + self._page_size
        self._requests.send(lambda: (fetcher(cursor, limit), limit), refill,
                            self._on_fetch_succeeded, self._on_fetch_failed, self)

    def _announce_loading(self) -> None:
        loading = self.is_loading
        if loading != self._announced_loading:
            self._announced_loading = loading
            self.loading_changed.emit(loading)

    def _on_fetch_succeeded(self, request: PageRequest, answer: tuple[Page, int]) -> None:
        if not self._requests.is_awaited(request):
            return
        page, limit = answer
        try:
            rows, next_cursor = page
            rows = list(rows)
        except (TypeError, ValueError) as exc:
            # A fetcher bug must not leave the table "loading" forever.
            self._on_fetch_failed(request, TypeError(f"fetcher must return a Page, got {exc}"))
            return
        self._requests.settle()
        if request.refill is not None:
            self._refill(request.refill, rows, limit)
            self._after_answer()
            return
        cursor = self._next_cursor
        self._next_cursor = next_cursor
        # An empty page ends the listing even with a cursor: asking again would loop forever.
        self._exhausted = next_cursor is None or not rows
        new_rows = self._merge_known_rows(rows)
        if new_rows:
            first = len(self._window)
            self.beginInsertRows(QModelIndex(), first, first + len(new_rows) - 1)
            self._window.append(cursor, new_rows)
            self.endInsertRows()
        # Listeners of the insert may already have asked for the next page.
        self._announce_loading()
        self.rows_loaded.emit(len(new_rows))
        self._after_answer()

    def _on_fetch_failed(self, request: PageRequest, exc: BaseException) -> None:
        if not self._requests.is_awaited(request):
            return
        self._requests.settle()
        self._last_error = exc
        self._announce_loading()
        self.load_failed.emit(exc)

    def _merge_known_rows(self, rows: list[Any]) -> list[Any]:
        """Replace rows already loaded (same key) in place; return the genuinely new ones.

        Keyset pages do not overlap, but a row edited between two fetches can move past the
        cursor and come back; showing it twice would make ``replace_row`` ambiguous.
        """
        window = self._window
        if not window.keyed:
            return rows
        new_rows = []
        seen_in_page: set[Hashable] = set()
        for row in rows:
            key = window.key_of(row)
            existing = window.position(key)
            if existing is not None:
                window.set_row(existing, row)
                self.dataChanged.emit(
                    self.index(existing, 0), self.index(existing, len(self._columns) - 1)
                )
            elif key not in seen_in_page:
                seen_in_page.add(key)
                new_rows.append(row)
        return new_rows

    def _require_row_key(self) -> None:
        if self._row_key is None:
            raise TypeError("this LazyTableModel was created without row_key")

    # -- the row window -----------------------------------------------------------------------

    def _after_answer(self) -> None:
        self._drop_far_pages()
        if self._requests.awaited is None:
            self._refill_shown()

    def _refill_shown(self) -> bool:
        """Request the first dropped page around the shown rows; False if there is none."""
        if self._shown is None or self._fetcher is None or not len(self._window):
            return False
        first, last = self._shown
        pages = self._window.pages
        end = len(pages) - 1
        low = pages.page_of(min(max(first, 0), end))
        high = pages.page_of(min(max(last, 0), end))
        # The shown pages first, then one either side, so scrolling back finds rows ready.
        for page in [*range(low, high + 1), low - 1, high + 1]:
            if 0 <= page < pages.page_count and not pages.is_held(page):
                self._request_page(refill=page)
                return True
        return False

    def _drop_far_pages(self) -> None:
        window = self._window
        pages = window.pages
        if pages.held_rows <= self._window_rows:
            return
        # Without a view, the newest rows are the ones that matter.
        focus = self._shown or (len(pages) - 1, len(pages) - 1)
        kept = {pages.page_of(index.row()) for index in self.persistentIndexList()
                if index.isValid() and index.row() < len(pages)}
        low, high = pages.page_of(max(focus[0], 0)), pages.page_of(max(focus[1], 0))
        kept.update(range(low - 1, high + 2))

        def distance(page: int) -> int:
            return low - page if page < low else page - high

        candidates = sorted((p for p in range(pages.page_count)
                             if pages.is_held(p) and pages.span(p)[1] and p not in kept),
                            key=distance, reverse=True)
        for page in candidates:
            if pages.held_rows <= self._window_rows:
                break
            first, length = pages.span(page)
            window.drop(page)
            self.dataChanged.emit(self.index(first, 0),
                                  self.index(first + length - 1, len(self._columns) - 1))

    def _refill(self, page: int, fetched: list[Any], limit: int) -> None:
        """Hold a dropped page's rows again, as the fetcher gives them now."""
        window = self._window
        first, length = window.pages.span(page)
        rows = window.rows_for_refill(page, fetched, limit)
        # The count changes first, as placeholders (rows gone from the page's end, or new
        # ones at its end); then the rows fill the page, so no row changes its text in the
        # middle of a removal.
        if len(rows) < length:
            self.beginRemoveRows(QModelIndex(), first + len(rows), first + length - 1)
            window.resize_dropped(page, len(rows))
            self.endRemoveRows()
        elif len(rows) > length:
            self.beginInsertRows(QModelIndex(), first + length, first + len(rows) - 1)
            window.resize_dropped(page, len(rows))
            self.endInsertRows()
        window.refill(page, rows)
        if rows:
            self.dataChanged.emit(self.index(first, 0),
                                  self.index(first + len(rows) - 1, len(self._columns) - 1))
