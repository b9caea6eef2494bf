"""Manage one booking: the dialog first says what cancelling will do (credits back once,
nothing for a subscription, a refund for a card payment), then cancels, marks completed or
no-show, or extends or revokes the portal access (in the platform's time zone). Below, the
booking's History: what was done to it through the app, by whom, when and why."""

from __future__ import annotations

import datetime as dt
import html
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.bookings import (
    CancelBooking,
    MarkBooking,
    RevokePortalAccess,
    SetPortalAccess,
)
from data.queries.audit import list_booking_history
from data.queries.offerings import BookingLine, get_booking
from data.services.bookings import cancellation_plan
from desktop.admin.history import history_tab
from desktop.admin.inline import InlineList
from desktop.database import Database
from desktop.formatting import format_value, in_time_zone, time_zone_name
from desktop.pages.booking_dialogs import WritingDialog
from desktop.read_failures import report_read_failure
from widgets.dialogs import ask, open_dialog
from widgets.message_line import field_error_label

__all__ = ["BOOKING_HISTORY", "ManageBookingDialog"]

# The booking's own audit rows, and those of its portal access (given, extended, revoked);
# each change of the booking reloads it.
BOOKING_HISTORY = history_tab("offering_booking", watch=("offering_bookings",),
                              query=list_booking_history)


class ManageBookingDialog(WritingDialog):
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
        self.errors["reason"] = field_error_label()
        self.expires = QDateTimeEdit()
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.expires.setMinimumWidth(  # the whole date and time, never cut off
            self.expires.fontMetrics().horizontalAdvance("2027-01-15 09:00") + 48)
        self.errors["expires_at"] = field_error_label()
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
        for button in (self.cancel_button, self.completed_button, self.no_show_button,
                       self.extend_button, self.revoke_button):
            database.rights.guard(button, "bookings")
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
        self.history = InlineList(BOOKING_HISTORY, database)
        self.history.setMinimumHeight(160)
        self.history.show_for(booking_id, "<b>History</b>")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.what_happens)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.history, 1)
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
            self.message.say(f"Portal access until {format_value(value)}.")

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
