"""The agenda: the next four weeks of sessions across offerings, with seats taken; a double
click (or Return) opens the offering."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from data.queries.offerings import AgendaEntry, list_agenda
from desktop.database import Database
from desktop.read_failures import report_read_failure
from widgets.record_table import RecordTable

__all__ = ["AgendaDialog"]

DAYS = 28


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
        self._db = database
        self.entries: list[AgendaEntry] = []
        self.note = QLabel("Loading…")
        self.table = RecordTable(("When", "Offering", "Session", "Type", "Seats taken"),
                                 first_column_max=160)
        holder = self.table.with_action("&Open offering", "&Open offering", self._open)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(holder, 1)
        layout.addWidget(buttons)
        when = start or dt.datetime.now(dt.UTC)
        database.read(list_agenda, when, DAYS, on_success=self._on_loaded, context=self,
                      on_failure=lambda exc: report_read_failure(database, "the agenda", exc))

    def _on_loaded(self, entries: list[AgendaEntry]) -> None:
        self.entries = entries
        self.note.setText(f"{len(entries):,} sessions in the next {DAYS} days."
                          if entries else f"No sessions in the next {DAYS} days.")
        self.table.set_rows([(e.start.strftime("%a %Y-%m-%d %H:%M %Z"), e.title, e.label,
                              e.offering_type.replace("_", " "), e.seats) for e in entries],
                            keys=list(range(len(entries))))

    def _open(self) -> None:
        index = self.table.current_key()
        if index is not None:
            self.offering_chosen.emit(self.entries[int(index)].offering_id)
            self.accept()
