"""The Offerings list shows a 1:1 offering's next booked session (platform's time zone), "—"
when none is booked ahead, and its header says where 1:1 offerings come in the order."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt

from desktop.pages.offerings import OfferingsPage
from tests.data.test_offering_next_session import ZONE, one_on_one, set_platform_zone

WAIT = 15_000


def test_the_list_shows_a_1_1_offerings_next_booked_session(qtbot, empty_database, engine):
    set_platform_zone(engine, ZONE)
    _coach, today = one_on_one(engine, "Coaching", [(4, "16:45", "confirmed"),
                                                   (1, "09:00", "canceled")])
    one_on_one(engine, "Idle Coaching", [(-2, "10:00", "confirmed")])
    page = OfferingsPage(empty_database)
    qtbot.addWidget(page)
    page.resize(1600, 950)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and not page.model.is_loading,
                    timeout=WAIT)
    titles = [page.model.headerData(c, Qt.Orientation.Horizontal)
              for c in range(page.model.columnCount())]
    column = titles.index("Next session")
    shown = {page.model.data(page.model.index(r, 0)):
             page.model.data(page.model.index(r, column)) for r in range(2)}
    day = today + dt.timedelta(days=4)
    assert shown == {"Coaching": f"{day.isoformat()} 16:45", "Idle Coaching": "—"}
    tip = page.model.headerData(column, Qt.Orientation.Horizontal,
                                Qt.ItemDataRole.ToolTipRole)
    assert "1:1 offering, the next session booked on it" in tip
    assert "weekly classes and 1:1 offerings follow them" in tip
    page.grab().save("/tmp/h13-agenda2-offerings-1on1.png")
