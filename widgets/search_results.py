"""The answers to a search typed in a :class:`~widgets.search_box.SearchBox`, as a list.

Only the latest search is shown: an older one answering late is dropped. Each row keeps the
value it shows (``Qt.ItemDataRole.UserRole``), and ``note`` (a label for the caller's
layout) says how many matched, that none did, or that there are more than shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QWidget

__all__ = ["SearchResults"]


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
