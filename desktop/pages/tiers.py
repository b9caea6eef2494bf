"""The Subscription tiers page: the plans with their subscribers and MRR, one plan's editor,
its price history; archive (no new subscribers) or delete a plan never used.

A declaration: the list (:data:`TIERS`: search by name, active or archived, sorted by MRR,
subscribers or name), the detail (:data:`TIER`: the form, the price history) and the
actions. A save that changes a price or the access first says what it means (subscribers
keep their price; how many items and subscribers an access change touches, counted by
PostgreSQL) and asks; every change is a named operation (:mod:`data.operations.tiers`).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from data.models import SubscriptionTier
from data.models.offerings import OFFERING_TYPES
from data.operations.tiers import ArchiveTier, CreateTier, DeleteTier, RestoreTier, UpdateTier
from data.queries.tiers import (
    TierDetail,
    TierFilter,
    TierRecord,
    TierRow,
    catalog_categories,
    count_tiers,
    get_tier_detail,
    get_tier_row,
    list_tiers_page,
)
from data.services.tiers import ChangeNotice, change_notice, record_values
from desktop.admin.fields import field_for
from desktop.admin.history import history_tab
from desktop.admin.list_page import ChoiceSource, ListPage, ListSpec
from desktop.admin.record_detail import DetailSpec, RecordDetail, TableTab
from desktop.database import Database
from desktop.formatting import format_money, format_value
from desktop.pages.subscription_drift_dialog import SubscriptionDriftDialog
from desktop.pages.subscription_list import SubscribersPanel
from desktop.pages.tier_notices import change_confirmation, tier_facts
from desktop.read_failures import report_read_failure
from widgets.actions import Action, Confirmation, always, confirmed
from widgets.filter_bar import Choice, Search
from widgets.latest import LatestRequest
from widgets.lazy_table import Column
from widgets.record_form import FieldSpec, Section
from widgets.record_table import RecordTable

__all__ = ["TIER", "TIERS", "TierDetailPane", "TiersPage"]

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
T = SubscriptionTier


def _price(amount, row: TierRow) -> str:
    return "—" if amount is None else format_money(amount, row.currency)


def _mrr(r: TierRow) -> str:
    return format_money(r.mrr, r.currency) + (" *" if r.priced_now else "")


TIER_COLUMNS = (
    Column("Name", value=lambda r: r.name, max_width=200),
    Column("Monthly", value=lambda r: _price(r.price_monthly, r), align=RIGHT),
    Column("Yearly", value=lambda r: _price(r.price_yearly, r), align=RIGHT),
    Column("Subscribers", value=lambda r: r.subscribers, display=format_value, align=RIGHT),
    Column("Past due", value=lambda r: r.past_due, display=format_value, align=RIGHT),
    Column("MRR", value=_mrr, align=RIGHT),
    Column("Monthly credits", value=lambda r: r.monthly_credits, display=format_value,
           align=RIGHT),
    Column("Rollover", value=lambda r: "rolls over" if r.credit_rollover else "expires"),
    Column("Active", value=lambda r: "active" if r.active else "archived"),
)

TIERS = ListSpec(
    title="Subscription tiers", shortcut="Ctrl+3", noun="tier", columns=TIER_COLUMNS,
    query=list_tiers_page, count=count_tiers, make_filter=TierFilter,
    filters=[Search("Search tier name (Ctrl+F)…"),
             Choice("status", [("all", "Active and archived"), ("active", "Active only"),
                               ("archived", "Archived only")]),
             Choice("sort", [("mrr", "Highest MRR"), ("subscribers", "Most subscribers"),
                             ("name", "Name A–Z")])],
    table="subscription_tiers", row_query=get_tier_row, refresh_on_new=True,
    heading="Subscribers: active and trialing (past due apart). MRR: active and past-due "
            "subscriptions, each at the price in force when its current period began; "
            "* some at the current price (their period began before the price history).",
    choices=ChoiceSource(catalog_categories, lambda _categories: {}, tables=("content",),
                         empty=(), what="the catalog's categories"),
    actions=[Action("Check against &Stripe…", name="drift", open="open_drift_check",
                    enabled=always)],
    toolbar=True, keep_detail=True,
)

OFFERING_LABELS = {"one_time_event": "One-time &events", "multi_day_program": "Multi-day &programs",
                   "recurring_fixed": "Recurring sessions (fi&xed)",
                   "recurring_bookable": "Recurring sessions (boo&kable)",
                   "cohort_course": "Coh&ort courses", "retreat": "Re&treats"}
assert set(OFFERING_LABELS) == set(OFFERING_TYPES)
TIER_FIELDS = (
    Section("Plan", [field_for(T.name, "&Name"),
                     field_for(T.description, "&Description", "multiline"),
                     field_for(T.active, "Acti&ve (open to new subscribers)", "bool")]),
    Section("Prices", [field_for(T.price_monthly, "&Monthly price", "money",
                                 placeholder="blank: no monthly plan"),
                       field_for(T.price_yearly, "&Yearly price", "money",
                                 placeholder="blank: no yearly plan")]),
    Section("Access", [
        FieldSpec("category_access", "&Categories", "chips",
                  placeholder="Add a catalog category…"),
        field_for(T.full_catalog_access, "&Full catalog", "bool")]),
    Section("Offerings included",
            [FieldSpec(f"offering_{t}", label, "bool") for t, label in OFFERING_LABELS.items()]),
    Section("Credits", [field_for(T.monthly_credits, "Monthly &credits", minimum=0),
                        field_for(T.credit_rollover, "Unused credits &roll over", "bool")]),
)


def _confirm_archive(r: TierRecord) -> Confirmation:
    if r.active:
        return Confirmation("Archive tier", f"Archive “{r.name}”?", "Archive tier",
                            informative="It takes no new subscribers. Existing subscribers "
                                        "keep their plan and keep renewing.")
    return Confirmation("Make tier active", f"Make “{r.name}” active again?", "Make active",
                        informative="New customers can subscribe to it again.")


def _confirm_delete(r: TierRecord) -> Confirmation:
    return Confirmation("Delete tier", f"Delete “{r.name}” for good?", "Delete tier",
                        destructive=True,
                        informative="Only a tier no subscription ever used can be deleted; "
                                    "its price history goes with it. This cannot be undone.")


TIER = DetailSpec(
    noun="tier", load=get_tier_detail, record_of=lambda d: d.record, fields=TIER_FIELDS,
    values_of=record_values, save=lambda r, changes: UpdateTier(r.id, r.version, changes),
    create=CreateTier, new_values=lambda: {"active": True, "monthly_credits": 0},
    new_title="<b>New subscription tier</b>", new_save_label="&Save new tier",
    title=lambda r: f"<b>{html.escape(r.name)}</b>", table="subscription_tiers",
    label_of=lambda r: f"“{r.name}”", edits_block_actions=True, form_tab="Plan",
    actions=[Action("Arc&hive…", name="archive",
                    operation=lambda r: (ArchiveTier if r.active else RestoreTier)(r.id,
                                                                                 r.version),
                    confirm=_confirm_archive,
                    label_for=lambda r: "Arc&hive…" if r.active else "Make acti&ve…",
                    requires="edit_tiers"),
             Action("&Delete…", name="delete", operation=lambda r: DeleteTier(r.id, r.version),
                    confirm=_confirm_delete, apart=True, requires="edit_tiers")],
    tabs=(TableTab("Price history", ("Billing", "Amount", "Effective from", "Changed by"),
                   rows=lambda d: [(p.billing_period,
                                    "none" if p.amount is None
                                    else format_money(p.amount, p.currency),
                                    p.effective_from, p.changed_by) for p in d.prices],
                   note=lambda d: "Prices in force over time, newest first. A change applies "
                                  "to new subscribers; current ones keep their price."
                                  if d.prices else "No price history recorded for this tier: "
                                  "MRR uses its current prices."),
          history_tab("subscription_tier", watch=("subscription_tiers",))),
    min_width=560, save_requires="edit_tiers",
)


class TierDetailPane(RecordDetail):
    """One tier: the form (Save asks first when prices or access change), its facts and its
    price history."""

    build_in_steps = True  # the toolbar's actions now; the form and the tabs turn by turn

    user_requested = Signal(object)
    """A subscriber's customer id (the Subscribers tab), to open on the Users page."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(TIER, database, parent)
        self.archive_button = self.actions.buttons["archive"]
        self.delete_button = self.actions.buttons["delete"]
        self._categories: tuple[str, ...] | None = None  # for the form once it is built
        self._subscribers: SubscribersPanel | None = None  # built by tabs_built()
        self._notice = LatestRequest()
        self.asking = False
        # Facts, MRR and the price history follow every save: read them again.
        self.record_saved.connect(lambda _record: self.reload())

    def form_built(self) -> None:
        if self._categories is not None:
            self._offer_categories()

    def tabs_built(self) -> None:
        self._subscribers = SubscribersPanel(self._db)
        self.add_tab(self._subscribers, "Subscribers")
        self._subscribers.user_requested.connect(self.user_requested)

    # The parts built on later turns (reading one builds the rest now).
    @property
    def history(self) -> RecordTable:
        return self.tables["Price history"]

    @property
    def subscribers(self) -> SubscribersPanel:
        self.finish_build()
        assert self._subscribers is not None
        return self._subscribers

    def set_categories(self, categories: tuple[str, ...]) -> None:
        """The catalog's categories the access field offers (kept until it is built)."""
        self._categories = categories
        if self._form is not None:
            self._offer_categories()

    def _offer_categories(self) -> None:
        self._form.field_widget("category_access").set_choices(
            [(c, c) for c in self._categories or ()])

    def detail_loaded(self, loaded: TierDetail, same_record: bool) -> None:
        self.facts.setText(tier_facts(loaded))
        if self.subscribers.tier_id != loaded.record.id:
            self.subscribers.show_tier(loaded.record.id)

    def detail_cleared(self) -> None:
        self.subscribers.show_tier(None)

    def save(self) -> None:
        """A price or access change is said and confirmed first (read on a worker)."""
        if self.is_busy or self.asking or not self.is_dirty or self.is_creating:
            super().save()
            return
        record, changes = self.record, self.form.changed_values()
        self.asking = True
        on_done, on_failed = self._notice.wrap(
            lambda notice: self._on_notice(record, changes, notice), self._on_notice_failed)
        self._db.read(change_notice, record.id, changes, on_success=on_done,
                      on_failure=on_failed, context=self)

    def _on_notice(self, record: TierRecord, changes: dict[str, Any],
                   notice: ChangeNotice | None) -> None:
        self.asking = False
        if self.record is not record:
            return  # another tier (or a newer version) is shown now: nothing is saved
        if notice is not None and not confirmed(self, change_confirmation(record.name, notice)):
            return
        self.form.clear_errors()
        self.perform(UpdateTier(record.id, record.version, changes))

    def _on_notice_failed(self, exc: BaseException) -> None:
        self.asking = False
        self.banner.show_message(report_read_failure(self._db, "what the change means", exc))


class TiersPage(ListPage):
    """The tiers on the left; the selected tier's editor, history and subscribers on the
    right.

    Signals:
        user_requested(object): a subscriber's customer id, to open on the Users page.
    """

    user_requested = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(TIERS, database, detail=TierDetailPane(database), parent=parent)
        self.choices_loaded.connect(self.detail.set_categories)
        self.detail.user_requested.connect(self.user_requested)
        self.drift_button = self.actions.buttons["drift"]

    def open_drift_check(self, _row=None) -> SubscriptionDriftDialog:
        return self.open_dialog(SubscriptionDriftDialog(self._db, self))
        self.list_banner = self.banner

