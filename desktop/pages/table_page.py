"""A read-only lazy list of one table: what a page shows until it is built out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from data.queries.listing import TableListing, estimated_rows, list_page
from desktop.database import Database
from desktop.pages.formatting import format_value
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.banner import Banner
from widgets.lazy_table import Column, LazyTableModel, LazyTableView


class TablePage(QWidget):
    """Shows ``listing``'s table newest first, paged by keyset as the user scrolls.

    The view fits its columns to their titles and the first page's values; a failed load is
    said in the banner above the list (and logged).
    """

    def __init__(self, listing: TableListing, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.listing = listing
        self._db = database
        columns = [
            Column(title, value=lambda row, i=i: row[i], display=format_value)
            for i, (title, _col) in enumerate(listing.columns)
        ]
        self.model = LazyTableModel(columns, database.runner, page_size=200,
                                    row_key=lambda row: row[-1], parent=self)
        self.view = LazyTableView(self.model)
        self.banner = Banner(error=True)
        watch_list_loads(self.model, self.view, self.banner, database,
                         f"the {listing.title.lower()}")
        self.count_label = QLabel("")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        header = QHBoxLayout()
        header.addWidget(QLabel(f"<b>{listing.title}</b> — read-only for now"))
        header.addStretch()
        header.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.view)
        self._loaded = False
        self._count_request = 0

    def showEvent(self, event) -> None:
        # Load on first show, not at start-up: start-up stays fast.
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.refresh()

    def refresh(self) -> None:
        listing = self.listing
        self.model.set_fetcher(self._db.page_fetcher(list_page, listing))
        self._count_request += 1
        request = self._count_request
        self._db.read(lambda s: estimated_rows(s, listing),
                      on_success=lambda n: self._on_count_loaded(request, n),
                      on_failure=lambda exc: self._on_count_failed(request, exc),
                      context=self)

    def _on_count_loaded(self, request: int, n: int) -> None:
        if request == self._count_request:  # an older refresh's answer is not news
            self.count_label.setToolTip("")
            self.count_label.setText(f"about {n:,} rows")

    def _on_count_failed(self, request: int, exc: BaseException) -> None:
        if request == self._count_request:
            self.count_label.setText("Count unavailable")
            self.count_label.setToolTip(report_read_failure(self._db, "the row count", exc))
