"""The layout pieces the pages and dialogs share: a margin-less column, two panes side by
side in a splitter (a list and its detail), and a dialog's row of buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

__all__ = ["button_row", "column", "side_by_side"]


def column(*parts: QWidget | QLayout, grow: QWidget | None = None) -> QWidget:
    """A widget stacking ``parts`` top to bottom with no margins; ``grow`` (one of them) gets
    the spare height."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part, 1 if part is grow else 0)
    return widget


def side_by_side(left: QWidget, right: QWidget, ratio: tuple[int, int] = (3, 2)) -> QSplitter:
    """``left`` and ``right`` in a horizontal splitter sharing spare width by ``ratio``."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, ratio[0])
    splitter.setStretchFactor(1, ratio[1])
    return splitter


def button_row(*buttons: QPushButton, left: tuple[QPushButton, ...] = ()) -> QHBoxLayout:
    """A dialog's buttons at the bottom right, in the order given; ``left`` ones (a "Check
    again") on the left."""
    row = QHBoxLayout()
    for button in left:
        row.addWidget(button)
    row.addStretch()
    for button in buttons:
        row.addWidget(button)
    return row
