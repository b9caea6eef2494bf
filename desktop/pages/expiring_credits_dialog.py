"""Credits expiring within N days (Token balances page): who has credits about to expire,
how many, and from when. Support's answer to "where did my credits go"."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from data.queries.expiring_credits import MAX_DAYS, ExpiringCredits, expiring_credits
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from widgets.banner import Banner
from widgets.latest import LatestRequest
from widgets.record_table import RecordTable

__all__ = ["ExpiringCreditsDialog"]

NOTE = ("Credits granted with an expiry date (subscription credits that do not roll over, "
        "for one) that expire in this window, soonest first; credits without one never "
        "expire. Some of them may already be spent.")


class ExpiringCreditsDialog(QDialog):
    def __init__(self, database: Database, parent: QWidget | None = None, days: int = 30):
        super().__init__(parent)
        self.setWindowTitle("Credits expiring soon")
        self._db = database
        self._latest = LatestRequest()
        self.rows: list[ExpiringCredits] | None = None
        self.days = QSpinBox()
        self.days.setRange(1, MAX_DAYS)
        self.days.setValue(days)
        self.days.setSuffix(" days")
        self.days.valueChanged.connect(lambda _v: self.load())
        top = QHBoxLayout()
        top.addWidget(QLabel("Expiring &within"))
        top.itemAt(0).widget().setBuddy(self.days)
        top.addWidget(self.days)
        top.addStretch()
        self.summary = QLabel(NOTE)
        self.summary.setWordWrap(True)
        self.banner = Banner(error=True)
        self.table = RecordTable(("Customer", "Credits expiring", "First expiry",
                                  "Balance now"), display=format_value)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addStretch()
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.resize(720, 420)
        self.load()

    def load(self) -> None:
        on_done, on_failed = self._latest.wrap(self._on_loaded, self._on_failed)
        self._db.read(expiring_credits, self.days.value(), on_success=on_done,
                      on_failure=on_failed, context=self)

    def _on_loaded(self, rows: list[ExpiringCredits]) -> None:
        self.rows = rows
        self.banner.setVisible(False)
        self.table.set_rows([(r.email, f"{r.credits:,}", r.first_expiry,
                              "" if r.current_balance is None else f"{r.current_balance:,}")
                             for r in rows], keys=[r.customer_id for r in rows])
        total = sum(r.credits for r in rows)
        self.summary.setText(f"<b>{len(rows):,} customer(s), {total:,} credits</b> expiring "
                             f"within {self.days.value():,} days. {NOTE}")

    def _on_failed(self, exc: BaseException) -> None:
        present_error(self._db, exc, banner=self.banner)
