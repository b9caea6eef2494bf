"""Finishing subscription changes left open, off the GUI thread, once after the window
opens: the app may have died between Stripe's answer to a cancel or resume and the database
update (as :mod:`desktop.refund_recovery` does for refunds)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from data.errors import DomainError
from desktop.database import Database

if TYPE_CHECKING:  # the subscription service loads once the first check runs
    from data.services.subscriptions import ChangeResult

log = logging.getLogger(__name__)


class SubscriptionRecovery(QObject):
    """Signals:
        status_reported(str): one plain-words line for the status bar (only when there was
            something to finish, or it failed).
        finished(object): ``(results, still_open)`` of the check.
    """

    status_reported = Signal(str)
    finished = Signal(object)

    def __init__(self, database: Database, parent: QObject | None = None):
        super().__init__(parent)
        self._db = database

    def start(self) -> None:
        if self._db.gateway is not None:
            QTimer.singleShot(0, self.check_now)

    def check_now(self) -> None:
        from data.operations.subscriptions import FinishOpenSubscriptionChanges

        self._db.pay(FinishOpenSubscriptionChanges(), on_success=self._on_checked,
                     on_failure=self._on_failed, context=self)

    def _on_checked(self, result: tuple[list[ChangeResult], list[str]]) -> None:
        done, still_open = result
        if done or still_open:
            text = f"Finished {len(done)} subscription change(s) left open"
            if still_open:
                text += f"; {len(still_open)} still open (Stripe unreachable)"
            self.status_reported.emit(text + ".")
        self.finished.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, DomainError):
            log.error("Finishing open subscription changes failed", exc_info=exc)
        self.status_reported.emit(f"Open subscription changes could not be finished: {exc}")
