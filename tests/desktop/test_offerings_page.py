"""The Offerings page driven as a person would: list, filters, the editor with a schedule
form per type, publish refused with the reason, booking on behalf and managing bookings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.pages.offerings import OfferingsPage

WAIT = 15_000


@pytest.fixture
def page(qtbot, demo_database):
    p = OfferingsPage(demo_database)
    qtbot.addWidget(p)
    p.resize(1600, 950)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def _click_row(qtbot, page, index: int):
    model_index = page.model.index(index, 0)
    page.view.scrollTo(model_index)
    rect = page.view.visualRect(model_index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _wait_detail(qtbot, page, offering_id=None):
    qtbot.waitUntil(lambda: page.detail.record is not None and (
        offering_id is None or page.detail.record.id == offering_id), timeout=WAIT)


def test_the_list_shows_next_session_seats_and_the_editor(qtbot, page):
    _click_row(qtbot, page, 0)
    _wait_detail(qtbot, page)
    page.grab().save("/tmp/i13/offerings-page.png")
    row = page.model.row_at(0)
    assert "/" in row.seats
    assert page.detail.record.id == row.id
