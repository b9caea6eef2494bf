"""The agenda: the next four weeks of sessions across offerings, with seats taken; a double
click (or Return, or "Open offering") opens the offering.

The table is a lazy model (no widget per cell: 17,000 sessions used to take seconds of the
GUI thread to show) whose pages are worked out on a worker a day at a time
(:func:`data.queries.offerings.agenda_page`): the first day's rows show after that day's
work, later days load as the user scrolls (four weeks at once took 2.8 s at 10k offerings).
"""

from __future__ import annotations

import datetime as dt
from operator import attrgetter

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.queries.offerings import AGENDA_PAGE, AgendaEntry, agenda_page
from desktop.database import Database
from desktop.read_failures import watch_list_loads
from widgets.banner import Banner
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

__all__ = ["AgendaDialog"]

DAYS = 28
COLUMNS = (
    Column("When", value=lambda e: e.start.strftime("%a %Y-%m-%d %H:%M %Z"), max_width=180),
    Column("Offering", value=attrgetter("title"), max_width=260),
    Column("Session", value=attrgetter("label")),
    Column("Type", value=lambda e: e.offering_type.replace("_", " ")),
    Column("Seats taken", value=attrgetter("seats")),
)


class AgendaDialog(QDialog):
    """Sessions from now for :data:`DAYS` days, in the time zone of each schedule.

    Signals:
        offering_chosen(object): the id of the offering whose session was opened.
    """

    offering_chosen = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None,
                 start: dt.datetime | None = None):
        super().__init__(parent)
        self.setWindowTitle("Agenda: the next four weeks")
        self.resize(760, 520)
        self.note = QLabel("Loading…")
        self.banner = Banner(error=True)
        self.model = LazyTableModel(COLUMNS, database.runner, page_size=AGENDA_PAGE, parent=self)
        self.view = LazyTableView(self.model)
        self.view.set_placeholder_texts(empty=f"No sessions in the next {DAYS} days.",
                                        loading="Loading…")
        watch_list_loads(self.model, self.view, self.banner, database, "the agenda")
        self.open_button = QPushButton("&Open offering")
        self.open_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        self.open_button.clicked.connect(self._open)
        self.view.activated.connect(lambda _index: self._open())
        self.view.current_row_changed.connect(
            lambda entry: self.open_button.setEnabled(entry is not None))
        self.model.rows_loaded.connect(self._on_model_rows_loaded)
        when = start or dt.datetime.now(dt.UTC)
        self.model.set_fetcher(database.page_fetcher(agenda_page, when, DAYS))

    @property
    def entries(self) -> list[AgendaEntry]:
        """The sessions shown so far (more load as the table scrolls)."""
        return [self.model.row_at(i) for i in range(self.model.rowCount())]

    def _on_model_rows_loaded(self, _count: int) -> None:
        total = self.model.rowCount()
        if self.model.is_exhausted:
            self.note.setText(f"{total:,} sessions in the next {DAYS} days." if total
                              else f"No sessions in the next {DAYS} days.")
            return
        last = self.model.row_at(total - 1) if total else None
        shown = f" through {last.start:%a %d %b}" if last is not None else ""
        self.note.setText(f"{total:,} sessions{shown} so far; later days load as you "
                          "scroll.")

    def _open(self) -> None:
        entry = self.view.current_row()
        if entry is not None:
            self.offering_chosen.emit(entry.offering_id)
            self.accept()
