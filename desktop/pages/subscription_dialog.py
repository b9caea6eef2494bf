"""The subscription dialog: cancel at period end, resume or cancel now, through Stripe.

The request id is made when the dialog opens: a double click on the button, or pressing it
again after Stripe could not be reached, carries the same id, so the service records one
request and the change is made once (the id is the Stripe call's idempotency key). The
subscription is read when the dialog opens; the outcome shows the row as Stripe left it.
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.subscriptions import ChangeSubscription
from data.services.subscriptions import (
    ACTIONS,
    ChangeResult,
    SubscriptionState,
    get_subscription,
    refusal,
)
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from widgets.banner import Banner
from widgets.dialogs import ActionDialog
from widgets.layouts import button_row

__all__ = ["SubscriptionDialog"]

CHOICES = {
    "cancel_at_period_end": ("Cancel at the end of the period",
                             "The customer keeps access until {end}; it then ends and is not "
                             "charged again."),
    "resume": ("Resume (undo the cancellation)",
               "The subscription renews on {end} as before."),
    "cancel_now": ("Cancel now",
                   "It ends at once: the customer loses access now. No refund is made."),
}


class SubscriptionDialog(ActionDialog):
    """Signals: subscription_changed(object): the :class:`ChangeResult`, once."""

    subscription_changed = Signal(object)
    STILL_WORKING = ("Stripe is making the change: this window shows its answer as soon as it "
                     "arrives.")

    def __init__(self, database: Database, subscription_id: uuid.UUID,
                 parent: QWidget | None = None, *, action: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Change subscription")
        self._db = database
        self.subscription_id = subscription_id
        self.request_id = uuid.uuid4()  # one per dialog: what makes a retry apply once
        self.state: SubscriptionState | None = None
        self.result: ChangeResult | None = None
        self._wanted = action
        self.summary = QLabel("Loading…")
        self.summary.setWordWrap(True)
        self.banner = Banner(error=True)
        self.choices = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        for key in ACTIONS:
            button = QRadioButton(CHOICES[key][0])
            button.setEnabled(False)
            self.buttons[key] = button
            self.choices.addButton(button)
            button.toggled.connect(self._update)
            layout.addWidget(button)
        self.explanation = QLabel("")
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)
        layout.addWidget(self.banner)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.apply_button = QPushButton("&Apply")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        database.rights.guard(self.apply_button, "subscriptions")
        layout.addLayout(button_row(self.close_button, self.apply_button))
        self.setMinimumWidth(460)
        database.read(get_subscription, subscription_id, on_success=self._on_loaded,
                      on_failure=lambda exc: present_error(self._db, exc, banner=self.banner),
                      context=self)

    @property
    def chosen(self) -> str | None:
        return next((k for k, b in self.buttons.items() if b.isChecked()), None)

    def _show_state(self, s: SubscriptionState) -> None:
        cancels = " · <b>cancels at period end</b>" if s.cancel_at_period_end else ""
        self.summary.setText(
            f"<b>{html.escape(s.customer_email)}</b> — {html.escape(s.tier_name)}, "
            f"{s.billing_period}<br>Status <b>{s.status}</b>{cancels} · current period "
            f"{format_value(s.current_period_start)} – {format_value(s.current_period_end)}"
            f"<br>Stripe {html.escape(s.stripe_subscription_id)}")
        self.adjustSize()  # the summary grew from "Loading…": make room for all its lines

    def _on_loaded(self, state: SubscriptionState) -> None:
        self.state = state
        self._show_state(state)
        for key, button in self.buttons.items():
            why = refusal(state, key)
            button.setEnabled(why is None and self.result is None)
            button.setToolTip(why or "")
        if self._wanted and self.buttons[self._wanted].isEnabled():
            self.buttons[self._wanted].setChecked(True)
        self._update()

    def _update(self, *_args) -> None:
        key = self.chosen
        if key and self.state is not None:
            self.explanation.setText(CHOICES[key][1].format(
                end=format_value(self.state.current_period_end)))
        self.apply_button.setEnabled(key is not None and not self.working and self.result is None)

    def apply(self) -> None:
        """Ask Stripe for the chosen change (once per dialog, whatever the clicks)."""
        key = self.chosen
        if key is None or self.working or self.result is not None:
            return
        self.set_working(True)
        self._update()
        self.banner.setVisible(False)
        self.explanation.setText("Asking Stripe…")
        self._db.pay(ChangeSubscription(self.request_id, self.subscription_id, key),
                     on_success=self._on_changed, on_failure=self._on_failed, context=self)

    def _on_changed(self, result: ChangeResult) -> None:
        self.set_working(False)
        self.result = result
        self._show_state(result.subscription)
        for button in self.buttons.values():
            button.setEnabled(False)
        done = "Done" if result.status == "succeeded" else "Stripe refused"
        self.explanation.setText(f"<b>{done}.</b> {html.escape(result.message or '')}")
        self._update()
        self.close_button.setText("Close")
        self.subscription_changed.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self.set_working(False)
        self.explanation.setText("Nothing was changed. Press Apply to try again: the change "
                                 "is made once, however often you press it.")
        self._update()
        present_error(self._db, exc, banner=self.banner)

    def still_working(self, text: str) -> None:
        # Closing now would hide whether Stripe made the change: stay until it answers.
        self.explanation.setText(html.escape(text))
