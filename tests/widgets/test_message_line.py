"""The message line every writing dialog shares: the words shown as given, errors in red,
the dialog grown so a long message is never cut; the error line under a field."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDialog, QLineEdit, QVBoxLayout

from widgets.message_line import MessageLine, field_error_label, set_field_error

LONG = ("The booking could not be cancelled because another member of staff changed it "
        "while this window was open; read it again and decide once more what to return "
        "to the customer <Ana & Bo>.")


def _dialog(qtbot, line: MessageLine) -> QDialog:
    dialog = QDialog()
    qtbot.addWidget(dialog)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLineEdit())
    layout.addWidget(line)
    dialog.resize(320, 10)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_markup_in_a_message_is_shown_as_typed_not_read(qtbot):
    line = MessageLine()
    qtbot.addWidget(line)
    for say in (line.say, line.say_error):
        say("Refused for <b>Zoë</b> & co: 'x' < 2")
        # The label renders its rich text: what a person reads is the plain text.
        doc = QTextDocument()
        doc.setHtml(line.text())
        assert doc.toPlainText() == "Refused for <b>Zoë</b> & co: 'x' < 2"


def test_an_error_is_red_and_a_notice_is_not(qtbot):
    line = MessageLine()
    qtbot.addWidget(line)
    line.say_error("No.")
    assert "color: #b3261e" in line.text()
    line.say("Working…")
    assert "color" not in line.text() and line.text() == "Working…"


def test_a_line_that_hides_when_empty_takes_no_room_until_it_speaks(qtbot):
    line = MessageLine(hide_when_empty=True)
    dialog = _dialog(qtbot, line)
    assert not line.isVisible()
    line.say("Sending the refund to Stripe…")
    assert line.isVisible()
    line.say("")
    assert not line.isVisible()
    dialog.close()


def test_a_long_message_grows_the_dialog_so_its_last_line_shows_and_never_shrinks_it(qtbot):
    line = MessageLine()
    dialog = _dialog(qtbot, line)
    short_height = dialog.height()
    line.say_error(LONG)
    qtbot.waitUntil(lambda: line.height() >= line.heightForWidth(line.width()))
    assert line.heightForWidth(line.width()) > 3 * line.fontMetrics().height()  # wrapped
    assert dialog.height() > short_height
    grown = dialog.height()
    line.say("Done.")
    assert dialog.height() == grown  # the window does not jump under the person's hands


def test_a_field_error_line_is_hidden_until_it_has_a_message_and_shows_plain_text(qtbot):
    label = field_error_label("amount")
    dialog = QDialog()
    qtbot.addWidget(dialog)
    QVBoxLayout(dialog).addWidget(label)
    dialog.show()
    assert label.objectName() == "error_amount" and not label.isVisible()
    set_field_error(label, "Amount: enter at most <2> decimals.")
    assert label.isVisible() and label.text() == "Amount: enter at most <2> decimals."
    set_field_error(label, "")
    assert not label.isVisible()
