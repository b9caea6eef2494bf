"""Small standard dialogs: confirmation, error display, progress for an operation, and a
dialog that stays open while its action is answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from widgets.operations import OperationHandle

__all__ = ["ActionDialog", "ProgressDialog", "ask", "confirm", "open_dialog", "show_error"]

# QProgressBar takes an int; larger totals are scaled down to this resolution.
_MAX_BAR_RANGE = 1_000_000


def confirm(
    parent: QWidget | None,
    *,
    title: str,
    text: str,
    informative: str = "",
    confirm_label: str = "OK",
    destructive: bool = False,
) -> bool:
    """Ask a yes/no question; True if the user chose ``confirm_label``.

    Buttons carry explicit verbs ("Refund", "Delete") instead of Yes/No. For destructive
    actions Cancel is the default, so a reflexive Return does not destroy anything.
    """
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
    confirm_button = box.addButton(confirm_label, QMessageBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel_button if destructive else confirm_button)
    box.setEscapeButton(cancel_button)
    box.exec()
    confirmed = box.clickedButton() is confirm_button
    box.deleteLater()
    return confirmed


def ask(
    parent: QWidget,
    *,
    title: str,
    text: str,
    informative: str = "",
    confirm_label: str,
    on_confirmed: Callable[[], None],
    on_declined: Callable[[], None] | None = None,
) -> QMessageBox:
    """Ask before applying something that cannot be taken back, without waiting for it.

    Window-modal and opened with ``open()`` (the caller's event loop keeps running);
    ``on_confirmed`` runs only if ``confirm_label`` was clicked. Cancel is the default
    button, so Return or Enter declines: a reflexive key press never applies. Returns the
    box (tests and callers may look at it); it deletes itself once answered.
    """
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    box.setIcon(QMessageBox.Icon.Warning)
    confirm_button = box.addButton(confirm_label, QMessageBox.ButtonRole.AcceptRole)
    cancel_button = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    confirm_button.setAutoDefault(False)
    box.setDefaultButton(cancel_button)
    box.setEscapeButton(cancel_button)
    box.setWindowModality(Qt.WindowModality.WindowModal)

    def on_finished(_result: int) -> None:
        confirmed = box.clickedButton() is confirm_button
        box.deleteLater()
        if confirmed:
            on_confirmed()
        elif on_declined is not None:
            on_declined()

    box.finished.connect(on_finished)
    box.open()
    return box


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    """Show an error; ``details`` (e.g. a traceback or SQLSTATE) goes behind "Show Details"."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.exec()
    box.deleteLater()


class ProgressDialog(QProgressDialog):
    """Window-modal progress for one OperationHandle.

    Shows only if the operation is still running after ``minimum_duration_ms``, so quick
    operations do not flash a dialog. Cancel (button, Escape or closing the window) asks the
    operation to stop and keeps the dialog up ("Cancelling…") until the operation has
    actually ended, so the window stays blocked while the work may still be writing.
    Closes itself when the operation finishes.

    Signals: those of QProgressDialog (``canceled`` when the user asked to cancel).
    """

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str = "",
        label: str = "",
        cancellable: bool = True,
        minimum_duration_ms: int = 400,
    ) -> None:
        super().__init__(parent)
        self._handle: OperationHandle | None = None
        self._cancellable = cancellable
        self._cancelling = False
        # Our own bar, driven directly: QProgressDialog.setValue() spins the event loop when
        # the dialog is modal, which would re-enter the runner slot that is calling us.
        self._bar = QProgressBar(self)
        self.setBar(self._bar)
        self._cancel_button: QPushButton | None = None
        if cancellable:
            self._cancel_button = QPushButton("Cancel", self)
            self.setCancelButton(self._cancel_button)
        else:
            self.setCancelButton(None)
        self.setWindowTitle(title)
        self.setLabelText(label)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(360)
        # reset() stops QProgressDialog's own show timer; ours below starts at attach().
        self.reset()
        self._bar.setRange(0, 0)
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.setInterval(max(0, minimum_duration_ms))
        self._show_timer.timeout.connect(self._on_show_timer_timeout)
        # QProgressDialog connects canceled() to its cancel() slot, which hides the dialog at
        # once. Replace that: stay up until the work has really stopped. (Overriding cancel()
        # in Python would not help - the C++ connection calls the C++ slot.)
        self.canceled.disconnect(self.cancel)
        self.canceled.connect(self._on_dialog_canceled)

    @property
    def handle(self) -> OperationHandle | None:
        return self._handle

    @property
    def is_cancelling(self) -> bool:
        return self._cancelling

    def attach(self, handle: OperationHandle) -> None:
        """Follow ``handle``: mirror its progress, cancel it on Cancel, close when it ends."""
        self._handle = handle
        handle.progress_reported.connect(self.update_progress)
        handle.finished.connect(self._on_handle_finished)
        if handle.is_running:
            self._show_timer.start()
        else:
            self._on_handle_finished()

    @Slot(object, object, str)
    def update_progress(self, done: int, total: int | None, message: str = "") -> None:
        """Show ``done`` of ``total``; an unknown total shows a busy indicator."""
        if total is None or total <= 0:
            self._bar.setRange(0, 0)
        elif total > _MAX_BAR_RANGE:
            self._bar.setRange(0, _MAX_BAR_RANGE)
            self._bar.setValue(int(min(done, total) * _MAX_BAR_RANGE / total))
        else:
            self._bar.setRange(0, int(total))
            self._bar.setValue(max(0, min(int(done), int(total))))
        if message and not self._cancelling:
            self.setLabelText(message)

    def reject(self) -> None:
        # Escape and the window's close button end up here. Hiding now would unblock the
        # window while the work still runs, so ask the work to stop and wait for it instead.
        if self._cancellable:
            self.canceled.emit()

    @Slot()
    def _on_dialog_canceled(self) -> None:
        if not self._cancellable or self._cancelling:
            return
        self._cancelling = True
        self.setLabelText("Cancelling…")
        if self._cancel_button is not None:
            # Disabled rather than hidden, so the dialog does not reflow.
            self._cancel_button.setEnabled(False)
        if self._handle is not None:
            self._handle.cancel()

    @Slot()
    def _on_show_timer_timeout(self) -> None:
        if self._handle is not None and self._handle.is_running:
            self.show()

    @Slot()
    def _on_handle_finished(self) -> None:
        self._show_timer.stop()
        self.done(QDialog.DialogCode.Accepted)


