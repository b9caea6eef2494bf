"""SearchResults: the latest search's answers, each row with its value, and a note."""

from __future__ import annotations

from widgets.search_results import SearchResults


def _results(qtbot) -> SearchResults:
    r = SearchResults(limit=3, none_text="Nobody.", limit_text="First 3: type more.",
                      count_text=lambda n: f"{n} found.", hint="Type a name.")
    qtbot.addWidget(r)
    return r


def test_only_the_latest_search_is_shown_with_a_note(qtbot):
    r = _results(qtbot)
    assert r.note.text() == "Type a name."
    r.searching("an")
    r.searching("ann")
    assert r.note.text() == "Searching…"
    assert not r.show_results("an", ["Ana", "Andy"], str.upper)  # answered too late
    assert r.count() == 0
    assert r.show_results("ann", ["Anna"], str.upper, tooltip=lambda v: f"id {v}")
    assert (r.item(0).text(), r.item(0).toolTip(), r.value(0)) == ("ANNA", "id Anna", "Anna")
    assert r.note.text() == "1 found."
    r.searching("a")
    r.show_results("a", ["A", "B", "C"], str)
    assert r.note.text() == "First 3: type more."
    r.searching("zz")
    r.show_results("zz", [], str)
    assert r.note.text() == "Nobody." and r.count() == 0


def test_a_hint_clears_the_list_and_drops_late_answers(qtbot):
    r = _results(qtbot)
    r.searching("ann")
    r.show_hint("Type a name.")
    assert not r.show_results("ann", ["Anna"], str)
    assert r.count() == 0 and r.note.text() == "Type a name."


def test_selected_and_current_values(qtbot):
    from PySide6.QtWidgets import QAbstractItemView

    r = _results(qtbot)
    r.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    assert r.current_value() is None
    r.searching("")
    r.show_results("", ["a", "b", "c"], str)
    r.item(2).setSelected(True)  # picked last, listed last
    r.item(0).setSelected(True)
    assert r.selected_values() == ["a", "c"]
    r.setCurrentRow(1)
    assert r.current_value() == "b"
