"""The Referral rewards page: the program's rewards, codes, referrals, the fraud review
queue, the platform counters' consistency, and charts, one sub-view each.

A declaration: the rewards' list and editor are here (:data:`REWARDS`, :data:`REWARD`: a
value editor per type, a type the app does not know shown as its JSON and kept), the other
lists in :mod:`desktop.pages.referral_lists`, the dialogs in
:mod:`desktop.pages.referral_dialogs`. Every change is a named operation
(:mod:`data.operations.referrals`), audited, announced to the lists.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from data.operations.referrals import (
    CreateCode,
    CreateReward,
    DeleteReward,
    QualifyReferral,
    ReviewReferral,
    SetCodeExpiry,
    SetRewardActive,
    UpdateReward,
    VoidReferral,
)
from data.queries.referrals import (
    RewardFilter,
    RewardRecord,
    count_rewards,
    get_reward,
    list_rewards_page,
)
from data.services.referral_grants import what_granting_does
from data.services.referrals import REWARD_TYPES, reward_values
from desktop.admin.list_page import ListPage, ListSpec
from desktop.admin.record_detail import DetailSpec, RecordDetail
from desktop.database import Database
from desktop.formatting import format_value
from desktop.pages.referral_charts import ReferralCharts
from desktop.pages.referral_dialogs import OperationDialog, ReferrerDialog, user_searcher
from desktop.pages.referral_lists import CODES, CONSISTENCY, REFERRALS, REVIEW_QUEUE
from widgets.actions import Action, Confirmation
from widgets.filter_bar import Choice, Search
from widgets.lazy_table import Column
from widgets.record_form import FieldSpec, Section

__all__ = ["REWARD", "REWARDS", "ReferralsPage"]

TYPE_LABELS = {"premium_days": "Premium days", "discount": "Discount", "badge": "Badge",
               "credits": "Credits (tokens)"}


def describe_value(r: RewardRecord) -> str:
    v = r.value if isinstance(r.value, dict) else {}
    if r.type == "premium_days":
        return f"{v.get('days')} days"
    if r.type == "discount":
        if "amount_off" in v:
            return f"{v.get('amount_off')} {str(v.get('currency', '')).upper()} off"
        return f"{v.get('percent_off')}% off"
    if r.type == "badge":
        return f"badge “{v.get('badge')}”"
    if r.type == "credits":
        return f"{v.get('credits')} tokens"
    return json.dumps(r.value, ensure_ascii=False)


REWARDS = ListSpec(
    title="Rewards", noun="reward",
    columns=(Column("Name", value=lambda r: r.name, max_width=200),
             Column("Type", value=lambda r: r.type),
             Column("Value", value=describe_value, max_width=220),
             Column("Required referrals", value=lambda r: r.required_referrals),
             Column("Active", value=lambda r: r.is_active, display=format_value),
             Column("Claims", value=lambda r: r.claims)),
    query=list_rewards_page, count=count_rewards,
    make_filter=lambda search="", active="all": RewardFilter(search, active),
    filters=[Search("Search rewards (Ctrl+F)…"),
             Choice("active", [("all", "Active and inactive"), ("active", "Active only"),
                               ("inactive", "Inactive only")])],
    table="referral_rewards", row_query=get_reward, refresh_on_new=True, keep_detail=True,
    toolbar=True, placeholder="No rewards defined yet: New… defines one.",
)


def _type_is(*kinds: str):
    return lambda values: values.get("type") in kinds


def _discount(kind: str):
    return lambda values: values.get("type") == "discount" and values.get("discount_kind") == kind


REWARD_FIELDS = (
    FieldSpec("name", "&Name", required=True, max_length=200),
    FieldSpec("description", "&Description", "multiline", required=True),
    FieldSpec("type", "&Type", "choice", choices=tuple((t, TYPE_LABELS[t]) for t in REWARD_TYPES)),
    Section("Premium days", [FieldSpec("days", "Da&ys", "integer", minimum=1, maximum=3650)],
            _type_is("premium_days")),
    Section("Discount", [FieldSpec("discount_kind", "Discount &kind", "choice",
                                   choices=(("percent", "Percent off"),
                                            ("amount", "An amount off")))],
            _type_is("discount")),
    Section("Percent off", [FieldSpec("percent_off", "&Percent off", "integer", minimum=1,
                                      maximum=100)], _discount("percent")),
    Section("Amount off", [FieldSpec("amount_off", "&Amount off", "money",
                                     maximum=Decimal("100000.00")),
                           FieldSpec("currency", "C&urrency", max_length=3,
                                     placeholder="usd")], _discount("amount")),
    Section("Badge", [FieldSpec("badge", "&Badge", max_length=100)], _type_is("badge")),
    Section("Credits", [FieldSpec("credits", "&Credits (tokens)", "integer", minimum=1,
                                  maximum=1_000_000)], _type_is("credits")),
    Section("Stored value", [FieldSpec("value_json", "Value (JSON)", "readonly")],
            lambda values: values.get("type") not in REWARD_TYPES),
    FieldSpec("required_referrals", "&Required referrals", "integer", minimum=1,
              maximum=100_000, required=True),
    FieldSpec("is_active", "Acti&ve", "bool"),
)


def _values_of(r: RewardRecord) -> dict[str, Any]:
    return {**reward_values(r), "value_json": json.dumps(r.value, ensure_ascii=False)}


def _facts(r: RewardRecord) -> str:
    kind = ("" if r.type in REWARD_TYPES else
            "The app does not know this type: its value is kept as it is. ")
    claims = f"Claimed {r.claims:,} time(s): it can be deactivated, not deleted. " \
        if r.claims else "Not claimed yet. "
    return html.escape(kind + claims + what_granting_does(r.type))


def _confirm_delete(r: RewardRecord) -> Confirmation:
    return Confirmation("Delete reward", f"Delete “{r.name}”?", "Delete reward",
                        destructive=True, informative="Nobody claimed it; it is removed.")


REWARD = DetailSpec(
    noun="reward", load=get_reward, fields=REWARD_FIELDS, values_of=_values_of,
    save=lambda r, changes: UpdateReward(r.id, r.version, changes),
    create=lambda values: CreateReward(values), new_values=lambda: reward_values(None),
    new_title="<b>New reward</b>", new_save_label="&Save new reward",
    title=lambda r: f"<b>{html.escape(r.name)}</b> · {html.escape(r.type)}", facts=_facts,
    table="referral_rewards", label_of=lambda r: f"“{r.name}”", edits_block_actions=True,
    actions=[Action("Deac&tivate", name="toggle_reward",
                    operation=lambda r: SetRewardActive(r.id, r.version, not r.is_active),
                    label_for=lambda r: "Ac&tivate" if not r.is_active else "Deac&tivate",
                    requires="edit_rewards"),
             Action("De&lete…", name="delete_reward",
                    operation=lambda r: DeleteReward(r.id, r.version), confirm=_confirm_delete,
                    enabled=lambda r: r is not None and r.claims == 0, apart=True,
                    requires="edit_rewards")],
    save_requires="edit_rewards", toolbar=True,
)

REASON = (FieldSpec("reason", "&Reason", required=True, max_length=500),)
NOTE = (FieldSpec("note", "&Note", required=True, max_length=500),)


class ReferralListPage(ListPage):
    """A sub-view's list whose actions open this module's dialogs."""

    def _dialog(self, *args, **kw) -> OperationDialog:
        return self.open_dialog(OperationDialog(self._db, *args, parent=self, **kw))

    def open_new_code(self, _row=None) -> OperationDialog:
        fields = (FieldSpec("user_id", "&User", "related",
                            search=user_searcher(self._db, self)),
                  FieldSpec("code", "&Code", max_length=32,
                            placeholder="blank: made up from the first name"),
                  FieldSpec("expires_at", "&Expires", "datetime"))
        return self._dialog("New referral code", "One code per user. Leave the code blank to "
                            "have a readable one made up.", fields,
                            lambda v: CreateCode(v.get("user_id"), v.get("code"),
                                                 v.get("expires_at")), ok_label="Create code")

    def open_expiry(self, row) -> OperationDialog:
        return self._dialog(f"Expiry of {row.code}", "Empty: the code never expires.",
                            (FieldSpec("expires_at", "&Expires", "datetime"),),
                            lambda v: SetCodeExpiry(row.id, v.get("expires_at")),
                            values={"expires_at": row.expires_at}, ok_label="Save expiry")

    def open_qualify(self, row) -> OperationDialog:
        return self._dialog("Qualify referral", f"Qualify {row.referred_email}'s referral by "
                            f"{row.referrer_email} by hand. The reason is recorded.", REASON,
                            lambda v: QualifyReferral(row.id, v.get("reason")),
                            ok_label="Qualify")

    def open_void(self, row) -> OperationDialog:
        return self._dialog("Void referral", f"Void {row.referred_email}'s referral by "
                            f"{row.referrer_email} (fraud, refund…). It will count toward no "
                            "reward; a reward already granted stays.", REASON,
                            lambda v: VoidReferral(row.id, v.get("reason")), ok_label="Void")

    def open_referrer(self, row) -> ReferrerDialog:
        return self.open_dialog(ReferrerDialog(self._db, row.referrer_id, self))

    def open_clear(self, row) -> OperationDialog:
        return self._dialog("Clear flag", f"{row.reason}\n\nClearing reviews every open flag "
                            "of this referral: it counts toward rewards again.", NOTE,
                            lambda v: ReviewReferral(row.referral_id, "cleared", v.get("note")),
                            ok_label="Clear flag")

    def open_void_flagged(self, row) -> OperationDialog:
        return self._dialog("Void flagged referral", f"{row.reason}\n\nVoiding reviews every "
                            "open flag of this referral and voids it with your note as the "
                            "reason.", NOTE,
                            lambda v: ReviewReferral(row.referral_id, "voided", v.get("note")),
                            ok_label="Void")


class ReferralsPage(QWidget):
    """The sub-views in tabs; each list loads when first shown."""

    title = "Referral rewards"
    shortcut = "Ctrl+6"

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.reward_detail = RecordDetail(REWARD, database)
        self.rewards = ReferralListPage(REWARDS, database, detail=self.reward_detail,
                                        load_on_show=True)
        self.codes = ReferralListPage(CODES, database, load_on_show=True)
        self.referrals = ReferralListPage(REFERRALS, database, load_on_show=True)
        self.review = ReferralListPage(REVIEW_QUEUE, database, load_on_show=True)
        self.consistency = ReferralListPage(CONSISTENCY, database, load_on_show=True)
        self.views: list[ListPage] = [self.rewards, self.codes, self.referrals, self.review,
                                      self.consistency]
        self.tabs = QTabWidget()
        for view in self.views:
            self.tabs.addTab(view, view.title)
        self.charts = ReferralCharts(database)
        self.tabs.addTab(self.charts, "Charts")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def focus_search(self) -> None:
        current = self.tabs.currentWidget()
        if isinstance(current, ListPage):
            current.focus_search()

    def refresh(self) -> None:
        current = self.tabs.currentWidget()
        if current is not None and hasattr(current, "refresh"):
            current.refresh()
