"""The Referral rewards page's lists, declared: codes, referrals, the review queue and the
consistency of the platform's counters. Each action opens a small dialog (a reason, a code)
or runs a named operation (:mod:`data.operations.referrals`)."""

from __future__ import annotations

from data.models.admin import REFERRAL_SIGNALS
from data.operations.referrals import CorrectReferralCounts, ScanReferralFraud, SetCodeActive
from data.queries.referrals import (
    CodeFilter,
    FlagFilter,
    ReferralFilter,
    count_codes,
    count_open_flags,
    count_referrals,
    get_code_row,
    get_flag_row,
    get_referral_row,
    list_codes_page,
    list_open_flags_page,
    list_referrals_page,
    search_users,
)
from data.queries.users import UserCount
from data.services.referral_fraud import list_mismatches_page
from desktop.admin.list_page import ListSpec
from desktop.formatting import format_value
from widgets.actions import Action, Confirmation, always
from widgets.filter_bar import Choice, DateRange, Related, Search
from widgets.lazy_table import Column

__all__ = ["CODES", "CONSISTENCY", "REFERRALS", "REVIEW_QUEUE"]

STATES = (("pending", "Pending"), ("qualified", "Qualified"), ("rewarded", "Rewarded"),
          ("voided", "Voided"), ("flagged", "Flagged"))


def _col(title: str, attr: str, **kw) -> Column:
    return Column(title, value=lambda r, a=attr: getattr(r, a), display=format_value, **kw)


CODES = ListSpec(
    title="Codes", noun="code",
    columns=(_col("Code", "code"), _col("Holder", "email", max_width=220),
             _col("Created", "created_at"), _col("Expires", "expires_at"),
             _col("Active", "is_active"), _col("Uses", "uses")),
    query=list_codes_page, count=count_codes,
    make_filter=lambda search="", user=None: CodeFilter(search=search, user=user),
    filters=[Search("Search code or holder's email (Ctrl+F)…"), Related("user", "Holder")],
    searches={"user": search_users},
    table="referral_codes", row_query=get_code_row, refresh_on_new=True,
    actions=[Action("&New code…", name="new_code", open="open_new_code", enabled=always,
                    requires="referral_codes"),
             Action("&Deactivate", name="toggle_code",
                    operation=lambda r: _set_code_active(r),
                    label_for=lambda r: "&Reactivate" if not r.is_active else "&Deactivate",
                    requires="referral_codes"),
             Action("Set e&xpiry…", name="expiry", open="open_expiry",
                    requires="referral_codes")],
    placeholder="No codes match.",
)


def _set_code_active(row):
    return SetCodeActive(row.id, not row.is_active)


def _referral_filter(code: str = "", status=None, referrer=None, referred=None, since=None,
                     until=None) -> ReferralFilter:
    return ReferralFilter(status=status, referrer=referrer, referred=referred, code=code,
                          since=since, until=until)


REFERRALS = ListSpec(
    title="Referrals", noun="referral",
    columns=(_col("Referred at", "referred_at"), _col("Referrer", "referrer_email", max_width=220),
             _col("Referred", "referred_email", max_width=220), _col("Code", "code"),
             _col("State", "state"), _col("Claimed", "reward_claimed"),
             _col("Void reason", "void_reason", max_width=200)),
    query=list_referrals_page, count=count_referrals, make_filter=_referral_filter,
    filters=[Search("Code (exact)…", name="code"),
             Choice("status", STATES, any_label="Any state"),
             Related("referrer", "Referrer"), Related("referred", "Referred"),
             DateRange("since", "until", "Referred between")],
    searches={"referrer": search_users, "referred": search_users},
    table="referrals", row_query=get_referral_row,
    actions=[Action("&Referrer's view…", name="referrer", open="open_referrer", default=True),
             Action("&Qualify…", name="qualify", open="open_qualify",
                    enabled=lambda r: r is not None and r.status == "pending"
                    and r.void_reason is None, requires="referrals"),
             Action("&Void…", name="void", open="open_void",
                    enabled=lambda r: r is not None and r.void_reason is None, apart=True,
                    requires="referrals")],
    placeholder="No referrals match.",
)


def _scan():
    return ScanReferralFraud()


REVIEW_QUEUE = ListSpec(
    title="Review queue", noun="open flag",
    columns=(_col("Found", "found_at"), _col("Signal", "signal"),
             _col("Reason", "reason", max_width=360), _col("Referrer", "referrer_email"),
             _col("Referred", "referred_email"), _col("Code", "code"), _col("Status", "status")),
    query=list_open_flags_page, count=count_open_flags,
    make_filter=lambda signal=None: FlagFilter(signal=signal),
    filters=[Choice("signal", [(s, s.replace("_", " ")) for s in REFERRAL_SIGNALS],
                    any_label="Any signal")],
    table="referral_flags", row_query=get_flag_row,
    heading="Flags, not blocks: a flagged referral counts toward no reward until it is "
            "reviewed. Clear it (it counts again) or void it.",
    actions=[Action("&Clear flag…", name="clear", open="open_clear", requires="referrals"),
             Action("&Void referral…", name="void_flagged", open="open_void_flagged",
                    requires="referrals"),
             Action("&Scan for fraud signals", name="scan", operation=lambda _r: _scan(),
                    enabled=always, apart=True, requires="referrals")],
    placeholder="No open flags. Scan to look for new signals.",
)


def _correct(_row):
    return CorrectReferralCounts()


CONSISTENCY = ListSpec(
    title="Consistency", noun="mismatch",
    columns=(Column("User", value=lambda m: m.email, max_width=260),
             Column("What disagrees", value=lambda m: m.describe().split(": ", 1)[1],
                    max_width=520)),
    query=list_mismatches_page, count=lambda s, _f: UserCount(len(list_mismatches_page(s, None, None, 0)[0]), True),
    make_filter=lambda: None, row_key=lambda m: m.user_id, table="referral_consistency",
    heading="Users whose referral_count, was_referred or referred_by disagree with the "
            "referrals (the platform keeps both). The same as "
            "<tt>platform-admin referrals check</tt>.",
    actions=[Action("&Correct the counts…", name="correct", operation=_correct, enabled=always,
                    requires="referrals",
                    confirm=lambda _r: Confirmation(
                        "Correct the counts", "Set every listed user's referral counters from "
                        "the referrals?", "Correct the counts",
                        informative="Each corrected user gets an audit record with the old "
                                    "and new values."))],
    placeholder="Every user's referral counters agree with the referrals.",
)
