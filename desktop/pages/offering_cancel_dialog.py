"""Cancel an offering with its bookings: a guided bulk.

First a preview of what each confirmed booking gets back and how (credits through the
ledger, a card payment refunded in full through Stripe by the refund flow, nothing for a
subscription or a complimentary place), and the card total; the confirmation states it.
Then a run with progress and Cancel; Resume (or a rerun) never returns anything twice, each
return being keyed by its booking (a card refund by offering and booking). A booking whose
refund Stripe refuses stays confirmed and is listed with the reason.
"""

from __future__ import annotations

import html
import uuid
from decimal import Decimal

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
from data.services.refunds import money
from desktop.database import Database
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.dialogs import ProgressDialog, ask
from widgets.message_line import MessageLine, field_error_label, set_field_error
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
        self.card_total = Decimal("0")
        self.result_ = None
        self.progress: ProgressDialog | None = None
        self.question = None
        self.summary = QLabel("Loading the bookings…")
        self.summary.setWordWrap(True)
        self.table = RecordTable(("Customer", "Gets back", "How", "Result"))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required; customers are told separately)")
        self.reason.setMaxLength(500)
        self.reason_error = field_error_label("reason")
        self.message = MessageLine()
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        form.addRow("", self.reason_error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = buttons.addButton("Cancel the &bookings…",
                                            QDialogButtonBox.ButtonRole.ActionRole)
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.ask_to_run)
        database.rights.guard(self.run_button, "bookings")  # each booking's return is support's
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
        self.card_total = sum((line.amount for line in lines if line.by_card), Decimal("0"))
        self.summary.setText(
            f"<b>{len(lines):,} confirmed bookings</b> of “{html.escape(self.title)}”: "
            f"{credits:,} credits go back; <b>{money(self.card_total)}</b> is refunded "
            f"through Stripe to {cards:,} card payment(s). "
            "The offering is archived once no booking is left confirmed.")
        self._show_rows({})
        self.run_button.setEnabled(True)

    def _show_rows(self, results: dict[uuid.UUID, str]) -> None:
        self.table.set_rows([(line.customer, line.returns, line.how,
                              results.get(line.booking_id, "")) for line in self.lines],
                            keys=[line.booking_id for line in self.lines])

    def ask_to_run(self) -> None:
        refund = f" and refund {money(self.card_total)} to cards" if self.card_total else ""
        self.question = ask(self, title="Cancel the bookings",
                            text=f"Cancel {len(self.lines):,} bookings of “{self.title}”"
                                 f"{refund}?",
                            informative=html.unescape(self.summary.text().replace(
                                "<b>", "").replace("</b>", "")),
                            confirm_label="Cancel the bookings", on_confirmed=self.run)

    def run(self) -> None:
        set_field_error(self.reason_error, "")
        self.run_button.setEnabled(False)
        handle = self._db.perform_in_batches(
            CancelOfferingBookings(self.offering_id, self.reason.text(),
                                   tuple(line.booking_id for line in self.lines),
                                   gateway=self._db.gateway),
            on_success=self._on_finished, on_failure=self._on_failed, context=self,
            payments=any(line.by_card for line in self.lines))
        self.progress = ProgressDialog(self, title="Cancelling bookings",
                                       label="Cancelling and returning…")
        self.progress.attach(handle)

    def _on_finished(self, result) -> None:
        self.result_ = result
        left = dict(result.left)
        who = {line.booking_id: line.customer for line in self.lines}
        self._show_rows({line.booking_id: f"still confirmed: {left[line.booking_id]}"
                         if line.booking_id in left else ("" if result.stopped else "done")
                         for line in self.lines})
        self.run_button.setEnabled(result.stopped)
        self.run_button.setText("&Resume…" if result.stopped else "Cancel the &bookings…")
        if result.stopped:
            done = result.cancelled + result.already + result.by_card
            self.message.setText(f"Stopped: {done:,} of "
                                 f"{result.total:,} done. Resume does the rest; nothing is "
                                 "returned twice.")
        else:
            self.message.setText(html.escape(
                f"Done: {result.cancelled:,} cancelled, {result.credits_returned:,} credits "
                f"returned, {money(result.amount_refunded)} refunded to "
                f"{result.card_refunded:,} card(s)"
                + (f", {result.already:,} were already cancelled" if result.already else "")
                + (f"; {result.by_card:,} booking(s) left confirmed: refund them with "
                   "Refund." if result.by_card else "."))
                + "".join(f"<br>• {html.escape(who.get(bid, str(bid)))}: {html.escape(why)}"
                          for bid, why in result.left))

    def _on_failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        present_error(self._db, exc,
                      fields=lambda errors: set_field_error(self.reason_error,
                                                             errors.get("reason", "")),
                      banner=self.message.say_error)
