"""Grant this period's credits by hand: support's fix when the platform missed a
subscription's monthly grant.

The dialog reads the subscription's current period and says whether its credits were already
granted (by the platform, or by hand: then it refuses with that sentence). Grant asks for a
confirmation stating the number of tokens, then writes one ``earned_subscription`` ledger row
through the database (once per period: the request id, made when the dialog opens, makes a
double click or a retry answer the first result; another dialog is refused).
"""

from __future__ import annotations

import dataclasses
import html
import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConnectionLostError
from data.operations.period_credits import GrantPeriodCredits
from data.services.period_credits import (
    PeriodAlreadyGrantedError,
    PeriodCreditState,
    PeriodGrantResult,
    get_period_credit_state,
)
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from widgets.dialogs import ask
from widgets.layouts import button_row
from widgets.message_line import MessageLine

__all__ = ["PeriodCreditsDialog"]


class PeriodCreditsDialog(QDialog):
    """Signals: granted(object): the :class:`PeriodGrantResult`, once."""

    granted = Signal(object)

    def __init__(self, database: Database, subscription_id: uuid.UUID,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Grant this period's credits")
        self.setMinimumWidth(480)
        self._db = database
        self.subscription_id = subscription_id
        self.request_id = uuid.uuid4()  # one per dialog: what makes a retry apply once
        self.state: PeriodCreditState | None = None
        self.result: PeriodGrantResult | None = None
        self.confirmation: QMessageBox | None = None
        self._busy = False
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.platform = QLabel("")
        self.platform.setWordWrap(True)
        self.message = MessageLine()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.grant_button = QPushButton("&Grant…")
        self.grant_button.setEnabled(False)
        self.grant_button.clicked.connect(self.grant)
        database.rights.guard(self.grant_button, "period_credits")
        buttons = button_row(self.close_button, self.grant_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.platform)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(buttons)
        database.read(get_period_credit_state, subscription_id, on_success=self._on_loaded,
                      on_failure=self._show_failure, context=self)

    def _show_summary(self, s: PeriodCreditState) -> None:
        expiry = ("They roll over." if s.credit_rollover else
                  f"They expire at the period's end ({format_value(s.current_period_end)}).")
        self.summary.setText(
            f"<b>{html.escape(s.customer_email)}</b> — {html.escape(s.tier_name)}, status "
            f"<b>{html.escape(s.status)}</b><br>Current period "
            f"{format_value(s.current_period_start)} – {format_value(s.current_period_end)}"
            f"<br>The tier grants <b>{s.monthly_credits:,}</b> credits a period. {expiry}"
            f"<br>Current balance: {s.balance:,} tokens")

    def _on_loaded(self, s: PeriodCreditState) -> None:
        self.state = s
        self._show_summary(s)
        if s.platform_granted_at is not None:
            granted = (f"<b>Yes</b>: {s.platform_granted_amount or 0:,} tokens on "
                       f"{format_value(s.platform_granted_at)}.")
        else:
            granted = "<b>No</b>: no subscription credits since the period began."
        self.platform.setText(f"Platform granted this period: {granted}")
        why = s.refusal
        if why is not None:
            self._say_error(why)
        else:
            self.grant_button.setText(f"&Grant {s.monthly_credits:,} tokens…")
            self.message.setText("One <i>Subscription credits</i> line is added to the "
                                 "customer's ledger; a period is granted once.")
        self.grant_button.setEnabled(why is None)
        self.adjustSize()

    def grant(self) -> None:
        """Ask, naming the tokens; then grant (once per dialog, whatever the clicks)."""
        s = self.state
        if s is None or s.refusal is not None or self._busy or self.result is not None \
                or self.confirmation is not None:
            return
        self.grant_button.setEnabled(False)
        self.confirmation = ask(
            self, title="Grant this period's credits",
            text=f"Grant {s.monthly_credits:,} tokens to {s.customer_email} for the period "
                 f"from {format_value(s.current_period_start)}? The balance goes from "
                 f"{s.balance:,} to {s.balance + s.monthly_credits:,}.",
            informative="Only when the platform missed this period's grant: a period is "
                        "granted once.",
            confirm_label=f"Grant {s.monthly_credits:,} tokens",
            on_confirmed=lambda: self._answered(True),
            on_declined=lambda: self._answered(False))

    def _answered(self, confirmed: bool) -> None:
        self.confirmation = None
        if confirmed:
            self._apply()
        else:
            self.grant_button.setEnabled(self.result is None)

    def _apply(self) -> None:
        assert self.state is not None
        self._busy = True
        self.grant_button.setEnabled(False)
        self.message.say("Granting…")
        self._db.perform(GrantPeriodCredits(self.request_id, self.subscription_id,
                                            self.state.current_period_start),
                         on_success=self._on_granted, on_failure=self._show_failure,
                         context=self)

    def _on_granted(self, result: PeriodGrantResult) -> None:
        self._busy = False
        self.result = result
        self.grant_button.setEnabled(False)
        self.message.setText(
            f"<b>Done</b>: {result.amount:+,} tokens, balance {result.balance_before:,} → "
            f"<b>{result.balance_after:,}</b>.")
        if self.state is not None:  # the balance as the grant left it
            self._show_summary(dataclasses.replace(self.state, balance=result.balance_after))
        self.granted.emit(result)

    def _say_error(self, text: str) -> None:
        self.message.say_error(text)

    def _show_failure(self, exc: BaseException) -> None:
        self._busy = False
        final = isinstance(exc, PeriodAlreadyGrantedError) or self.state is None
        self.grant_button.setEnabled(not final and self.state is not None
                                     and self.state.refusal is None)
        retry = (" Press Grant to try again: the credits will not be granted twice."
                 if isinstance(exc, ConnectionLostError) else "")
        present_error(self._db, exc, banner=lambda text: self._say_error(text + retry))
