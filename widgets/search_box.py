"""A search field that asks for a search once typing pauses."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QWidget


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
        self._down_view: QAbstractItemView | None = None
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

    def move_down_into(self, view: QAbstractItemView) -> None:
        """Down in the field moves into ``view`` (its first row selected if none is), so the
        keyboard never has to leave: type, Down, Return."""
        self._down_view = view

    def keyPressEvent(self, event: QKeyEvent) -> None:
        view = self._down_view
        model = view.model() if view is not None else None
        if event.key() == Qt.Key.Key_Down and model is not None and model.rowCount():
            view.setFocus()
            if not view.currentIndex().isValid():
                view.setCurrentIndex(model.index(0, 0))
            return
        super().keyPressEvent(event)

    def _on_timer_timeout(self) -> None:
        self._timer.stop()
        self.search_requested.emit(self.text())
