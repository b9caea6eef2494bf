"""The one mechanism the UI follows the role by: a control built before or after the rights
are known, enabled or not by its owner, stays disabled while its right is refused, its tooltip
saying who may; its key and its menu entry do nothing; an ActionBar's button, context menu
entry and Return follow the same rights."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout, QWidget

from widgets.actions import Action, ActionBar, context_menu
from widgets.rights import Rights

WHY = "Your database login may not adjust token balances: members of support may."


def _refusing(*names: str):
    return lambda requires: WHY if requires in names else ""


def test_a_button_built_before_the_rights_are_known_follows_them(qtbot):
    rights = Rights()
    button = QPushButton("Apply")
    qtbot.addWidget(button)
    button.setToolTip("Apply the adjustment")
    rights.guard(button, "adjust_tokens")
    assert button.isEnabled() and button.toolTip() == "Apply the adjustment"
    rights.follow(_refusing("adjust_tokens"))
    assert not button.isEnabled() and button.toolTip() == WHY
    button.setEnabled(True)  # its dialog thinks the form is complete: the refusal wins
    button.setToolTip("Apply 25 tokens")
    assert not button.isEnabled() and button.toolTip() == WHY
    clicks = []
    button.clicked.connect(clicks.append)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert clicks == []
    rights.follow(_refusing())  # allowed again: the owner's last word stands
    assert button.isEnabled() and button.toolTip() == "Apply 25 tokens"


def test_a_control_built_after_the_rights_are_known_starts_refused(qtbot):
    rights = Rights()
    rights.follow(_refusing("adjust_tokens"))
    other = QPushButton("Save")
    button = QPushButton("Apply")
    for w in (other, button):
        qtbot.addWidget(w)
    rights.guard(button, "adjust_tokens")
    rights.guard(other, "edit_catalog")
    rights.guard(QPushButton("Free"), "")  # nothing required: nothing to guard
    assert not button.isEnabled() and button.toolTip() == WHY
    assert other.isEnabled() and other.toolTip() == ""


def test_a_refused_actions_key_and_a_refused_shortcut_do_nothing(qtbot):
    rights = Rights()
    rights.follow(_refusing("adjust_tokens"))
    window = QWidget()
    field = QLineEdit(window)
    QVBoxLayout(window).addWidget(field)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):  # shortcuts are for the active window
        window.show()
        window.activateWindow()
    fired = []
    action = QAction("Adjust", window)
    action.setShortcut(QKeySequence("Ctrl+J"))
    action.triggered.connect(lambda: fired.append("action"))
    window.addAction(action)
    shortcut = QShortcut(QKeySequence("Ctrl+L"), window)
    shortcut.activated.connect(lambda: fired.append("shortcut"))
    rights.guard(action, "adjust_tokens")
    rights.guard(shortcut, "adjust_tokens")
    action.setEnabled(True)
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    action.trigger()
    assert fired == [] and action.toolTip() == WHY
    rights.follow(_refusing())
    qtbot.keyClick(field, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert fired == ["action", "shortcut"]


def test_allowing_says_the_refusal_instead_of_acting():
    rights = Rights()
    done, said = [], []
    run = rights.allowing("adjust_tokens", done.append, said.append)
    run(1)
    rights.follow(_refusing("adjust_tokens"))
    run(2)
    assert done == [1] and said == [WHY]


def test_an_action_bars_button_menu_entry_and_return_follow_the_rights(qtbot):
    from widgets.lazy_table import Column, LazyTableModel, LazyTableView
    from widgets.operations import OperationRunner

    rights = Rights()
    runner = OperationRunner()
    model = LazyTableModel([Column("Name", lambda r: r)], runner)
    view = LazyTableView(model)
    qtbot.addWidget(view)
    ran = []
    bar = ActionBar([Action("&Adjust…", name="adjust", default=True, requires="adjust_tokens"),
                     Action("&Look", name="look")],
                    current=lambda: "row", trigger=lambda a, row: ran.append(a.key),
                    rights=rights)
    qtbot.addWidget(bar)
    bar.attach_to(view)
    rights.follow(_refusing("adjust_tokens"))
    adjust = bar.buttons["adjust"]
    assert not adjust.isEnabled() and adjust.toolTip() == WHY
    entries = {a.text(): a for a in context_menu(view).actions()}
    assert not entries["Adjust…"].isEnabled() and entries["Adjust…"].toolTip() == WHY
    assert entries["Look"].isEnabled()
    bar.run_default()  # a double click
    entries["Adjust…"].trigger()  # the menu entry, or its Return
    assert ran == []
    entries["Look"].trigger()
    assert ran == ["look"]
    rights.follow(_refusing())
    assert adjust.isEnabled() and adjust.toolTip() == ""
    entries["Adjust…"].trigger()
    assert ran == ["look", "adjust"]
    runner.cancel_all()
    assert runner.wait_for_done(5_000)


def test_a_closed_dialogs_controls_are_let_go(qtbot):
    from PySide6.QtCore import QCoreApplication, QEvent

    rights = Rights()
    button = QPushButton("Apply")
    rights.guard(button, "adjust_tokens")
    button.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    rights.follow(_refusing("adjust_tokens"))  # no guard of a deleted button is left to call
    rights.follow(_refusing())


def test_a_deleted_action_bar_is_let_go(qtbot):
    from PySide6.QtCore import QCoreApplication, QEvent

    rights = Rights()
    bar = ActionBar([Action("&Adjust…", requires="adjust_tokens")], current=lambda: "row",
                    trigger=lambda a, row: None, rights=rights)
    bar.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    rights.follow(_refusing("adjust_tokens"))
