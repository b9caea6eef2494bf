"""The demo's work behind the main window (the window opens first, on an empty server): its
schema and data on the writes queue, then its payments on the payments queue. Until the data
is there every page says so instead of loading; until the payments are made, the pages that
show payments say that."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from data.errors import DomainError
from desktop.database import Database
from desktop.startup import prepare_demo_data, prepare_demo_payments
from widgets.operations import PAYMENTS_QUEUE

log = logging.getLogger(__name__)
PREPARING_DATA = "Preparing demo data…"
PREPARING = "Preparing demo payments… refunds are possible once they are made in the demo's Stripe."


class DemoPreparation(QObject):
    """Runs :func:`desktop.startup.prepare_demo_data`, then
    :func:`desktop.startup.prepare_demo_payments`, once each, off the GUI thread.

    Signals:
        progressed(str): a status line while the data or the payments are made.
        data_prepared(str): the schema and data are there (empty), or one sentence saying
            why the demo could not be made (then nothing more follows).
        finished(str): the payments are done; empty, or one sentence saying what went wrong
            (the demo runs on, refunds disabled).
    """

    progressed = Signal(str)
    data_prepared = Signal(str)
    finished = Signal(str)

    def __init__(self, database: Database, parent: QObject | None = None):
        super().__init__(parent)
        self._db = database
        self.preparing_data = database.backend.demo_data is not None
        self.preparing = database.backend.demo_payments is not None
        self.data_failure = ""
        """Why the demo's data could not be made (the pages then say it instead of loading)."""
        self.failure = ""
        """Why the demo's payments could not be made (refunds are then disabled)."""
        self._started = False

    @property
    def data_ready(self) -> bool:
        """The database may be queried: its schema and data are there."""
        return not self.preparing_data and not self.data_failure

    def start(self) -> None:
        """Start preparing: the data first (on the writes queue, so a write asked for
        meanwhile waits behind it), then the payments. Emits at once what there is nothing
        to prepare for. Only the first call starts anything."""
        if self._started:
            return
        self._started = True
        if not self.preparing_data:
            self._start_payments()
            return
        backend = self._db.backend

        def work(ctx):
            def report(done: int, total: int | None, message: str) -> None:
                ctx.check_cancelled()  # the window was closed: stop between stages
                ctx.report_progress(done, total, message)

            prepare_demo_data(backend, report)

        self._db.runner.run(work, cancellable=True, serial=True,
                            on_success=self._on_data_prepared, on_failure=self._on_data_failed,
                            on_progress=self._on_data_progress, context=self)

    def _on_data_progress(self, done: int, total: int | None, message: str) -> None:
        counted = f", {done:,} of {total:,}" if total else ""
        self.progressed.emit(f"{PREPARING_DATA} {message}{counted}")

    def _on_data_prepared(self, _result: object) -> None:
        self.preparing_data = False
        self.data_prepared.emit("")
        self._start_payments()

    def _on_data_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, DomainError):
            log.error("Preparing the demo's data failed", exc_info=exc)
        self.preparing_data = False
        self.preparing = False
        self.data_failure = (f"The demo's data could not be made ({exc}). "
                             "Quit and start the demo again.")
        self.data_prepared.emit(self.data_failure)

    def _start_payments(self) -> None:
        if not self.preparing:
            self.finished.emit("")
            return
        backend = self._db.backend

        def work(ctx):
            return prepare_demo_payments(
                backend, lambda done, total: ctx.report_progress(done, total, ""),
                lambda: ctx.cancelled)

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
