"""The agenda: the next four weeks of sessions across offerings, with seats taken; a double
click (or Return, or "Open offering") opens the offering.

The table is a lazy model (no widget per cell: 17,000 sessions used to take seconds of the
GUI thread to show) whose pages are worked out on a worker a day at a time
(:func:`data.queries.offerings.agenda_page`): the first day's rows show after that day's
work, later days load as the user scrolls (four weeks at once took 2.8 s at 10k offerings).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from operator import attrgetter

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
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
from desktop.pages.offering_form import TYPE_LABELS
from desktop.read_failures import watch_list_loads
from widgets.banner import Banner
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

__all__ = ["AgendaDialog"]

DAYS = 28
COLUMNS = (
    Column("When", value=lambda e: e.start.strftime("%a %Y-%m-%d %H:%M %Z")),
    Column("Offering", value=attrgetter("title"), max_width=260),
    Column("Session", value=attrgetter("label")),
    Column("Type", value=lambda e: TYPE_LABELS.get(e.offering_type, e.offering_type)),
    Column("Seats taken", value=attrgetter("seats")),
)
WIDEST = ("Wed 2026-12-30 23:45 CEST", "A title of twenty-six chars", "Retreat day 10 of 14",
          max(TYPE_LABELS.values(), key=len), "999 / 1000")
"""Each column's usual widest text: the columns start that wide, so that the dialog opens
sized to them; wider values widen them (the title up to its ``max_width``, its tooltip has
it whole) and the dialog with them when the first page arrives."""
CELL_PADDING = 12
"""Room around a cell's text (the view's margins), in pixels."""


def _sized_columns(metrics: QFontMetrics) -> tuple[Column, ...]:
    return tuple(replace(column, width=metrics.horizontalAdvance(widest) + CELL_PADDING)
                 for column, widest in zip(COLUMNS, WIDEST, strict=True))


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
        self.note = QLabel("Loading…")
        self.banner = Banner(error=True)
        self.model = LazyTableModel(_sized_columns(self.fontMetrics()), database.runner,
                                    page_size=AGENDA_PAGE, parent=self)
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
        self.resize(self._width_for_columns(), 520)
        when = start or dt.datetime.now(dt.UTC)
        self.model.set_fetcher(database.page_fetcher(agenda_page, when, DAYS))

    def _width_for_columns(self) -> int:
        """Wide enough for every column with the vertical scroll bar (no horizontal one),
        within the screen."""
        view = self.view
        margins = self.layout().contentsMargins()
        wanted = (sum(view.columnWidth(c) for c in range(self.model.columnCount()))
                  + 2 * view.frameWidth() + view.verticalScrollBar().sizeHint().width()
                  + margins.left() + margins.right())
        screen = self.screen()
        return min(wanted, screen.availableGeometry().width()) if screen is not None \
            else wanted

    @property
    def entries(self) -> list[AgendaEntry]:
        """The sessions shown so far (more load as the table scrolls)."""
        return [self.model.row_at(i) for i in range(self.model.rowCount())]

    def _on_model_rows_loaded(self, _count: int) -> None:
        # The view has fitted its columns to the first rows: the dialog follows them.
        wanted = self._width_for_columns()
        if wanted > self.width():
            self.resize(wanted, self.height())
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
