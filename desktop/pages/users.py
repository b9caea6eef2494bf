"""The Users page: find anyone fast, see their whole story, fix their profile.

A declaration: the list (:data:`USERS`), the profile detail (:data:`PROFILE`) and the
history tabs. Saving goes through named operations (:mod:`data.operations.users`), which
refuse to overwrite a change made since the user was loaded; the machinery in
:mod:`desktop.admin` does the rest.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from operator import attrgetter

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from data.export import ExportColumn
from data.models.users import USER_ROLES, User
from data.operations.users import DeleteUser, MarkEmailVerified, RestoreUser, UpdateProfile
from data.queries.activity import ACTIVITY, EMAIL_LOG, NOTIFICATIONS
from data.queries.users import (
    UserDetail,
    UserFilter,
    UserProfile,
    count_users,
    get_user_detail,
    get_user_row,
    list_users_page,
    profile_values,
)
from data.services.users import MAX_LENGTHS
from desktop.admin.fields import field_for
from desktop.admin.history import history_tab
from desktop.admin.inline import InlineSpec
from desktop.admin.list_page import ListPage, ListSpec
from desktop.admin.record_detail import DetailSpec, RecordDetail, RowAction, TableTab
from desktop.database import Database
from desktop.formatting import format_count, format_money, format_value
from desktop.pages.manage_booking_dialog import ManageBookingDialog
from desktop.pages.offering_bookings import CustomerBookingsTab
from desktop.pages.period_credits_dialog import PeriodCreditsDialog
from desktop.pages.refund_dialog import RefundDialog
from desktop.pages.subscription_dialog import SubscriptionDialog
from desktop.pages.token_adjustment import AdjustmentDialog
from widgets.actions import Action, Confirmation
from widgets.dialogs import open_dialog
from widgets.filter_bar import Choice, Search
from widgets.lazy_table import Column, LazyTableView
from widgets.record_table import RecordTable

DETAIL_MIN_WIDTH = 680

USER_COLUMNS = (  # widths fit the header and the first page (LazyTableView.fit_columns)
    Column("Email", value=lambda r: r.email, max_width=210),
    Column("Full name", value=lambda r: r.full_name, max_width=180),
    Column("Role", value=lambda r: r.role),
    Column("Verified", value=lambda r: r.verified, display=format_value),
    Column("Created", value=lambda r: r.created_at, display=format_value),
    Column("Deleted", value=lambda r: r.deleted_at, display=format_value),
)

USERS = ListSpec(
    title="Users", shortcut="Ctrl+1", noun="user", columns=USER_COLUMNS,
    query=list_users_page, count=count_users, make_filter=UserFilter,
    filters=[Search("Search email or name (Ctrl+F)…"),
             Choice("role", [(r, r) for r in USER_ROLES], any_label="Any role"),
             Choice("status", [("all", "Any status"), ("active", "Active"),
                               ("deleted", "Deleted"), ("unverified", "Unverified")]),
             Choice("sort", [("created", "Newest first"), ("email", "Email A–Z")])],
    table="users", row_query=get_user_row,
    export=[ExportColumn(header, attrgetter(header)) for header in
            ("id", "email", "full_name", "role", "verified", "created_at", "deleted_at")],
    detail_ratio=(1, 1),  # the detail's history tables need room as much as the list
)

PROFILE_FIELDS = (  # kinds and limits read once from the model's column types
    field_for(User.email, "&Email"),
    field_for(User.full_name, "Full &name"),
    field_for(User.role, "&Role", "choice", choices=tuple((r, r) for r in USER_ROLES)),
    # TEXT columns: the service's own limits (MAX_LENGTHS), said in one place.
    field_for(User.profile_image_url, "Profile &image URL", "text",
              max_length=MAX_LENGTHS["profile_image_url"]),
    field_for(User.bio, "&Bio", "multiline", max_length=MAX_LENGTHS["bio"]),
)


def _title(p: UserProfile) -> str:
    return f"<b>{html.escape(p.full_name)}</b> &lt;{html.escape(p.email)}&gt;"


def _facts(p: UserProfile) -> str:
    facts = [f"Created {format_value(p.created_at)}", f"updated {format_value(p.updated_at)}",
             ("email verified " + format_value(p.email_verified_at)) if p.email_verified_at
             else "<b>email not verified</b>"]
    if p.deleted_at:
        facts.append(f"<b style='color:#b00020'>deleted {format_value(p.deleted_at)}</b>")
    if p.stripe_customer_id:
        facts.append(f"Stripe {p.stripe_customer_id}")
    return " · ".join(facts)


def _delete_or_restore(p: UserProfile):
    return DeleteUser(p.id, p.version) if p.deleted_at is None else RestoreUser(p.id, p.version)


def _confirm_delete_or_restore(p: UserProfile) -> Confirmation:
    if p.deleted_at is None:
        return Confirmation("Delete user", f"Delete {p.email}?", "Delete user", destructive=True,
                            informative="They will no longer be able to sign in. Their "
                                        "purchases and history are kept, and you can restore "
                                        "them later.")
    return Confirmation("Restore user", f"Restore {p.email}?", "Restore user")


def _refunded_text(money: Decimal, tokens: int, currency: str = "usd") -> str:
    """What went back to the customer: money, tokens, both, or nothing (blank)."""
    parts = [format_money(money, currency)] if money else []
    if tokens:
        parts.append(format_count(tokens, "token"))
    return " + ".join(parts)


def _balance_note(d: UserDetail) -> str:
    b = d.balance
    return (f"<b>{b.current_balance:,} tokens</b> — earned {b.lifetime_earned:,}, spent "
            f"{b.lifetime_spent:,} in all. Latest ledger lines:" if b else "No token balance.")


def _referral_note(d: UserDetail) -> str:
    parts = [f"Referral code: <b>{d.referral_code}</b>" if d.referral_code
             else "No referral code."]
    if d.referred_by:
        r = d.referred_by
        parts.append(f"Referred by {html.escape(r.email)} ({r.status}, "
                     f"{format_value(r.referred_at)}).")
    parts.append(f"Referred {len(d.referred)} user(s).")
    return "<br>".join(parts)


HISTORY = (  # the user's story, loaded with the profile (get_user_detail)
    TableTab("Purchases", ("Content", "Amount", "Status", "Refunded", "Purchased",
                           "Refunded on"),
             rows=lambda d: [(p.content_title, format_money(p.amount_paid, p.currency), p.status,
                              _refunded_text(p.refunded, 0, p.currency), p.purchased_at,
                              p.refunded_at) for p in d.purchases],
             keys=lambda d: [p.id for p in d.purchases], watch="purchases",
             row_action=RowAction("Re&fund purchase…", "Re&fund…", "refund_purchase",
                                   requires="refund")),
    TableTab("Subscriptions", ("Tier", "Status", "Billing", "Period start", "Period end",
                               "Cancels at end"),
             rows=lambda d: [(s.tier_name, s.status, s.billing_period, s.current_period_start,
                              s.current_period_end, s.cancel_at_period_end)
                             for s in d.subscriptions],
             keys=lambda d: [s.id for s in d.subscriptions], watch="subscriptions",
             row_action=RowAction("C&hange subscription…", "C&hange…",
                                  "change_subscription", requires="subscriptions"),
             more_actions=(RowAction("Grant this period's credits…",
                                     "Grant this period's c&redits…", "grant_period_credits",
                                     requires="period_credits"),)),
    TableTab("Tokens", ("Date", "Type", "Amount", "Balance after", "Description"),
             rows=lambda d: [(line.created_at, line.type, f"{line.amount:+,}",
                              line.balance_after, line.description or "") for line in d.ledger],
             note=_balance_note, button=("Ad&just tokens…", "open_token_adjustment"),
             button_requires="adjust_tokens"),
    TableTab("Referrals", ("Referred user", "Status", "Referred at"),
             rows=lambda d: [(r.email, r.status, r.referred_at) for r in d.referred],
             note=_referral_note),
    # Newest first, lazy: a few lines each.
    InlineSpec.of_listing(EMAIL_LOG, empty="No emails sent to this user.",
                          max_widths={"Subject": 220, "Error": 220}),
    InlineSpec.of_listing(ACTIVITY, empty="No activity recorded.",
                          displays={"Data": lambda d: json.dumps(d, ensure_ascii=False)
                                    if d else ""}, max_widths={"Data": 360}),
    InlineSpec.of_listing(NOTIFICATIONS, empty="No notifications."),
    history_tab("user", "credit_balance", watch=("users", "credit_balances")),
)

PROFILE = DetailSpec(
    noun="user", load=get_user_detail, record_of=lambda d: d.profile,
    fields=PROFILE_FIELDS, values_of=profile_values,
    save=lambda p, changes: UpdateProfile(p.id, p.version, changes),
    title=_title, facts=_facts, table="users", label_of=lambda p: p.email,
    actions=[Action("Mark email &verified", name="verify",
                    operation=lambda p: MarkEmailVerified(p.id, p.version),
                    enabled=lambda p: p is not None and p.email_verified_at is None,
                    requires="manage_users"),
             Action("&Delete…", name="delete", operation=_delete_or_restore,
                    confirm=_confirm_delete_or_restore,
                    label_for=lambda p: "&Restore…" if p.deleted_at else "&Delete…",
                    apart=True, requires="manage_users")],
    tabs=HISTORY, watch_owner=("credit_balances",),  # an adjustment made anywhere shows
    min_width=DETAIL_MIN_WIDTH, save_requires="edit_profile",
)


class UserDetailPane(RecordDetail):
    """Profile form and actions, and the user's history: purchases, subscriptions, tokens,
    referrals, bookings (every one, lazily, with Manage and Refund), emails, activity and
    notifications."""

    build_in_steps = True  # the profile first; the eight history tabs one per turn after

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(PROFILE, database, parent)
        self._bookings_tab: CustomerBookingsTab | None = None  # built by tabs_built()
        self.verify_button = self.actions.buttons["verify"]
        self.delete_button = self.actions.buttons["delete"]

    def tabs_built(self) -> None:
        # The customer's bookings, as an offering's Bookings tab lists its own: after
        # Referrals, where the fixed list of the newest 200 used to be.
        self._bookings_tab = tab = CustomerBookingsTab(self._db)
        after = next(i for i in range(self._tabs.count())
                     if self._tabs.tabText(i) == "Referrals")
        self._tabs.insertTab(after + 1, tab, "Bookings")
        tab.manage_requested.connect(self.manage_booking)
        tab.refund_requested.connect(self.refund_booking)

    # The history's parts (built on a later turn: reading one builds the rest now).
    @property
    def bookings_tab(self) -> CustomerBookingsTab:
        self.finish_build()
        assert self._bookings_tab is not None
        return self._bookings_tab

    @property
    def bookings(self) -> LazyTableView:
        return self.bookings_tab.view

    @property
    def purchases(self) -> RecordTable:
        return self.tables["Purchases"]

    @property
    def refund_purchase_button(self) -> QPushButton:
        return self.purchases.row_button

    @property
    def subscriptions(self) -> RecordTable:
        return self.tables["Subscriptions"]

    @property
    def ledger(self) -> RecordTable:
        return self.tables["Tokens"]

    @property
    def balance(self) -> QLabel:
        return self.notes["Tokens"]

    def open_token_adjustment(self) -> AdjustmentDialog | None:
        p = self.record
        if p is None:
            return None
        dialog = AdjustmentDialog(self._db, p.id, f"{p.full_name} <{p.email}>", self)
        return open_dialog(dialog)

    def refund_purchase(self, purchase_id) -> RefundDialog | None:
        return self.open_refund("purchase", purchase_id)

    def change_subscription(self, subscription_id) -> SubscriptionDialog | None:
        """Cancel at period end, resume or cancel now (Stripe); the detail reloads when the
        change is announced."""
        if self.record is None:
            return None
        return open_dialog(SubscriptionDialog(self._db, subscription_id, self))

    def grant_period_credits(self, subscription_id) -> PeriodCreditsDialog | None:
        """This period's credits of the subscription, by hand; the detail reloads when the
        grant is announced."""
        if self.record is None:
            return None
        return open_dialog(PeriodCreditsDialog(self._db, subscription_id, self))

    def refund_booking(self, booking_id) -> RefundDialog | None:
        return self.open_refund("booking", booking_id)

    def manage_selected_booking(self) -> ManageBookingDialog | None:
        """Cancel, mark or change the portal access of the booking selected (see
        :class:`~desktop.pages.manage_booking_dialog.ManageBookingDialog`)."""
        key = self.bookings_tab.current_booking()
        return self.manage_booking(key) if key is not None else None

    def manage_booking(self, booking_id) -> ManageBookingDialog | None:
        if self.record is None:
            return None
        return open_dialog(ManageBookingDialog(self._db, booking_id, self))

    def detail_loaded(self, loaded: UserDetail, same_record: bool) -> None:
        self.bookings_tab.show_for(loaded.profile.id, same_record)

    def detail_cleared(self) -> None:
        self.bookings_tab.show_for(None)

    def open_selected_refund(self, kind: str) -> RefundDialog | None:
        """Open the refund dialog for the purchase or booking selected in its table."""
        key = self.purchases.current_key() if kind == "purchase" \
            else self.bookings_tab.current_booking()
        return self.open_refund(kind, key) if key is not None else None

    def open_refund(self, kind: str, target_id) -> RefundDialog | None:
        """Refund one purchase or booking of the shown user; the detail reloads when the
        refund is announced."""
        if self.record is None:
            return None
        dialog = RefundDialog(self._db, kind, target_id, self)
        return open_dialog(dialog)


class UsersPage(ListPage):
    """List, search, filters and export on the left; the selected user on the right."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        # The list first; the detail on the next turn (and its history tabs on later ones).
        super().__init__(USERS, database, detail=lambda: UserDetailPane(database),
                         parent=parent)
        self.list_banner = self.banner
