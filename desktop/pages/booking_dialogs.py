"""Booking on behalf of a customer, and the writing dialog both booking dialogs share.

Book on behalf: the request id is created when the dialog opens and becomes the booking's
id, so a double click or a retry books once. Managing one booking is
:mod:`desktop.pages.manage_booking_dialog`.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.bookings import (
    BookOnBehalf,
)
from data.queries.offerings import OfferingRecord, search_customers
from desktop.database import Database
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.form_editors import RelatedEditor
from widgets.message_line import MessageLine, field_error_label, grow_to_fit, set_field_error

__all__ = ["BookOnBehalfDialog", "WritingDialog"]


class WritingDialog(QDialog):
    """Runs one operation at a time; field errors under their fields, others in ``message``."""

    def __init__(self, database: Database, parent: QWidget | None):
        super().__init__(parent)
        self._db = database
        self.message = MessageLine()
        self.errors: dict[str, QLabel] = {}

    def _run(self, operation: Any, on_success) -> None:
        for label in self.errors.values():
            label.setVisible(False)
        self.message.say("Working…")
        self.setEnabled(False)
        self._db.perform(operation, on_success=lambda r: self._done(r, on_success),
                         on_failure=self._failed, context=self)

    def _done(self, result: Any, on_success) -> None:
        self.setEnabled(True)
        self.message.say(result.message)
        on_success(result)

    def _failed(self, exc: BaseException) -> None:
        self.setEnabled(True)
        self.message.say("")
        present_error(self._db, exc, fields=self._show_field_errors,
                      banner=self.message.say_error)
        grow_to_fit(self)  # a field's error line appeared too

    def _show_field_errors(self, errors: dict) -> None:
        for name, text in errors.items():
            label = self.errors.get(name)
            if label is None:  # a field this dialog has no place for: say it here
                self.message.say_error(text)
                continue
            set_field_error(label, text)


class BookOnBehalfDialog(WritingDialog):
    """Book a customer on ``offering``: complimentary or with its credit cost.

    Signals:
        booking_made(object): the :class:`~data.services.bookings.BookingResult`.
    """

    booking_made = Signal(object)

    def __init__(self, database: Database, offering: OfferingRecord,
                 parent: QWidget | None = None):
        super().__init__(database, parent)
        self.setWindowTitle("Book on behalf of a customer")
        self.setMinimumWidth(480)
        self.offering = offering
        self.request_id = uuid.uuid4()
        self.customer = RelatedEditor(search=self._search, placeholder="Search email or name…")
        self.complimentary = QRadioButton("&Complimentary (nothing to pay)")
        self.credits = QRadioButton(f"With c&redits ({offering.credit_cost:,} from the "
                                    "customer's balance)" if offering.credit_cost
                                    else "With credits (this offering takes none)")
        self.credits.setEnabled(bool(offering.credit_cost))
        self.complimentary.setChecked(True)
        self.session_date = QLineEdit()
        self.session_date.setPlaceholderText("YYYY-MM-DD")
        self.session_time = QLineEdit()
        self.session_time.setPlaceholderText("HH:MM")
        self.override_reason = QLineEdit()
        self.override_reason.setPlaceholderText("only to book after the registration deadline")
        self.override_reason.setMaxLength(500)
        for name in ("customer", "payment", "session_date", "session_time", "override_reason"):
            self.errors[name] = field_error_label()
        form = QFormLayout()
        form.addRow("Offering", QLabel(f"<b>{html.escape(offering.title)}</b>"))
        form.addRow("C&ustomer", self.customer)
        form.addRow("", self.errors["customer"])
        form.addRow("Payment", self.complimentary)
        form.addRow("", self.credits)
        form.addRow("", self.errors["payment"])
        if offering.offering_type == "recurring_bookable":
            form.addRow("Session &date", self.session_date)
            form.addRow("", self.errors["session_date"])
            form.addRow("Session &time", self.session_time)
            form.addRow("", self.errors["session_time"])
        form.addRow("Override &reason", self.override_reason)
        form.addRow("", self.errors["override_reason"])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.book_button = buttons.addButton("&Book", QDialogButtonBox.ButtonRole.AcceptRole)
        database.rights.guard(self.book_button, "bookings")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _search(self, typed: str, deliver) -> None:
        self._db.read(search_customers, typed, on_success=deliver, context=self,
                      on_failure=lambda exc: report_read_failure(self._db, "the search", exc))

    def submit(self) -> None:
        slot = None
        if self.offering.offering_type == "recurring_bookable":
            slot = (self.session_date.text(), self.session_time.text())
        self._run(BookOnBehalf(self.offering.id, self.customer.value(),
                               "credits" if self.credits.isChecked() else "complimentary",
                               self.request_id, self.override_reason.text() or None, slot),
                  self._on_booked)

    def _on_booked(self, result) -> None:
        self.booking_made.emit(result)
        self.accept()
