"""RecordForm: values in and out, errors from the caller, dirty tracking, submit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit

from widgets.record_form import FieldSpec, RecordForm

FIELDS = [
    FieldSpec("display_name", "Display name", "text", max_length=20, required=True),
    FieldSpec("email", "Email", "text", placeholder="name@example.com"),
    FieldSpec("bio", "Bio", "multiline"),
    FieldSpec(
        "status",
        "Status",
        "choice",
        choices=[("active", "Active"), ("suspended", "Suspended")],
    ),
    FieldSpec("verified", "Verified", "bool"),
    FieldSpec("created_at", "Created", "readonly"),
]

CREATOR = {
    "display_name": "  Ada Lovelace ",
    "email": "ada@example.com",
    "bio": "Writes about engines.\n",
    "status": "active",
    "verified": True,
    "created_at": "2024-05-01 09:30",
}


@pytest.fixture
def form(qtbot):
    record_form = RecordForm(FIELDS)
    qtbot.addWidget(record_form)
    record_form.set_values(CREATOR)
    record_form.show()
    qtbot.waitExposed(record_form)
    return record_form


def _line_edit(form: RecordForm, name: str) -> QLineEdit:
    widget = form.field_widget(name)
    assert isinstance(widget, QLineEdit)
    return widget


def test_set_values_then_values_round_trips_editable_fields(form):
    assert form.values() == {
        "display_name": "Ada Lovelace",
        "email": "ada@example.com",
        "bio": "Writes about engines.",
        "status": "active",
        "verified": True,
    }
    assert isinstance(form.field_widget("bio"), QPlainTextEdit)
    assert isinstance(form.field_widget("status"), QComboBox)
    assert isinstance(form.field_widget("verified"), QCheckBox)
    assert form.field_widget("created_at").text() == "2024-05-01 09:30"
    assert not form.is_dirty


def test_empty_optional_text_is_none_and_empty_required_text_is_empty_string(form):
    form.set_values({"display_name": "   ", "email": "   ", "status": None})
    values = form.values()
    assert values["display_name"] == ""
    assert values["email"] is None
    assert values["bio"] is None
    assert values["status"] is None
    assert values["verified"] is False


def test_unknown_choice_value_is_shown_rather_than_replaced(form):
    form.set_values({**CREATOR, "status": "under_review"})
    combo = form.field_widget("status")
    assert combo.currentText() == "under_review"
    assert form.values()["status"] == "under_review"

    # The stand-in item does not leak into the next record.
    form.set_values(CREATOR)
    assert combo.count() == 2
    assert form.values()["status"] == "active"


def test_set_errors_shows_the_message_under_the_named_field_only(form):
    form.set_errors({"email": "This email is already used by another creator."})

    assert form.error_text("email") == "This email is already used by another creator."
    email_error = form.findChild(QLabel, "error_email")
    assert email_error.isVisible()
    for name in ("display_name", "bio", "status", "verified"):
        assert form.error_text(name) == ""
        assert not form.findChild(QLabel, f"error_{name}").isVisible()
    assert form.form_error_text() == ""

    email = form.field_widget("email")
    assert form.focusWidget() is email
    assert email.accessibleDescription() == "This email is already used by another creator."


def test_first_field_in_form_order_gets_focus(form):
    form.set_errors({"status": "Pick a status.", "display_name": "Required."})
    assert form.focusWidget() is form.field_widget("display_name")
    assert form.error_text("status") == "Pick a status."


def test_error_for_an_unknown_field_goes_to_the_form_level_label(form):
    form.set_errors({"payout_account": "No payout account on file.", "email": "Invalid."})
    assert "No payout account on file." in form.form_error_text()
    assert form.findChild(QLabel, "form_error").isVisible()
    assert form.error_text("email") == "Invalid."


def test_clear_errors_and_set_values_hide_all_messages(form):
    form.set_errors({"email": "Invalid.", None: "Could not save."})
    assert form.form_error_text() == "Could not save."
    form.clear_errors()
    assert form.error_text("email") == ""
    assert form.form_error_text() == ""
    assert form.field_widget("email").accessibleDescription() == ""

    form.set_errors({"email": "Invalid."})
    form.set_values(CREATOR)
    assert form.error_text("email") == ""


def test_editing_a_field_clears_its_error(qtbot, form):
    form.set_errors({"email": "Invalid.", "display_name": "Too short."})
    qtbot.keyClicks(_line_edit(form, "email"), "x")
    assert form.error_text("email") == ""
    assert form.error_text("display_name") == "Too short."


def test_dirty_tracking_follows_edits_and_reverts(qtbot, form):
    email = _line_edit(form, "email")
    with qtbot.waitSignal(form.dirty_changed, timeout=1000) as became_dirty:
        qtbot.keyClicks(email, "x")
    assert became_dirty.args == [True]
    assert form.is_dirty

    with qtbot.waitSignal(form.dirty_changed, timeout=1000) as became_clean:
        qtbot.keyClick(email, Qt.Key.Key_Backspace)
    assert became_clean.args == [False]
    assert not form.is_dirty

    with qtbot.waitSignal(form.dirty_changed, timeout=1000):
        form.field_widget("verified").click()
    assert form.is_dirty
    with qtbot.waitSignal(form.dirty_changed, timeout=1000) as reloaded:
        form.set_values(CREATOR)
    assert reloaded.args == [False]


def test_changed_values_lists_only_edited_fields(qtbot, form):
    assert form.changed_values() == {}
    email = _line_edit(form, "email")
    email.selectAll()
    qtbot.keyClicks(email, "ada@lovelace.dev")
    form.field_widget("status").setCurrentIndex(1)
    # Whitespace-only differences are not changes.
    qtbot.keyClicks(form.field_widget("bio"), "   ")

    assert form.changed_values() == {"email": "ada@lovelace.dev", "status": "suspended"}


def test_ctrl_return_in_a_single_line_field_submits_the_values(qtbot, form):
    with qtbot.waitSignal(form.submitted, timeout=1000) as submitted:
        qtbot.keyClick(
            _line_edit(form, "email"), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    assert submitted.args == [form.values()]


def test_ctrl_enter_in_the_multiline_field_submits_without_adding_a_line(qtbot, form):
    bio = form.field_widget("bio")
    before = bio.toPlainText()
    with qtbot.waitSignal(form.submitted, timeout=1000):
        qtbot.keyClick(bio, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert bio.toPlainText() == before


def test_plain_return_does_not_submit(qtbot, form):
    with qtbot.assertNotEmitted(form.submitted):
        qtbot.keyClick(_line_edit(form, "email"), Qt.Key.Key_Return)


def test_read_only_form_cannot_be_edited_or_submitted(qtbot, form):
    form.set_read_only(True)
    email = _line_edit(form, "email")
    qtbot.keyClicks(email, "zzz")
    assert email.text() == "ada@example.com"
    assert not form.field_widget("status").isEnabled()
    with qtbot.assertNotEmitted(form.submitted):
        form.submit()

    form.set_read_only(False)
    with qtbot.waitSignal(form.submitted, timeout=1000):
        form.submit()


def test_max_length_is_enforced_while_typing(qtbot, form):
    name = _line_edit(form, "display_name")
    name.clear()
    qtbot.keyClicks(name, "x" * 30)
    assert form.values()["display_name"] == "x" * 20


def test_field_spec_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown field kind"):
        FieldSpec("colour", "Colour", "colour")  # type: ignore[arg-type]


# -- someone else saved first: rebase keeps what was typed ---------------------------------

def test_rebase_keeps_my_edits_on_top_of_their_version_and_names_the_clashes(qtbot, form):
    qtbot.keyClicks(form.field_widget("email"), "x")  # typed at the start
    form.field_widget("status").setCurrentIndex(1)     # suspended
    form.field_widget("verified").setChecked(False)
    theirs = {**CREATOR, "display_name": "Ada King", "email": "ada@king.org",
              "verified": False}
    clashes = form.rebase(theirs)
    values = form.values()
    assert values["display_name"] == "Ada King"          # only they changed it
    assert values["email"] == "xada@example.com"          # both changed it: mine is shown
    assert values["status"] == "suspended"                # only I changed it
    assert values["verified"] is False                    # both made the same change
    assert clashes == {"email": "ada@king.org"}
    assert "“ada@king.org”" in form.error_text("email")  # marked where it clashed
    assert form.is_dirty
    assert form.changed_values() == {"email": "xada@example.com", "status": "suspended"}


def test_rebase_of_an_untouched_form_just_loads_theirs(qtbot, form):
    clashes = form.rebase({**CREATOR, "bio": "New bio"})
    assert clashes == {}
    assert form.values()["bio"] == "New bio"
    assert not form.is_dirty


def test_clash_messages_name_their_value():
    from widgets.record_form import clash_errors, kept_edits_message

    errors = clash_errors({"email": "ada@king.org", "bio": None, "name": "x" * 100})
    assert "“ada@king.org”" in errors["email"]
    assert "changed this to empty" in errors["bio"]
    assert "x" * 60 + "…" in errors["name"] and "x" * 61 not in errors["name"]
    assert "You both changed 1 field(s)" in kept_edits_message("Changed.", {"email": 1})
    assert "both" not in kept_edits_message("Changed.", {})
