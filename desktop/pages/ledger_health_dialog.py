"""What the ledger check found: every balance that disagrees with its ledger."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from widgets.banner import ERROR_STYLE


class LedgerHealthDialog(QDialog):
    """What the ledger check found: every balance that disagrees with its ledger."""

    def __init__(self, mismatches, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Ledger health")
        self.summary = QLabel(
            "Every balance agrees with its ledger." if not mismatches else
            f"<b style='{ERROR_STYLE}'>{len(mismatches):,} problem(s) found.</b> "
            "Rows written by the platform or by hand disagree; fix them with care.")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlainText("\n".join(str(m) for m in mismatches))
        self.details.setVisible(bool(mismatches))
        if mismatches:
            self.resize(820, 420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
