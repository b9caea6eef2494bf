"""The main window's pages, described without importing them: each page module (and what it
pulls in: pyqtgraph for the charts, the Stripe library for refunds) is imported when its tab
is first shown, so the window opens before any of them is loaded."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from desktop.admin.list_page import Page
from desktop.database import Database


@dataclass(frozen=True)
class PageTab:
    """A tab: its title and key, and where its page class lives (``module:Class``)."""

    title: str
    shortcut: str
    page_class: str
    reads_payments: bool = False
    """Shows payments (purchases, bookings, refunds): says so while the demo prepares them."""

    def build(self, database: Database) -> Page:
        module, name = self.page_class.split(":")
        return getattr(importlib.import_module(module), name)(database)


TABS: tuple[PageTab, ...] = (
    PageTab("Users", "Ctrl+1", "desktop.pages.users:UsersPage", reads_payments=True),
    PageTab("Content catalog", "Ctrl+2", "desktop.pages.catalog:CatalogPage"),
    PageTab("Subscription tiers", "Ctrl+3", "desktop.pages.tiers:TiersPage"),
    PageTab("Offerings", "Ctrl+4", "desktop.pages.offerings:OfferingsPage",
            reads_payments=True),
    PageTab("Token balances", "Ctrl+5", "desktop.pages.token_balances:TokenBalancesPage"),
    PageTab("Referral rewards", "Ctrl+6", "desktop.pages.referrals:ReferralsPage"),
    PageTab("Revenue", "Ctrl+7", "desktop.pages.revenue:RevenuePage"),
    PageTab("Refunds", "Ctrl+8", "desktop.pages.refunds:RefundsPage", reads_payments=True),
    PageTab("Audit", "Ctrl+9", "desktop.pages.audit:AuditPage"),
)
USERS, TIERS, REFUNDS = 0, 2, 7
