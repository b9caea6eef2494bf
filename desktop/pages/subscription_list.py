"""A tier's subscribers inside its detail: lazy, newest first, filtered by status and billing
period; open the customer, change the subscription (cancel at period end, resume, cancel now)
through the subscription dialog, or grant its current period's credits by hand. A change the dialog made updates its row from
Stripe's answer."""

from __future__ import annotations

import uuid
from operator import attrgetter

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from data.models.subscriptions import BILLING_PERIODS, SUBSCRIPTION_STATUSES
from data.operations import Changes
from data.queries.tiers import SubscriberFilter, SubscriberRow, list_tier_subscribers
from data.services.subscriptions import ChangeResult
from desktop.database import Database
from desktop.formatting import format_value
from desktop.pages.period_credits_dialog import PeriodCreditsDialog
from desktop.pages.subscription_dialog import SubscriptionDialog
from desktop.read_failures import watch_list_loads
from widgets.banner import Banner
from widgets.dialogs import open_dialog
from widgets.filter_bar import Choice, FilterBar
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

__all__ = ["SUBSCRIBER_COLUMNS", "SubscribersPanel"]


def _period(r: SubscriberRow) -> str:
    return f"{format_value(r.current_period_start)} – {format_value(r.current_period_end)}"


SUBSCRIBER_COLUMNS = (
    Column("Customer", value=attrgetter("customer_email"), max_width=220),
    Column("Status", value=attrgetter("status")),
    Column("Billing", value=attrgetter("billing_period")),
    Column("Current period", value=_period),
    Column("Cancels at end", value=lambda r: "yes" if r.cancel_at_period_end else ""),
    Column("Trial end", value=attrgetter("trial_end"), display=format_value),
    Column("Created", value=attrgetter("created_at"), display=format_value),
)


class SubscribersPanel(QWidget):
    """Signals: user_requested(object): the customer id to open on the Users page."""

    user_requested = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.tier_id: uuid.UUID | None = None
        self.filters = FilterBar([
            Choice("status", [(s, s) for s in SUBSCRIPTION_STATUSES], any_label="Any status"),
            Choice("period", [(p, p) for p in BILLING_PERIODS], any_label="Any billing")])
        self.filters.changed.connect(self.reload)
        self.banner = Banner(error=True)
        self.model = LazyTableModel(SUBSCRIBER_COLUMNS, database.runner, page_size=100,
                                    row_key=attrgetter("id"), parent=self)
        self.view = LazyTableView(self.model)
        self.view.set_placeholder_texts(empty="No subscribers match.", loading="Loading…")
        watch_list_loads(self.model, self.view, self.banner, database, "subscribers")
        self.open_user_button = QPushButton("Open &user")
        self.change_button = QPushButton("C&hange subscription…")
        self.open_user_button.clicked.connect(self.open_user)
        self.change_button.clicked.connect(lambda: self.change_subscription())
        self.grant_button = QPushButton("&Grant this period's credits…")
        self.grant_button.clicked.connect(lambda: self.grant_period_credits())
        self.view.doubleClicked.connect(
            database.rights.allowing("subscriptions", lambda _index: self.change_subscription()))
        database.rights.guard(self.change_button, "subscriptions")
        database.rights.guard(self.grant_button, "period_credits")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_user_button)
        buttons.addWidget(self.change_button)
        buttons.addWidget(self.grant_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        database.changed.connect(self._on_database_changed)

    def show_tier(self, tier_id: uuid.UUID | None) -> None:
        self.tier_id = tier_id
        self.reload()

    def reload(self) -> None:
        if self.tier_id is None:
            self.model.set_fetcher(None)
            return
        flt = SubscriberFilter(**self.filters.values())
        self.model.set_fetcher(self._db.page_fetcher(list_tier_subscribers, flt, self.tier_id))

    def open_user(self) -> None:
        row = self.view.current_row()
        if row is not None:
            self.user_requested.emit(row.customer_id)

    def change_subscription(self, action: str | None = None) -> SubscriptionDialog | None:
        row = self.view.current_row()
        if row is None:
            return None
        dialog = SubscriptionDialog(self._db, row.id, self, action=action)
        dialog.subscription_changed.connect(self._on_subscription_changed)
        return open_dialog(dialog)

    def grant_period_credits(self) -> PeriodCreditsDialog | None:
        """The selected subscription's credits for its current period, by hand (once)."""
        row = self.view.current_row()
        if row is None:
            return None
        return open_dialog(PeriodCreditsDialog(self._db, row.id, self))

    def _on_subscription_changed(self, result: ChangeResult) -> None:
        s = result.subscription
        if s.tier_id == self.tier_id:  # the row as Stripe left it, without a reload
            self.model.replace_row(SubscriberRow(
                s.id, s.customer_id, s.customer_email, s.status, s.billing_period,
                s.current_period_start, s.current_period_end, s.cancel_at_period_end,
                s.trial_end, s.created_at))

    def _on_database_changed(self, changes: Changes) -> None:
        # Another window changed this tier's subscriptions (ids unknown here): read again.
        if self.tier_id is not None and changes.touches("subscriptions") \
                and changes.ids("subscriptions") is None:
            self.reload()
