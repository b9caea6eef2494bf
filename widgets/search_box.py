"""A search field that asks for a search once typing pauses."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLineEdit, QWidget


class SearchBox(QLineEdit):
    """Debounced search: ``search_requested`` fires ``delay_ms`` after the last keystroke,
    or at once on Return, so a fast typist starts one query, not one per letter.

    Signals:
        search_requested(str): the text to search for.
    """

    search_requested = Signal(str)

    def __init__(self, placeholder: str, *, delay_ms: int = 250, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.textChanged.connect(lambda _text: self._timer.start())
        self.returnPressed.connect(self._on_timer_timeout)

    def cancel_pending(self) -> None:
        """Forget a pending search (the caller is searching now anyway)."""
        self._timer.stop()

    def focus_and_select(self) -> None:
        self.setFocus()
        self.selectAll()

    def _on_timer_timeout(self) -> None:
        self._timer.stop()
        self.search_requested.emit(self.text())
