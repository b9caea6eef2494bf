"""A small read-only table of a record's history rows (a user's purchases), with one row
action: a button under it, the context menu, Return and double click.

For the few rows a detail already loaded with its record; long related lists use the lazy
table instead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from widgets.actions import show_context_menu

__all__ = ["RecordTable"]

FIRST_COLUMN_MAX_WIDTH = 160


class RecordTable(QTableWidget):
    """Rows of text, one line each (long values elided, whole in the tooltip).

    ``display`` turns a value that is not text into text. The first column holds titles and
    e-mails: capped at ``first_column_max``, so the amounts and statuses after it stay in
    sight in a narrow pane.
    """

    def __init__(self, headers: Sequence[str], *, display: Callable[[Any], str] = str,
                 first_column_max: int = FIRST_COLUMN_MAX_WIDTH,
                 parent: QWidget | None = None):
        super().__init__(0, len(headers), parent)
        self._display = display
        self._first_column_max = first_column_max
        self._keys: list[Hashable] = []
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)

    def set_rows(self, rows: Sequence[Sequence[Any]], keys: Sequence[Hashable] = ()) -> None:
        """Show ``rows``; ``keys`` (one per row) name them for :meth:`current_key`."""
        self._keys = list(keys)
        self.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                item = QTableWidgetItem(value if isinstance(value, str) else self._display(value))
                item.setToolTip(item.text())
                self.setItem(i, j, item)
        self.resizeColumnsToContents()
        self.setColumnWidth(0, min(self.columnWidth(0), self._first_column_max))

    @property
    def keys(self) -> list[Hashable]:
        """The keys of the rows shown, in order."""
        return list(self._keys)

    def current_key(self) -> Hashable | None:
        """The key of the selected row, or None when none is selected."""
        row = self.currentRow()
        if not self.selectedItems() or not 0 <= row < len(self._keys):
            return None
        return self._keys[row]

    def clear_choice(self) -> None:
        """No row selected (a new record: the previous one's selection must not carry over)."""
        self.clearSelection()
        self.setCurrentCell(-1, -1)

    def with_action(self, label: str, button_label: str,
                    triggered: Callable[[], Any]) -> QWidget:
        """This table with one row action under it; returns the widget holding both.

        The action is enabled while a row is selected; Return and double click run it."""
        action = QAction(label, self)
        action.triggered.connect(triggered)
        action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.addAction(action)
        show_context_menu(self)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        button = QPushButton(button_label)
        self.itemDoubleClicked.connect(lambda _item: action.trigger())
        button.clicked.connect(action.trigger)
        action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
        action.setEnabled(False)
        button.setEnabled(False)
        self.itemSelectionChanged.connect(lambda: action.setEnabled(bool(self.selectedItems())))
        self.row_action, self.row_button = action, button
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self, 1)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(button)
        layout.addLayout(row)
        self._action_row = row
        return page

    def add_row_action(self, label: str, button_label: str,
                       triggered: Callable[[], Any]) -> QPushButton:
        """One more row action (after :meth:`with_action`): a button beside the first and an
        entry in the context menu, enabled while a row is selected. Returns its button."""
        action = QAction(label, self)
        action.triggered.connect(triggered)
        self.addAction(action)
        button = QPushButton(button_label)
        button.clicked.connect(action.trigger)
        action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
        action.setEnabled(bool(self.selectedItems()))
        button.setEnabled(action.isEnabled())
        self.itemSelectionChanged.connect(lambda: action.setEnabled(bool(self.selectedItems())))
        self._action_row.addWidget(button)
        self.more_buttons = [*getattr(self, "more_buttons", []), button]
        self.more_actions = [*getattr(self, "more_actions", []), action]
        return button
