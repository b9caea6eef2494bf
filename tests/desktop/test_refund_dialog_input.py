"""What staff type or paste into the refund dialog is what it shows and checks: nothing is
cut to a length, and bad amounts or notes get their field's message with nothing sent."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from sqlalchemy import text

from tests.desktop.test_refund_dialog import _open, _review, _type


def _requests(session_factory) -> int:
    with session_factory() as s:
        return s.execute(text("SELECT count(*) FROM admin.refund_requests")).scalar_one()


def test_a_pasted_long_note_is_not_cut_and_is_refused_with_its_length(
        qtbot, stripe_database, session_factory, paid_purchase):
    dialog = _open(qtbot, stripe_database, "purchase", paid_purchase("30.00"))
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    QGuiApplication.clipboard().setText("n" * 600)
    dialog.note.setFocus()
    dialog.note.paste()
    assert len(dialog.note.text()) == 600
    _review(qtbot, dialog)
    assert dialog.step == dialog.FORM
    assert dialog.note_error.text() == "At most 500 characters (this has 600)."
    assert _requests(session_factory) == 0


def test_a_pasted_huge_amount_is_shown_whole_and_refused_on_the_amount(
        qtbot, stripe_database, session_factory, paid_purchase):
    dialog = _open(qtbot, stripe_database, "purchase", paid_purchase("30.00"))
    huge = "9" * 30
    dialog.amount.selectAll()
    QGuiApplication.clipboard().setText(huge)
    dialog.amount.paste()
    assert dialog.amount.text() == huge
    _review(qtbot, dialog)
    assert dialog.step == dialog.FORM
    assert dialog.amount_error.text().startswith("At most 30.00 USD can be refunded")
    _type(qtbot, dialog.amount, "12.345")
    _review(qtbot, dialog)
    assert dialog.amount_error.text() == "Enter at most two decimals (cents)."
    assert _requests(session_factory) == 0


def test_an_error_that_wraps_onto_two_lines_is_shown_whole(
        qtbot, stripe_database, session_factory, paid_purchase):
    """The amount's error needs two lines at the dialog's width; its row used to get one
    and a half (QFormLayout shared the height out wrongly) and the end was cut off."""
    dialog = _open(qtbot, stripe_database, "purchase", paid_purchase("30.00"))
    _type(qtbot, dialog.amount, "99")
    dialog.reason.setCurrentIndex(dialog.reason.findData("other"))
    _review(qtbot, dialog)
    qtbot.wait(50)
    for label in (dialog.amount_error, dialog.note_error):
        assert label.isVisible()
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    wrapped = dialog.amount_error
    assert wrapped.heightForWidth(wrapped.width()) > wrapped.fontMetrics().height() * 1.5
    assert _requests(session_factory) == 0
