"""A table that loads its rows page by page, off the GUI thread.

The model holds rows that were already fetched and nothing else: it never sees SQL. Where the
rows come from is a ``PageFetcher``, a plain function ``(cursor, limit) -> Page`` that runs on
a worker thread (that is where the query runs). Keyset pagination is the intended shape: the
cursor is whatever the fetcher needs to continue after the last row it returned, e.g. the
last ``(created_at, id)`` pair.

Sorting and filtering belong to the fetcher too (the server sorts, ``ORDER BY`` must match the
keyset). To change them, build a new fetcher and call ``set_fetcher()``; the model never
reorders rows itself, so there is deliberately no ``sort()``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from widgets.operations import OperationHandle, OperationRunner
from widgets.row_pages import RowPages

__all__ = [
    "Column",
    "LazyTableModel",
    "LazyTableView",
    "Page",
    "PageFetcher",
    "RowRole",
]

WINDOW_ROWS = 4000
"""How many rows a model holds at most (about a page more while one arrives): far from the
view, rows are dropped and fetched again by their page's keyset cursor on the way back."""

MAX_FITTED_WIDTH = 360
"""How wide a column grows to show its values, unless the column says otherwise."""
FIT_ROWS = 40
"""Rows measured when a column is fitted: those on screen first (about 30 on a laptop)."""

# data(index, RowRole) returns the whole row object.
RowRole = int(Qt.ItemDataRole.UserRole) + 1

_DISPLAY_ROLE = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP_ROLE = int(Qt.ItemDataRole.ToolTipRole)

AnyIndex = QModelIndex | QPersistentModelIndex


