"""A combo box choosing a record by id, which also shows an id it does not offer.

Ids are kept as text: QVariant compares Python objects by identity, so ``findData`` would
never find a UUID. A value the choices do not know (a series created elsewhere, a customer
who owns an old series) is shown as it is rather than silently showing another choice.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from PySide6.QtWidgets import QComboBox, QWidget

__all__ = ["IdChoice"]


def _key(value: Hashable | None) -> str:
    return "" if value is None else str(value)


class IdChoice(QComboBox):
    """Choices are ``(id, label)`` pairs; :meth:`value` is the chosen id as text (None when
    nothing, or the "" choice, is chosen)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)

    def set_choices(self, items: Sequence[tuple[Hashable | None, str]]) -> None:
        """Replace the choices, keeping the chosen id (quietly: nobody chose anything)."""
        current = self.currentData()
        self.blockSignals(True)
        try:
            self.clear()
            for value, label in items:
                self.addItem(label, _key(value))
            if current is None:
                self.setCurrentIndex(-1)
            else:
                self.select(current)
        finally:
            self.blockSignals(False)

    def select(self, value: Hashable | None, label: str = "", *, quiet: bool = False) -> None:
        """Choose ``value`` (None: the "" choice, else the first); an id not offered is
        added, shown as ``label`` (default: the start of the id)."""
        key = _key(value)
        blocked = self.blockSignals(quiet) if quiet else None
        index = self.findData(key)
        if index < 0 and key:
            self.addItem(label or f"({key[:8]}…)", key)
            index = self.count() - 1
        if index < 0 and not key and self.count():
            index = 0
        self.setCurrentIndex(index)
        if quiet:
            self.blockSignals(bool(blocked))

    def value(self) -> str | None:
        """The chosen id as text, or None."""
        return self.currentData() or None
