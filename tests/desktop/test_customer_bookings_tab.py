"""The Users detail's Bookings tab: every booking of the customer, a keyset page at a time,
filtered in the database, with the offering's Bookings tab's actions (cancel, mark
completed or no-show, portal access) through the Manage booking dialog."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import text

from desktop.pages.manage_booking_dialog import ManageBookingDialog
from desktop.pages.users import UserDetailPane
from tests.data.offering_factories import add_customer

WAIT = 20_000
BULK = 150  # more than one page of 100


@pytest.fixture
def busy_customer(qtbot, empty_database, engine):
    """A customer with ``BULK`` confirmed subscription bookings of as many offerings, an
    hour apart (each with portal access); the oldest offering's title is unique. Returns
    (pane, customer, booking ids newest first)."""
    customer = add_customer(engine)
    tag = uuid.uuid4().hex[:8]
    with engine.begin() as c:
        ids = c.execute(text("""
            WITH creator AS (
                INSERT INTO users (email, password_hash, full_name, role)
                VALUES ('creator-' || :tag || '@example.com', 'x', 'Creator',
                        'platform_creator') RETURNING id),
            made AS (
                INSERT INTO offerings (creator_id, title, slug, offering_type, capacity_type,
                    max_participants, delivery_method, schedule, status, booking_count)
                SELECT creator.id, CASE WHEN g = :n THEN 'Oldest retreat ' || :tag
                                        ELSE 'Class ' || g END,
                       'o-' || :tag || '-' || g, 'one_time_event', 'small_group', 10,
                       'online', '{"date": "2030-03-15", "start_time": "19:00",
                       "duration_minutes": 60}'::jsonb, 'published', 1
                FROM creator, generate_series(1, :n) g
                RETURNING id, substring(slug FROM '[0-9]+$')::int AS g),
            booked AS (
                INSERT INTO offering_bookings (customer_id, offering_id, payment_method,
                    status, booking_details, created_at)
                SELECT :c, id, 'subscription', 'confirmed',
                       '{"booked_sessions": [{"date": "2030-03-15", "time": "19:00"}]}',
                       now()::timestamp - g * interval '1 hour'
                FROM made RETURNING id, customer_id, offering_id, created_at),
            access AS (
                INSERT INTO offering_portal_access (booking_id, user_id, offering_id)
                SELECT id, customer_id, offering_id FROM booked)
            SELECT id, created_at FROM booked
        """), {"n": BULK, "tag": tag, "c": customer}).all()
    newest_first = [r.id for r in sorted(ids, key=lambda r: r.created_at, reverse=True)]
    pane = UserDetailPane(empty_database)
    qtbot.addWidget(pane)
    pane.resize(1100, 800)
    QWidget.show(pane)  # RecordDetail.show(key) shows a record
    pane.show(customer)
    qtbot.waitUntil(lambda: pane.record is not None, timeout=WAIT)
    pane.tabs.setCurrentWidget(pane.bookings_tab)
    tab = pane.bookings_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and not tab.model.is_loading,
                    timeout=WAIT)
    return pane, customer, newest_first


def _loaded(tab) -> list:
    return [tab.model.row_at(i).id for i in range(tab.model.rowCount())]


def _headers(tab) -> list[str]:
    return [tab.model.headerData(i, Qt.Orientation.Horizontal)
            for i in range(tab.model.columnCount())]


def test_the_customers_bookings_scroll_to_the_oldest_with_the_offerings_columns(
        qtbot, busy_customer, qtmodeltester):
    pane, _customer, newest_first = busy_customer
    tab = pane.bookings_tab
    assert tab.model.rowCount() < BULK  # a page, not everything at once
    assert _headers(tab)[:6] == ["Offering", "Payment", "Paid", "Status", "Sessions",
                                 "Booked"]
    first = [tab.model.index(0, c).data() for c in range(6)]
    assert first[0] == "Class 1" and first[1:5] == ["subscription", "subscription",
                                                    "confirmed", "2030-03-15 19:00"]
    assert first[5]  # when it was booked

    def scrolled_to_the_end() -> bool:
        tab.view.scrollToBottom()
        return tab.model.is_exhausted and not tab.model.is_loading

    qtbot.waitUntil(scrolled_to_the_end, timeout=WAIT * 3)
    assert _loaded(tab) == newest_first  # all of them, newest first, none twice
    assert tab.model.row_at(BULK - 1).offering_title.startswith("Oldest retreat ")
    qtmodeltester.check(tab.model)


def test_filters_find_the_oldest_booking_by_offering_title_and_status(qtbot, busy_customer):
    pane, _customer, newest_first = busy_customer
    tab = pane.bookings_tab
    qtbot.keyClicks(tab.filters.widget("offering"), "oldest RETREAT")
    qtbot.waitUntil(lambda: not tab.model.is_loading and _loaded(tab) == [newest_first[-1]],
                    timeout=WAIT)
    status = tab.filters.widget("status")
    status.setCurrentIndex(status.findData("no_show"))
    qtbot.waitUntil(lambda: not tab.model.is_loading and _loaded(tab) == [], timeout=WAIT)
    assert tab.view.placeholder_text() == "No bookings match."


def _manage(qtbot, pane, row: int) -> ManageBookingDialog:
    tab = pane.bookings_tab
    tab.view.setFocus()
    tab.view.selectRow(row)
    qtbot.keyClick(tab.view, Qt.Key.Key_Return)  # as on the offering's tab
    dialog = next(d for d in pane.findChildren(ManageBookingDialog) if d.isVisible())
    assert dialog.booking_id == tab.model.row_at(row).id
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=WAIT)
    return dialog


def _press(box, label: str) -> None:
    next(b for b in box.buttons() if b.text() == label).click()


def _row_of(tab, booking):
    i = tab.model.row_index(booking)
    return None if i is None else tab.model.row_at(i)


def _status_of(tab, booking) -> str | None:
    row = _row_of(tab, booking)
    return None if row is None else row.status


def test_complete_no_show_revoke_and_cancel_from_the_customers_tab(qtbot, busy_customer,
                                                                   engine):
    pane, _customer, newest_first = busy_customer
    tab = pane.bookings_tab
    first, second, third = newest_first[:3]

    dialog = _manage(qtbot, pane, 0)
    qtbot.mouseClick(dialog.completed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _status_of(tab, first) == "completed", timeout=WAIT)
    dialog.close()

    dialog = _manage(qtbot, pane, 1)
    qtbot.mouseClick(dialog.no_show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _status_of(tab, second) == "no_show", timeout=WAIT)
    assert tab.model.index(1, 3).data() == "no-show"
    dialog.close()

    dialog = _manage(qtbot, pane, 2)
    assert tab.model.row_at(2).has_portal
    qtbot.keyClicks(dialog.reason, "Asked to leave the group")
    qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
    _press(dialog.confirmation, "Revoke access")
    qtbot.waitUntil(lambda: _row_of(tab, third) is not None
                    and not _row_of(tab, third).has_portal, timeout=WAIT)
    assert tab.model.index(tab.model.row_index(third), 6).data() == "none"
    qtbot.waitUntil(lambda: dialog.booking is not None and not dialog.booking.has_portal,
                    timeout=WAIT)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    _press(dialog.confirmation, "Cancel booking")
    qtbot.waitUntil(lambda: _status_of(tab, third) == "canceled", timeout=WAIT)
    dialog.close()
    with engine.connect() as c:
        statuses = dict(c.execute(text(
            "SELECT id, status FROM offering_bookings WHERE id IN (:a, :b, :c)"),
            {"a": first, "b": second, "c": third}).all())
    assert statuses == {first: "completed", second: "no_show", third: "canceled"}
