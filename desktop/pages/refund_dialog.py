"""The refund dialog: refund a purchase or an offering booking through Stripe.

Three steps on one window: the form (amount, reason, note), a confirmation that says in
plain words what will happen, and the outcome. The request id is created when the dialog
opens: a double click on "Refund", or Retry after a timeout, carries the same id, so the
service records one request and Stripe refunds once (the id becomes the idempotency key).
"""

from __future__ import annotations

import html
import uuid
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConflictError, ConnectionLostError, ValidationError
from data.operations.refunds import RefundPurchase, RetryRefund
from data.services.refunds import (
    OPEN_STATUSES,
    REFUND_REASON_LABELS,
    REFUND_REASONS,
    Refundable,
    RefundInput,
    RefundOutcome,
    describe_refund,
    load_refundable,
    validate_refund,
)
from desktop.database import Database
from desktop.formatting import format_money
from desktop.present_error import present_error
from widgets.banner import ERROR_STYLE
from widgets.dialogs import ActionDialog
from widgets.form_rows import FormRows
from widgets.layouts import button_row
from widgets.message_line import MessageLine, grow_to_fit

PENDING_HINT = "Stripe is still processing; the Refunds tab will update it."
KIND_LABELS = {"purchase": "purchase", "booking": "booking"}


def _esc(text: str) -> str:
    """Text for a rich-text label (quotes stay quotes)."""
    return html.escape(text, quote=False)


def _plain_amount(amount: Decimal) -> str:
    """The amount as typed into the field: no thousands separators, two decimals."""
    return f"{amount:.2f}"


