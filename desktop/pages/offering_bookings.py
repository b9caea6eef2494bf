"""Bookings tabs: an offering's bookings, and a customer's (the Users detail), each every
booking a keyset page at a time, filtered in the database.

Both are one :class:`BookingsTab` over :mod:`data.queries.offering_bookings`, told whose
bookings it lists (:data:`OF_OFFERING`, :data:`OF_CUSTOMER`: the columns, the filters and
the query); each has the filters (the other side's name, status, payment method; each
change asks the database again, so a filter finds a booking however old) and the lazy list
(:class:`~desktop.admin.inline.InlineList`). "Manage booking…", Return or a double click
manages the current booking (cancel, mark completed or no-show, extend or revoke its portal
access). The offering's tab adds a note (confirmed of max, holding a place) and
"Book on behalf…"; the customer's adds "Refund…".

Signals (:class:`BookingsTab`):
    manage_requested(object): manage the booking with this id.
    refund_requested(object): refund the booking with this id (the customer's tab).
    book_requested(): "Book on behalf…" was pressed (the offering's tab).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from data.models.offerings import BOOKING_PAYMENT_METHODS, BOOKING_STATUSES
from data.queries.offering_bookings import (
    BookingFilter,
    list_customer_bookings_page,
    list_offering_bookings_page,
)
from data.queries.offerings import OfferingDetail
from desktop.admin.inline import InlineList, InlineSpec
from desktop.database import Database
from desktop.formatting import format_value
from widgets.filter_bar import Choice, FilterBar, FilterSpec, Search
from widgets.lazy_table import Column, LazyTableView

__all__ = ["BOOKING_COLUMNS", "CUSTOMER_BOOKING_COLUMNS", "OF_CUSTOMER", "OF_OFFERING",
           "BookingsOf", "BookingsTab", "CustomerBookingsTab", "OfferingBookingsTab"]

PAYMENT_LABELS = {"purchase": "Card", "subscription": "Subscription", "credits": "Credits"}
_PAID = Column("Paid", value=attrgetter("paid"))
_STATUS = Column("Status", value=lambda b: b.status.replace("_", "-"))
_SESSIONS = Column("Sessions", value=attrgetter("sessions"), max_width=200)
_BOOKED = Column("Booked", value=attrgetter("created_at"), display=format_value)
_PORTAL = Column("Portal until", value=lambda b: (format_value(b.portal_expires_at)
                                                  or "no end") if b.has_portal else "none")
BOOKING_COLUMNS = (
    Column("Customer", value=attrgetter("customer"), max_width=260),
    Column("Payment", value=attrgetter("payment_method")),
    _PAID, _STATUS, _SESSIONS, _BOOKED, _PORTAL,
)

def _returned(b) -> str:
    """What went back to the customer through the app's refunds (blank: nothing)."""
    parts = [f"{b.refunded} USD"] if b.refunded else []
    if b.credits_returned:
        parts.append(f"{b.credits_returned:,} credits")
    return " + ".join(parts)


CUSTOMER_BOOKING_COLUMNS = (
    Column("Offering", value=attrgetter("offering_title"), max_width=240),
    Column("Payment", value=attrgetter("payment_method")),
    _PAID, _STATUS, _SESSIONS, _BOOKED, _PORTAL,
    Column("Refunded", value=_returned),
)
_STATUS_FILTER = Choice("status", [(s, s.replace("_", "-")) for s in BOOKING_STATUSES],
                        any_label="All bookings")
_PAYMENT_FILTER = Choice("payment", [(m, PAYMENT_LABELS[m]) for m in BOOKING_PAYMENT_METHODS],
                         any_label="Any payment")


@dataclass(frozen=True)
class BookingsOf:
    """Whose bookings a :class:`BookingsTab` lists: ``spec`` (columns, query, what reloads
    it), the ``filters`` and how their values make the query's :class:`BookingFilter`."""

    spec: InlineSpec
    filters: Sequence[FilterSpec]
    make_filter: Callable[[dict[str, Any]], BookingFilter]


OF_OFFERING = BookingsOf(
    # A booking change announces its offering (``booking_count``), a refund the booking.
    InlineSpec("Bookings", BOOKING_COLUMNS, list_offering_bookings_page, (BookingFilter(),),
               empty="No bookings match.", watch="offerings", watch_rows="offering_bookings"),
    (Search("Customer name or email…", name="customer"), _STATUS_FILTER, _PAYMENT_FILTER),
    lambda v: BookingFilter(status=v["status"], payment_method=v["payment"],
                            customer=v["customer"]))
OF_CUSTOMER = BookingsOf(
    # A booking change announces its customer (``users``), a refund the booking.
    InlineSpec("Bookings", CUSTOMER_BOOKING_COLUMNS, list_customer_bookings_page,
               (BookingFilter(),), empty="No bookings match.", watch="users",
               watch_rows="offering_bookings"),
    (Search("Offering title…", name="offering"), _STATUS_FILTER, _PAYMENT_FILTER),
    lambda v: BookingFilter(status=v["status"], payment_method=v["payment"],
                            offering=v["offering"]))
