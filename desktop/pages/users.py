"""The Users page: find anyone fast, see their whole story, fix their profile.

The list is a keyset-paged lazy table; searching, filtering and sorting swap its fetcher
(stale answers are dropped by the model). The detail pane loads one user at a time; saving
goes through :mod:`data.services.users`, which refuses to overwrite a change made since the
user was loaded.
"""

from __future__ import annotations

import html
import uuid
from decimal import Decimal
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.csv_safety import safe_csv_writer
from data.errors import ConflictError, DomainError, ValidationError
from data.models.users import USER_ROLES
from data.queries.users import (
    UserDetail,
    UserFilter,
    UserProfile,
    UserRow,
    count_users,
    get_user_detail,
    iter_users,
    list_users_page,
    profile_values,
)
from data.services import users as user_service
from desktop.database import Database
from desktop.pages.formatting import format_count, format_money, format_value
from desktop.pages.refund_dialog import RefundDialog
from desktop.pages.token_adjustment import AdjustmentDialog
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.banner import Banner
from widgets.dialogs import ProgressDialog, confirm, show_error
from widgets.layouts import column, side_by_side
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.operations import OperationCancelled
from widgets.record_form import FieldSpec, RecordForm, kept_edits_message
from widgets.search_box import SearchBox

SEARCH_DELAY_MS = 250
FIRST_COLUMN_MAX_WIDTH = 160
DETAIL_MIN_WIDTH = 680
CHANGED_WHILE_EDITING = "Someone else changed this user while you were editing it."
STATUSES = (("all", "Any status"), ("active", "Active"), ("deleted", "Deleted"),
            ("unverified", "Unverified"))
SORTS = (("created", "Newest first"), ("email", "Email A–Z"))
CSV_HEADER = ("id", "email", "full_name", "role", "verified", "created_at", "deleted_at")

USER_COLUMNS = (  # widths fit the header and the first page (LazyTableView.fit_columns)
    Column("Email", value=lambda r: r.email, max_width=210),
    Column("Full name", value=lambda r: r.full_name, max_width=180),
    Column("Role", value=lambda r: r.role),
    Column("Verified", value=lambda r: r.verified, display=format_value),
    Column("Created", value=lambda r: r.created_at, display=format_value),
    Column("Deleted", value=lambda r: r.deleted_at, display=format_value),
)

PROFILE_FIELDS = (
    FieldSpec("email", "&Email", "text", max_length=255, required=True),
    FieldSpec("full_name", "Full &name", "text", max_length=255, required=True),
    FieldSpec("role", "&Role", "choice", choices=tuple((r, r) for r in USER_ROLES)),
    FieldSpec("profile_image_url", "Profile &image URL", "text", max_length=2000),
    FieldSpec("bio", "&Bio", "multiline"),
)


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    t.setAlternatingRowColors(True)
    t.setWordWrap(False)  # one line per row; long titles are elided, with a tooltip
    return t


def _fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            item = QTableWidgetItem(value if isinstance(value, str) else format_value(value))
            item.setToolTip(item.text())  # a long title is elided in its cell
            table.setItem(i, j, item)
    table.resizeColumnsToContents()
    # The first column holds titles and e-mails: capped, so the amounts and statuses after
    # it stay in sight in the narrow detail pane.
    table.setColumnWidth(0, min(table.columnWidth(0), FIRST_COLUMN_MAX_WIDTH))


def _refunded_text(money: Decimal, tokens: int, currency: str = "usd") -> str:
    """What went back to the customer: money, tokens, both, or nothing (blank)."""
    parts = [format_money(money, currency)] if money else []
    if tokens:
        parts.append(format_count(tokens, "token"))
    return " + ".join(parts)


