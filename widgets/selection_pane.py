"""Beside a list: the one-record detail, or, with several rows selected, what acts on all.

A detail edits one record; with several rows selected it would pretend the current one is
the only one. :class:`SelectionPane` then shows how many are selected, why the detail gave
way, and one button (the list's action on the selection) instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

__all__ = ["SelectionPane"]


class SelectionPane(QStackedWidget):
    """``detail`` (may be None) or the "N selected" pane; :meth:`show_count` picks."""

    def __init__(self, detail: QWidget | None, note: str, button_label: str,
                 on_button: Callable[[], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.detail = detail
        self.title = QLabel("")
        self.title.setObjectName("detailTitle")
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.button = QPushButton(button_label)
        self.button.clicked.connect(lambda: on_button())
        self.many = QWidget()
        pane = QVBoxLayout(self.many)
        pane.addWidget(self.title)
        pane.addWidget(self.note)
        button_row = QHBoxLayout()
        button_row.addWidget(self.button)
        button_row.addStretch()
        pane.addLayout(button_row)
        pane.addStretch()
        if detail is not None:
            self.addWidget(detail)
        self.addWidget(self.many)

    @property
    def showing_many(self) -> bool:
        return self.currentWidget() is self.many

    def show_count(self, selected: int) -> None:
        """``selected`` rows are selected: more than one shows the pane, else the detail."""
        if selected > 1:
            self.title.setText(f"<b>{selected:,} selected</b>")
            self.setCurrentWidget(self.many)
        elif self.detail is not None:
            self.setCurrentWidget(self.detail)
