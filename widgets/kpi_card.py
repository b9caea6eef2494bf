"""A card for one headline figure: a caption, the value in large type, a line of context."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

NO_VALUE = "—"
"""What the value shows before a figure arrives."""


class KpiCard(QFrame):
    """One figure of a KPI row: a caption, the value, and a line of context (word-wrapped).

    The labels are public (``caption``, ``value``, ``detail``) so a page or a test can read
    what is shown; :meth:`show_figure` sets all three at once.
    """

    def __init__(self, caption: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("kpiCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#kpiCard { background: #f9fafb; border: 1px solid #e5e7eb;"
                           " border-radius: 6px; }")
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #6b7280; border: none")
        self.value = QLabel(NO_VALUE)
        self.value.setStyleSheet("font-size: 20px; font-weight: 600; border: none")
        self.detail = QLabel("")
        self.detail.setStyleSheet("color: #6b7280; border: none")
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)

    def show_figure(self, caption: str, value: str, detail: str) -> None:
        """Show ``value`` under ``caption``, with ``detail`` as its line of context."""
        self.caption.setText(caption)
        self.value.setText(value)
        self.detail.setText(detail)
