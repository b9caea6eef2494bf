"""The demo's payments, made behind the main window on the payments queue (the window opens
first; pages that show payments say they are being prepared until this is done)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from data.errors import DomainError
from desktop.database import Database
from desktop.startup import prepare_demo_payments
from widgets.operations import PAYMENTS_QUEUE

log = logging.getLogger(__name__)
PREPARING = "Preparing demo payments… refunds are possible once they are made in the demo's Stripe."


class DemoPreparation(QObject):
    """Runs :func:`desktop.startup.prepare_demo_payments` once, off the GUI thread.

    Signals:
        progressed(str): a status line while the payments are made.
        finished(str): done; empty, or one sentence saying what went wrong (the demo runs
            on, refunds disabled).
    """

    progressed = Signal(str)
    finished = Signal(str)

    def __init__(self, database: Database, parent: QObject | None = None):
        super().__init__(parent)
        self._db = database
        self.preparing = database.backend.demo_payments is not None
        self.failure = ""

    def start(self) -> None:
        """Start preparing (on the payments queue, so a refund asked for meanwhile waits
        behind it); emits ``finished`` at once when there is nothing to prepare."""
        if not self.preparing:
            self.finished.emit("")
            return
        backend = self._db.backend

        def work(ctx):
            return prepare_demo_payments(
                backend, lambda done, total: ctx.report_progress(done, total, ""))

        self._db.runner.run(work, cancellable=True, serial=PAYMENTS_QUEUE,
                            on_success=self._on_prepared, on_failure=self._on_failed,
                            on_progress=self._on_progress, context=self)

    def _on_progress(self, done: int, total: int | None, _message: str) -> None:
        self.progressed.emit(f"Preparing demo payments… {done} of {total}")

    def _on_prepared(self, note: str | None) -> None:
        self.preparing = False
        self.failure = note or ""
        self.finished.emit(self.failure)

    def _on_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, DomainError):
            log.error("Preparing the demo's payments failed", exc_info=exc)
        self.preparing = False
        self.failure = (f"The demo's payments could not be prepared ({exc}); "
                        "refunds are disabled in this demo.")
        self.finished.emit(self.failure)
