"""The generic parts the catalog page is declared with: actions on the selection and held
actions, filters on two rows, id choices, form rows with their errors, rich text, figures."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from widgets import actions as actions_module
from widgets.actions import Action, ActionBar, Confirmation, always
from widgets.filter_bar import Break, Choice, FilterBar, Search
from widgets.form_rows import FormRows
from widgets.id_choice import IdChoice
from widgets.labelled_values import LabelledValues
from widgets.rich_text_editor import RichTextEditor


def test_an_action_on_the_selection_gets_every_selected_row_and_waits_for_one(qtbot):
    ran = []
    selection: list = []
    bar = ActionBar([Action("Bulk…", name="bulk", many=True, open=ran.append),
                     Action("Series…", name="series", enabled=always)],
                    current=lambda: None, trigger=lambda a, rows: ran.append(rows),
                    selection=lambda: list(selection))
    qtbot.addWidget(bar)
    assert not bar.buttons["bulk"].isEnabled() and bar.buttons["series"].isEnabled()
    selection[:] = ["a", "b"]
    bar.update_for(None)
    qtbot.mouseClick(bar.buttons["bulk"], Qt.MouseButton.LeftButton)
    assert ran == [["a", "b"]]


def test_held_actions_say_why_and_do_nothing(qtbot):
    ran = []
    bar = ActionBar([Action("Publish", operation=ran.append)], current=lambda: "row",
                    trigger=lambda a, row: ran.append(row))
    qtbot.addWidget(bar)
    bar.set_blocked("Save or revert your changes first.")
    button = bar.buttons["publish"]
    assert not button.isEnabled() and button.toolTip() == "Save or revert your changes first."
    bar.run(bar.action("publish"))
    assert ran == []
    bar.set_blocked("")
    assert button.isEnabled() and button.toolTip() == ""


def test_confirmed_asks_the_question_and_none_asks_nothing(qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda parent, **k: asked.append(k) or False)
    assert actions_module.confirmed(None, None)
    assert not actions_module.confirmed(None, Confirmation("Delete", "Delete it?", "Delete",
                                                           destructive=True))
    assert asked == [{"title": "Delete", "text": "Delete it?", "informative": "",
                      "confirm_label": "Delete", "destructive": True}]


def test_a_break_puts_the_next_filters_on_a_second_row(qtbot):
    bar = FilterBar([Search("Search…"), Choice("sort", [("new", "Newest")]), Break(),
                     Choice("type", [("video", "Video")], any_label="Any type")])
    qtbot.addWidget(bar)
    bar.show()
    assert bar.widget("type").y() > bar.widget("sort").y()
    assert bar.values() == {"search": "", "sort": "new", "type": None}


def test_an_id_choice_finds_uuids_and_shows_an_unknown_one(qtbot):
    known, unknown = uuid.uuid4(), uuid.uuid4()
    combo = IdChoice()
    qtbot.addWidget(combo)
    combo.set_choices([(None, "(none)"), (known, "Known")])
    combo.select(known)
    assert combo.currentText() == "Known" and combo.value() == str(known)
    combo.select(unknown, "Old owner")
    assert combo.currentText() == "Old owner" and combo.value() == str(unknown)
    combo.set_choices([(None, "(none)"), (known, "Known again")])  # the choice is kept
    assert combo.value() == str(unknown)
    combo.select(None)
    assert combo.value() is None and combo.currentText() == "(none)"


def test_form_rows_show_errors_under_their_fields_and_the_rest_on_top(qtbot):
    rows = FormRows()
    qtbot.addWidget(rows)
    title, price = QLineEdit(), QLineEdit()
    rows.add_row("title", "&Title", title)
    rows.add_row("price", "Pric&e", price)
    rows.show()
    rows.set_errors({"price": "Not a number.", None: "Nothing was saved."})
    assert rows.error_text("price") == "Not a number." and rows.error_text("title") == ""
    assert rows.form_error.isVisible() and rows.form_error.text() == "Nothing was saved."
    assert rows.focusWidget() is price  # the first field with an error is focused
    rows.set_row_visible("price", False)
    assert not rows.row_visible("price") and rows.row_visible("title")
    rows.clear_errors()
    assert rows.error_text("price") == "" and not rows.form_error.isVisible()


def test_rich_text_is_stored_without_its_document_wrapper(qtbot):
    editor = RichTextEditor()
    qtbot.addWidget(editor)
    assert editor.html() == ""
    qtbot.keyClicks(editor.body, "Breathe in.")
    assert "Breathe in." in editor.html() and "<body" not in editor.html()
    editor.set_read_only(True)
    assert editor.body.isReadOnly() and not any(b.isEnabled() for b in editor.format_buttons)


def test_labelled_values_show_selectable_figures(qtbot):
    figures = LabelledValues([("views", "Views")], "Counted by the platform.")
    qtbot.addWidget(figures)
    figures.set_value("views", "1,234")
    assert figures.labels["views"].text() == "1,234"
    assert figures.note.text() == "Counted by the platform."
