"""An offering's Bookings tab lists every booking, a keyset page at a time, and filters in
the database: scrolling reaches the oldest of 650, and a filter finds a booking beyond the
first 500 (the tab used to load the newest 500 and filter only those)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from desktop.pages.offerings import OfferingsPage
from tests.data.offering_factories import add_offering

WAIT = 20_000
BULK = 650  # more than six pages of 100, more than the 500 the tab used to show


@pytest.fixture
def crowded(qtbot, empty_database, engine):
    """An offering with ``BULK`` completed subscription bookings, a minute apart; the
    oldest is cancelled and its customer's email is unique. Returns (page, offering, ids
    newest first)."""
    oid = add_offering(engine, max_participants=None, capacity_type="unlimited",
                       booking_count=BULK - 1)
    tag = uuid.uuid4().hex[:8]
    with engine.begin() as c:
        ids = c.execute(text("""
            WITH people AS (
                INSERT INTO users (email, password_hash, full_name, role)
                SELECT CASE WHEN g = :n THEN 'oldest-' ELSE 'bulk-' END || g || '-' || :tag
                       || '@example.com', 'x', 'Bulk ' || g, 'customer'
                FROM generate_series(1, :n) g
                RETURNING id, substring(full_name FROM 6)::int AS g)
            INSERT INTO offering_bookings (customer_id, offering_id, payment_method, status,
                created_at)
            SELECT id, :o, 'subscription', CASE WHEN g = :n THEN 'canceled' ELSE 'completed' END,
                   now()::timestamp - g * interval '1 minute'
            FROM people RETURNING id, created_at
        """), {"n": BULK, "tag": tag, "o": oid}).all()
    newest_first = [r.id for r in sorted(ids, key=lambda r: r.created_at, reverse=True)]
    page = OfferingsPage(empty_database)
    qtbot.addWidget(page)
    page.resize(1600, 950)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    page.detail.show(oid)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == oid,
                    timeout=WAIT)
    page.detail.tabs.setCurrentWidget(page.detail.bookings_tab)
    return page, oid, newest_first


def _loaded(tab) -> list:
    return [tab.model.row_at(i).id for i in range(tab.model.rowCount())]


def test_scrolling_the_bookings_reaches_the_oldest_of_more_than_one_page(qtbot, crowded,
                                                                          qtmodeltester):
    page, _oid, newest_first = crowded
    tab = page.detail.bookings_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and not tab.model.is_loading,
                    timeout=WAIT)
    assert tab.model.rowCount() < BULK  # the first pages only, not everything at once

    def scrolled_to_the_end() -> bool:
        tab.view.scrollToBottom()
        return tab.model.is_exhausted and not tab.model.is_loading

    qtbot.waitUntil(scrolled_to_the_end, timeout=WAIT * 3)
    assert _loaded(tab) == newest_first  # all of them, newest first, none twice
    assert tab.model.row_at(BULK - 1).customer.startswith("Bulk 650 <oldest-")
    qtmodeltester.check(tab.model)


def test_a_filter_finds_a_booking_beyond_the_first_500(qtbot, crowded):
    page, _oid, newest_first = crowded
    tab = page.detail.bookings_tab
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and not tab.model.is_loading,
                    timeout=WAIT)
    status = tab.filters.widget("status")
    status.setCurrentIndex(status.findData("canceled"))
    qtbot.waitUntil(lambda: not tab.model.is_loading and _loaded(tab) == [newest_first[-1]],
                    timeout=WAIT)
    status.setCurrentIndex(0)  # all statuses again; the customer's email finds it too
    qtbot.keyClicks(tab.filters.widget("customer"), "OLDEST-")
    qtbot.waitUntil(lambda: not tab.model.is_loading and _loaded(tab) == [newest_first[-1]],
                    timeout=WAIT)
    payment = tab.filters.widget("payment")
    payment.setCurrentIndex(payment.findData("credits"))  # not how it was paid
    qtbot.waitUntil(lambda: not tab.model.is_loading and _loaded(tab) == [], timeout=WAIT)
    assert tab.view.placeholder_text() == "No bookings match."