def _with_action_button(table: QTableWidget, action: QAction, button: QPushButton) -> QWidget:
    """A history table with one row action: a button under it, its context menu, Return and
    double click on a row."""
    action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    table.addAction(action)
    table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.itemDoubleClicked.connect(lambda _item: action.trigger())
    button.clicked.connect(action.trigger)
    action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
    action.setEnabled(False)
    button.setEnabled(False)
    table.itemSelectionChanged.connect(lambda: action.setEnabled(bool(table.selectedItems())))
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.addWidget(table, 1)
    row = QHBoxLayout()
    row.addStretch()
    row.addWidget(button)
    layout.addLayout(row)
    return page


class UserDetailPane(QWidget):
    """Profile form and actions, and read-only tabs with the user's history.

    Signals:
        profile_saved(object): a :class:`UserProfile` after a successful change.
    """

    profile_saved = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._profile: UserProfile | None = None
        self._requested: uuid.UUID | None = None
        self._busy = False  # a write of this pane is in flight: its write buttons wait
        self._purchase_ids: list[uuid.UUID] = []
        self._booking_ids: list[uuid.UUID] = []

        self.title = QLabel("Select a user")
        self.title.setObjectName("detailTitle")
        self.banner = Banner()
        self.form = RecordForm(PROFILE_FIELDS)
        self.facts = QLabel("")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)

        self.save_button = QPushButton("&Save")
        self.revert_button = QPushButton("Re&vert")
        self.verify_button = QPushButton("Mark email &verified")
        self.delete_button = QPushButton("&Delete…")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.verify_button.clicked.connect(self._on_verify_clicked)
        self.delete_button.clicked.connect(self._on_delete_clicked)
        self.form.dirty_changed.connect(self._update_buttons)
        self.form.submitted.connect(lambda _values: self._on_save_clicked())
        buttons = QHBoxLayout()
        for b in (self.save_button, self.revert_button, self.verify_button):
            buttons.addWidget(b)
        buttons.addStretch()
        buttons.addWidget(self.delete_button)

        self.purchases = _table(["Content", "Amount", "Status", "Refunded", "Purchased",
                                 "Refunded on"])
        self.subscriptions = _table(["Tier", "Status", "Billing", "Period start", "Period end",
                                     "Cancels at end"])
        self.balance = QLabel("")
        self.balance.setWordWrap(True)
        self.adjust_tokens_button = QPushButton("Ad&just tokens…")
        self.adjust_tokens_button.clicked.connect(self.open_token_adjustment)
        self.ledger = _table(["Date", "Type", "Amount", "Balance after", "Description"])
        tokens = QWidget()
        tl = QVBoxLayout(tokens)
        balance_row = QHBoxLayout()
        balance_row.addWidget(self.balance, 1)
        balance_row.addWidget(self.adjust_tokens_button)
        tl.addLayout(balance_row)
        tl.addWidget(self.ledger)
        self.referral_info = QLabel("")
        self.referral_info.setWordWrap(True)
        self.referred = _table(["Referred user", "Status", "Referred at"])
        referrals = QWidget()
        rl = QVBoxLayout(referrals)
        rl.addWidget(self.referral_info)
        rl.addWidget(self.referred)
        self.bookings = _table(["Offering", "Type", "Payment", "Amount", "Credits", "Status",
                                "Booked", "Refunded"])
        self.refund_purchase_action = QAction("Re&fund purchase…", self)
        self.refund_purchase_action.triggered.connect(lambda: self.open_selected_refund("purchase"))
        self.refund_purchase_button = QPushButton("Re&fund…")
        self.refund_booking_action = QAction("Re&fund booking…", self)
        self.refund_booking_action.triggered.connect(lambda: self.open_selected_refund("booking"))
        self.refund_booking_button = QPushButton("Re&fund…")
        purchases_tab = _with_action_button(self.purchases, self.refund_purchase_action,
                                            self.refund_purchase_button)
        bookings_tab = _with_action_button(self.bookings, self.refund_booking_action,
                                           self.refund_booking_button)
        self.tabs = QTabWidget()
        self.tabs.addTab(purchases_tab, "Purchases")
        self.tabs.addTab(self.subscriptions, "Subscriptions")
        self.tabs.addTab(tokens, "Tokens")
        self.tabs.addTab(referrals, "Referrals")
        self.tabs.addTab(bookings_tab, "Bookings")

        # Everything below the title: hidden until a user is loaded, so an empty pane never
        # shows a form with made-up values (a combo box always shows some role).
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.form)
        body.addWidget(self.facts)
        body.addLayout(buttons)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)  # outside the body: a failed load is said even so
        layout.addWidget(self.body, 1)
        layout.addStretch(0)  # keeps the title at the top while the body is hidden
        self.setMinimumWidth(DETAIL_MIN_WIDTH)
        self._set_enabled(False)

    # -- loading -------------------------------------------------------------------------
    def show_user(self, user_id: uuid.UUID | None) -> None:
        self._requested = user_id
        if user_id is None:
            self._profile = None
            self.banner.setVisible(False)
            self.title.setText("Select a user")
            self._set_enabled(False)
            return
        if self._profile is None or self._profile.id != user_id:  # a reload keeps the title
            self.title.setText("Loading…")
        self._db.read(lambda s: get_user_detail(s, user_id),
                      on_success=partial(self._on_detail_loaded, user_id),
                      on_failure=partial(self._on_detail_load_failed, user_id), context=self)

    def reload(self) -> None:
        """Load the user shown again (e.g. after a refund finished in the background)."""
        if self._requested is not None:
            self.show_user(self._requested)

    def _reload_if_shown(self, user_id: uuid.UUID) -> None:
        """A dialog opened for ``user_id`` changed them: reload the pane if it still shows
        them (the selection may have moved on meanwhile; the pane must follow the list)."""
        if self._requested == user_id:
            self.show_user(user_id)

    def _on_detail_load_failed(self, user_id: uuid.UUID, exc: BaseException) -> None:
        if user_id != self._requested:
            return  # the selection moved on: this user is not shown any more
        text = report_read_failure(self._db, "this user", exc)
        if self._profile is None or self._profile.id != user_id:
            self.title.setText("Could not load this user")
        self.banner.show_message(text)

    def _on_detail_loaded(self, user_id: uuid.UUID, detail: UserDetail) -> None:
        if user_id != self._requested:
            return  # the selection moved on while this was loading
        same_user = self._profile is not None and self._profile.id == user_id
        if same_user and self.form.is_dirty:
            # A reload (a refund finished, the list caught up) must not wipe what is being
            # typed: the edits stay, on top of the newer profile if it changed meanwhile.
            if detail.profile.version != self._profile.version:
                self._keep_edits_on(detail.profile, CHANGED_WHILE_EDITING)
        else:
            self.banner.setVisible(False)
            self._show_profile(detail.profile)
        self._purchase_ids = [p.id for p in detail.purchases]
        self._booking_ids = [b.id for b in detail.bookings]
        _fill(self.purchases, [
            (p.content_title, format_money(p.amount_paid, p.currency), p.status,
             _refunded_text(p.refunded, 0, p.currency), p.purchased_at, p.refunded_at)
            for p in detail.purchases])
        _fill(self.subscriptions, [
            (s.tier_name, s.status, s.billing_period, s.current_period_start,
             s.current_period_end, s.cancel_at_period_end) for s in detail.subscriptions])
        if detail.balance:
            b = detail.balance
            self.balance.setText(
                f"<b>{b.current_balance:,} tokens</b> — earned {b.lifetime_earned:,}, "
                f"spent {b.lifetime_spent:,} in all. Latest ledger lines:")
        else:
            self.balance.setText("No token balance.")
        _fill(self.ledger, [(line.created_at, line.type, f"{line.amount:+,}",
                             line.balance_after, line.description or "")
                            for line in detail.ledger])
        parts = [f"Referral code: <b>{detail.referral_code}</b>" if detail.referral_code
                 else "No referral code."]
        if detail.referred_by:
            r = detail.referred_by
            parts.append(f"Referred by {html.escape(r.email)} ({r.status}, "
                         f"{format_value(r.referred_at)}).")
        parts.append(f"Referred {len(detail.referred)} user(s).")
        self.referral_info.setText("<br>".join(parts))
        _fill(self.referred, [(r.email, r.status, r.referred_at) for r in detail.referred])
        _fill(self.bookings, [
            (b.offering_title, b.offering_type, b.payment_method,
             format_money(b.amount_paid) if b.amount_paid else "", b.credits_used or "",
             b.status, b.created_at, _refunded_text(b.refunded, b.credits_returned))
            for b in detail.bookings])
        if not same_user:  # a row selected for the previous user must not carry over
            for table in (self.purchases, self.bookings):
                table.clearSelection()
                table.setCurrentCell(-1, -1)

    def _show_profile(self, profile: UserProfile, *, keep_edits: bool = False) -> dict:
        """Show ``profile``; with ``keep_edits``, the unsaved edits stay on top of it and the
        fields someone else also changed are returned (see ``RecordForm.rebase``)."""
        self._profile = profile
        self.title.setText(
            f"<b>{html.escape(profile.full_name)}</b> &lt;{html.escape(profile.email)}&gt;")
        clashes = {}
        if keep_edits:
            clashes = self.form.rebase(profile_values(profile))
        else:
            self.form.set_values(profile_values(profile))
        facts = [
            f"Created {format_value(profile.created_at)}",
            f"updated {format_value(profile.updated_at)}",
            ("email verified " + format_value(profile.email_verified_at))
            if profile.email_verified_at else "<b>email not verified</b>",
        ]
        if profile.deleted_at:
            facts.append(f"<b style='color:#b00020'>deleted {format_value(profile.deleted_at)}</b>")
        if profile.stripe_customer_id:
            facts.append(f"Stripe {profile.stripe_customer_id}")
        self.facts.setText(" · ".join(facts))
        self._set_enabled(True)
        return clashes

    def _keep_edits_on(self, profile: UserProfile, why: str) -> None:
        """Show someone else's newer ``profile`` with the unsaved edits kept on top; say so."""
        clashes = self._show_profile(profile, keep_edits=True)
        self.banner.show_message(kept_edits_message(why, clashes))

    def _set_enabled(self, enabled: bool) -> None:
        self.body.setVisible(enabled)
        self.form.set_read_only(not enabled)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        p = self._profile
        # While one write is in flight every write button waits: a second click would send
        # the version the first one just replaced and be refused as someone else's change.
        loaded = p is not None and not self._busy
        self.save_button.setEnabled(loaded and self.form.is_dirty)
        self.revert_button.setEnabled(loaded and self.form.is_dirty)
        self.verify_button.setEnabled(loaded and p.email_verified_at is None)
        self.delete_button.setEnabled(loaded)
        self.delete_button.setText("&Restore…" if p is not None and p.deleted_at
                                   else "&Delete…")

    # -- actions -------------------------------------------------------------------------
    def open_token_adjustment(self) -> AdjustmentDialog | None:
        p = self._profile
        if p is None:
            return None
        dialog = AdjustmentDialog(self._db, p.id, f"{p.full_name} <{p.email}>", self)
        dialog.balance_adjusted.connect(lambda _result: self._reload_if_shown(p.id))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_selected_refund(self, kind: str) -> RefundDialog | None:
        """Open the refund dialog for the purchase or booking selected in its table."""
        table, ids = ((self.purchases, self._purchase_ids) if kind == "purchase"
                      else (self.bookings, self._booking_ids))
        row = table.currentRow()
        if not table.selectedItems() or not 0 <= row < len(ids):
            return None
        return self.open_refund(kind, ids[row])

    def open_refund(self, kind: str, target_id: uuid.UUID) -> RefundDialog | None:
        """Refund one purchase or booking of the shown user; the detail reloads afterwards."""
        p = self._profile
        if p is None:
            return None
        dialog = RefundDialog(self._db, kind, target_id, self)
        dialog.refund_finished.connect(lambda _outcome: self._reload_if_shown(p.id))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_save_clicked(self) -> None:
        p = self._profile
        if p is None or self._busy or not self.form.is_dirty:
            return
        changes = self.form.changed_values()
        self.form.clear_errors()
        self._run_write(lambda s, actor: user_service.update_profile(
            s, actor, p.id, p.version, changes))

    def _on_revert_clicked(self) -> None:
        if self._profile is not None:
            self._show_profile(self._profile)

    def _on_verify_clicked(self) -> None:
        p = self._profile
        if p is None or self._busy:
            return
        self._run_write(lambda s, actor: user_service.mark_email_verified(
            s, actor, p.id, p.version))

    def _on_delete_clicked(self) -> None:
        p = self._profile
        if p is None or self._busy:
            return
        if p.deleted_at is None:
            if not confirm(self, title="Delete user",
                           text=f"Delete {p.email}?",
                           informative="They will no longer be able to sign in. Their "
                                       "purchases and history are kept, and you can restore "
                                       "them later.",
                           confirm_label="Delete user", destructive=True):
                return
            self._run_write(lambda s, actor: user_service.soft_delete_user(
                s, actor, p.id, p.version))
        else:
            if not confirm(self, title="Restore user", text=f"Restore {p.email}?",
                           confirm_label="Restore user"):
                return
            self._run_write(lambda s, actor: user_service.restore_user(
                s, actor, p.id, p.version))

    @property
    def is_busy(self) -> bool:
        """A write of this pane is in flight."""
        return self._busy

    def _run_write(self, fn) -> None:
        p = self._profile
        self._busy = True
        self._update_buttons()
        self._db.write(fn, on_success=self._on_profile_saved,
                       on_failure=partial(self._on_write_failed, p.id, p.email), context=self)

    def _on_profile_saved(self, profile: UserProfile) -> None:
        self._busy = False
        if profile.id != self._requested:
            # Another user is shown now: the list row is updated, the pane stays theirs.
            self._update_buttons()
            self.profile_saved.emit(profile)
            return
        self.banner.setVisible(False)
        self._show_profile(profile)
        self.profile_saved.emit(profile)

    def _on_write_failed(self, user_id: uuid.UUID, email: str, exc: BaseException) -> None:
        self._busy = False
        if user_id != self._requested and isinstance(exc, DomainError):
            # Not the user shown any more: say what happened, without touching their form.
            self._update_buttons()
            self.banner.show_message(f"Your change to {email} was not saved: {exc}")
            return
        self._on_action_failed(exc)

    def _on_action_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            self.form.set_errors(exc.field_errors)
            self._update_buttons()
        elif isinstance(exc, ConflictError):
            self.banner.show_message(str(exc))
            if isinstance(exc.current, UserProfile):
                if self.form.is_dirty:  # nothing typed is lost: it stays, on top of theirs
                    self._keep_edits_on(exc.current, str(exc))
                else:
                    self._show_profile(exc.current)
                self.profile_saved.emit(exc.current)
        elif isinstance(exc, DomainError):
            self.banner.show_message(str(exc))
            self._update_buttons()
        else:
            raise exc