def _default_display(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """How one column turns a row into a cell.

    ``value`` extracts the raw value from a row; ``display`` turns it into text (default:
    ``str``, with None shown as an empty cell). ``width`` is where the column starts; the
    view widens it to its header and to the first page's values, up to ``max_width`` (long
    free text is cut there, and its tooltip shows it whole).
    """

    title: str
    value: Callable[[Any], Any]
    display: Callable[[Any], str] | None = None
    align: Qt.AlignmentFlag | None = None
    width: int | None = None
    max_width: int | None = None

    def text_for(self, row: Any) -> str:
        raw = self.value(row)
        if self.display is None:
            return _default_display(raw)
        return self.display(raw)


class Page(NamedTuple):
    """One page from a fetcher. ``next_cursor`` None means there are no more rows."""

    rows: list
    next_cursor: object | None


# (cursor, limit) -> Page; runs on a worker thread. The first call gets cursor None.
PageFetcher = Callable[[object | None, int], Page]


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
    asks for them and they are fetched again from that cursor. Pages holding a persistent
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
        self._runner = runner
        self._page_size = page_size
        self._row_key = row_key
        self._fetcher: PageFetcher | None = None
        self._window_rows = window_rows
        self._pages = RowPages()
        self._shown: tuple[int, int] | None = None
        self._row_index_by_key: dict[Hashable, int] = {}
        self._generation = 0
        self._next_cursor: object | None = None
        self._exhausted = False
        self._last_error: BaseException | None = None
        self._pending: OperationHandle | None = None
        # (generation, serial, page to refill or None for the next page)
        self._awaited_request: tuple[int, int, int | None] | None = None
        self._request_serial = 0
        self._announced_loading = False
        self._resetting = False

    # -- public API ---------------------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def generation(self) -> int:
        """Bumped by every ``set_fetcher()``/``refresh()``; answers for older ones are dropped."""
        return self._generation

    @property
    def row_count_loaded(self) -> int:
        """Rows of the listing fetched so far, including dropped ones (= ``rowCount()``)."""
        return len(self._pages)

    @property
    def rows_held(self) -> int:
        """Rows held in memory now: at most about ``window_rows``."""
        return self._pages.held_rows

    @property
    def is_loading(self) -> bool:
        """True while the next page is awaited (not while dropped rows are fetched again)."""
        return self._awaited_request is not None and self._awaited_request[2] is None

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
        if self._last_error is None or self._fetcher is None or self._awaited_request:
            return
        self._last_error = None
        if not self._refill_shown() and not self._exhausted:
            self._request_page()
        self._announce_loading()

    def show_rows(self, first: int, last: int) -> None:
        """The view shows rows ``first``..``last``: fetch any dropped there (and a page
        either side) again, and drop rows far from them when the window is full."""
        self._shown = (first, last)
        if self._awaited_request is None and self._last_error is None:
            self._refill_shown()

    def row_at(self, row: int) -> Any:
        """The row object at ``row`` (None while its page is dropped); IndexError when out
        of range."""
        if not 0 <= row < len(self._pages):
            raise IndexError(row)
        return self._pages.row(row)

    def row_index(self, key: Hashable) -> int | None:
        """Position of the row with ``key`` (needs ``row_key``), or None if not loaded."""
        return self._row_index_by_key.get(key)

    def replace_row(self, new_row: Any) -> bool:
        """Swap in a fresh version of a loaded row, matched by ``row_key``.

        Returns False if no loaded row has that key (e.g. it is on a page not fetched yet).
        """
        self._require_row_key()
        index = self._row_index_by_key.get(self._row_key(new_row))
        if index is None:
            return False
        self._pages.set_row(index, new_row)
        self.dataChanged.emit(
            self.index(index, 0),
            self.index(index, len(self._columns) - 1),
            [_DISPLAY_ROLE, _TOOLTIP_ROLE, RowRole],
        )
        return True

    def remove_row(self, key: Hashable) -> bool:
        """Drop the loaded row with ``key``; returns False if there is none."""
        self._require_row_key()
        index = self._row_index_by_key.get(key)
        if index is None:
            return False
        self.beginRemoveRows(QModelIndex(), index, index)
        self._pages.remove(index)
        self._rebuild_key_index()
        self.endRemoveRows()
        return True

    # -- Qt model overrides -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._pages)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = _DISPLAY_ROLE) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < len(self._pages) and 0 <= column < len(self._columns)):
            return None
        role = int(role)
        if role in (_DISPLAY_ROLE, _TOOLTIP_ROLE):
            value = self._pages.row(row)
            if value is None:  # dropped, on its way back
                return "" if role == _DISPLAY_ROLE else None
            # The tooltip repeats the text so that cells cut off by the column width can
            # still be read in full.
            return self._columns[column].text_for(value)
        if role == _ALIGNMENT_ROLE:
            align = self._columns[column].align
            return None if align is None else align | Qt.AlignmentFlag.AlignVCenter
        if role == RowRole:
            return self._pages.row(row)
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
        if role == _ALIGNMENT_ROLE:
            align = self._columns[section].align
            return None if align is None else align | Qt.AlignmentFlag.AlignVCenter
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def canFetchMore(self, parent: AnyIndex) -> bool:
        # False while a request is in flight, so scrolling cannot stack duplicate requests;
        # False after a failure, so Qt does not retry in a tight loop against a broken server;
        # False during a reset, because views and model testers ask from inside endResetModel().
        return (
            not parent.isValid()
            and self._fetcher is not None
            and self._awaited_request is None
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
        self._generation += 1
        stale = self._pending
        self._pending = None
        self._awaited_request = None
        if stale is not None:
            # Skips the old query if it has not started yet; if it has, its answer is
            # dropped because it no longer matches the awaited request.
            stale.cancel()
        self._resetting = True
        try:
            self.beginResetModel()
            self._pages = RowPages()
            self._shown = None
            self._row_index_by_key = {}
            self._next_cursor = None
            self._exhausted = self._fetcher is None
            self._last_error = None
            self.endResetModel()
        finally:
            self._resetting = False
        if self._fetcher is not None and self._awaited_request is None:
            self._request_page()
        self._announce_loading()

    def _request_page(self, refill: int | None = None) -> None:
        """Ask for the next page, or (``refill``) for a dropped page again."""
        fetcher = self._fetcher
        assert fetcher is not None
        self._request_serial += 1
        # The answer is accepted only if this is still the awaited request when it arrives:
        # a reset in between (new generation) or a newer request makes it stale.
        request = (self._generation, self._request_serial, refill)
        self._awaited_request = request
        if refill is None:
            cursor, limit = self._next_cursor, self._page_size
        else:
            cursor, limit = self._pages.cursor(refill), self._pages.span(refill)[1]
        self._pending = self._runner.run(
            lambda: fetcher(cursor, limit),
            on_success=lambda page: self._on_fetch_succeeded(request, page),
            on_failure=lambda exc: self._on_fetch_failed(request, exc),
            context=self,
        )

    def _announce_loading(self) -> None:
        loading = self.is_loading
        if loading != self._announced_loading:
            self._announced_loading = loading
            self.loading_changed.emit(loading)

    def _on_fetch_succeeded(self, request: tuple[int, int, int | None], page: Page) -> None:
        if request != self._awaited_request:
            return
        try:
            rows, next_cursor = page
            rows = list(rows)
        except (TypeError, ValueError) as exc:
            # A fetcher bug must not leave the table "loading" forever.
            self._on_fetch_failed(request, TypeError(f"fetcher must return a Page, got {exc}"))
            return
        self._pending = None
        self._awaited_request = None
        if request[2] is not None:
            self._refill(request[2], rows)
            self._after_answer()
            return
        cursor = self._next_cursor
        self._next_cursor = next_cursor
        # An empty page ends the listing even with a cursor: asking again would loop forever.
        self._exhausted = next_cursor is None or not rows
        new_rows = self._merge_known_rows(rows)
        if new_rows:
            first = len(self._pages)
            self.beginInsertRows(QModelIndex(), first, first + len(new_rows) - 1)
            self._pages.append(cursor, new_rows)
            if self._row_key is not None:
                for offset, row in enumerate(new_rows):
                    self._row_index_by_key[self._row_key(row)] = first + offset
            self.endInsertRows()
        # Listeners of the insert may already have asked for the next page.
        self._announce_loading()
        self.rows_loaded.emit(len(new_rows))
        self._after_answer()

    def _on_fetch_failed(self, request: tuple[int, int, int | None],
                         exc: BaseException) -> None:
        if request != self._awaited_request:
            return
        self._pending = None
        self._awaited_request = None
        self._last_error = exc
        self._announce_loading()
        self.load_failed.emit(exc)

    def _merge_known_rows(self, rows: list[Any]) -> list[Any]:
        """Replace rows already loaded (same key) in place; return the genuinely new ones.

        Keyset pages do not overlap, but a row edited between two fetches can move past the
        cursor and come back; showing it twice would make ``replace_row`` ambiguous.
        """
        if self._row_key is None:
            return rows
        new_rows = []
        seen_in_page: set[Hashable] = set()
        for row in rows:
            key = self._row_key(row)
            existing = self._row_index_by_key.get(key)
            if existing is not None:
                self._pages.set_row(existing, row)
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

    def _rebuild_key_index(self) -> None:
        if self._row_key is not None:
            key = self._row_key
            self._row_index_by_key = {key(row): first + offset
                                      for first, rows in self._pages.held()
                                      for offset, row in enumerate(rows)}

    # -- the row window -----------------------------------------------------------------------

    def _after_answer(self) -> None:
        self._drop_far_pages()
        if self._awaited_request is None:
            self._refill_shown()

    def _refill_shown(self) -> bool:
        """Request the first dropped page around the shown rows; False if there is none."""
        if self._shown is None or self._fetcher is None or not len(self._pages):
            return False
        first, last = self._shown
        pages = self._pages
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
        pages = self._pages
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
            if self._row_key is not None:
                for offset in range(length):
                    self._row_index_by_key.pop(self._row_key(pages.row(first + offset)), None)
            pages.drop(page)
            self.dataChanged.emit(self.index(first, 0),
                                  self.index(first + length - 1, len(self._columns) - 1))

    def _refill(self, page: int, rows: list[Any]) -> None:
        """Hold a dropped page's rows again, as the fetcher gives them now."""
        pages = self._pages
        first, length = pages.span(page)
        rows = rows[:length]
        if self._row_key is not None:
            # A row shown elsewhere (moved by an edit meanwhile) is not shown twice.
            key = self._row_key
            rows = [row for row in rows
                    if (at := self._row_index_by_key.get(key(row))) is None
                    or first <= at < first + length]
        if len(rows) < length:
            # Fewer rows now: the placeholders go first, then the rows fill what is left,
            # so that no row changes its text in the middle of a removal.
            self.beginRemoveRows(QModelIndex(), first + len(rows), first + length - 1)
            pages.shorten_dropped(page, len(rows))
            self._rebuild_key_index()
            self.endRemoveRows()
        pages.refill(page, rows)
        if self._row_key is not None:
            for offset, row in enumerate(rows):
                self._row_index_by_key[self._row_key(row)] = first + offset
        if rows:
            self.dataChanged.emit(self.index(first, 0),
                                  self.index(first + len(rows) - 1, len(self._columns) - 1))


class LazyTableView(QTableView):
    """Read-only, row-selecting table for a LazyTableModel.

    Scrolling to the bottom fetches the next page (Qt calls ``fetchMore``); after each page
    the view also keeps fetching until the viewport is full, so short pages never leave an
    unscrollable, half-empty table. While the first page loads it shows "Loading…", and
    "No rows" when the listing is empty. The first page of each listing widens the columns
    to their headers and values (never narrower, so columns do not jump while searching).

    Signals:
        current_row_changed(object): the row object under the cursor changed; None when
            there is no current row (including after the model was reset).
    """

    current_row_changed = Signal(object)

    def __init__(self, model: LazyTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lazy_model = model
        self._empty_text = "No rows"
        self._loading_text = "Loading…"
        self._error_text = "Could not load rows"
        self._last_current_row: object | None = None
        self._fitted_widths: dict[int, int] = {}
        self._fit_pending = True

        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setHighlightSections(False)
        # Fitting a column measures the rows on screen and a few more, not every loaded row
        # (Qt's default, 1,000, cost ~12 ms a column on the GUI thread for each new listing).
        self.horizontalHeader().setResizeContentsPrecision(FIT_ROWS)
        self.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        vertical_header = self.verticalHeader()
        vertical_header.hide()
        # Fixed, uniform rows: cheap layout for thousands of rows and no jumping on scroll.
        vertical_header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical_header.setDefaultSectionSize(self.fontMetrics().height() + 10)
        self._apply_column_widths()

        # A zero-length single-shot timer batches "is the viewport full?" checks after
        # inserts, resizes and shows into one pass once layout has settled.
        self._fill_timer = QTimer(self)
        self._fill_timer.setSingleShot(True)
        self._fill_timer.setInterval(0)
        self._fill_timer.timeout.connect(self._on_fill_timer_timeout)
        # Scrolling tells the model which rows are shown (it refetches dropped ones).
        # (Not straight to start(): start(int) would take the scroll value as its interval.)
        self.verticalScrollBar().valueChanged.connect(self._on_scroll_bar_value_changed)

        model.rows_loaded.connect(self._on_model_rows_loaded)
        model.loading_changed.connect(self._on_model_loading_changed)
        model.load_failed.connect(self._on_model_load_failed)
        model.modelReset.connect(self._on_model_reset)
        model.rowsRemoved.connect(self._on_model_rows_removed)
        model.dataChanged.connect(self._on_model_data_changed)
        self.selectionModel().currentRowChanged.connect(self._on_selection_current_row_changed)

    # -- public API ---------------------------------------------------------------------------

    def lazy_model(self) -> LazyTableModel:
        return self._lazy_model

    def current_row(self) -> object | None:
        """The row object of the current index, or None."""
        index = self.currentIndex()
        return index.data(RowRole) if index.isValid() else None

    def select_row_by_key(self, key: Hashable) -> bool:
        """Make the loaded row with ``key`` current and visible; False if not loaded."""
        row = self._lazy_model.row_index(key)
        if row is None:
            return False
        index = self._lazy_model.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.scrollTo(index)
        return True

    def set_placeholder_texts(
        self,
        *,
        empty: str | None = None,
        loading: str | None = None,
        error: str | None = None,
    ) -> None:
        """Change what the empty table says, e.g. "No invoices match this filter"."""
        if empty is not None:
            self._empty_text = empty
        if loading is not None:
            self._loading_text = loading
        if error is not None:
            self._error_text = error
        self.viewport().update()

    def placeholder_text(self) -> str:
        """The text painted over the empty table right now ("" when rows are shown)."""
        model = self._lazy_model
        if model.row_count_loaded:
            return ""
        if model.is_loading:
            return self._loading_text
        if model.last_error is not None:
            return self._error_text
        return self._empty_text

    # -- Qt overrides -------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        text = self.placeholder_text()
        if not text:
            return
        painter = QPainter(self.viewport())
        try:
            painter.setPen(self.palette().placeholderText().color())
            area = self.viewport().rect().adjusted(12, 12, -12, -12)
            painter.drawText(
                area,
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                text,
            )
        finally:
            painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fill_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fill_timer.start()

    # -- slots --------------------------------------------------------------------------------

    def fit_columns(self) -> None:
        """Widen each column to its header and the loaded values (up to its ``max_width``).

        Qt measures at most ``resizeContentsPrecision()`` rows (:data:`FIT_ROWS`, the rows on
        screen first), so this stays cheap on big lists; it runs for the first page of each
        listing.
        """
        header = self.horizontalHeader()
        for section, column in enumerate(self._lazy_model.columns):
            if header.isSectionHidden(section):
                continue
            cap = column.max_width or MAX_FITTED_WIDTH
            wanted = max(header.sectionSizeHint(section),
                         min(self.sizeHintForColumn(section), cap))
            wanted = max(wanted, self._fitted_widths.get(section, 0))
            self._fitted_widths[section] = wanted
            if self.columnWidth(section) < wanted:
                self.setColumnWidth(section, wanted)

    @Slot(int)
    def _on_model_rows_loaded(self, _count: int) -> None:
        if self._fit_pending and self._lazy_model.row_count_loaded:
            self._fit_pending = False
            self.fit_columns()
        self._fill_timer.start()

    @Slot(bool)
    def _on_model_loading_changed(self, _loading: bool) -> None:
        self.viewport().update()

    @Slot(object)
    def _on_model_load_failed(self, _exc: object) -> None:
        self.viewport().update()

    @Slot()
    def _on_model_reset(self) -> None:
        # QHeaderView forgets section sizes on reset, and QItemSelectionModel clears the
        # current index without emitting currentRowChanged - so both are handled here.
        self._apply_column_widths()
        self._fit_pending = True
        self._announce_current_row(self.current_row())

    @Slot(QModelIndex, int, int)
    def _on_model_rows_removed(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        self._announce_current_row(self.current_row())

    def _on_model_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, _roles: list
    ) -> None:
        # Dropped rows fetched again: the listing may grow now that the model is idle.
        self._fill_timer.start()
        current = self.currentIndex()
        if current.isValid() and top_left.row() <= current.row() <= bottom_right.row():
            # replace_row() on the current row: listeners (detail panes) want the fresh row.
            self._announce_current_row(self.current_row())

    @Slot(QModelIndex, QModelIndex)
    def _on_selection_current_row_changed(
        self, current: QModelIndex, _previous: QModelIndex
    ) -> None:
        self._announce_current_row(current.data(RowRole) if current.isValid() else None)

    @Slot(int)
    def _on_scroll_bar_value_changed(self, _value: int) -> None:
        self._fill_timer.start()

    @Slot()
    def _on_fill_timer_timeout(self) -> None:
        if not self.isVisible():
            return
        model = self._lazy_model
        root = QModelIndex()
        last = model.rowCount(root) - 1
        if last >= 0:
            top = self.rowAt(0)
            bottom = self.rowAt(self.viewport().height() - 1)
            model.show_rows(max(top, 0), last if bottom < 0 else bottom)
        if not model.canFetchMore(root):
            return
        if last < 0 or self.visualRect(model.index(last, 0)).intersects(self.viewport().rect()):
            model.fetchMore(root)

    # -- internals ----------------------------------------------------------------------------

    def _announce_current_row(self, row: object | None) -> None:
        if row is self._last_current_row:
            return
        self._last_current_row = row
        self.current_row_changed.emit(row)

    def _apply_column_widths(self) -> None:
        # Never narrower than the title, even before any row arrives.
        header = self.horizontalHeader()
        for section, column in enumerate(self._lazy_model.columns):
            self.setColumnWidth(section, max(column.width or 0, header.sectionSizeHint(section),
                                             self._fitted_widths.get(section, 0)))
