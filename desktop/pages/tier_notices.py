"""The sentences the Subscription tiers page says about a tier: its facts (archived or not,
the credit rule in words, where its MRR comes from) and the notice before a price or access
change is saved."""

from __future__ import annotations

import html

from data.queries.tiers import SubscriberCounts, TierDetail
from data.services.tiers import ChangeNotice
from desktop.formatting import format_count, format_money
from widgets.actions import Confirmation

__all__ = ["change_confirmation", "credit_rule", "tier_facts"]


def _counts(c: SubscriberCounts) -> str:
    return (f"{format_count(c.current, 'subscriber')} ({c.active:,} active / "
            f"{c.trialing:,} trialing / {c.past_due:,} past due)")


def credit_rule(monthly_credits: int, rollover: bool) -> str:
    """The tier's credits in words, as support explains them."""
    if monthly_credits <= 0:
        return "No monthly credits."
    credits = format_count(monthly_credits, "credit")
    if rollover:
        return f"{credits} a month; unused credits roll over to the next month."
    return f"{credits} a month; unused credits expire when the month ends."


def tier_facts(d: TierDetail) -> str:
    r, row = d.record, d.row
    facts = []
    if r.active:
        facts.append("<b>Active</b>: open to new subscribers")
    else:
        facts.append("<b style='color:#8a5a00'>Archived</b>: takes no new subscribers; its "
                     f"{format_count(d.counts.current, 'existing subscriber')} keep renewing")
    facts.append(_counts(d.counts) + f", {d.counts.canceled:,} canceled")
    mrr = f"MRR {format_money(row.mrr, row.currency)}, each at the price in force when its " \
          "current period began"
    if row.priced_now:
        mrr += (f"; {format_count(row.priced_now, 'subscription')} at the current price (the "
                "price history does not reach back to its period's start)")
    facts.append(mrr)
    facts.append(html.escape(credit_rule(r.monthly_credits, r.credit_rollover)))
    if d.empty_categories:
        names = ", ".join(f"“{html.escape(c)}”" for c in d.empty_categories)
        facts.append(f"<b style='color:#8a5a00'>No published content in {names}</b> "
                     "(allowed: subscribers get nothing from it yet)")
    return "<br>".join(facts)


def _access_sentence(n: ChangeNotice) -> str:
    a = n.access
    assert a is not None
    if not a.changes_anything:
        return "The access change makes no published item or offering appear or disappear."
    return (f"Access changes for everyone on the tier at once: it gains "
            f"{format_count(a.items_gained, 'published item')} and loses "
            f"{a.items_lost:,}; gains {format_count(a.offerings_gained, 'offering')} and loses "
            f"{a.offerings_lost:,}. This touches "
            f"{format_count(a.subscribers, 'current subscriber')}.")


def change_confirmation(tier_name: str, n: ChangeNotice) -> Confirmation:
    """Asked before saving a price or access change."""
    parts = []
    if n.prices_changed:
        parts.append(f"{_counts(n.counts)} keep what they pay now; new subscribers pay the "
                     "new price. Their Stripe subscriptions are not touched.")
    if n.access is not None:
        parts.append(_access_sentence(n))
    what = " and ".join(w for w, on in (("prices", n.prices_changed),
                                        ("access", n.access is not None)) if on)
    return Confirmation(f"Change {what}", f"Change the {what} of “{tier_name}”?",
                        f"Save {what}", informative="\n\n".join(parts))
