"""The booking dialogs: book on behalf of a customer, and manage one booking.

Book on behalf: the request id is created when the dialog opens and becomes the booking's
id, so a double click or a retry books once. Manage: the dialog first says what cancelling
will do (credits back once, nothing for a subscription, a refund for a card payment), then
cancels, marks completed or no-show, or extends or revokes the portal access.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.bookings import (
    BookOnBehalf,
    CancelBooking,
    MarkBooking,
    RevokePortalAccess,
    SetPortalAccess,
)
from data.queries.offerings import BookingLine, OfferingRecord, get_booking, search_customers
from data.services.bookings import cancellation_plan
from desktop.database import Database
from desktop.formatting import format_value, in_time_zone, time_zone_name
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.banner import ERROR_STYLE
from widgets.dialogs import ask, open_dialog
from widgets.form_editors import RelatedEditor

__all__ = ["BookOnBehalfDialog", "ManageBookingDialog"]


def _error_label() -> QLabel:
    label = QLabel("")
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


class _WritingDialog(QDialog):
    """Runs one operation at a time; field errors under their fields, others in ``message``."""

    def __init__(self, database: Database, parent: QWidget | None):
        super().__init__(parent)
        self._db = database
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.errors: dict[str, QLabel] = {}

    def _run(self, operation: Any, on_success) -> None:
        for label in self.errors.values():
            label.setVisible(False)
        self.message.setText("Working…")
        self.setEnabled(False)
        self._db.perform(operation, on_success=lambda r: self._done(r, on_success),
                         on_failure=self._failed, context=self)

    def _done(self, result: Any, on_success) -> None:
        self.setEnabled(True)
        self.message.setText(html.escape(result.message))
        on_success(result)

    def _failed(self, exc: BaseException) -> None:
        self.setEnabled(True)
        self.message.setText("")
        present_error(self._db, exc, fields=self._show_field_errors,
                      banner=lambda text: self.message.setText(
                          f"<span style='{ERROR_STYLE}'>{html.escape(text)}</span>"))

    def _show_field_errors(self, errors: dict) -> None:
        for name, text in errors.items():
            label = self.errors.get(name)
            if label is None:  # a field this dialog has no place for: say it here
                self.message.setText(f"<span style='{ERROR_STYLE}'>{html.escape(text)}</span>")
                continue
            label.setText(text)
            label.setVisible(True)


class BookOnBehalfDialog(_WritingDialog):
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
            self.errors[name] = _error_label()
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


class ManageBookingDialog(_WritingDialog):
    """One booking: what cancelling does (said first), cancel with a reason, mark it,
    extend or revoke its portal access. A card booking's cancel opens the refund dialog.

    Signals:
        booking_changed(object): after each change (a BookingResult).
    """

    booking_changed = Signal(object)

    def __init__(self, database: Database, booking_id: uuid.UUID,
                 parent: QWidget | None = None):
        super().__init__(database, parent)
        self.setWindowTitle("Booking")
        self.setMinimumWidth(520)
        self.booking_id = booking_id
        self.booking: BookingLine | None = None
        self.plan: Any = None
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.what_happens = QLabel("")
        self.what_happens.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required to cancel or revoke)")
        self.reason.setMaxLength(500)
        self.errors["reason"] = _error_label()
        self.expires = QDateTimeEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.expires.setMinimumWidth(  # the whole date and time, never cut off
            self.expires.fontMetrics().horizontalAdvance("2027-01-15 09:00") + 48)
        self.errors["expires_at"] = _error_label()
        self.cancel_button = QPushButton("&Cancel booking…")
        self.completed_button = QPushButton("Mark c&ompleted")
        self.no_show_button = QPushButton("Mark &no-show")
        self.extend_button = QPushButton("&Extend access")
        self.revoke_button = QPushButton("Re&voke access…")
        self.cancel_button.clicked.connect(self.ask_cancel)
        self.completed_button.clicked.connect(lambda: self._mark("completed"))
        self.no_show_button.clicked.connect(lambda: self._mark("no_show"))
        self.extend_button.clicked.connect(self.extend)
        self.revoke_button.clicked.connect(self.revoke)
        form = QFormLayout()
        form.addRow("&Reason", self.reason)
        form.addRow("", self.errors["reason"])
        access = QHBoxLayout()
        access.addWidget(self.expires)
        access.addWidget(QLabel(time_zone_name()))
        access.addStretch(1)
        form.addRow("Portal access until", access)
        form.addRow("", self.errors["expires_at"])
        portal = QHBoxLayout()
        portal.addWidget(self.extend_button)
        portal.addWidget(self.revoke_button)
        portal.addStretch(1)
        form.addRow("", portal)
        row = QHBoxLayout()
        for b in (self.cancel_button, self.completed_button, self.no_show_button):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.what_happens)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self._buttons_enabled(False)
        self.reload()

    def reload(self) -> None:
        self._db.read(lambda s: (get_booking(s, self.booking_id),
                                 cancellation_plan(s, self.booking_id)),
                      on_success=self._on_loaded, context=self,
                      on_failure=lambda exc: report_read_failure(self._db, "the booking", exc))

    def _on_loaded(self, loaded) -> None:
        if loaded[0].id != self.booking_id:  # pragma: no cover - one booking per dialog
            return
        self.booking, self.plan = loaded
        b = self.booking
        self.summary.setText(
            f"<b>{html.escape(b.customer)}</b> — “{html.escape(b.offering_title)}”<br>"
            f"{b.status.replace('_', '-')} · paid {html.escape(b.paid)} · booked "
            f"{format_value(b.created_at)}" + (f" · session {html.escape(b.sessions)}"
                                              if b.sessions else "")
            + (f"<br>Portal access until {format_value(b.portal_expires_at) or 'no end'}"
               if b.has_portal else "<br>No portal access."))
        self.what_happens.setText("<b>Cancelling:</b> " + " ".join(
            html.escape(line) for line in self.plan.lines))
        # Shown and typed in the platform's zone, as every time on screen; stored naive UTC.
        expires = in_time_zone(b.portal_expires_at or dt.datetime.now(dt.UTC).replace(
            tzinfo=None) + dt.timedelta(days=30))
        self.expires.setDate(QDate(expires.year, expires.month, expires.day))
        self.expires.setTime(QTime(expires.hour, expires.minute))
        self._buttons_enabled(True)
        self.adjustSize()  # the summary and what cancelling does, never cut off

    def _buttons_enabled(self, loaded: bool) -> None:
        b = self.booking
        live = loaded and b is not None and b.status != "canceled"
        self.cancel_button.setEnabled(live and b is not None and b.status == "confirmed")
        self.completed_button.setEnabled(live and b is not None and b.status != "completed")
        self.no_show_button.setEnabled(live and b is not None and b.status != "no_show")
        self.extend_button.setEnabled(live)
        self.revoke_button.setEnabled(live and b is not None and b.has_portal)

    def ask_cancel(self) -> None:
        if self.plan is None:
            return
        if self.plan.by_card:
            from desktop.pages.refund_dialog import RefundDialog

            open_dialog(RefundDialog(self._db, "booking", self.booking_id, self))
            return
        self.confirmation = ask(self, title="Cancel the booking",
                                text="Cancel this booking?",
                                informative=" ".join(self.plan.lines),
                                confirm_label="Cancel booking", on_confirmed=self.cancel)

    def cancel(self) -> None:
        self._run(CancelBooking(self.booking_id, self.reason.text()), self._changed)

    def _mark(self, status: str) -> None:
        self._run(MarkBooking(self.booking_id, status), self._changed)

    def extend(self) -> None:
        typed = self.expires.dateTime().toPython().replace(tzinfo=ZoneInfo(time_zone_name()))
        value = typed.astimezone(dt.UTC).replace(tzinfo=None)
        def done(result) -> None:
            self._changed(result)  # said in the zone it was typed in, not the stored UTC
            self.message.setText(html.escape(f"Portal access until {format_value(value)}."))

        self._run(SetPortalAccess(self.booking_id, value, self.reason.text() or None), done)

    def revoke(self) -> None:
        self.confirmation = ask(self, title="Revoke portal access",
                                text="End this customer's portal access now?",
                                confirm_label="Revoke access",
                                on_confirmed=lambda: self._run(
                                    RevokePortalAccess(self.booking_id, self.reason.text()),
                                    self._changed))

    def _changed(self, result) -> None:
        self.booking_changed.emit(result)
        self.reload()
