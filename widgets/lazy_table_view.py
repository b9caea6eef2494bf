"""The view of a lazy table: fetches as it scrolls, fits columns, says "Loading…"."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from widgets.lazy_columns import RowRole
from widgets.lazy_table_model import LazyTableModel

__all__ = ["FIT_ROWS", "MAX_FITTED_WIDTH", "LazyTableView"]

MAX_FITTED_WIDTH = 360
"""How wide a column grows to show its values, unless the column says otherwise."""
FIT_ROWS = 40
"""Rows measured when a column is fitted: those on screen first (about 30 on a laptop)."""



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