class ActionDialog(QDialog):
    """A dialog whose action runs on a worker and that stays open until it is answered.

    Between ``set_working(True)`` and ``set_working(False)``, Escape, a Close button wired to
    ``reject`` and the window's own close button do not close it: the answer (a refund made,
    a subscription changed at Stripe) would otherwise arrive to nobody, and the person would
    not know whether it happened. :meth:`still_working` is told instead, with
    :attr:`STILL_WORKING`; a dialog shows it where it shows its messages.
    """

    STILL_WORKING = "Waiting for the answer: this window shows it as soon as it arrives."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._working = False

    @property
    def working(self) -> bool:
        """True while the dialog's action is with a worker."""
        return self._working

    def set_working(self, working: bool) -> None:
        self._working = working

    def still_working(self, text: str) -> None:
        """Say ``text`` (the person tried to close while working); the default says
        nothing."""

    def reject(self) -> None:
        if self._working:
            self.still_working(self.STILL_WORKING)
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._working:
            event.ignore()
            self.still_working(self.STILL_WORKING)
            return
        super().closeEvent(event)


_Dialog = TypeVar("_Dialog", bound=QDialog)


def open_dialog(dialog: _Dialog) -> _Dialog:
    """Show ``dialog`` window-modal (``open()``), deleted when it closes; returns it."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
