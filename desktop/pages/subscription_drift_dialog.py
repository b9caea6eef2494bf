"""Compare the current subscriptions with Stripe, from the Subscription tiers page: each
difference in a table (the same check as ``platform-admin subscriptions check``). Nothing
is changed, here or at Stripe."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from data.operations.subscriptions import CheckSubscriptionDrift
from data.services.subscriptions import Drift
from desktop.database import Database
from desktop.present_error import present_error
from widgets.banner import Banner
from widgets.layouts import button_row
from widgets.record_table import RecordTable

__all__ = ["SubscriptionDriftDialog"]

FIELD_LABELS = {"missing": "unknown to Stripe", "status": "status",
                "current_period_end": "current period end",
                "cancel_at_period_end": "cancel at period end"}


class SubscriptionDriftDialog(QDialog):
    """Signals: none; ``drifts`` holds the last answer."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Subscriptions compared with Stripe")
        self._db = database
        self.drifts: list[Drift] | None = None
        self.summary = QLabel("Asking Stripe about every active, trialing and past-due "
                              "subscription…")
        self.summary.setWordWrap(True)
        self.banner = Banner(error=True)
        self.table = RecordTable(("Stripe subscription", "Customer", "Differs in", "Here",
                                  "At Stripe", "Note"))
        self.again_button = QPushButton("Check &again")
        self.again_button.clicked.connect(self.check)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = button_row(close, left=(self.again_button,))
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(900, 420)
        self.check()

    def check(self) -> None:
        if self._db.gateway is None:
            self.summary.setText("Stripe is not configured: there is nothing to compare with.")
            self.again_button.setEnabled(False)
            return
        self.again_button.setEnabled(False)
        self._db.pay(CheckSubscriptionDrift(), on_success=self._on_checked,
                     on_failure=self._on_failed, context=self)

    def _on_checked(self, drifts: list[Drift]) -> None:
        self.drifts = drifts
        self.again_button.setEnabled(True)
        self.table.set_rows([(d.stripe_subscription_id, d.customer_email,
                              FIELD_LABELS.get(d.field, d.field), d.ours,
                              "" if d.field == "missing" else d.stripes, d.note)
                             for d in drifts])
        self.summary.setText(
            f"{len(drifts):,} difference(s) from Stripe. Nothing was changed: a status Stripe "
            "has that the platform cannot store is shown, never written." if drifts
            else "Every active, trialing and past-due subscription agrees with Stripe.")

    def _on_failed(self, exc: BaseException) -> None:
        self.again_button.setEnabled(True)
        self.summary.setText("The comparison could not be made.")
        present_error(self._db, exc, banner=self.banner)
