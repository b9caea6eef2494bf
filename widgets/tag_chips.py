"""An editor for a short list of tags shown as removable chips.

Type a tag and press Enter (or a comma) to add it; click a chip's × (or press Backspace in
the empty entry) to remove one. Tags are trimmed, inner spaces collapsed, and a tag equal to
one already there (ignoring case) is not added twice. The widget knows no database.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QWidget,
    QWidgetItem,
)

__all__ = ["FlowLayout", "TagChips"]

_CHIP_STYLE = (
    "QFrame#tagChip { border: 1px solid palette(mid); border-radius: 9px; "
    "background: palette(alternate-base); }"
    "QFrame#tagChip QToolButton { border: none; padding: 0px; }"
)


class FlowLayout(QLayout):
    """Lays its items out left to right, wrapping to a new line when the width runs out."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def insertWidget(self, index: int, widget: QWidget) -> None:
        self.addChildWidget(widget)
        self._items.insert(index, QWidgetItem(widget))
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, line_height = area.x(), area.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line_height > 0:
                x = area.x()
                y += line_height + self._spacing
                line_height = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + m.bottom()


class TagChips(QWidget):
    """Tags as chips with an entry to add more.

    Signals:
        tags_changed(list): the list of tags after a tag was added or removed by the user.
    """

    tags_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "Add tag…",
                 max_length: int = 100) -> None:
        super().__init__(parent)
        self._tags: list[str] = []
        self._chips: list[QFrame] = []
        self._read_only = False
        self.entry = QLineEdit(self)
        self.entry.setPlaceholderText(placeholder)
        self.entry.setMaxLength(max_length)
        self.entry.setAccessibleName("New tag")
        self.entry.setMinimumWidth(120)
        self.entry.returnPressed.connect(self._on_entry_return_pressed)
        self.entry.textEdited.connect(self._on_entry_text_edited)
        self.entry.installEventFilter(self)
        self._flow = FlowLayout(self)
        self._flow.addWidget(self.entry)
        self.setStyleSheet(_CHIP_STYLE)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setFocusProxy(self.entry)

    # -- public API ---------------------------------------------------------------------
    def tags(self) -> list[str]:
        return list(self._tags)

    def set_tags(self, tags: Iterable[str]) -> None:
        """Show ``tags`` (normalised); does not emit ``tags_changed``."""
        for chip in self._chips:
            self._flow.removeWidget(chip)
            chip.deleteLater()
        self._chips.clear()
        self._tags.clear()
        for tag in tags:
            self._add(tag)
        self.entry.clear()

    def add_tag(self, tag: str) -> bool:
        """Add ``tag`` as the user would; False if it is empty or already there."""
        if self._add(tag):
            self.tags_changed.emit(self.tags())
            return True
        return False

    def remove_tag(self, tag: str) -> bool:
        key = tag.casefold()
        for i, existing in enumerate(self._tags):
            if existing.casefold() == key:
                del self._tags[i]
                chip = self._chips.pop(i)
                self._flow.removeWidget(chip)
                chip.deleteLater()
                self.updateGeometry()
                self.tags_changed.emit(self.tags())
                return True
        return False

    def chip(self, tag: str) -> QFrame | None:
        """The chip showing ``tag`` (for tests and accessibility checks)."""
        for existing, chip in zip(self._tags, self._chips, strict=True):
            if existing.casefold() == tag.casefold():
                return chip
        return None

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.entry.setVisible(not read_only)
        for chip in self._chips:
            chip.findChild(QToolButton).setVisible(not read_only)

    # -- Qt overrides -------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.entry and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Backspace
                and not self.entry.text() and self._tags):
            self.remove_tag(self._tags[-1])
            return True
        return super().eventFilter(watched, event)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._flow.heightForWidth(width)

    # -- internals ----------------------------------------------------------------------
    def _on_entry_return_pressed(self) -> None:
        if self.add_tag(self.entry.text()) or not self.entry.text().strip():
            self.entry.clear()

    def _on_entry_text_edited(self, text: str) -> None:
        if "," in text:
            parts = text.split(",")
            for part in parts[:-1]:
                self.add_tag(part)
            self.entry.setText(parts[-1].lstrip())

    def _add(self, tag: str) -> bool:
        tag = " ".join(str(tag).split())
        if not tag or any(t.casefold() == tag.casefold() for t in self._tags):
            return False
        chip = self._make_chip(tag)
        self._tags.append(tag)
        self._chips.append(chip)
        self._flow.insertWidget(len(self._chips) - 1, chip)
        self.updateGeometry()
        return True

    def _make_chip(self, tag: str) -> QFrame:
        chip = QFrame(self)
        chip.setObjectName("tagChip")
        layout = QHBoxLayout(chip)
        layout.setContentsMargins(8, 1, 4, 1)
        layout.setSpacing(2)
        label = QLabel(tag, chip)
        label.setTextFormat(Qt.TextFormat.PlainText)
        remove = QToolButton(chip)
        remove.setText("×")
        remove.setToolTip(f"Remove tag “{tag}”")
        remove.setAccessibleName(f"Remove tag {tag}")
        remove.setAutoRaise(True)
        remove.setVisible(not self._read_only)
        remove.clicked.connect(lambda: self.remove_tag(tag))
        layout.addWidget(label)
        layout.addWidget(remove)
        chip.show()
        return chip
