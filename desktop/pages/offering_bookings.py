"""An offering's Bookings tab: every booking, a keyset page at a time, filtered in the database.

A note (confirmed of max, holding a place), the filters (customer name or email, status,
payment method; each change asks the database again, so a filter finds a booking however
old), "Book on behalf…", and the lazy list (:class:`~desktop.admin.inline.InlineList` over
:func:`~data.queries.offering_bookings.list_offering_bookings_page`). "Manage booking…",
Return or a double click manages the current booking.

Signals:
    book_requested(): "Book on behalf…" was pressed.
    manage_requested(object): manage the booking with this id.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from operator import attrgetter

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from data.models.offerings import BOOKING_PAYMENT_METHODS, BOOKING_STATUSES
from data.queries.offering_bookings import BookingFilter, list_offering_bookings_page
from data.queries.offerings import OfferingDetail
from desktop.admin.inline import InlineList, InlineSpec
from desktop.database import Database
from desktop.formatting import format_value
from widgets.filter_bar import Choice, FilterBar, Search
from widgets.lazy_table import Column

__all__ = ["BOOKING_COLUMNS", "OfferingBookingsTab"]

PAYMENT_LABELS = {"purchase": "Card", "subscription": "Subscription", "credits": "Credits"}
BOOKING_COLUMNS = (
    Column("Customer", value=attrgetter("customer"), max_width=260),
    Column("Payment", value=attrgetter("payment_method")),
    Column("Paid", value=attrgetter("paid")),
    Column("Status", value=lambda b: b.status.replace("_", "-")),
    Column("Sessions", value=attrgetter("sessions"), max_width=200),
    Column("Booked", value=attrgetter("created_at"), display=format_value),
    Column("Portal until", value=lambda b: format_value(b.portal_expires_at)
           if b.has_portal else "none"),
)
FILTERS = (Search("Customer name or email…", name="customer"),
           Choice("status", [(s, s.replace("_", "-")) for s in BOOKING_STATUSES],
                  any_label="All bookings"),
           Choice("payment", [(m, PAYMENT_LABELS[m]) for m in BOOKING_PAYMENT_METHODS],
                  any_label="Any payment"))
SPEC = InlineSpec("Bookings", BOOKING_COLUMNS, list_offering_bookings_page, (BookingFilter(),),
                  empty="No bookings match.", watch="offerings")
"""A booking change announces its offering (``booking_count``): the list reloads."""


def note_of(d: OfferingDetail) -> str:
    r = d.record
    seats = f"of {r.max_participants:,}" if r.max_participants else "(unlimited)"
    return (f"<b>{d.confirmed:,} confirmed</b> {seats} · {r.booking_count:,} holding a place "
            "(booking count).")


class OfferingBookingsTab(QWidget):
    """The bookings of the offering shown (:meth:`show_detail`)."""

    book_requested = Signal()
    manage_requested = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.filters = FilterBar(FILTERS)
        self.book_button = QPushButton("&Book on behalf…")
        self.manage_button = QPushButton("&Manage booking…")
        self.manage_button.setEnabled(False)
        self.list = InlineList(SPEC, database)
        self.view, self.model = self.list.view, self.list.model
        top = QHBoxLayout()
        top.addWidget(self.note, 1)
        top.addWidget(self.book_button)
        bottom = QHBoxLayout()
        bottom.addStretch()
        bottom.addWidget(self.manage_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.filters)
        layout.addWidget(self.list, 1)
        layout.addLayout(bottom)
        # Booking is support's; anyone may open a booking to look (its dialog guards the rest).
        database.rights.guard(self.book_button, "bookings")
        self.filters.changed.connect(self._on_filters_changed)
        self.book_button.clicked.connect(self.book_requested)
        self.manage_button.clicked.connect(self._on_manage_button_clicked)
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        self.view.activated.connect(lambda _index: self._on_manage_button_clicked())

    @property
    def booking_filter(self) -> BookingFilter:
        v = self.filters.values()
        return BookingFilter(status=v["status"], payment_method=v["payment"],
                             customer=v["customer"])

    def show_detail(self, detail: OfferingDetail | None, same_record: bool = False) -> None:
        """Show ``detail``'s offering's bookings (None: none); the same offering reloaded keeps
        the rows already scrolled to (the list refreshes itself on changes)."""
        self.note.setText(note_of(detail) if detail is not None else "")
        owner = detail.record.id if detail is not None else None
        if same_record and owner == self.list.owner:
            return
        self.list.show_for(owner)

    def current_booking(self) -> uuid.UUID | None:
        row = self.view.current_row()
        return None if row is None else row.id

    def _on_filters_changed(self) -> None:
        self.list.spec = replace(SPEC, args=(self.booking_filter,))
        self.list.show_for(self.list.owner)

    def _on_view_current_row_changed(self, row) -> None:
        self.manage_button.setEnabled(row is not None)

    def _on_manage_button_clicked(self) -> None:
        booking = self.current_booking()
        if booking is not None:
            self.manage_requested.emit(booking)

