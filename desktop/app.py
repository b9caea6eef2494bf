"""The composition root: settings, runner, database, window — built here, in this order.

Nothing else constructs these; pages get what they need through their constructors.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from data.embedded import EmbeddedPostgres
from data.environment import database_url_from_env
from desktop.database import Database
from desktop.demo_preparation import DemoPreparation
from desktop.main_window import MainWindow
from desktop.refund_recovery import RefundRecovery
from desktop.start_dialog import StartDialog
from desktop.subscription_recovery import SubscriptionRecovery
from widgets.dialogs import show_error
from widgets.garbage_collector import GarbageCollector
from widgets.gui_thread import favour_gui_thread
from widgets.operations import OperationRunner

log = logging.getLogger("platform_admin")
STYLE = Path(__file__).parents[1] / "resources" / "style.qss"


def _install_crash_handler(runner: OperationRunner) -> None:
    """Bugs go to a dialog and the log, never silently away."""

    def show(exc: BaseException) -> None:
        details = "".join(traceback.format_exception(exc))
        log.error("Unexpected error:\n%s", details)
        show_error(None, "Something went wrong",
                   "An unexpected error happened. Nothing more was changed.", details)

    runner.unhandled_error.connect(show)
    sys.excepthook = lambda t, v, tb: show(v)


def _quit_on_signals(app: QApplication) -> QTimer:
    """Ctrl+C or SIGTERM close the app cleanly (so the demo's temp server is removed).

    Python only runs signal handlers between bytecodes; a timer gives it the chance while
    Qt's event loop is waiting (the start dialog's and every other modal ``exec()`` too).
    A modal dialog runs an event loop of its own that ``quit()`` does not end: it is
    rejected first, so the start dialog's ``exec()`` returns and the app ends as when it is
    closed (a demo being opened is cancelled and its temp server removed).
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: _end_app(app))
    timer = QTimer()
    timer.start(250)
    timer.timeout.connect(lambda: None)
    return timer


def _end_app(app: QApplication) -> None:
    for _ in range(50):  # nested modal dialogs, innermost first; bounded if one refuses
        modal = app.activeModalWidget()
        if modal is None:
            break
        if isinstance(modal, QDialog):
            modal.reject()
        else:
            modal.close()
        if modal.isVisible():
            modal.hide()
    for window in app.topLevelWidgets():
        if isinstance(window, QDialog) and window.isVisible():
            window.reject()
    app.quit()


SHOWN_ENV = "PLATFORM_ADMIN_REPORT_SHOWN"
"""Set (for bench/startup.py): once the main window is first exposed, print
``window_shown=<epoch seconds>`` and which heavy libraries are loaded by then, and quit. Set
to ``ready``: print that, then ``demo_data_ready=<epoch seconds>`` once the demo's data is
made (its first page asked for), and quit then."""
HEAVY = ("pyqtgraph", "stripe", "numpy", "alembic")


class _FirstExposure(QObject):
    """Calls ``then()`` once, when ``window`` is first exposed (drawn on the screen)."""

    def __init__(self, window: QWidget, then: Callable[[], None]):
        super().__init__(window)
        self._then: Callable[[], None] | None = then
        handle = window.windowHandle()
        handle.installEventFilter(self)
        if handle.isExposed():
            self._fire(handle)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Expose and watched.isExposed():
            self._fire(watched)
        return False

    def _fire(self, handle) -> None:
        handle.removeEventFilter(self)
        then, self._then = self._then, None
        if then is not None:
            then()


def _report_window_shown(demo_preparation: DemoPreparation) -> None:
    mode = os.environ.get(SHOWN_ENV)
    if not mode:
        return
    loaded = ",".join(m for m in HEAVY if m in sys.modules) or "none"
    print(f"window_shown={time.time():.6f}\nloaded_at_shown={loaded}", flush=True)
    if mode == "ready" and demo_preparation.preparing_data:
        def report_ready(_failure: str) -> None:
            print(f"demo_data_ready={time.time():.6f}", flush=True)
            QTimer.singleShot(0, QApplication.quit)

        demo_preparation.data_prepared.connect(report_ready)
    else:
        QTimer.singleShot(0, QApplication.quit)


def run_app(args, *, demo_server: Future[EmbeddedPostgres] | None = None,
            log_path: Path | None = None, interrupted: threading.Event | None = None) -> int:
    """The app. ``demo_server``: the demo's embedded server, started by the command line
    before Qt was loaded (it is opened instead of starting one); ``log_path``: the log file
    the command line set up (:func:`desktop.log_file.set_up_logging`); ``interrupted``: set
    by the command line's handler on a Ctrl+C or SIGTERM that came while the app loaded (it
    then ends as soon as it can, as when its window is closed)."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("PlatformAdmin")
    app.setApplicationName("Platform Admin")
    # Collections on the GUI thread only: a worker collecting a QObject deadlocks PySide.
    garbage_collector = GarbageCollector(app)
    favour_gui_thread()  # workers running Python hand the GIL back within 0.5 ms
    if STYLE.exists():
        app.setStyleSheet(STYLE.read_text())
    settings = QSettings()
    signal_timer = _quit_on_signals(app)  # noqa: F841 - kept alive for the app's lifetime
    if interrupted is not None and interrupted.is_set():  # Ctrl+C while the app loaded
        QTimer.singleShot(0, lambda: _end_app(app))
    runner = OperationRunner(app)
    _install_crash_handler(runner)

    dialog = StartDialog(runner, settings, demo_users=args.demo_users,
                         stripe_api_base=getattr(args, "stripe_api_base", None),
                         demo_server=demo_server)
    url = args.database_url or database_url_from_env()
    # What a person at the terminal needs: how to stop it (said once the dialog waits).
    where = f" (log: {log_path})" if log_path else ""
    QTimer.singleShot(0, lambda: print(
        f"Platform Admin is open{where}; close its window or press Ctrl+C here to quit.",
        file=sys.stderr, flush=True))
    if args.demo:
        dialog.open_demo()
    elif url:
        dialog.open_url(url)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.backend is None:
        runner.cancel_all()
        runner.wait_for_done(30_000)
        app.processEvents()  # an opening that finished meanwhile: its backend is discarded
        dialog.discard()
        return 0
    backend = dialog.backend
    database = Database(backend, runner)
    refund_recovery = RefundRecovery(database)
    demo_preparation = DemoPreparation(database)
    window = MainWindow(database, settings, refund_recovery=refund_recovery,
                        demo_preparation=demo_preparation)
    window.show()
    garbage_collector.freeze()  # what exists now lives as long as the app: short GC pauses
    log.info("Opened %s", backend.label)
    # After the window is up: the demo's data, then its payments (its Stripe), then finish
    # refunds left open (the app may have died between Stripe's answer and the database
    # update) and check pending ones periodically.
    subscription_recovery = SubscriptionRecovery(database)
    subscription_recovery.status_reported.connect(
        lambda text: window.statusBar().showMessage(text, 15_000))
    demo_preparation.finished.connect(lambda _: refund_recovery.start())
    demo_preparation.finished.connect(lambda _: subscription_recovery.start())

    def on_window_exposed() -> None:  # the data is made once the window is on the screen
        _report_window_shown(demo_preparation)
        QTimer.singleShot(0, demo_preparation.start)

    _FirstExposure(window, on_window_exposed)
    QTimer.singleShot(1_000, demo_preparation.start)  # a window left unexposed (elsewhere)
    try:
        return app.exec()
    finally:
        database.close()
