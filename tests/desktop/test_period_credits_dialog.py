"""Grant this period's credits, driven as support would: from the Users detail's
Subscriptions tab and from a tier's subscribers; the confirmation names the tokens; a double
click and a second dialog grant nothing more; a period the platform granted is refused with
that sentence. Every outcome checked in the database."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from desktop.pages import subscription_list as subscription_list_module
from desktop.pages import users as users_module
from desktop.pages.period_credits_dialog import PeriodCreditsDialog
from desktop.pages.subscription_list import SubscribersPanel
from desktop.pages.users import UserDetailPane
from tests.data.factories import BASE_TIME, insert_user
from tests.data.tier_factories import add_subscription, add_tier

WAIT = 15_000


@pytest.fixture
def subscription(engine):
    customer = insert_user(engine, "pat@example.com", "Pat Member")
    tier = add_tier(engine, "Studio", credits=40)
    return add_subscription(engine, customer, tier), customer, tier


def _rows(engine, customer):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT type, amount, subscription_id FROM credit_transactions "
            "WHERE customer_id = :c"), {"c": customer}).all()


def _click(box, label):
    [button] = [b for b in box.buttons() if b.text() == label]
    button.click()


def _loaded(qtbot, dialog):
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=WAIT)
    return dialog


def test_users_tab_grants_once_after_a_confirmation_naming_the_tokens(
        qtbot, empty_database, engine, subscription, monkeypatch):
    sub_id, customer, _tier = subscription
    opened = []
    monkeypatch.setattr(users_module, "open_dialog", lambda d: opened.append(d) or d)
    pane = UserDetailPane(empty_database)
    qtbot.addWidget(pane)
    pane.show(customer)
    qtbot.waitUntil(lambda: pane.record is not None and pane.subscriptions.rowCount() == 1,
                    timeout=WAIT)
    [grant_button] = pane.subscriptions.more_buttons
    assert grant_button.text() == "Grant this period's c&redits…"
    assert not grant_button.isEnabled()  # no row chosen yet
    pane.subscriptions.selectRow(0)
    assert grant_button.isEnabled()
    pane.resize(900, 600)
    pane.tabs.setCurrentIndex(pane.tabs.indexOf(pane.subscriptions.parentWidget()))
    qtbot.mouseClick(grant_button, Qt.MouseButton.LeftButton)
    dialog = _loaded(qtbot, opened[0])
    assert isinstance(dialog, PeriodCreditsDialog) and dialog.subscription_id == sub_id
    assert "Platform granted this period: <b>No</b>" in dialog.platform.text()
    assert dialog.grant_button.text() == "&Grant 40 tokens…" and dialog.grant_button.isEnabled()

    qtbot.mouseClick(dialog.grant_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None and "Grant 40 tokens to pat@example.com" in box.text()
    assert "balance goes from 0 to 40" in box.text()
    _click(box, "Cancel")  # declining writes nothing
    qtbot.waitUntil(lambda: dialog.confirmation is None, timeout=WAIT)
    assert _rows(engine, customer) == []

    qtbot.mouseClick(dialog.grant_button, Qt.MouseButton.LeftButton)
    _click(dialog.confirmation, "Grant 40 tokens")
    dialog._apply()  # a second, racing submit of the same dialog: the same request id
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog._busy, timeout=WAIT)
    assert "balance 0 → <b>40</b>" in dialog.message.text()
    assert "Current balance: 40 tokens" in dialog.summary.text()
    assert not dialog.grant_button.isEnabled()
    assert _rows(engine, customer) == [("earned_subscription", 40, sub_id)]
    # the detail follows the grant: its Tokens tab shows the new line
    qtbot.waitUntil(lambda: pane.ledger.rowCount() == 1, timeout=WAIT)

    again = _loaded(qtbot, PeriodCreditsDialog(empty_database, sub_id))
    assert "already granted by hand (40 tokens" in again.message.text()
    assert not again.grant_button.isEnabled()
    assert _rows(engine, customer) == [("earned_subscription", 40, sub_id)]


def test_tier_subscribers_refuse_a_period_the_platform_granted(
        qtbot, empty_database, engine, subscription, monkeypatch):
    sub_id, customer, tier = subscription
    granted_at = BASE_TIME + dt.timedelta(days=1)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO credit_balances (customer_id, current_balance, "
                          "lifetime_earned, updated_at) VALUES (:c, 40, 40, :at)"),
                     {"c": customer, "at": granted_at})
        conn.execute(text(
            "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
            "subscription_id, created_at) VALUES (:c, 'earned_subscription', 40, 40, :s, :at)"),
            {"c": customer, "s": sub_id, "at": granted_at})
    opened = []
    monkeypatch.setattr(subscription_list_module, "open_dialog",
                        lambda d: opened.append(d) or d)
    panel = SubscribersPanel(empty_database)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_tier(tier)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and not panel.model.is_loading,
                    timeout=WAIT)
    panel.view.selectRow(0)
    qtbot.mouseClick(panel.grant_button, Qt.MouseButton.LeftButton)
    dialog = _loaded(qtbot, opened[0])
    assert "Platform granted this period: <b>Yes</b>: 40 tokens" in dialog.platform.text()
    assert "The platform already granted this period's credits" in dialog.message.text()
    assert not dialog.grant_button.isEnabled()
    dialog.grant()  # even pressed anyway (a stale click): nothing is asked or written
    assert dialog.confirmation is None
    assert len(_rows(engine, customer)) == 1