SPEC = OF_OFFERING.spec


def note_of(d: OfferingDetail) -> str:
    r = d.record
    seats = f"of {r.max_participants:,}" if r.max_participants else "(unlimited)"
    return (f"<b>{d.confirmed:,} confirmed</b> {seats} · {r.booking_count:,} holding a place "
            "(booking count).")


class BookingsTab(QWidget):
    """The bookings of one owner (:meth:`show_for`): an offering's or a customer's.

    Signals:
        manage_requested(object): the booking id to open in the Manage booking dialog.
    """

    manage_requested = Signal(object)

    def __init__(self, of: BookingsOf, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.of = of
        self.filters = FilterBar(of.filters)
        self.manage_button = QPushButton("&Manage booking…")
        self.manage_button.setEnabled(False)
        self.list = InlineList(of.spec, database)
        self.model = self.list.model
        # The table is built when the tab is first shown (or its view asked for), as the
        # detail's other lists are: building it with the page stalled the GUI thread.
        self.list.view_built.connect(self._on_list_view_built)
        self.top = QHBoxLayout()
        self.bottom = QHBoxLayout()
        self.bottom.addStretch()
        self.bottom.addWidget(self.manage_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.top)
        layout.addWidget(self.filters)
        layout.addWidget(self.list, 1)
        layout.addLayout(self.bottom)
        self.filters.changed.connect(self._on_filters_changed)
        self.manage_button.clicked.connect(self._on_manage_button_clicked)

    @property
    def view(self) -> LazyTableView:
        """The bookings' table (built now if it was not)."""
        return self.list.view

    def _on_list_view_built(self, view: LazyTableView) -> None:
        view.current_row_changed.connect(self._on_view_current_row_changed)
        view.activated.connect(lambda _index: self._on_manage_button_clicked())

    @property
    def booking_filter(self) -> BookingFilter:
        return self.of.make_filter(self.filters.values())

    def show_for(self, owner: uuid.UUID | None, same_record: bool = False) -> None:
        """Show ``owner``'s bookings (None: none); the same owner reloaded keeps the rows
        already scrolled to (the list refreshes itself on changes)."""
        if same_record and owner == self.list.owner:
            return
        self.list.show_for(owner)

    def current_booking(self) -> uuid.UUID | None:
        view = self.list.view_if_built
        row = view.current_row() if view is not None else None
        return None if row is None else row.id

    def _on_filters_changed(self) -> None:
        self.list.spec = replace(self.of.spec, args=(self.booking_filter,))
        self.list.show_for(self.list.owner)

    def _on_view_current_row_changed(self, row) -> None:
        self.manage_button.setEnabled(row is not None)

    def _on_manage_button_clicked(self) -> None:
        booking = self.current_booking()
        if booking is not None:
            self.manage_requested.emit(booking)


class OfferingBookingsTab(BookingsTab):
    """The bookings of the offering shown (:meth:`show_detail`), with "Book on behalf…".

    Signals:
        book_requested(): "Book on behalf…" was clicked.
    """

    book_requested = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(OF_OFFERING, database, parent)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.book_button = QPushButton("&Book on behalf…")
        self.top.addWidget(self.note, 1)
        self.top.addWidget(self.book_button)
        self.book_button.clicked.connect(self.book_requested)
        # Booking is support's; anyone may open a booking to look (its dialog guards the rest).
        database.rights.guard(self.book_button, "bookings")

    def show_detail(self, detail: OfferingDetail | None, same_record: bool = False) -> None:
        """Show ``detail``'s offering's bookings (None: none)."""
        self.note.setText(note_of(detail) if detail is not None else "")
        self.show_for(detail.record.id if detail is not None else None, same_record)


class CustomerBookingsTab(BookingsTab):
    """The bookings of the customer shown (:meth:`show_for`), with "Refund…".

    Signals:
        refund_requested(object): the booking id to refund.
    """

    refund_requested = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(OF_CUSTOMER, database, parent)
        self.refund_button = QPushButton("Re&fund booking…")
        self.refund_button.setEnabled(False)
        self.bottom.insertWidget(1, self.refund_button)
        self.refund_button.clicked.connect(self._on_refund_button_clicked)
        database.rights.guard(self.refund_button, "refund")

    def _on_view_current_row_changed(self, row) -> None:
        super()._on_view_current_row_changed(row)
        self.refund_button.setEnabled(row is not None)

    def _on_refund_button_clicked(self) -> None:
        booking = self.current_booking()
        if booking is not None:  # the button is held disabled while refunds are refused
            self.refund_requested.emit(booking)
