"""The Token balances page: balances and their ledger, manual adjustments, bulk grants, and
the ledger health check.

Tokens are money: every change is a named operation (:mod:`data.operations.credits`) on the
serial write worker; the page only shows what the service answered, and an adjustment made
anywhere (here, on Users) updates the balance row and the open ledger when it is announced.
"""

from __future__ import annotations

import html
from operator import attrgetter

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

from data.export import ExportColumn
from data.ledger_health import check_ledger
from data.queries.credits import (
    BalanceFilter,
    BalanceRow,
    count_balances,
    get_balance,
    list_balances_page,
    list_ledger_page,
)
from desktop.admin.inline import InlineList, InlineSpec
from desktop.admin.list_page import ListPage, ListSpec
from desktop.database import Database
from desktop.formatting import format_value
from desktop.pages.bulk_grant import BulkGrantDialog
from desktop.pages.expiring_credits_dialog import ExpiringCreditsDialog
from desktop.pages.ledger_health_dialog import LedgerHealthDialog
from desktop.pages.token_adjustment import AdjustmentDialog
from desktop.present_error import present_error
from widgets.actions import Action
from widgets.dialogs import open_dialog
from widgets.filter_bar import Choice, DateRange, Search
from widgets.lazy_table import Column

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




def _ledger_heading(row: BalanceRow) -> str:
    return (f"Ledger of <b>{html.escape(row.email)}</b> — balance "
            f"<b>{row.current_balance:,}</b>, newest first")


LEDGER = InlineSpec("Ledger", LEDGER_COLUMNS, list_ledger_page,
                    empty="Select a customer to see their ledger",
                    owner_of=lambda r: r.customer_id, heading=_ledger_heading)

BALANCES = ListSpec(
    title="Token balances", shortcut="Ctrl+5", noun="balance", columns=BALANCE_COLUMNS,
    query=list_balances_page, count=count_balances, make_filter=BalanceFilter,
    filters=[Search("Search customer email or name (Ctrl+F)…"),
             Choice("sort", [("last_change", "Last change"), ("balance", "Balance")],
                    label="Sort by"),
             DateRange("active_from", "active_to", "Activity from")],
    row_key=lambda r: r.customer_id,
    # An adjustment announces the customer's balance: their row is read again in place; a
    # customer's first balance belongs at the top, so the list reloads.
    table="credit_balances", row_query=get_balance, refresh_on_new=True,
    full_width_bars=True,
    export=[ExportColumn(header, attrgetter(name)) for header, name in (
        ("customer_id", "customer_id"), ("email", "email"), ("full_name", "full_name"),
        ("balance", "current_balance"), ("earned", "lifetime_earned"),
        ("spent", "lifetime_spent"), ("last_change", "updated_at"))],
    export_name="token_balances",
    actions=[Action("&Bulk grant…", open="open_bulk_grant", enabled=lambda _row: True,
                    requires="adjust_tokens"),
             Action("E&xpiring credits…", name="expiring", open="open_expiring_credits",
                    enabled=lambda _row: True),
             Action("&Adjust tokens…", open="open_adjustment", default=True,
                    requires="adjust_tokens")],
)


class TokenBalancesPage(ListPage):
    """Balances on the left (search, sort, activity range), the selected ledger on the right."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        self.ledger = InlineList(LEDGER, database)
        super().__init__(BALANCES, database, detail=self.ledger, load_on_show=True,
                         parent=parent)
        self.ledger_model, self.ledger_view = self.ledger.model, self.ledger.view
        self.ledger_view.doubleClicked.connect(
            database.rights.allowing("adjust_tokens", lambda _i: self.open_adjustment()))
        self.ledger_view.setToolTip("Double-click to adjust this customer's tokens")
        self.check_button = QPushButton("Check ledger &health")
        self.check_button.clicked.connect(self.check_ledger)
        self.actions.layout().insertWidget(0, self.check_button)
        self.ledger.show_row(None)

    def open_adjustment(self, row: BalanceRow | None = None) -> AdjustmentDialog | None:
        row = row or self.view.current_row()
        if row is None:
            return None
        dialog = AdjustmentDialog(self._db, row.customer_id, f"{row.full_name} <{row.email}>",
                                  self)
        return open_dialog(dialog)

    def open_bulk_grant(self, _row: BalanceRow | None = None) -> BulkGrantDialog:
        dialog = BulkGrantDialog(self._db, selected=self.view.current_row(),
                                 flt=self.current_filter(), parent=self)
        return open_dialog(dialog)

    def open_expiring_credits(self, _row: BalanceRow | None = None) -> ExpiringCreditsDialog:
        """Who has credits expiring within N days (from ``credit_transactions.expires_at``)."""
        return open_dialog(ExpiringCreditsDialog(self._db, self))

    def check_ledger(self) -> None:
        self.check_button.setEnabled(False)
        self.check_button.setText("Checking…")
        self._db.read(check_ledger, on_success=self._on_ledger_checked,
                      on_failure=self._on_ledger_check_failed, context=self)

    def _on_ledger_checked(self, mismatches) -> None:
        self._on_ledger_check_done()
        self.health_dialog = LedgerHealthDialog(mismatches, self)
        self.health_dialog.open()

    def _on_ledger_check_failed(self, exc: BaseException) -> None:
        self._on_ledger_check_done()
        present_error(self._db, exc, banner=self.banner, prefix="The ledger check failed: ")

    def _on_ledger_check_done(self) -> None:
        self.check_button.setEnabled(True)
        self.check_button.setText("Check ledger &health")
