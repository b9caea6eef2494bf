"""RecordForm's typed kinds, as a person uses them: money, integer, date and time, chips, a
related record, a JSON sub-form, rich text, and sections shown by a condition."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QToolButton

from widgets.record_form import FieldSpec, RecordForm, Section

BERLIN = ZoneInfo("Europe/Berlin")


def _form(qtbot, fields, values=None, **kwargs) -> RecordForm:
    form = RecordForm(fields, **kwargs)
    qtbot.addWidget(form)
    form.set_values(values or {})
    form.resize(520, 400)
    form.show()
    qtbot.waitExposed(form)
    return form


def _retype(qtbot, line_edit: QLineEdit, text: str) -> None:
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(line_edit, text)


# -- money ----------------------------------------------------------------------------------

PRICE = FieldSpec("price", "Price", "money", maximum=Decimal("99999999.99"), currency="eur")


def test_money_round_trips_a_decimal_and_shows_its_currency(qtbot):
    form = _form(qtbot, [PRICE], {"price": Decimal("9.9")})
    editor = form.field_widget("price")
    assert editor.text() == "9.90"
    assert editor.suffix_label.text() == "EUR"
    assert form.values() == {"price": Decimal("9.90")}
    assert not form.is_dirty

    _retype(qtbot, editor.line_edit, "12.5")
    assert form.values() == {"price": Decimal("12.50")}
    assert form.changed_values() == {"price": Decimal("12.50")}
    assert form.error_text("price") == ""


@pytest.mark.parametrize(("typed", "value", "message"), [
    ("-5", "-5", "An amount cannot be negative (this is -5.00 EUR)."),
    ("abc", "abc", "“abc” is not an amount"),
    ("100000000", "100000000",
     "At most 99,999,999.99 EUR (this is 100,000,000.00 EUR)."),
    ("9.999", "9.999", "At most 2 decimal places (cents)"),
    ("1,50", "1,50", "no thousands separator"),
])
def test_money_that_cannot_be_read_stays_as_typed_with_a_message(qtbot, typed, value, message):
    form = _form(qtbot, [PRICE], {"price": Decimal("9.90")})
    editor = form.field_widget("price")
    _retype(qtbot, editor.line_edit, typed)

    assert editor.text() == typed                 # never clamped, never sign-flipped
    assert form.values() == {"price": value}      # the text, for the service to name
    assert message in form.error_text("price")
    assert form.problems() == {"price": form.error_text("price")}
    assert form.is_dirty


def test_money_with_an_exponent_says_how_it_was_read(qtbot):
    form = _form(qtbot, [PRICE])
    editor = form.field_widget("price")
    qtbot.keyClicks(editor.line_edit, "1e3")

    assert editor.text() == "1e3"
    assert form.values() == {"price": Decimal("1000.00")}
    assert form.note_text("price") == "Read as 1,000.00 EUR."
    assert form.error_text("price") == "" and form.problems() == {}


def test_a_service_error_replaces_the_form_message_until_the_field_is_edited(qtbot):
    form = _form(qtbot, [PRICE])
    editor = form.field_widget("price")
    qtbot.keyClicks(editor.line_edit, "-5")
    form.set_errors({"price": "The price cannot be negative (below zero)."})
    assert form.error_text("price") == "The price cannot be negative (below zero)."
    qtbot.keyClick(editor.line_edit, Qt.Key.Key_Backspace)  # "-"
    assert "is not an amount" in form.error_text("price")
    qtbot.keyClick(editor.line_edit, Qt.Key.Key_Backspace)  # ""
    assert form.error_text("price") == "" and form.values() == {"price": None}


# -- integer --------------------------------------------------------------------------------

CREDITS = FieldSpec("monthly_credits", "Monthly credits", "integer", minimum=0, maximum=32767)


@pytest.mark.parametrize(("typed", "message"), [
    ("40000", "At most 32,767 (this is 40,000)."),
    ("-3", "At least 0 (this is -3)."),
    ("12.5", "“12.5” is not a whole number"),
    ("9" * 50, "At most 32,767"),
])
def test_integer_out_of_bounds_names_value_and_limit_and_keeps_the_text(qtbot, typed, message):
    form = _form(qtbot, [CREDITS], {"monthly_credits": 10})
    editor = form.field_widget("monthly_credits")
    assert editor.text() == "10" and form.values() == {"monthly_credits": 10}

    _retype(qtbot, editor.line_edit, typed)
    assert editor.text() == typed
    assert message in form.error_text("monthly_credits")
    assert form.values() == {"monthly_credits": typed}


def test_integer_within_bounds_is_an_int(qtbot):
    form = _form(qtbot, [CREDITS], {"monthly_credits": 10})
    _retype(qtbot, form.field_widget("monthly_credits").line_edit, "32767")
    assert form.values() == {"monthly_credits": 32767}
    assert form.error_text("monthly_credits") == ""


# -- date and time --------------------------------------------------------------------------

STARTS = FieldSpec("starts_at", "Starts", "datetime")


def test_datetime_is_shown_in_the_platform_zone_and_returned_as_naive_utc(qtbot):
    # 2026-03-29: Berlin moves from UTC+1 to UTC+2 at 01:00 UTC.
    form = _form(qtbot, [STARTS], {"starts_at": dt.datetime(2026, 3, 29, 1, 30)},
                 time_zone=BERLIN)
    editor = form.field_widget("starts_at")
    assert editor.text() == "2026-03-29 03:30"    # CEST, after the change
    assert editor.suffix_label.text() == "Europe/Berlin"
    assert form.values() == {"starts_at": dt.datetime(2026, 3, 29, 1, 30)}

    _retype(qtbot, editor.line_edit, "2026-03-29 01:59")   # still CET, UTC+1
    assert form.values() == {"starts_at": dt.datetime(2026, 3, 29, 0, 59)}
    assert form.error_text("starts_at") == ""


def test_a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_read_as_the_first(qtbot):
    form = _form(qtbot, [STARTS], time_zone=BERLIN)
    editor = form.field_widget("starts_at")
    qtbot.keyClicks(editor.line_edit, "2026-03-29 02:30")
    assert "does not exist in Europe/Berlin" in form.error_text("starts_at")
    assert form.values() == {"starts_at": "2026-03-29 02:30"}

    _retype(qtbot, editor.line_edit, "2026-10-25 02:30")   # happens twice that night
    assert form.values() == {"starts_at": dt.datetime(2026, 10, 25, 0, 30)}
    assert "happens twice" in form.note_text("starts_at")
    assert "00:30 UTC" in form.note_text("starts_at")


def test_datetime_may_be_empty_and_keeps_seconds_it_does_not_show(qtbot):
    loaded = dt.datetime(2026, 1, 5, 8, 0, 42)
    form = _form(qtbot, [STARTS], {"starts_at": loaded}, time_zone=BERLIN)
    editor = form.field_widget("starts_at")
    assert editor.text() == "2026-01-05 09:00"
    assert form.values() == {"starts_at": loaded}

    _retype(qtbot, editor.line_edit, "")
    assert form.values() == {"starts_at": None}
    assert form.error_text("starts_at") == ""
    qtbot.keyClicks(editor.line_edit, "tomorrow")
    assert "is not a date and time" in form.error_text("starts_at")


def test_date_round_trips_a_date(qtbot):
    form = _form(qtbot, [FieldSpec("ends_on", "Ends on", "date")],
                 {"ends_on": dt.date(2026, 6, 30)}, time_zone=BERLIN)
    editor = form.field_widget("ends_on")
    assert editor.text() == "2026-06-30"
    _retype(qtbot, editor.line_edit, "2026-07-01")
    assert form.values() == {"ends_on": dt.date(2026, 7, 1)}
    _retype(qtbot, editor.line_edit, "2026-02-30")
    assert "is not a date" in form.error_text("ends_on")


# -- chips ----------------------------------------------------------------------------------

def test_chips_add_and_remove(qtbot):
    form = _form(qtbot, [FieldSpec("categories", "Categories", "chips",
                                   choices=[("yoga", "yoga"), ("breathwork", "breathwork")])],
                 {"categories": ["yoga"]})
    chips = form.field_widget("categories").chips
    qtbot.keyClicks(chips.entry, "calm")
    qtbot.keyClick(chips.entry, Qt.Key.Key_Return)
    assert form.values() == {"categories": ["yoga", "calm"]}
    assert form.is_dirty

    chips.chip("yoga").findChild(QToolButton).click()
    assert form.values() == {"categories": ["calm"]}
    assert form.changed_values() == {"categories": ["calm"]}
    assert chips.entry.completer() is not None   # the choices are offered while typing


# -- a related record -----------------------------------------------------------------------

ADA, ADAM = uuid.uuid4(), uuid.uuid4()


def test_related_picker_shows_the_label_and_drops_a_late_answer(qtbot):
    asked = []
    owner = FieldSpec("owner_id", "Owner", "related",
                      search=lambda text, deliver: asked.append((text, deliver)))
    form = _form(qtbot, [owner], {"owner_id": (ADAM, "Adam Smith")})
    editor = form.field_widget("owner_id")
    assert editor.chosen_label.text() == "Adam Smith"
    assert form.values() == {"owner_id": ADAM}

    qtbot.keyClicks(editor.search_box, "ad")
    qtbot.keyClick(editor.search_box, Qt.Key.Key_Return)
    qtbot.keyClicks(editor.search_box, "a")
    qtbot.keyClick(editor.search_box, Qt.Key.Key_Return)
    assert [text for text, _deliver in asked] == ["ad", "ada"]

    (_, deliver_ad), (_, deliver_ada) = asked
    deliver_ada([(ADA, "Ada Lovelace")])
    deliver_ad([(ADAM, "Adam Smith"), (ADA, "Ada Lovelace")])   # late, for the older text
    assert editor.result_labels() == ["Ada Lovelace"]

    editor.choose(0)
    assert editor.chosen_label.text() == "Ada Lovelace"
    assert form.values() == {"owner_id": ADA}
    assert form.changed_values() == {"owner_id": ADA}
    assert editor.search_box.text() == "" and editor.result_labels() == []

    editor.clear_button.click()
    assert form.values() == {"owner_id": None}
    assert editor.chosen_label.text() == "None chosen"


def test_related_answer_with_no_match_says_so(qtbot):
    asked = []
    form = _form(qtbot, [FieldSpec("owner_id", "Owner", "related",
                                   search=lambda text, deliver: asked.append(deliver))])
    editor = form.field_widget("owner_id")
    qtbot.keyClicks(editor.search_box, "zz")
    qtbot.keyClick(editor.search_box, Qt.Key.Key_Return)
    assert editor.note_label.text() == "Searching…"
    asked[0]([])
    assert editor.note_label.text() == "No match."
    assert form.values() == {"owner_id": None} and not form.is_dirty


# -- JSON sub-form --------------------------------------------------------------------------

VENUE = FieldSpec("venue", "Venue", "json", subfields=[
    FieldSpec("room", "Room"),
    FieldSpec("capacity", "Capacity", "integer", minimum=1, maximum=500),
])


def test_json_sub_form_keeps_unknown_keys_untouched(qtbot):
    loaded = {"room": "Loft", "capacity": 12, "wheelchair": True, "map": {"x": 1}}
    form = _form(qtbot, [VENUE], {"venue": loaded})
    sub_form = form.field_widget("venue").sub_form
    assert form.values() == {"venue": loaded}

    _retype(qtbot, sub_form.field_widget("room"), "Garden")
    assert form.changed_values() == {
        "venue": {"room": "Garden", "capacity": 12, "wheelchair": True, "map": {"x": 1}}}

    _retype(qtbot, sub_form.field_widget("capacity").line_edit, "900")
    assert "At most 500 (this is 900)." in sub_form.error_text("capacity")
    assert form.problems() == {"venue.capacity": "At most 500 (this is 900)."}


def test_json_subfield_errors_from_the_service_show_inside(qtbot):
    form = _form(qtbot, [VENUE], {"venue": {"room": "Loft"}})
    form.set_errors({"venue.capacity": "Enter a capacity."})
    assert form.field_widget("venue").sub_form.error_text("capacity") == "Enter a capacity."
    assert form.form_error_text() == ""


# -- rich text ------------------------------------------------------------------------------

def test_richtext_gives_back_untouched_html_and_the_edited_html(qtbot):
    loaded = "<p>Hello <b>world</b></p>"
    form = _form(qtbot, [FieldSpec("body", "Body", "richtext")], {"body": loaded})
    editor = form.field_widget("body")
    assert editor.text_edit.toPlainText() == "Hello world"
    assert form.values() == {"body": loaded}

    editor.text_edit.moveCursor(editor.text_edit.textCursor().MoveOperation.End)
    qtbot.keyClicks(editor.text_edit, "!")
    body = form.values()["body"]
    assert "world" in body and "!" in body and "font-weight" in body   # still bold
    assert form.is_dirty

    editor.text_edit.selectAll()
    qtbot.keyClick(editor.text_edit, Qt.Key.Key_Delete)
    assert form.values() == {"body": None}


# -- sections -------------------------------------------------------------------------------

OFFERING = [
    FieldSpec("title", "Title"),
    FieldSpec("type", "Type", "choice", choices=[("event", "Event"), ("recurring", "Recurring")]),
    Section("Schedule", [FieldSpec("weekday", "Weekday"),
                         FieldSpec("sessions", "Sessions", "integer", minimum=1)],
            visible_when=lambda values: values["type"] == "recurring"),
]


def test_section_shows_and_hides_as_its_condition_changes(qtbot):
    form = _form(qtbot, OFFERING, {"title": "Breath", "type": "event"})
    weekday = form.field_widget("weekday")
    assert not weekday.isVisible() and not form.is_field_shown("weekday")

    form.field_widget("type").setCurrentIndex(1)           # recurring
    assert weekday.isVisible() and form.is_field_shown("sessions")
    qtbot.keyClicks(weekday, "Monday")
    assert form.changed_values() == {"type": "recurring", "weekday": "Monday"}

    form.field_widget("type").setCurrentIndex(0)           # back to event
    assert not weekday.isVisible()
    assert form.changed_values() == {}                     # the hidden edit is not saved
    assert not form.is_dirty
    assert form.values()["weekday"] == "Monday"            # but kept if shown again


def test_an_error_for_a_hidden_field_goes_to_the_form_line(qtbot):
    form = _form(qtbot, OFFERING, {"type": "event"})
    form.set_errors({"sessions": "At least 1."})
    assert form.form_error_text() == "Sessions: At least 1."


# -- rebase keeps the new kinds' edits ------------------------------------------------------

EVERY_KIND = [
    FieldSpec("title", "Title"),
    PRICE,
    CREDITS,
    STARTS,
    FieldSpec("categories", "Categories", "chips"),
    FieldSpec("owner_id", "Owner", "related", search=lambda text, deliver: deliver(
        [(ADA, "Ada Lovelace")])),
    VENUE,
    FieldSpec("body", "Body", "richtext"),
]
LOADED = {
    "title": "Breath", "price": Decimal("9.90"), "monthly_credits": 10,
    "starts_at": dt.datetime(2026, 3, 29, 1, 30), "categories": ["yoga"],
    "owner_id": (ADAM, "Adam Smith"), "venue": {"room": "Loft", "wheelchair": True},
    "body": "<p>Hi</p>",
}


def test_rebase_keeps_edits_of_every_typed_kind(qtbot):
    form = _form(qtbot, EVERY_KIND, LOADED, time_zone=BERLIN)
    _retype(qtbot, form.field_widget("price").line_edit, "abc")
    _retype(qtbot, form.field_widget("monthly_credits").line_edit, "20")
    _retype(qtbot, form.field_widget("starts_at").line_edit, "2026-04-01 10:00")
    form.field_widget("categories").chips.add_tag("calm")
    owner = form.field_widget("owner_id")
    qtbot.keyClicks(owner.search_box, "ada")
    qtbot.keyClick(owner.search_box, Qt.Key.Key_Return)
    owner.choose(0)
    _retype(qtbot, form.field_widget("venue").sub_form.field_widget("room"), "Garden")
    mine = form.changed_values()

    theirs = {**LOADED, "title": "Breathwork", "owner_id": ADAM}
    clashes = form.rebase(theirs)

    assert clashes == {}
    values = form.values()
    assert values["title"] == "Breathwork"
    assert {name: values[name] for name in mine} == mine
    assert values["venue"] == {"room": "Garden", "wheelchair": True, "capacity": None}
    assert form.field_widget("price").text() == "abc"
    assert "is not an amount" in form.error_text("price")    # still says why
    assert owner.chosen_label.text() == "Ada Lovelace"
    assert form.field_widget("starts_at").text() == "2026-04-01 10:00"
    assert form.is_dirty


def test_ctrl_return_in_a_typed_field_submits_and_read_only_locks_every_kind(qtbot):
    form = _form(qtbot, EVERY_KIND, LOADED, time_zone=BERLIN)
    with qtbot.waitSignal(form.submitted, timeout=1000) as submitted:
        qtbot.keyClick(form.field_widget("price").line_edit, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    assert submitted.args[0]["price"] == Decimal("9.90")

    form.set_read_only(True)
    price = form.field_widget("price").line_edit
    qtbot.keyClicks(price, "5")
    assert price.text() == "9.90"
    assert not form.field_widget("owner_id").search_box.isVisible()
    assert not form.field_widget("categories").chips.entry.isVisible()
    assert form.field_widget("body").text_edit.isReadOnly()
