"""Cancel an offering with its bookings: a guided bulk.

First a preview of what each confirmed booking gets back and how (credits through the
ledger, nothing for a subscription or a complimentary place, card payments left for the
refund flow), then a run with progress and Cancel; Resume (or a rerun) never returns
anything twice, each return being keyed by its booking.
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from data.operations.bookings import CancelOfferingBookings
from data.services.bookings import BulkLine, offering_cancellation_preview
from desktop.database import Database
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.banner import ERROR_STYLE
from widgets.dialogs import ProgressDialog, ask
from widgets.record_table import RecordTable

__all__ = ["CancelOfferingDialog"]


class CancelOfferingDialog(QDialog):
    """The preview, the reason, and Run (Resume after a stop)."""

    def __init__(self, database: Database, offering_id: uuid.UUID, title: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Cancel the offering")
        self.resize(720, 480)
        self._db = database
        self.offering_id = offering_id
        self.title = title
        self.lines: list[BulkLine] = []
        self.result_ = None
        self.progress: ProgressDialog | None = None
        self.question = None
        self.summary = QLabel("Loading the bookings…")
        self.summary.setWordWrap(True)
        self.table = RecordTable(("Customer", "Gets back", "How"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required; customers are told separately)")
        self.reason.setMaxLength(500)
        self.reason_error = QLabel("")
        self.reason_error.setStyleSheet(ERROR_STYLE)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        form.addRow("", self.reason_error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = buttons.addButton("Cancel the &bookings…",
                                            QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.ask_to_run)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        database.read(offering_cancellation_preview, offering_id, on_success=self._on_preview,
                      context=self,
                      on_failure=lambda exc: report_read_failure(database, "the bookings", exc))

    def _on_preview(self, lines: list[BulkLine]) -> None:
        self.lines = lines
        credits = sum(int(line.returns.split()[0].replace(",", "")) for line in lines
                      if line.returns.endswith("credits"))
        cards = sum(line.by_card for line in lines)
        self.summary.setText(
            f"<b>{len(lines):,} confirmed bookings</b> of “{html.escape(self.title)}”: "
            f"{credits:,} credits go back; {cards:,} card payment(s) are left for Refund. "
            "The offering is archived once no booking is left confirmed.")
        self.table.set_rows([(line.customer, line.returns, line.how) for line in lines],
                            keys=[line.booking_id for line in lines])
        self.run_button.setEnabled(True)

    def ask_to_run(self) -> None:
        self.question = ask(self, title="Cancel the bookings",
                            text=f"Cancel {len(self.lines):,} bookings of “{self.title}”?",
                            informative=self.summary.text().replace("<b>", "").replace(
                                "</b>", ""),
                            confirm_label="Cancel the bookings", on_confirmed=self.run)

    def run(self) -> None:
        self.reason_error.setText("")
        self.run_button.setEnabled(False)
        handle = self._db.perform_in_batches(
            CancelOfferingBookings(self.offering_id, self.reason.text(),
                                   tuple(line.booking_id for line in self.lines)),
            on_success=self._on_finished, on_failure=self._on_failed, context=self)
        self.progress = ProgressDialog(self, title="Cancelling bookings",
                                       label="Cancelling and returning…")
        self.progress.attach(handle)

    def _on_finished(self, result) -> None:
        self.result_ = result
        self.run_button.setEnabled(result.stopped)
        self.run_button.setText("&Resume…" if result.stopped else "Cancel the &bookings…")
        if result.stopped:
            self.message.setText(f"Stopped: {result.cancelled + result.already:,} of "
                                 f"{result.total:,} done. Resume does the rest; nothing is "
                                 "returned twice.")
        else:
            self.message.setText(
                f"Done: {result.cancelled:,} cancelled, {result.credits_returned:,} credits "
                f"returned" + (f", {result.already:,} were already cancelled" if
                               result.already else "")
                + (f"; {result.by_card:,} card booking(s) to refund." if result.by_card
                   else "."))

    def _on_failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        present_error(self._db, exc,
                      fields=lambda errors: self.reason_error.setText(errors.get("reason", "")),
                      banner=lambda text: self.message.setText(
                          f"<span style='{ERROR_STYLE}'>{html.escape(text)}</span>"))
