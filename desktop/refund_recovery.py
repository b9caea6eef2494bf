"""Finishing open refunds off the GUI thread: once after the window opens (the app may have
died between Stripe's answer and the database update), then every few minutes (Stripe
refunds that were ``pending``, and requests left open when Stripe was unreachable)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from data.db import explain_connection_error, is_connection_error
from data.errors import DomainError
from desktop.database import Database

if TYPE_CHECKING:  # the refund service and the models load once the first check runs,
    # after the window is shown
    from data.services.refunds import RefundOutcome

log = logging.getLogger(__name__)
CHECK_INTERVAL_MS = 5 * 60_000


class RefundRecovery(QObject):
    """Asks Stripe about every open refund request and finishes it, on the serial worker.

    Signals:
        refunds_checked(list): the outcomes (list of RefundOutcome) of one check that found
            open requests; views of refunds, purchases and bookings may reload.
        status_reported(str): one plain-words line for the status bar.
    """

    refunds_checked = Signal(list)
    status_reported = Signal(str)

    def __init__(self, database: Database, parent: QObject | None = None,
                 interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self._db = database
        self._busy = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check_now)

    def start(self) -> None:
        """Check once as soon as the event loop runs, then periodically. Without a Stripe
        gateway, report why refunds are disabled instead."""
        if self._db.gateway is None:
            notes = self._db.backend.stripe_notes
            if notes:
                self.status_reported.emit(notes[-1])
            return
        QTimer.singleShot(0, self.check_now)
        self.timer.start()

    def check_now(self) -> None:
        if self._busy or self._db.gateway is None:
            return
        self._busy = True
        from data.operations.refunds import FinishOpenRefunds

        self._db.pay(FinishOpenRefunds(), on_success=self._on_checked,
                     on_failure=self._on_check_failed, context=self)

    def _on_checked(self, outcomes: list[RefundOutcome]) -> None:
        self._busy = False
        if outcomes:
            from data.services.refunds import summarize_outcomes

            self.status_reported.emit(summarize_outcomes(outcomes))
            self.refunds_checked.emit(outcomes)

    def _on_check_failed(self, exc: BaseException) -> None:
        self._busy = False
        if is_connection_error(exc):
            why = explain_connection_error(exc)
        elif isinstance(exc, DomainError):
            why = str(exc)
        else:  # a bug: the details go to the log, not a driver's text to the status bar
            log.error("Checking open refunds failed", exc_info=exc)
            why = f"an unexpected error ({type(exc).__name__}; details in the log)"
        self.status_reported.emit(f"Open refunds could not be checked: {why.rstrip('.')}.")
