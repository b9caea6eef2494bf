"""A read-only lazy list of one table: what a page shows until it is built out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from data.queries.listing import TableListing, estimated_rows, list_page
from desktop.database import Database
from desktop.pages.formatting import format_value
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

MAX_COLUMN_WIDTH = 360


class TablePage(QWidget):
    """Shows ``listing``'s table newest first, paged by keyset as the user scrolls."""

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
        self.count_label = QLabel("")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        header = QHBoxLayout()
        header.addWidget(QLabel(f"<b>{listing.title}</b> — read-only for now"))
        header.addStretch()
        header.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.view)
        self._loaded = False
        self._sized = False
        self.model.rows_loaded.connect(self._on_model_rows_loaded)

    def showEvent(self, event) -> None:
        # Load on first show, not at start-up: start-up stays fast.
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.refresh()

    def refresh(self) -> None:
        listing = self.listing
        self.model.set_fetcher(self._db.page_fetcher(list_page, listing))
        self._db.read(lambda s: estimated_rows(s, listing),
                      on_success=self._on_count_loaded, on_failure=lambda e: None, context=self)

    def _on_model_rows_loaded(self, _count: int) -> None:
        if not self._sized:  # fit the columns to the first page once, then leave them be
            self._sized = True
            self.view.resizeColumnsToContents()
            for i in range(self.model.columnCount()):
                self.view.setColumnWidth(i, min(self.view.columnWidth(i), MAX_COLUMN_WIDTH))

    def _on_count_loaded(self, n: int) -> None:
        self.count_label.setText(f"about {n:,} rows")
