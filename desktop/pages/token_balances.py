"""The Token balances page: balances and their ledger, manual adjustments, bulk grants, and
the ledger health check.

Tokens are money: every change goes through :mod:`data.services.credits` on the serial
write worker; the page only shows what the service answered.
"""

from __future__ import annotations

import html
import uuid
from functools import partial

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from data.errors import DomainError, ValidationError
from data.ledger_health import check_ledger
from data.queries.credits import (
    BalanceFilter,
    BalanceRow,
    count_balances,
    get_balance,
    list_balances_page,
    list_ledger_page,
)
from data.services.credits import (
    MAX_ADJUSTMENT,
    create_bulk_grant,
    customer_ids_matching,
    run_bulk_grant,
)
from desktop.database import Database
from desktop.pages.formatting import format_count, format_value
from desktop.pages.token_adjustment import ERROR_STYLE, AdjustmentDialog
from widgets.amount_field import AmountField
from widgets.dialogs import ProgressDialog, ask, show_error
from widgets.layouts import column, side_by_side
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.search_box import SearchBox

SEARCH_DELAY_MS = 250

BALANCE_COLUMNS = (
    Column("Email", value=lambda r: r.email, width=240),
    Column("Name", value=lambda r: r.full_name, width=170),
    Column("Balance", value=lambda r: r.current_balance, display=format_value, width=80,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Earned", value=lambda r: r.lifetime_earned, display=format_value, width=80,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Spent", value=lambda r: r.lifetime_spent, display=format_value, width=80,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Last change", value=lambda r: r.updated_at, display=format_value, width=130),
)

TYPE_LABELS = {
    "earned_subscription": "Subscription credits",
    "earned_purchase": "Bundle bought",
    "spent_offering": "Spent on a booking",
    "expired": "Expired",
    "adjustment": "Staff adjustment",
}


def _reference(line) -> str:
    if line.offering_booking_id:
        return f"booking {str(line.offering_booking_id)[:8]}"
    if line.subscription_id:
        return f"subscription {str(line.subscription_id)[:8]}"
    return ""


LEDGER_COLUMNS = (
    Column("Date", value=lambda r: r.created_at, display=format_value, width=130),
    Column("Type", value=lambda r: TYPE_LABELS.get(r.type, r.type), width=140),
    Column("Amount", value=lambda r: f"{r.amount:+,}", width=80,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Balance after", value=lambda r: r.balance_after, display=format_value, width=90,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Description", value=lambda r: r.description or "", width=220),
    Column("Reference", value=_reference, width=130),
    Column("Expires", value=lambda r: r.expires_at, display=format_value, width=110),
    Column("By", value=lambda r: r.actor or "", width=100),
)


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
        self._scope_generation = 0
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
        self.message = QLabel("")
        self.message.setWordWrap(True)
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
        self._scope_generation += 1
        generation = self._scope_generation
        self.customer_ids = None
        self._update_run_button()
        if self.only_selected.isChecked() and self._selected is not None:
            self._on_ids_loaded(generation, [self._selected.customer_id])
            return
        self.count_label.setText("Counting…")
        flt = self._filter
        self._db.read(lambda s: customer_ids_matching(s, flt),
                      on_success=partial(self._on_ids_loaded, generation),
                      on_failure=partial(self._on_ids_failed, generation), context=self)

    def _on_ids_loaded(self, generation: int, ids: list[uuid.UUID]) -> None:
        if generation != self._scope_generation or self.bulk_id is not None:
            return  # the answer for a choice that is no longer the current one
        self.customer_ids = ids
        self.count_label.setText(f"<b>{len(ids):,}</b> customer(s) will get the grant.")
        self._update_run_button()

    def _on_ids_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._scope_generation:
            return
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
            self._scope_generation += 1  # nothing answered from now on replaces the plan
            planned = self.planned_bulk_id
            self._db.write(lambda s, actor: create_bulk_grant(s, actor, amount, reason, ids,
                                                              bulk_id=planned),
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
        db, actor = self._db, self._db.actor
        bulk_id, ids = self.bulk_id, self.customer_ids

        def work(ctx):
            return run_bulk_grant(
                db.sessions(), actor, bulk_id, ids,
                progress=lambda done, total: ctx.report_progress(done, total, ""),
                should_stop=lambda: ctx.cancelled)

        handle = self._db.runner.run(work, cancellable=True, serial=True,
                                     on_success=self._on_run_finished,
                                     on_failure=self._on_failed, context=self)
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
        if isinstance(exc, ValidationError):
            text = "; ".join(f"{k.capitalize()}: {v}" for k, v in exc.field_errors.items())
        elif isinstance(exc, DomainError):
            text = str(exc)
        else:
            raise exc
        self.message.setText(f"<span style='{ERROR_STYLE}'>{text}</span>")


class TokenBalancesPage(QWidget):
    """Balances on the left (search, sort, activity range), the selected ledger on the right."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.search = SearchBox("Search customer email or name (Ctrl+F)…", delay_ms=SEARCH_DELAY_MS)
        self.sort = QComboBox()
        self.sort.addItem("Last change", "last_change")
        self.sort.addItem("Balance", "balance")
        self.active_only = QCheckBox("Activity from")
        today = QDate.currentDate()
        self.active_from = QDateEdit(today.addDays(-30))
        self.active_to = QDateEdit(today)
        for d in (self.active_from, self.active_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
        self.count_label = QLabel("")
        self.adjust_button = QPushButton("&Adjust tokens…")
        self.adjust_button.setEnabled(False)
        self.bulk_button = QPushButton("&Bulk grant…")
        self.check_button = QPushButton("Check ledger &health")

        self.search.search_requested.connect(lambda _text: self.refresh())
        self.sort.currentIndexChanged.connect(lambda _i: self.refresh())
        self.active_only.toggled.connect(self._on_active_only_toggled)
        self.active_from.dateChanged.connect(lambda _d: self.refresh())
        self.active_to.dateChanged.connect(lambda _d: self.refresh())
        self.adjust_button.clicked.connect(self.open_adjustment)
        self.bulk_button.clicked.connect(self.open_bulk_grant)
        self.check_button.clicked.connect(self.check_ledger)

        self.model = LazyTableModel(BALANCE_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.customer_id, parent=self)
        self.view = LazyTableView(self.model)
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        self.view.doubleClicked.connect(lambda _i: self.open_adjustment())
        self.ledger_model = LazyTableModel(LEDGER_COLUMNS, database.runner, page_size=200,
                                           row_key=lambda r: r.id, parent=self)
        self.ledger_view = LazyTableView(self.ledger_model)
        self.ledger_view.set_placeholder_texts(
            empty="Select a customer to see their ledger", loading="Loading…",
            error="Could not load the ledger")
        self.ledger_view.doubleClicked.connect(lambda _i: self.open_adjustment())
        self.ledger_view.setToolTip("Double-click to adjust this customer's tokens")
        self.ledger_title = QLabel("Ledger")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(QLabel("Sort by"))
        bar.addWidget(self.sort)
        bar.addWidget(self.active_only)
        bar.addWidget(self.active_from)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.active_to)
        actions = QHBoxLayout()
        actions.addWidget(self.count_label)
        actions.addStretch()
        actions.addWidget(self.check_button)
        actions.addWidget(self.bulk_button)
        actions.addWidget(self.adjust_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(side_by_side(column(self.view, grow=self.view),
                                      column(self.ledger_title, self.ledger_view,
                                             grow=self.ledger_view)), 1)
        layout.addLayout(actions)
        self._loaded = False
        # Per customer, the latest balance reload asked for: older answers are dropped.
        self._balance_requests: dict[uuid.UUID, int] = {}

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:  # load on first show: start-up stays fast
            self._loaded = True
            self.refresh()

    def current_filter(self) -> BalanceFilter:
        active = self.active_only.isChecked()
        return BalanceFilter(
            search=self.search.text(),
            sort=self.sort.currentData(),
            active_from=self.active_from.date().toPython() if active else None,
            active_to=self.active_to.date().toPython() if active else None,
        )

    def focus_search(self) -> None:
        self.search.focus_and_select()

    def refresh(self) -> None:
        self.search.cancel_pending()
        flt = self.current_filter()
        self.model.set_fetcher(self._db.page_fetcher(list_balances_page, flt))
        self.count_label.setText("Counting…")
        self._db.read(lambda s: count_balances(s, flt),
                      on_success=partial(self._on_count_loaded, flt),
                      on_failure=lambda e: self.count_label.setText(""), context=self)

    def _on_count_loaded(self, flt: BalanceFilter, count) -> None:
        if flt != self.current_filter():
            return
        self.count_label.setText(format_count(count.value, "balance", exact=count.exact))

    def _on_active_only_toggled(self, on: bool) -> None:
        self.active_from.setEnabled(on)
        self.active_to.setEnabled(on)
        self.refresh()

    def _on_view_current_row_changed(self, row: BalanceRow | None) -> None:
        self.adjust_button.setEnabled(row is not None)
        self.show_ledger(row)

    def show_ledger(self, row: BalanceRow | None) -> None:
        if row is None:
            self.ledger_title.setText("Ledger")
            self.ledger_model.set_fetcher(None)
            return
        self.ledger_title.setText(
            f"Ledger of <b>{html.escape(row.email)}</b> — balance "
            f"<b>{row.current_balance:,}</b>, newest first")
        self.ledger_model.set_fetcher(self._db.page_fetcher(list_ledger_page, row.customer_id))

    # -- actions -------------------------------------------------------------------------
    def open_adjustment(self) -> AdjustmentDialog | None:
        row = self.view.current_row()
        if row is None:
            return None
        dialog = AdjustmentDialog(self._db, row.customer_id, f"{row.full_name} <{row.email}>",
                                  self)
        dialog.balance_adjusted.connect(self._on_balance_adjusted)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_balance_adjusted(self, result) -> None:
        """Show the new balance and ledger line at once, without reloading the list."""
        customer = result.customer_id
        self._balance_requests[customer] = request = self._balance_requests.get(customer, 0) + 1
        self._db.read(lambda s: get_balance(s, customer),
                      on_success=partial(self._on_balance_reloaded, customer, request),
                      context=self)

    def _on_balance_reloaded(self, customer: uuid.UUID, request: int,
                             row: BalanceRow | None) -> None:
        if request != self._balance_requests.get(customer):
            return  # a later adjustment's reload is on its way: this balance is older
        if row is None:
            return
        if self.model.row_index(row.customer_id) is None:
            self.refresh()  # a customer's first balance: it belongs at the top
            return
        self.model.replace_row(row)
        current = self.view.current_row()
        if current is not None and current.customer_id == row.customer_id:
            self.show_ledger(row)

    def open_bulk_grant(self) -> BulkGrantDialog:
        dialog = BulkGrantDialog(self._db, selected=self.view.current_row(),
                                 flt=self.current_filter(), parent=self)
        dialog.finished.connect(lambda _r: self.refresh())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def check_ledger(self) -> None:
        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        self._db.read(check_ledger, on_success=self._on_ledger_checked,
                      on_failure=self._on_ledger_check_failed, context=self)

    def _on_ledger_checked(self, mismatches) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check ledger &health")
        self.health_dialog = LedgerHealthDialog(mismatches, self)
        self.health_dialog.open()

    def _on_ledger_check_failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check ledger &health")
        show_error(self, "Ledger check failed", str(exc))


class LedgerHealthDialog(QDialog):
    """What the ledger check found: every balance that disagrees with its ledger."""

    def __init__(self, mismatches, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Ledger health")
        self.summary = QLabel(
            "Every balance agrees with its ledger." if not mismatches else
            f"<b style='{ERROR_STYLE}'>{len(mismatches):,} problem(s) found.</b> "
            "Rows written by the platform or by hand disagree; fix them with care.")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlainText("\n".join(str(m) for m in mismatches))
        self.details.setVisible(bool(mismatches))
        if mismatches:
            self.resize(820, 420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
