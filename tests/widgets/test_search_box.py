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


def test_down_moves_into_the_list_and_selects_its_first_row(qtbot):
    from PySide6.QtWidgets import QListWidget, QVBoxLayout, QWidget

    window = QWidget()
    qtbot.addWidget(window)
    box = SearchBox("Search")
    results = QListWidget()
    layout = QVBoxLayout(window)
    layout.addWidget(box)
    layout.addWidget(results)
    box.move_down_into(results)
    window.show()
    qtbot.keyClick(box, Qt.Key.Key_Down)  # nothing to move into yet
    assert results.currentRow() == -1
    results.addItems(["anna@example.com", "ben@example.com"])
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert results.currentRow() == 0
    results.setCurrentRow(1)
    qtbot.keyClick(box, Qt.Key.Key_Down)  # a row already chosen stays chosen
    assert results.currentRow() == 1
