"""The debounced search box: one search per pause in typing, at once on Return."""

from __future__ import annotations

from PySide6.QtCore import Qt

from widgets.search_box import SearchBox


def test_typing_fast_asks_for_one_search(qtbot):
    box = SearchBox("Search", delay_ms=100)
    qtbot.addWidget(box)
    asked = []
    box.search_requested.connect(asked.append)
    qtbot.keyClicks(box, "maria")
    assert asked == []  # nothing while typing
    qtbot.waitUntil(lambda: asked == ["maria"], timeout=2_000)
    qtbot.wait(250)
    assert asked == ["maria"]


def test_return_searches_at_once_and_cancel_forgets(qtbot):
    box = SearchBox("Search", delay_ms=5_000)
    qtbot.addWidget(box)
    asked = []
    box.search_requested.connect(asked.append)
    qtbot.keyClicks(box, "chen")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert asked == ["chen"]
    qtbot.keyClicks(box, "g")
    box.cancel_pending()
    qtbot.wait(100)
    assert asked == ["chen"]
