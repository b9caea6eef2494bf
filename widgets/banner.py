"""The message strip above a form: conflicts, refusals, failures, in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

ERROR_STYLE = "color: #b3261e;"
"""Red text for an inline error (a field's message, a failed action)."""


class Banner(QLabel):
    """Hidden until there is something to say; styled by ``QLabel#banner`` in the style
    sheet. ``error=True`` shows red text instead (a refusal rather than a notice)."""

    def __init__(self, *, error: bool = False, parent: QWidget | None = None):
        super().__init__("", parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        if error:
            self.setStyleSheet(ERROR_STYLE)
        self.setVisible(False)

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.setVisible(True)
