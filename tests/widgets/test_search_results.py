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


def _live(qtbot, **options):
    from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout

    from widgets.search_box import SearchBox
    from widgets.search_results import LiveSearch

    dialog = QDialog()
    qtbot.addWidget(dialog)
    box = SearchBox("Search…", delay_ms=10_000)  # only Return (or search()) searches
    results = SearchResults(limit=3, none_text="Nobody.", limit_text="First 3: type more.",
                            count_text=lambda n: f"{n} found.")  # the dialog owns it
    ok = QPushButton("OK")
    ok.setDefault(True)
    ok.clicked.connect(dialog.accept)
    layout = QVBoxLayout(dialog)
    for w in (box, results, results.note, ok):
        layout.addWidget(w)
    asked: list = []  # (text, found, failed): the answers are given by the test, late or not
    live = LiveSearch(box, results, lambda text, found, failed: asked.append(
        (text, found, failed)), label=str.upper,
        describe_failure=lambda exc: f"Could not search: {exc}", **options)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog, box, results, live, asked


def test_live_search_shows_only_the_latest_answer_and_a_failure_in_words(qtbot):
    _dialog, _box, results, live, asked = _live(qtbot)
    shown = []
    live.shown.connect(lambda: shown.append(results.note.text()))
    live.search("an")
    live.search("ann")
    asked[1][1](["anna"])
    asked[0][1](["ana", "andy"])  # the older search answers late: dropped
    assert [results.item(i).text() for i in range(results.count())] == ["ANNA"]
    assert shown == ["1 found."]
    live.search("zz")
    asked[2][2](RuntimeError("the connection was lost"))
    assert results.count() == 0
    assert results.note.text() == "Could not search: the connection was lost"


def test_return_in_the_box_searches_and_never_presses_the_dialog_button(qtbot):
    from PySide6.QtCore import Qt

    dialog, box, results, _live_search, asked = _live(qtbot, return_enters_results=True)
    box.setFocus()
    qtbot.keyClicks(box, "ann")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert dialog.isVisible() and [a[0] for a in asked] == ["ann"]
    asked[0][1](["anna", "annie"])
    qtbot.keyClick(box, Qt.Key.Key_Return)  # answers are in: Return enters them
    assert dialog.isVisible() and dialog.focusWidget() is results
    assert results.current_value() == "anna"


def test_an_empty_box_shows_the_hint_instead_of_searching(qtbot):
    _dialog, _box, results, live, asked = _live(qtbot, empty_hint="Type a name.")
    live.search("ann")
    live.search("  ")
    asked[0][1](["anna"])  # too late: the box was emptied
    assert len(asked) == 1 and results.count() == 0 and results.note.text() == "Type a name."
