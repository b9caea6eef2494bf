"""confirm(), ProgressDialog and ActionDialog."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget

from widgets.dialogs import ActionDialog, ProgressDialog, confirm
from widgets.operations import OperationContext

WAIT_MS = 5_000


def _answer_message_box(seen: dict, button_text: str) -> None:
    box = QApplication.activeModalWidget()
    try:
        assert isinstance(box, QMessageBox)
        seen["default"] = box.defaultButton().text()
        seen["buttons"] = sorted(button.text() for button in box.buttons())
        for button in box.buttons():
            if button.text() == button_text:
                button.click()
                return
    finally:
        # Never leave the nested event loop running, even if an assertion failed.
        if box is not None and box.isVisible():
            box.reject()


def test_destructive_confirm_defaults_to_cancel_and_reports_the_choice(qtbot):
    seen: dict = {}
    QTimer.singleShot(0, lambda: _answer_message_box(seen, "Cancel"))
    confirmed = confirm(
        None,
        title="Refund payment",
        text="Refund $120.00 to Ada Lovelace?",
        confirm_label="Refund",
        destructive=True,
    )
    assert confirmed is False
    assert seen == {"default": "Cancel", "buttons": ["Cancel", "Refund"]}


def test_confirm_returns_true_when_the_action_button_is_chosen(qtbot):
    seen: dict = {}
    QTimer.singleShot(0, lambda: _answer_message_box(seen, "Publish"))
    assert confirm(None, title="Publish", text="Publish the post?", confirm_label="Publish")
    assert seen["default"] == "Publish"


def test_progress_dialog_cancel_stops_the_work_and_waits_for_it(qtbot, runner):
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    stop_seen = threading.Event()

    def export_rows(ctx: OperationContext):
        for done in range(10_000):
            if ctx.cancelled:
                stop_seen.set()
                # Simulate the last write finishing before the work can stop.
                time.sleep(0.2)
                ctx.check_cancelled()
            ctx.report_progress(done, 10_000, f"Exported {done} rows")
            time.sleep(0.002)

    handle = runner.run(export_rows, cancellable=True)
    dialog = ProgressDialog(window, title="Export", minimum_duration_ms=0)
    dialog.attach(handle)
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=WAIT_MS)
    assert dialog.labelText().startswith("Exported")

    [cancel_button] = [b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)
    assert stop_seen.wait(WAIT_MS / 1000)
    # Still up while the work winds down, so the window stays blocked.
    assert dialog.isVisible()
    assert dialog.labelText() == "Cancelling…"

    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT_MS)
    assert handle.was_cancelled
    assert not dialog.isVisible()


def test_progress_dialog_does_not_flash_for_quick_work(qtbot, runner):
    handle = runner.run(lambda: "done")
    dialog = ProgressDialog(None, minimum_duration_ms=300)
    qtbot.addWidget(dialog)
    dialog.attach(handle)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT_MS)
    qtbot.wait(400)
    assert not dialog.isVisible()


def test_update_progress_shows_busy_indicator_for_unknown_total(qtbot):
    dialog = ProgressDialog(None)
    qtbot.addWidget(dialog)
    dialog.update_progress(5, None, "Counting rows")
    assert (dialog.minimum(), dialog.maximum()) == (0, 0)
    assert dialog.labelText() == "Counting rows"
    dialog.update_progress(5, 10)
    assert (dialog.maximum(), dialog.value()) == (10, 5)
    dialog.update_progress(3_000_000_000, 6_000_000_000)
    assert dialog.value() == dialog.maximum() // 2


def test_an_action_dialog_stays_open_while_working_and_says_why(qtbot):
    said: list[str] = []

    class Dialog(ActionDialog):
        def still_working(self, text: str) -> None:
            said.append(text)

    dialog = Dialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.set_working(True)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    dialog.close()
    dialog.reject()
    assert dialog.isVisible()
    assert said == [ActionDialog.STILL_WORKING] * 3
    dialog.set_working(False)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
