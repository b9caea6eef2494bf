"""The Refunds page: every refund request the app made, its state in Stripe, and Retry.

The list is a keyset-paged lazy table over ``admin`` refund requests, newest first, filtered
by status. Open requests (``requested``, ``pending``) can be retried: the service asks Stripe
again with the request's stored idempotency key, so a retry never refunds twice. While the
page is visible it asks Stripe about pending requests every few minutes.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.refunds import FinishOpenRefunds, RetryRefund
from data.queries.refunds import RefundRequestRow, refund_requests_page
from data.services.refunds import (
    REFUND_REASON_LABELS,
    REQUEST_STATUSES,
    RefundOutcome,
)
from desktop.database import Database
from desktop.formatting import format_money, format_value
from desktop.present_error import present_error
from desktop.read_failures import watch_list_loads
from widgets.banner import Banner
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.message_line import MessageLine, error_html

PENDING_CHECK_MS = 3 * 60 * 1000
STATUS_FILTERS = (("all", "Any status"), ("open", "Open (requested or pending)")) + tuple(
    (s, s.capitalize()) for s in REQUEST_STATUSES)


def _reason(row: RefundRequestRow) -> str:
    label = REFUND_REASON_LABELS.get(row.reason, row.reason)
    if row.reason == "other":
        label = "Other"
    return f"{label}: {row.note}" if row.note else label


def describe_request(row: RefundRequestRow) -> str:
    """The selected request in full, for the line under the list (cells cut long text)."""
    what = (format_money(row.amount, row.currency) if row.amount > 0
            else f"{row.credits_returned:,} tokens")
    parts = [f"<b>{row.status.capitalize()}</b>: {escape(what)} for the {row.kind} "
             f"“{escape(row.title)}” of {escape(row.customer_email)}, asked by "
             f"{escape(row.actor)} on {format_value(row.created_at)}. "
             f"Reason: {escape(_reason(row))}."]
    if row.status == "succeeded":
        extra = " Full refund." if row.full_refund else ""
        if row.credits_returned:
            extra += f" {row.credits_returned:,} tokens returned."
        parts.append(extra.strip())
    if row.stripe_refund_id:
        parts.append(f"Stripe refund {escape(row.stripe_refund_id)}.")
    if row.failure_message:
        parts.append(error_html(row.failure_message))
    if row.retryable:
        parts.append(f"{row.attempts} attempt(s) so far; Retry asks Stripe again with the "
                     "same idempotency key.")
    return " ".join(p for p in parts if p)


REFUND_COLUMNS = (  # widths fit the header and the first page (LazyTableView.fit_columns)
    Column("Requested", value=lambda r: r.created_at, display=format_value),
    Column("Status", value=lambda r: r.status),
    Column("Customer", value=lambda r: r.customer_email, max_width=180),
    Column("Item", value=lambda r: f"{r.kind.capitalize()}: {r.title}", max_width=200),
    Column("Amount", value=lambda r: format_money(r.amount, r.currency),
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Reason", value=_reason, max_width=160),
    Column("Message", value=lambda r: r.failure_message or "", max_width=200),
    Column("By", value=lambda r: r.actor, max_width=120),
    Column("Stripe refund", value=lambda r: r.stripe_refund_id or ""),
    Column("Attempts", value=lambda r: r.attempts, display=format_value,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Updated", value=lambda r: r.updated_at, display=format_value),
)


class RefundsPage(QWidget):
    """Refund requests with their status; Retry and "Check pending now" for open ones.
    Reloads when a refund made elsewhere is announced."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._busy = False
        database.changed.connect(self._on_database_changed)

        self.status = QComboBox()
        for value, label in STATUS_FILTERS:
            self.status.addItem(label, value)
        status_label = QLabel("&Status")
        status_label.setBuddy(self.status)
        self.status.currentIndexChanged.connect(lambda _i: self.refresh())

        self.model = LazyTableModel(REFUND_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.id, parent=self)
        self.view = LazyTableView(self.model)
        self.view.set_placeholder_texts(empty="No refund requests")
        self.list_banner = Banner(error=True)
        watch_list_loads(self.model, self.view, self.list_banner, database,
                         "the refund requests")
        self.view.current_row_changed.connect(self._on_view_current_row_changed)

        self.retry_action = QAction("&Retry with Stripe", self)
        self.retry_action.setShortcut(QKeySequence(Qt.Key.Key_Return))
        self.retry_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.retry_action.triggered.connect(self.retry_selected)
        self.view.addAction(self.retry_action)
        enter = QAction(self)  # the keypad's Enter does the same as Return
        enter.setShortcut(QKeySequence(Qt.Key.Key_Enter))
        enter.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        enter.triggered.connect(self.retry_selected)
        self.view.addAction(enter)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu_requested)
        self.view.doubleClicked.connect(
            database.rights.allowing("refund", lambda _index: self.retry_selected()))

        self.retry_button = QPushButton("&Retry")
        self.retry_button.setToolTip("Ask Stripe again with the request's own idempotency key "
                                     "(Return on the list)")
        self.retry_button.clicked.connect(self.retry_selected)
        self.check_button = QPushButton("&Check pending now")
        self.check_button.setToolTip("Ask Stripe about every open refund request and finish "
                                     "them (also done every few minutes while this tab shows)")
        self.check_button.clicked.connect(self.check_pending)
        for control in (self.retry_action, enter, self.retry_button, self.check_button):
            database.rights.guard(control, "refund")
        self.refresh_button = QPushButton("Re&load")
        self.refresh_button.setToolTip("Reload the list (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = MessageLine()

        bar = QHBoxLayout()
        bar.addWidget(status_label)
        bar.addWidget(self.status)
        bar.addStretch()
        bar.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        actions.addWidget(self.message, 1)
        actions.addWidget(self.retry_button)
        actions.addWidget(self.check_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.list_banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.details)
        layout.addLayout(actions)

        self.pending_timer = QTimer(self)
        self.pending_timer.setInterval(PENDING_CHECK_MS)
        self.pending_timer.timeout.connect(self._on_pending_timer_timeout)
        if database.backend.gateway is None:
            self.check_button.setEnabled(False)
            self.message.setText("Stripe is not configured: refunds cannot be sent or checked.")
        self._update_actions()
        self.refresh()

    # -- listing -------------------------------------------------------------------------
    def selected_statuses(self) -> tuple[str, ...] | None:
        value = self.status.currentData()
        if value == "all":
            return None
        if value == "open":
            return ("requested", "pending")
        return (value,)

    title = "Refunds"
    shortcut = "Ctrl+8"

    def focus_search(self) -> None:
        """Ctrl+F: no search here; the status filter narrows the list."""
        self.status.setFocus()

    def refresh(self) -> None:
        """Reload from the newest request (F5)."""
        self.model.set_fetcher(self._db.page_fetcher(refund_requests_page,
                                                     self.selected_statuses()))

    def _on_view_current_row_changed(self, row) -> None:
        self.details.setText(describe_request(row) if isinstance(row, RefundRequestRow) else "")
        self._update_actions()

    def _update_actions(self) -> None:
        row = self.view.current_row()
        can_retry = (isinstance(row, RefundRequestRow) and row.retryable and not self._busy
                     and self._db.backend.gateway is not None)
        self.retry_action.setEnabled(can_retry)
        self.retry_button.setEnabled(can_retry)
        self.check_button.setEnabled(not self._busy and self._db.backend.gateway is not None)

    def _on_view_context_menu_requested(self, pos) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        self.view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)  # a refused entry says who may
        menu.addAction(self.retry_action)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    # -- actions -------------------------------------------------------------------------
    def retry_selected(self) -> None:
        """Retry the selected open request with Stripe."""
        row = self.view.current_row()
        if not isinstance(row, RefundRequestRow) or not row.retryable or self._busy:
            return
        self._start(RetryRefund(row.id),
                    f"Asking Stripe again about the refund for {row.customer_email}…",
                    self._on_retry_answered)

    def check_pending(self) -> None:
        """Ask Stripe about every open request and finish those it has answered."""
        if self._busy:
            return
        self._start(FinishOpenRefunds(), "Checking open refunds with Stripe…",
                    self._on_check_answered)

    def _start(self, operation, text: str, on_success) -> None:
        self._busy = True
        self._update_actions()
        self.message.say(text)
        self._db.pay(operation, on_success=on_success, on_failure=self._on_action_failed,
                     context=self)

    def _on_database_changed(self, changes) -> None:
        """A refund answered elsewhere (a dialog, the background check): the list reloads.
        Our own actions reload it themselves, keeping the selection."""
        if changes.touches("refund_requests") and not self._busy:
            self.refresh()

    def _on_retry_answered(self, outcome: RefundOutcome) -> None:
        self._finish(outcome.message, error=outcome.status == "failed")

    def _on_check_answered(self, outcomes: list[RefundOutcome]) -> None:
        if not outcomes:
            self._finish("No open refund requests.")
            return
        counts: dict[str, int] = {}
        for o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        self._finish(f"Checked {len(outcomes)} open request(s) with Stripe: {summary}.")

    def _finish(self, text: str, *, error: bool = False) -> None:
        self._busy = False
        (self.message.say_error if error else self.message.say)(text)
        key = getattr(self.view.current_row(), "id", None)
        self.refresh()
        if key is not None:
            self.model.rows_loaded.connect(self._reselect_once(key))
        self._update_actions()

    def _reselect_once(self, key):
        def reselect(_count: int) -> None:
            self.model.rows_loaded.disconnect(reselect)
            self.view.select_row_by_key(key)

        return reselect

    def _on_action_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._update_actions()
        self.message.say("")
        present_error(self._db, exc, banner=self.message.say_error)

    # -- the periodic check --------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._db.backend.gateway is not None:
            self.pending_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.pending_timer.stop()

    def _on_pending_timer_timeout(self) -> None:
        if not self._busy and self._db.backend.gateway is not None \
                and self._db.rights.may("refund"):
            self.check_pending()