class UsersPage(QWidget):
    """List, search, filters and export on the left; the selected user on the right."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._export_dialog: ProgressDialog | None = None

        self.search = SearchBox("Search email or name (Ctrl+F)…", delay_ms=SEARCH_DELAY_MS)
        self.role = QComboBox()
        self.role.addItem("Any role", None)
        for r in USER_ROLES:
            self.role.addItem(r, r)
        self.status = QComboBox()
        for value, label in STATUSES:
            self.status.addItem(label, value)
        self.sort = QComboBox()
        for value, label in SORTS:
            self.sort.addItem(label, value)
        self.count_label = QLabel("")
        self.list_banner = Banner(error=True)
        self.export_button = QPushButton("E&xport CSV…")
        self.export_button.clicked.connect(self._on_export_clicked)

        self.search.search_requested.connect(lambda _text: self.refresh())
        for combo in (self.role, self.status, self.sort):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())

        self.model = LazyTableModel(USER_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.id, parent=self)
        self.view = LazyTableView(self.model)
        watch_list_loads(self.model, self.view, self.list_banner, database, "the users")
        self.search.move_down_into(self.view)
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        self.detail = UserDetailPane(database)
        self.detail.profile_saved.connect(self._on_detail_profile_saved)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        bar.addWidget(self.role, 1)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.sort, 1)
        bar2 = QHBoxLayout()
        bar2.addWidget(self.count_label)
        bar2.addStretch()
        bar2.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(side_by_side(
            column(bar, self.list_banner, self.view, bar2, grow=self.view), self.detail,
            ratio=(1, 1)))  # the detail's history tables need room as much as the list
        self.refresh()

    def current_filter(self) -> UserFilter:
        return UserFilter(
            search=self.search.text(),
            role=self.role.currentData(),
            status=self.status.currentData(),
            sort=self.sort.currentData(),
        )

    def focus_search(self) -> None:
        self.search.focus_and_select()

    def refresh(self) -> None:
        self.search.cancel_pending()
        flt = self.current_filter()
        self.model.set_fetcher(self._db.page_fetcher(list_users_page, flt))
        self.count_label.setText("Counting…")
        self._db.read(lambda s: count_users(s, flt),
                      on_success=partial(self._on_count_loaded, flt),
                      on_failure=partial(self._on_count_failed, flt), context=self)

    def _on_count_failed(self, flt: UserFilter, exc: BaseException) -> None:
        if flt != self.current_filter():
            return  # an older filter's count: the newer one says its own
        self.count_label.setText("Count unavailable")
        self.count_label.setToolTip(report_read_failure(self._db, "the number of users", exc))

    def _on_count_loaded(self, flt: UserFilter, count) -> None:
        if flt != self.current_filter():
            return
        self.count_label.setToolTip("")
        self.count_label.setText(format_count(count.value, "user", exact=count.exact))

    def _on_view_current_row_changed(self, row: UserRow | None) -> None:
        self.detail.show_user(row.id if row is not None else None)

    def _on_detail_profile_saved(self, profile: UserProfile) -> None:
        old = self.model.row_index(profile.id)
        if old is None:
            return
        self.model.replace_row(UserRow(
            profile.id, profile.email, profile.full_name, profile.role,
            profile.email_verified_at is not None, profile.created_at, profile.deleted_at))

    # -- export --------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export users to CSV", "users.csv",
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path):
        """Write every user matching the current filter to ``path``, with progress."""
        flt = self.current_filter()
        partial_path = path.with_name(path.name + ".part")

        def work(session, ctx):
            total = count_users(session, flt).value
            done = 0
            try:
                with partial_path.open("w", newline="", encoding="utf-8") as f:
                    writer = safe_csv_writer(f)
                    writer.writerow(CSV_HEADER)
                    for batch in iter_users(session, flt):
                        ctx.check_cancelled()
                        for r in batch:
                            writer.writerow((r.id, r.email, r.full_name, r.role,
                                             "yes" if r.verified else "no",
                                             r.created_at.isoformat(),
                                             r.deleted_at.isoformat() if r.deleted_at else ""))
                        done += len(batch)
                        ctx.report_progress(done, max(total, done), f"{done:,} users written")
            except OperationCancelled:
                partial_path.unlink(missing_ok=True)
                raise
            partial_path.replace(path)  # never leave a half-written file under the real name
            return done

        handle = self._db.read_with_progress(
            work,
            on_success=self._on_export_finished,
            on_failure=self._on_export_failed,
            context=self,
        )
        self._export_dialog = ProgressDialog(self, title="Export users", label="Exporting users…")
        self._export_dialog.attach(handle)
        self._export_dialog.show()
        return handle

    def _on_export_finished(self, n: int) -> None:
        self.count_label.setText(f"Exported {n:,} users.")

    def _on_export_failed(self, exc: BaseException) -> None:
        show_error(self, "Export failed", str(exc))
