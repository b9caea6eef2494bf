"""The answers to a search typed in a :class:`~widgets.search_box.SearchBox`, as a list,
and :class:`LiveSearch`, which runs each search the box asks for and shows its answer there.

Only the latest search is shown: an older one answering late is dropped. Each row keeps the
value it shows (``Qt.ItemDataRole.UserRole``), and ``note`` (a label for the caller's
layout) says how many matched, that none did, or that there are more than shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

from widgets.search_box import SearchBox

__all__ = ["Finder", "LiveSearch", "SearchResults"]

Finder = Callable[[str, Callable[[Sequence[Any]], None], Callable[[BaseException], None]],
                  None]
"""``find(text, found, failed)``: look ``text`` up off the GUI thread and call ``found(rows)``
or ``failed(exc)`` on it when the answer is in."""


class SearchResults(QListWidget):
    """A list of search answers with a note under it.

    ``limit`` is how many rows the search asks for: that many back means there may be
    more, and the note says ``limit_text``. No rows says ``none_text``; otherwise
    ``count_text(n)``.
    """

    def __init__(self, *, limit: int, none_text: str, limit_text: str,
                 count_text: Callable[[int], str], hint: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel(hint)
        self._limit = limit
        self._none_text = none_text
        self._limit_text = limit_text
        self._count_text = count_text
        self._awaited: str | None = None

    def searching(self, text: str) -> None:
        """``text`` was just searched for: only its answer will be shown."""
        self._awaited = text
        self.note.setText("Searching…")

    def show_hint(self, hint: str) -> None:
        """Nothing to search for: an empty list, ``hint`` under it, late answers dropped."""
        self._awaited = None
        self.clear()
        self.note.setText(hint)

    def show_results(self, text: str, values: Sequence[Any], label: Callable[[Any], str],
                     tooltip: Callable[[Any], str] | None = None) -> bool:
        """Show ``values`` if they answer the latest search; False if they came too late."""
        if text != self._awaited:
            return False
        self.clear()
        for value in values:
            row = QListWidgetItem(label(value))
            row.setData(Qt.ItemDataRole.UserRole, value)
            if tooltip is not None:
                row.setToolTip(tooltip(value))
            self.addItem(row)
        n = len(values)
        self.note.setText(self._none_text if not n else
                          self._limit_text if n == self._limit else self._count_text(n))
        return True

    def show_failure(self, text: str, message: str) -> bool:
        """The search for ``text`` failed: an empty list and ``message`` under it, if it is
        still the latest search; False (nothing shown) if a newer one was made since."""
        if text != self._awaited:
            return False
        self._awaited = None
        self.clear()
        self.note.setText(message)
        return True

    def value(self, row: int) -> Any:
        return self.item(row).data(Qt.ItemDataRole.UserRole)

    def current_value(self) -> Any:
        item = self.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def selected_values(self) -> list[Any]:
        """The selected rows' values, in the order the list shows them."""
        return [self.value(row) for row in range(self.count()) if self.item(row).isSelected()]


class LiveSearch(QObject):
    """Runs each search ``box`` asks for through ``find`` and shows the answer in ``results``.

    Only the latest search's answer is shown (``results`` drops late ones). A failure is
    shown under the list in ``describe_failure``'s words; the rest of the dialog is not
    concerned (a write in flight stays in flight). With ``empty_hint``, an empty box shows
    the hint instead of searching for everything. Down in the box moves into the list.
    Return in the box searches at once and never reaches a dialog's default button; with
    ``return_enters_results`` it also moves into the list when it has rows, so a choice
    needs no mouse: type, Return, Return.

    Signals:
        shown(): answers, a failure or the hint were shown (callers update their buttons).
    """

    shown = Signal()

    def __init__(self, box: SearchBox, results: SearchResults, find: Finder, *,
                 label: Callable[[Any], str], describe_failure: Callable[[BaseException], str],
                 tooltip: Callable[[Any], str] | None = None, empty_hint: str | None = None,
                 return_enters_results: bool = False) -> None:
        super().__init__(results)
        self._box = box
        self._results = results
        self._find = find
        self._label = label
        self._tooltip = tooltip
        self._describe_failure = describe_failure
        self._empty_hint = empty_hint
        self._return_enters_results = return_enters_results
        box.move_down_into(results)
        box.search_requested.connect(self.search)
        box.installEventFilter(self)

    def search(self, text: str) -> None:
        """Search for ``text`` now."""
        if self._empty_hint is not None and not text.strip():
            self._results.show_hint(self._empty_hint)
            self.shown.emit()
            return
        self._results.searching(text)
        self._find(text, partial(self._on_found, text), partial(self._on_failed, text))

    def _on_found(self, text: str, rows: Sequence[Any]) -> None:
        if self._results.show_results(text, rows, self._label, self._tooltip):
            self.shown.emit()

    def _on_failed(self, text: str, exc: BaseException) -> None:
        if self._results.show_failure(text, self._describe_failure(exc)):
            self.shown.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self._box and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self._box.cancel_pending()
            self.search(self._box.text())
            if self._return_enters_results and self._results.count():
                self._results.setFocus()
                if self._results.currentRow() < 0:
                    self._results.setCurrentRow(0)
            return True
        return super().eventFilter(watched, event)