def _lay_out_step(page: QWidget, body: list[QWidget | QLayout],
                  buttons: list[QPushButton]) -> None:
    """One step of the dialog: its content on top, its buttons at the bottom right."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in body:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    layout.addStretch()
    layout.addLayout(button_row(*buttons))


class RefundDialog(ActionDialog):
    """Refund one purchase or booking, after a confirmation that lists what will happen.

    Signals:
        refund_finished(object): the :class:`RefundOutcome` Stripe's answer led to
            (succeeded, pending or failed); emitted once per answer.
    """

    refund_finished = Signal(object)
    STILL_WORKING = "The refund is with Stripe: this window shows its answer as soon as it arrives."

    FORM, CONFIRM, OUTCOME = range(3)

    def __init__(self, database: Database, kind: str, target_id: uuid.UUID,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Refund " + KIND_LABELS.get(kind, kind))
        self.setMinimumWidth(500)
        self._db = database
        self.kind = kind
        self.target_id = target_id
        self.request_id = uuid.uuid4()
        self.refundable: Refundable | None = None
        self.refund: RefundInput | None = None
        self.outcome: RefundOutcome | None = None
        self.heading = QLabel("Loading…")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_form())
        self.stack.addWidget(self._build_confirmation())
        self.stack.addWidget(self._build_outcome())
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.message = MessageLine(hide_when_empty=True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.stack)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        self._set_form_enabled(False)
        self.review_button.setEnabled(False)
        self._show_step(self.FORM)

        self._db.read(load_refundable, kind, target_id, on_success=self._on_refundable_loaded, on_failure=self._on_load_failed,
                      context=self)

    # -- building ------------------------------------------------------------------------
    def _build_form(self) -> QWidget:
        page = QWidget()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.refusal = QLabel("")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(ERROR_STYLE)
        self.refusal.setVisible(False)
        # No maxLength on either field: Qt would cut a pasted value silently; what is pasted
        # is what is shown, and the service's message says what is too long or too much.
        self.amount = QLineEdit()
        self.amount.setMaximumWidth(160)
        self.currency = QLabel("")
        self.reason = QComboBox()
        for value in REFUND_REASONS:
            self.reason.addItem(REFUND_REASON_LABELS[value], value)
        self.note = QLineEdit()
        self.reason.currentIndexChanged.connect(self._on_reason_changed)
        amount_cell = QWidget()
        amount_row = QHBoxLayout(amount_cell)
        amount_row.setContentsMargins(0, 0, 0, 0)
        amount_row.addWidget(self.amount)
        amount_row.addWidget(self.currency)
        amount_row.addStretch()

        self.fields = FormRows()
        self.fields.add_row("amount", "A&mount", amount_cell, focus=self.amount)
        self.amount.setAccessibleName("Amount")
        self.fields.add_row("reason", "&Reason", self.reason)
        self.fields.add_row("note", "&Note", self.note)
        self.amount_error = self.fields.error_label("amount")
        self.reason_error = self.fields.error_label("reason")
        self.note_error = self.fields.error_label("note")

        self.cancel_button = QPushButton("Cancel")
        self.review_button = QPushButton("Re&view refund…")
        self.cancel_button.clicked.connect(self.reject)
        self.review_button.clicked.connect(self.review)
        self._db.rights.guard(self.review_button, "refund")
        _lay_out_step(page, [self.summary, self.refusal, self.fields],
                      [self.cancel_button, self.review_button])
        self._on_reason_changed()
        return page

    def _build_confirmation(self) -> QWidget:
        page = QWidget()
        self.confirm_text = QLabel("")
        self.confirm_text.setWordWrap(True)
        self.confirm_text.setTextFormat(Qt.TextFormat.RichText)
        self.back_button = QPushButton("&Go back")
        self.refund_button = QPushButton("&Refund")
        self.back_button.clicked.connect(self.go_back)
        self.refund_button.clicked.connect(self.submit)
        self._db.rights.guard(self.refund_button, "refund")
        # Money leaves with this button: a reflexive Return after "Review" must not press it,
        # so Go back is the default (as widgets.dialogs.confirm does for destructive actions).
        self.refund_button.setAutoDefault(False)
        _lay_out_step(page, [self.confirm_text], [self.back_button, self.refund_button])
        return page

    def _build_outcome(self) -> QWidget:
        page = QWidget()
        self.outcome_text = QLabel("")
        self.outcome_text.setWordWrap(True)
        self.outcome_text.setTextFormat(Qt.TextFormat.RichText)
        self.outcome_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Re&try")
        self.close_button = QPushButton("&Close")
        self.retry_button.clicked.connect(self.retry)
        self._db.rights.guard(self.retry_button, "refund")
        self.close_button.clicked.connect(self.accept)
        _lay_out_step(page, [self.outcome_text], [self.retry_button, self.close_button])
        return page

    # -- state ---------------------------------------------------------------------------
    def _show_step(self, step: int) -> None:
        """Show a step; its main button takes Return. On the confirmation that is Go back:
        money leaves only by pressing Refund itself, never by a reflexive second Return."""
        self.stack.setCurrentIndex(step)
        default = {self.FORM: self.review_button, self.CONFIRM: self.back_button,
                   self.OUTCOME: self.close_button}[step]
        default.setDefault(True)
        grow_to_fit(self)

    @property
    def is_busy(self) -> bool:
        """True while the refund is with the worker (Stripe or the database)."""
        return self.working

    @property
    def step(self) -> int:
        """FORM, CONFIRM or OUTCOME."""
        return self.stack.currentIndex()

    def error_text(self, field: str) -> str:
        """The message shown under ``field`` ("amount", "reason", "note"), or ""."""
        return self.fields.error_text(field)

    def _set_form_enabled(self, enabled: bool) -> None:
        for w in (self.amount, self.reason, self.note):
            w.setEnabled(enabled)

    def _set_busy(self, busy: bool) -> None:
        self.set_working(busy)
        self.busy.setVisible(busy)
        for b in (self.back_button, self.refund_button, self.retry_button, self.close_button):
            b.setEnabled(not busy)
        grow_to_fit(self)

    # -- loading -------------------------------------------------------------------------
    def _on_refundable_loaded(self, refundable: Refundable) -> None:
        self.refundable = refundable
        r = refundable
        self.heading.setText(f"<b>{_esc(r.title)}</b> — {_esc(r.customer_email)}")
        credits_only = r.amount_paid == 0 and r.credits_paid > 0
        facts = [] if credits_only else [f"Paid {format_money(r.amount_paid, r.currency)}"]
        if r.credits_paid:
            facts.append(f"paid {r.credits_paid:,} tokens" if credits_only
                         else f"{r.credits_paid:,} tokens")
        if r.refunded:
            facts.append(f"already refunded {format_money(r.refunded, r.currency)}")
        if not credits_only:
            facts.append(f"refundable now <b>{format_money(r.remaining, r.currency)}</b>")
        facts.append(f"status {_esc(r.status)}")
        self.summary.setText(" · ".join(facts))
        self.currency.setText(r.currency.upper())
        self.amount.setText(_plain_amount(r.remaining))
        if r.refusal:
            self.refusal.setText(r.refusal)
            self.refusal.setVisible(True)
            self.review_button.setEnabled(False)
            self.cancel_button.setText("&Close")
            self.cancel_button.setDefault(True)
            self.cancel_button.setFocus()
            return
        self._set_form_enabled(True)
        self.review_button.setEnabled(True)
        if credits_only:
            # No money moved: the booking is cancelled and its tokens come back.
            self.amount.setEnabled(False)
            self.amount.setToolTip("Paid with tokens only: no money to refund.")
            self.reason.setFocus()
        else:
            self.amount.selectAll()
            self.amount.setFocus()

    def _on_load_failed(self, exc: BaseException) -> None:
        present_error(self._db, exc, banner=self._show_refusal)

    def _show_refusal(self, text: str) -> None:
        self.heading.setText("Cannot refund this item")
        self.refusal.setText(text)
        self.refusal.setVisible(True)

    def _on_reason_changed(self, *_args) -> None:
        other = self.reason.currentData() == "other"
        self.note.setPlaceholderText("Required for “Other”: what happened" if other
                                     else "Optional: the customer's ticket, what happened")

    # -- steps ---------------------------------------------------------------------------
    def review(self) -> bool:
        """Check the input and show the confirmation; False (errors shown) if it is bad."""
        r = self.refundable
        if r is None or r.refusal or self.working:
            return False
        self.fields.clear_errors()
        self.message.say("")
        note = self.note.text().strip() or None
        try:
            refund = validate_refund(r, self.amount.text().strip(), self.reason.currentData(),
                                     note)
        except ValidationError as exc:
            self._show_field_errors(exc)
            return False
        self.refund = refund
        self._show_confirmation(r, refund)
        return True

    def _show_field_errors(self, exc: ValidationError) -> None:
        """Each message under its field (the first such field focused); one no field owns
        (the database's re-check) in the message line."""
        fields = ("amount", "reason", "note")
        self.fields.set_errors({k: v for k, v in exc.field_errors.items() if k in fields})
        unknown = [v for k, v in exc.field_errors.items() if k not in fields]
        if unknown:
            self.message.say_error("; ".join(unknown))
        grow_to_fit(self)

    def _show_confirmation(self, r: Refundable, refund: RefundInput) -> None:
        lines = describe_refund(r, refund)
        self.confirm_text.setText(
            "<p><b>This will happen when you press Refund:</b></p><ul>"
            + "".join(f"<li>{_esc(line)}</li>" for line in lines)
            + "</ul><p>This cannot be undone.</p>")
        if refund.amount > 0:
            self.refund_button.setText(f"&Refund {format_money(refund.amount, r.currency)}")
        else:
            self.refund_button.setText(f"&Cancel booking, return {r.credits_paid:,} tokens")
        self._show_step(self.CONFIRM)
        self.back_button.setFocus()

    def go_back(self) -> None:
        """From the confirmation back to the form, values kept."""
        if self.working:
            return
        self._show_step(self.FORM)
        self.amount.setFocus()

    def submit(self) -> None:
        """Send the confirmed refund (once: a second click while sending does nothing)."""
        if self.working or self.refund is None or self.outcome is not None:
            return
        self._run(RefundPurchase(self.kind, self.target_id, self.refund, self.request_id),
                  "Sending the refund to Stripe…")

    def retry(self) -> None:
        """Ask Stripe again about an open request, with its stored idempotency key."""
        if self.working or self.outcome is None:
            return
        self._run(RetryRefund(self.request_id, self.kind, self.target_id), "Asking Stripe again…")

    def _run(self, operation, text: str) -> None:
        self._set_busy(True)
        self.message.say(text)
        self._db.pay(operation, on_success=self._on_refund_answered,
                             on_failure=self._on_refund_failed, context=self)

    # -- answers -------------------------------------------------------------------------
    def _on_refund_answered(self, outcome: RefundOutcome) -> None:
        self._set_busy(False)
        self.outcome = outcome
        self.message.say("")
        r = self.refundable
        currency = r.currency if r is not None else "usd"
        if outcome.status == "succeeded":
            head = outcome.message or f"Refunded {format_money(outcome.amount, currency)}."
            style = "color: #1b5e20"
        elif outcome.status in OPEN_STATUSES:
            head = PENDING_HINT
            style = "color: #8a6d00"
        else:
            head = "The refund failed; nothing was changed."
            style = ERROR_STYLE
        parts = [f"<p style='{style}'><b>{_esc(head)}</b></p>"]
        if outcome.message and outcome.message != head:
            parts.append(f"<p>{_esc(outcome.message)}</p>")
        if outcome.stripe_refund_id:
            parts.append(f"<p>Stripe refund {_esc(outcome.stripe_refund_id)}</p>")
        self.outcome_text.setText("".join(parts))
        self.retry_button.setVisible(outcome.status in OPEN_STATUSES)
        self._show_step(self.OUTCOME)
        self.close_button.setFocus()
        self.refund_finished.emit(outcome)

    def _on_refund_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.message.say("")
        retry = (" Press Refund to try again: the customer will not be refunded twice."
                 if isinstance(exc, ConnectionLostError) else "")
        present_error(self._db, exc, fields=self._on_refused_fields,
                      on_conflict=self._on_request_already_used,
                      banner=lambda text: self.message.say_error(text + retry))

    def _on_refused_fields(self, field_errors: dict) -> None:
        # Re-checked in the database (e.g. another refund landed meanwhile).
        self._show_step(self.FORM)
        self._show_field_errors(ValidationError(field_errors))

    def _on_request_already_used(self, exc: ConflictError) -> None:
        # This dialog's request id already carries a refund: show where that one stands.
        if isinstance(exc.current, RefundOutcome):
            self._on_refund_answered(exc.current)
            self.message.say_error(str(exc))

    # -- closing -------------------------------------------------------------------------
    def still_working(self, text: str) -> None:
        # Escape or Close while the refund is with Stripe: it stays until Stripe answers.
        self.message.say(text)
