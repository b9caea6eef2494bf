"""The manual token adjustment dialog, opened from Token balances, the ledger and Users.

The request id is created when the dialog opens: a double click, a retry after a timeout or
a second submit all carry it, so the service applies the adjustment once and answers the
first result again.
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConnectionLostError
from data.operations.credits import AdjustBalance
from data.services.credits import MAX_ADJUSTMENT, AdjustmentResult, preview_adjustment
from desktop.database import Database
from desktop.present_error import present_error
from widgets.amount_field import AmountField
from widgets.dialogs import ask
from widgets.message_line import MessageLine, error_html, field_error_label, set_field_error

LARGE_ADJUSTMENT = 1_000
"""An adjustment above this many tokens asks for a confirmation first."""
LARGE_FACTOR = 10
"""So does adding more than this many times the customer's (non-zero) balance."""


def is_large_adjustment(amount: int, current: int | None) -> bool:
    """Whether ``amount`` (signed) is big enough that a slip would hurt: ask first."""
    if abs(amount) > LARGE_ADJUSTMENT:
        return True
    return amount > 0 and current is not None and current > 0 and amount > LARGE_FACTOR * current


class AdjustmentDialog(QDialog):
    """Add or remove tokens for one customer, with the new balance previewed.

    Signals:
        balance_adjusted(object): the :class:`AdjustmentResult` once applied (or replayed).
    """

    balance_adjusted = Signal(object)

    def __init__(self, database: Database, customer_id: uuid.UUID, customer_label: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Adjust tokens")
        self.setMinimumWidth(440)
        self._db = database
        self.customer_id = customer_id
        self.request_id = uuid.uuid4()
        self.current: int | None = None
        self.result_: AdjustmentResult | None = None

        self.add = QRadioButton("&Add tokens")
        self.remove = QRadioButton("&Remove tokens")
        self.add.setChecked(True)
        direction = QHBoxLayout()
        direction.addWidget(self.add)
        direction.addWidget(self.remove)
        direction.addStretch()
        # The service's limit (data.services.credits.MAX_ADJUSTMENT, alias of
        # MAX_ADJUSTMENT_TOKENS): refused with a message over it, never clamped.
        self.amount = AmountField(maximum=MAX_ADJUSTMENT, unit="tokens", minus_flips=True)
        self.minus_note = QLabel("")
        self.minus_note.setWordWrap(True)
        self.minus_note.setVisible(False)
        self.confirmation = None
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required; the customer's ticket, what happened)")
        self.reason.setMaxLength(500)
        self.amount_error = field_error_label()
        self.reason_error = field_error_label()
        self.current_label = QLabel("Current balance: loading…")
        self.preview = QLabel("")
        self.preview.setWordWrap(True)
        self.message = MessageLine()

        form = QFormLayout()
        form.addRow("Customer", QLabel(f"<b>{html.escape(customer_label)}</b>"))
        form.addRow("", self.current_label)
        form.addRow("", direction)
        amount_label = QLabel("A&mount")
        amount_label.setBuddy(self.amount.line_edit)
        form.addRow(amount_label, self.amount)
        form.addRow("", self.minus_note)
        form.addRow("", self.amount_error)
        form.addRow("Rea&son", self.reason)
        form.addRow("", self.reason_error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        database.rights.guard(self.apply_button, "adjust_tokens")
        self.apply_button.setDefault(True)  # a large amount still asks first (submit)
        self.apply_button.setEnabled(False)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        for w in (self.add, self.remove):
            w.toggled.connect(self._update_preview)
        self.amount.value_changed.connect(self._update_preview)
        self.amount.minus_typed.connect(self._on_amount_minus_typed)
        self.remove.toggled.connect(lambda on: None if on else self.minus_note.setVisible(False))
        self._db.read(preview_adjustment, customer_id, 0, on_success=self._on_current_loaded, on_failure=self._show_failure,
                      context=self)
        self.amount.setFocus()

    def signed_amount(self) -> int | None:
        """The amount with its direction, or None while the field refuses its text."""
        value = self.amount.value()
        if value is None:
            return None
        return value * (-1 if self.remove.isChecked() else 1)

    def _on_amount_minus_typed(self) -> None:
        self.remove.setChecked(True)
        self.minus_note.setText("The minus sign selected <b>Remove tokens</b>: type the number "
                                "of tokens to remove.")
        self.minus_note.setVisible(True)
        self.adjustSize()  # room for the note: it was cut off mid-sentence

    def _on_current_loaded(self, preview) -> None:
        self.current = preview.current
        self.current_label.setText(f"Current balance: <b>{preview.current:,}</b> tokens")
        self._update_preview()

    def _update_preview(self, *_args) -> None:
        if self.result_ is not None:
            return
        if self.current is None:
            self.apply_button.setEnabled(False)
            return
        amount = self.signed_amount()
        self.apply_button.setEnabled(amount is not None and self.confirmation is None)
        if amount is None:
            self.preview.setText("")
            return
        after = self.current + amount
        if after < 0:
            self.preview.setText(error_html(f"Removing {-amount:,} would leave {after:,}: "
                                            "the balance cannot go below zero."))
        else:
            self.preview.setText(
                f"New balance will be <b>{after:,}</b> tokens ({amount:+,}). "
                "One adjustment line is added to the ledger."
                + (" <b>A large amount: Apply asks you to confirm it.</b>"
                   if is_large_adjustment(amount, self.current) else ""))

    def submit(self) -> None:
        """Apply (or re-apply, with the same request id) the adjustment; a large one only
        once the confirmation that names it is accepted."""
        if self.result_ is not None or self.confirmation is not None:
            return
        amount = self.signed_amount()
        if amount is None:
            self.amount.setText(self.amount.text())  # shows the field's message as an error
            self.amount.setFocus()
            return
        if is_large_adjustment(amount, self.current):
            self._ask_to_confirm(amount)
            return
        self._apply(amount)

    def _ask_to_confirm(self, amount: int) -> None:
        verb = "Add" if amount > 0 else "Remove"
        after = (f" The balance goes from {self.current:,} to {self.current + amount:,}."
                 if self.current is not None else "")
        self.apply_button.setEnabled(False)
        self.confirmation = ask(
            self, title="Confirm a large adjustment",
            text=f"{verb} {abs(amount):,} tokens {'to' if amount > 0 else 'from'} this "
                 f"customer?{after}",
            informative="Check the amount: this is more than usual.",
            confirm_label=f"{verb} {abs(amount):,} tokens",
            on_confirmed=lambda: self._on_confirmation_answered(amount, True),
            on_declined=lambda: self._on_confirmation_answered(amount, False))

    def _on_confirmation_answered(self, amount: int, confirmed: bool) -> None:
        self.confirmation = None
        if confirmed and amount == self.signed_amount():
            self._apply(amount)
        else:
            self._update_preview()
            self.apply_button.setEnabled(self.signed_amount() is not None)

    def _apply(self, amount: int) -> None:
        for label in (self.amount_error, self.reason_error):
            label.setVisible(False)
        self.message.say("Applying…")
        self.apply_button.setEnabled(False)
        self._db.perform(AdjustBalance(self.customer_id, amount, self.reason.text(),
                                       self.request_id),
                         on_success=self._on_applied, on_failure=self._show_failure,
                         context=self)

    def _on_applied(self, result: AdjustmentResult) -> None:
        self.result_ = result
        self.message.setText(
            f"Done: {result.amount:+,} tokens, balance {result.balance_before:,} → "
            f"<b>{result.balance_after:,}</b>.")
        self.balance_adjusted.emit(result)
        self.accept()

    def _show_failure(self, exc: BaseException) -> None:
        self.apply_button.setEnabled(True)
        self.message.say("")
        retry = (" Press Apply to try again: the adjustment will not be applied twice."
                 if isinstance(exc, ConnectionLostError) else "")
        present_error(self._db, exc, fields=self._show_field_errors,
                      banner=lambda text: self.message.say_error(text + retry))

    def _show_field_errors(self, errors: dict) -> None:
        for field, label in (("amount", self.amount_error), ("reason", self.reason_error)):
            set_field_error(label, errors.get(field, ""))
        if None in errors:
            self.message.say_error(errors[None])
        (self.amount if "amount" in errors else self.reason).setFocus()
