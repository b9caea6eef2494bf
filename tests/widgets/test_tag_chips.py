"""Tag chips: typing adds, × and Backspace remove, duplicates are ignored."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from widgets.tag_chips import TagChips


def _chips(qtbot, tags=()):
    w = TagChips()
    qtbot.addWidget(w)
    w.set_tags(tags)
    w.resize(300, 80)
    w.show()
    return w


def test_enter_and_comma_add_tags(qtbot):
    w = _chips(qtbot)
    with qtbot.waitSignal(w.tags_changed) as sig:
        qtbot.keyClicks(w.entry, "  deep   focus ")
        qtbot.keyClick(w.entry, Qt.Key.Key_Return)
    assert sig.args == [["deep focus"]] and w.entry.text() == ""
    qtbot.keyClicks(w.entry, "yoga, calm,")
    assert w.tags() == ["deep focus", "yoga", "calm"] and w.entry.text() == ""


def test_duplicates_ignoring_case_are_not_added(qtbot):
    w = _chips(qtbot, ["Yoga"])
    changes = []
    w.tags_changed.connect(changes.append)
    qtbot.keyClicks(w.entry, "yOGA")
    qtbot.keyClick(w.entry, Qt.Key.Key_Return)
    assert w.tags() == ["Yoga"] and changes == []
    assert w.entry.text() == "yOGA"  # left for the user to see and fix


def test_remove_by_button_and_backspace(qtbot):
    w = _chips(qtbot, ["a", "b", "c"])
    button = w.chip("b").findChild(QToolButton)
    assert button.accessibleName() == "Remove tag b"
    with qtbot.waitSignal(w.tags_changed) as sig:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert sig.args == [["a", "c"]]
    w.entry.setFocus()
    qtbot.keyClick(w.entry, Qt.Key.Key_Backspace)
    assert w.tags() == ["a"]


def test_set_tags_replaces_without_signal(qtbot):
    w = _chips(qtbot, ["old"])
    changes = []
    w.tags_changed.connect(changes.append)
    w.set_tags(["new", "NEW", " ", "two"])
    assert w.tags() == ["new", "two"] and changes == [] and w.chip("old") is None


def test_chips_wrap_to_more_lines_when_narrow(qtbot):
    w = _chips(qtbot, [f"tag number {i}" for i in range(8)])
    assert w.heightForWidth(200) > w.heightForWidth(2000)


def test_read_only_hides_entry_and_remove_buttons(qtbot):
    w = _chips(qtbot, ["x"])
    w.set_read_only(True)
    assert not w.entry.isVisible() and not w.chip("x").findChild(QToolButton).isVisible()
