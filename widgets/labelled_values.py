"""Read-only figures in a form: a label, a selectable value, and a note under them all."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

__all__ = ["LabelledValues"]


class LabelledValues(QWidget):
    """``rows`` are ``(key, label)`` pairs; :meth:`set_value` shows one value, ``labels``
    holds the value labels by key. The values can be selected and copied."""

    def __init__(self, rows: Sequence[tuple[str, str]], note: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        self.labels: dict[str, QLabel] = {}
        for key, label in rows:
            value = QLabel("")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[key] = value
            form.addRow(f"{label}:", value)
        self.note = QLabel(note)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        self.note.setVisible(bool(note))
        form.addRow(self.note)

    def set_value(self, key: str, text: str) -> None:
        """Show ``text`` as the value of row ``key``."""
        self.labels[key].setText(text)
