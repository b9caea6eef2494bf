"""Bulk grant: the same number of tokens to many customers, confirmed with the total and
resumable after a cancel (Token balances' "Bulk grant…")."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.credits import CreateBulkGrant, RunBulkGrant
from data.queries.credits import BalanceFilter, BalanceRow
from data.services.credits import MAX_ADJUSTMENT, customer_ids_matching
from desktop.database import Database
from desktop.present_error import present_error
from widgets.amount_field import AmountField
from widgets.dialogs import ProgressDialog, ask
from widgets.latest import LatestRequest
from widgets.message_line import MessageLine


def _describe_filter(flt: BalanceFilter) -> str:
    parts = []
    if flt.search.strip():
        parts.append(f"matching “{flt.search.strip()}”")
    if flt.active_from or flt.active_to:
        parts.append(f"with activity from {flt.active_from} to {flt.active_to}")
    return "Everyone in the list " + (", ".join(parts) if parts else "(every token balance)")


class BulkGrantDialog(QDialog):
    """Grant the same number of tokens to many customers, resumable after a cancel.

    Each customer's grant is keyed by (bulk id, customer): running the same bulk again
    (Resume) grants only those not granted yet.
    """

    def __init__(self, database: Database, *, selected: BalanceRow | None, flt: BalanceFilter,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Bulk grant tokens")
        self.setMinimumWidth(460)
        self._db = database
        self._filter = flt
        self._selected = selected
        # Created when the dialog opens, like an adjustment's request id: a retried "Grant"
        # finds the same bulk instead of creating a second one.
        self.planned_bulk_id = uuid.uuid4()
        self.bulk_id: uuid.UUID | None = None
        self.customer_ids: list[uuid.UUID] | None = None
        self.result_ = None
        # Which "who" request is current: a late answer for an earlier choice is dropped
        # (the filter's 26 customers once replaced "the selected customer").
        self._scope = LatestRequest()
        self.confirmation = None

        self.only_selected = QRadioButton(
            f"The selected customer ({selected.email})" if selected else "The selected customer")
        self.only_selected.setEnabled(selected is not None)
        self.matching = QRadioButton(_describe_filter(flt))
        (self.only_selected if selected else self.matching).setChecked(True)
        self.count_label = QLabel("")
        self.amount = AmountField(
            maximum=MAX_ADJUSTMENT, unit="tokens",
            minus_message="A bulk grant only adds tokens: to remove some, use Adjust tokens "
                          "on one customer.")
        self.amount.line_edit.setPlaceholderText(
            f"tokens for each customer, at most {MAX_ADJUSTMENT:,}")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required), e.g. 'Outage compensation, 12 Nov'")
        self.message = MessageLine()
        form = QFormLayout()
        form.addRow("Who", self.only_selected)
        form.addRow("", self.matching)
        form.addRow("", self.count_label)
        amount_label = QLabel("A&mount each")
        amount_label.setBuddy(self.amount.line_edit)
        form.addRow(amount_label, self.amount)
        form.addRow("Rea&son", self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.run_button = self.buttons.addButton("Grant…", QDialogButtonBox.ButtonRole.ActionRole)
        database.rights.guard(self.run_button, "adjust_tokens")
        # Return in a field must not press Grant (nor Close): only a click or Space does,
        # and Grant only asks; the confirmation's default is Cancel.
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        self.run_button.clicked.connect(self.run)
        self.amount.value_changed.connect(lambda _v: self._update_run_button())
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        for w in (self.only_selected, self.matching):
            w.toggled.connect(self._on_scope_toggled)
        self._on_scope_toggled()

    def keyPressEvent(self, event) -> None:
        # Return/Enter never act here (QDialog would press a default button): the grant
        # starts only from the Grant button and its confirmation.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)

    def _update_run_button(self) -> None:
        if self.bulk_id is not None:
            return
        self.run_button.setEnabled(self.customer_ids is not None and bool(self.customer_ids)
                                   and self.amount.value() is not None
                                   and self.confirmation is None)

    def _on_scope_toggled(self, *_args) -> None:
        if self.bulk_id is not None:
            return
        on_loaded, on_failed = self._scope.wrap(self._on_ids_loaded, self._on_ids_failed)
        self.customer_ids = None
        self._update_run_button()
        if self.only_selected.isChecked() and self._selected is not None:
            on_loaded([self._selected.customer_id])
            return
        self.count_label.setText("Counting…")
        self._db.read(customer_ids_matching, self._filter, on_success=on_loaded,
                      on_failure=on_failed, context=self)

    def _on_ids_loaded(self, ids: list[uuid.UUID]) -> None:
        if self.bulk_id is not None:
            return  # the plan is fixed: no answer changes who gets the grant
        self.customer_ids = ids
        self.count_label.setText(f"<b>{len(ids):,}</b> customer(s) will get the grant.")
        self._update_run_button()

    def _on_ids_failed(self, exc: BaseException) -> None:
        self.count_label.setText("")
        self._on_failed(exc)
        self._update_run_button()

    def run(self) -> None:
        """Ask to confirm the total, then create the bulk and run it; after a cancel, run
        the same bulk again (Resume: nobody is granted twice, so no new question)."""
        if self.bulk_id is not None:
            self._start_run()
            return
        if self.customer_ids is None or self.confirmation is not None:
            return
        amount = self.amount.value()
        if amount is None:
            self.amount.setText(self.amount.text())  # the field's message, as an error
            self.amount.setFocus()
            return
        ids, reason = list(self.customer_ids), self.reason.text()
        n = len(ids)
        self.run_button.setEnabled(False)
        self.confirmation = ask(
            self, title="Confirm the bulk grant",
            text=f"Grant {amount:,} tokens to each of {n:,} customer{'s' if n != 1 else ''}: "
                 f"{amount * n:,} tokens in all?",
            informative=f"Reason: {reason.strip() or '(none)'}",
            confirm_label=f"Grant {amount * n:,} tokens",
            on_confirmed=lambda: self._on_confirmation_answered(ids, amount, reason, True),
            on_declined=lambda: self._on_confirmation_answered(ids, amount, reason, False))

    def _on_confirmation_answered(self, ids: list[uuid.UUID], amount: int, reason: str,
                                  confirmed: bool) -> None:
        self.confirmation = None
        # What was confirmed is what is granted: if anything changed meanwhile, ask again.
        if confirmed and ids == self.customer_ids and amount == self.amount.value() \
                and reason == self.reason.text():
            self._create(ids, amount, reason)
        else:
            self._update_run_button()

    def _create(self, ids: list[uuid.UUID], amount: int, reason: str) -> None:
        if self.bulk_id is None:
            self.run_button.setEnabled(False)
            self.customer_ids = ids
            self._scope.supersede()  # nothing answered from now on replaces the plan
            self._db.perform(CreateBulkGrant(amount, reason, tuple(ids), self.planned_bulk_id),
                             on_success=self._on_bulk_created, on_failure=self._on_failed,
                             context=self)
        else:
            self._start_run()

    def _on_bulk_created(self, bulk_id: uuid.UUID) -> None:
        self.bulk_id = bulk_id
        for w in (self.only_selected, self.matching, self.amount, self.reason):
            w.setEnabled(False)
        self._start_run()

    def _start_run(self) -> None:
        self.run_button.setEnabled(False)
        handle = self._db.perform_in_batches(
            RunBulkGrant(self.bulk_id, tuple(self.customer_ids)),
            on_success=self._on_run_finished, on_failure=self._on_failed, context=self)
        self.progress = ProgressDialog(self, title="Bulk grant", label="Granting tokens…")
        self.progress.attach(handle)

    def _on_run_finished(self, result) -> None:
        self.result_ = result
        self.run_button.setEnabled(result.stopped)
        self.run_button.setText("Resume" if result.stopped else "Grant…")
        done = result.granted + result.already_granted + result.missing
        missing = (f" {result.missing:,} customer(s) no longer exist and were skipped."
                   if result.missing else "")
        if result.stopped:
            self.message.setText(
                f"Stopped after {done:,} of {result.total:,} customers. Resume grants the "
                "rest; nobody is granted twice." + missing)
        else:
            self.message.setText(
                f"Done: {result.granted:,} customers granted"
                + (f", {result.already_granted:,} already had this grant" if
                   result.already_granted else "") + "." + missing)

    def _on_failed(self, exc: BaseException) -> None:
        self.run_button.setEnabled(True)
        self._update_run_button()
        present_error(self._db, exc, fields=self._show_field_errors, banner=self._show_error)

    def _show_field_errors(self, errors: dict) -> None:
        self._show_error("; ".join(v if k is None else f"{k.capitalize()}: {v}"
                                   for k, v in errors.items()))

    def _show_error(self, text: str) -> None:
        self.message.say_error(text)
