"""The Subscription tiers page driven as a person would: the list with MRR, edit, a price
change with its notice, the access preview, archive and delete; every change checked in
the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from desktop.pages.tiers import TierDetailPane, TiersPage
from widgets import actions as actions_module

WAIT = 15_000


@pytest.fixture
def page(qtbot, demo_database):
    p = TiersPage(demo_database)
    qtbot.addWidget(p)
    p.resize(1500, 900)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def _rows(page):
    return [page.model.row_at(i) for i in range(page.model.rowCount())]


def _click_row(qtbot, page, index: int):
    model_index = page.model.index(index, 0)
    rect = page.view.visualRect(model_index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    row = page.model.row_at(index)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == row.id
                    and page.detail.facts.text().startswith("<b>"), timeout=WAIT)
    return row


def _replace_text(qtbot, line_edit, value: str):
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Delete)
    if value:
        qtbot.keyClicks(line_edit, value)


def _editor(page, name):
    widget = page.detail.form.field_widget(name)
    return getattr(widget, "line_edit", widget)


def _db_tier(engine, tier_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT t.*, t.xmin::text AS v FROM subscription_tiers t "
                                 "WHERE id = :id"), {"id": tier_id}).one()


def _answer(monkeypatch, answer: bool):
    asked = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: asked.append(k) or answer)
    return asked


def test_the_list_shows_prices_subscribers_and_mrr_highest_first(qtbot, page, demo_engine):
    rows = _rows(page)
    assert [r.mrr for r in rows] == sorted((r.mrr for r in rows), reverse=True)
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM subscriptions WHERE status IN "
                              "('active', 'trialing') AND tier_id = :t"),
                         {"t": rows[0].id}).scalar_one()
    assert rows[0].subscribers == n
    shown = [page.model.index(0, c).data() for c in range(page.model.columnCount())]
    assert shown[0] == rows[0].name and shown[1].endswith("USD")
    assert shown[3] == f"{rows[0].subscribers:,}"  # a count, not an amount
    page.grab().save("/tmp/tiers-list.png")


def test_model_passes_qt_model_tester(qtmodeltester, page):
    qtmodeltester.check(page.model)


def test_price_change_says_who_keeps_their_price_then_saves_with_history(
        qtbot, page, demo_engine, monkeypatch):
    asked = _answer(monkeypatch, True)
    row = _click_row(qtbot, page, 0)
    page.detail.grab().save("/tmp/tiers-detail.png")
    before_mrr = row.mrr
    with demo_engine.connect() as conn:
        subs_before = conn.execute(text("SELECT * FROM subscriptions WHERE tier_id = :t "
                                        "ORDER BY id"), {"t": row.id}).all()
    _replace_text(qtbot, _editor(page, "price_monthly"), "99.50")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _db_tier(demo_engine, row.id).price_monthly == Decimal("99.50"),
                    timeout=WAIT)
    assert len(asked) == 1
    assert "keep what they pay now; new subscribers pay the new price" in asked[0]["informative"]
    counts = {s.status: 0 for s in subs_before}
    for s in subs_before:
        counts[s.status] += 1
    assert (f"{counts.get('active', 0)} active / {counts.get('trialing', 0)} trialing / "
            f"{counts.get('past_due', 0)} past due") in asked[0]["informative"]
    qtbot.waitUntil(lambda: page.model.row_at(0).price_monthly == Decimal("99.50"),
                    timeout=WAIT)
    assert page.model.row_at(0).mrr == before_mrr  # subscribers keep their price
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM subscriptions WHERE tier_id = :t ORDER BY id"),
                            {"t": row.id}).all() == subs_before
        amounts = conn.execute(text(
            "SELECT amount FROM admin.tier_prices WHERE tier_id = :t AND billing_period = "
            "'monthly' ORDER BY effective_from DESC"), {"t": row.id}).scalars().all()
    assert amounts[0] == Decimal("99.50") and len(amounts) >= 2
    qtbot.waitUntil(lambda: page.detail.history.rowCount() >= 3, timeout=WAIT)


def test_declining_the_price_notice_writes_nothing(qtbot, page, demo_engine, monkeypatch):
    _answer(monkeypatch, False)
    row = _click_row(qtbot, page, 0)
    before = _db_tier(demo_engine, row.id)
    _replace_text(qtbot, _editor(page, "price_yearly"), "1.00")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.detail.asking, timeout=WAIT)
    qtbot.wait(200)
    assert _db_tier(demo_engine, row.id) == before
    assert page.detail.is_dirty  # the edit is still there to save or revert


def test_access_change_previews_items_gained_and_subscribers_touched(
        qtbot, page, demo_engine, monkeypatch):
    asked = _answer(monkeypatch, True)
    rows = _rows(page)
    index = next(i for i, r in enumerate(rows) if r.name == "Essentials")
    row = _click_row(qtbot, page, index)
    with demo_engine.connect() as conn:
        cats = conn.execute(text("SELECT category_access FROM subscription_tiers "
                                 "WHERE id = :t"), {"t": row.id}).scalar_one()
        gained = conn.execute(text(
            "SELECT count(*) FROM content WHERE status = 'published' AND deleted_at IS NULL "
            "AND (category IS NULL OR NOT category = ANY(CAST(:c AS text[])))"),
            {"c": cats}).scalar_one()
        current = conn.execute(text("SELECT count(*) FROM subscriptions WHERE tier_id = :t "
                                    "AND status IN ('active', 'trialing', 'past_due')"),
                               {"t": row.id}).scalar_one()
    box = page.detail.form.field_widget("full_catalog_access")
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _db_tier(demo_engine, row.id).full_catalog_access, timeout=WAIT)
    text_ = asked[0]["informative"]
    assert f"gains {gained:,} published item" in text_
    assert f"touches {current:,} current subscriber" in text_


def test_archive_after_confirmation_says_existing_subscribers_keep_renewing(
        qtbot, page, demo_engine, monkeypatch):
    asked = _answer(monkeypatch, True)
    row = _click_row(qtbot, page, 0)
    qtbot.mouseClick(page.detail.archive_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not _db_tier(demo_engine, row.id).active, timeout=WAIT)
    assert "keep renewing" in asked[0]["informative"]
    qtbot.waitUntil(lambda: "Archived" in page.detail.facts.text(), timeout=WAIT)
    assert "keep renewing" in page.detail.facts.text()
    assert page.detail.archive_button.text().replace("&", "") == "Make active…"


def test_delete_of_a_used_tier_is_refused_naming_archive(qtbot, page, demo_engine,
                                                         monkeypatch):
    _answer(monkeypatch, True)
    row = _click_row(qtbot, page, 0)
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "archive it instead" in page.detail.banner.text(), timeout=WAIT)
    assert _db_tier(demo_engine, row.id) is not None


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("price_monthly", "-1", "negative"),
    ("price_monthly", "100000000", "At most"),
    ("monthly_credits", "-3", "negative"),
])
def test_bad_input_is_named_under_the_field_and_nothing_is_written(
        qtbot, page, demo_engine, monkeypatch, field, value, fragment):
    _answer(monkeypatch, True)
    row = _click_row(qtbot, page, 0)
    before = _db_tier(demo_engine, row.id)
    _replace_text(qtbot, _editor(page, field), value)
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fragment in page.detail.form.error_text(field), timeout=WAIT)
    assert _db_tier(demo_engine, row.id) == before


def test_new_tier_is_created_with_its_first_prices(qtbot, page, demo_engine):
    qtbot.mouseClick(page.detail.new_button, Qt.MouseButton.LeftButton)
    _replace_text(qtbot, _editor(page, "name"), "Weekend Warriors")
    _replace_text(qtbot, _editor(page, "price_monthly"), "15")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.name == "Weekend Warriors" for r in _rows(page)),
                    timeout=WAIT)
    with demo_engine.connect() as conn:
        prices = conn.execute(text(
            "SELECT p.billing_period, p.amount FROM admin.tier_prices p JOIN "
            "subscription_tiers t ON t.id = p.tier_id WHERE t.name = 'Weekend Warriors' "
            "ORDER BY 1")).all()
    assert prices == [("monthly", Decimal("15.00")), ("yearly", None)]


# -- subscribers and their Stripe subscriptions ---------------------------------------------

@pytest.fixture
def stripe_page(qtbot, stripe_demo_db_url, runner, gui_sql, stripe_gateway):
    """The page on the demo whose 6 most recent current subscriptions are real ones on
    localstripe."""
    from data.db import make_engine, make_session_factory
    from data.payments.subscriptions import make_subscriptions_real
    from tests.desktop.conftest import _database

    engine = make_engine(stripe_demo_db_url, pool_size=2)
    try:
        make_subscriptions_real(make_session_factory(engine), stripe_gateway, count=6)
    finally:
        engine.dispose()
    with _database(stripe_demo_db_url, runner, gui_sql, gateway=stripe_gateway) as db:
        p = TiersPage(db)
        qtbot.addWidget(p)
        p.resize(1600, 950)
        p.show()
        qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading,
                        timeout=WAIT)
        yield p


def _real_subscription(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT s.id, s.tier_id, s.customer_id FROM subscriptions s "
            "WHERE s.stripe_subscription_id NOT LIKE 'sub_demo_%' AND s.status = 'active' "
            "AND NOT s.cancel_at_period_end ORDER BY s.created_at DESC LIMIT 1")).one()


def test_subscriber_cancel_at_period_end_through_stripe_updates_the_row(
        qtbot, stripe_page, stripe_demo_db_url, stripe_gateway):
    from data.db import make_engine
    from data.payments.subscriptions import retrieve_subscription

    page = stripe_page
    engine = make_engine(stripe_demo_db_url, pool_size=1)
    try:
        target = _real_subscription(engine)
        index = next(i for i, r in enumerate(_rows(page)) if r.id == target.tier_id)
        _click_row(qtbot, page, index)
        panel = page.detail.subscribers
        page.detail.tabs.setCurrentWidget(panel)
        qtbot.waitUntil(lambda: panel.model.rowCount() > 0 and not panel.model.is_loading,
                        timeout=WAIT)
        status = panel.filters.widget("status")
        status.setCurrentIndex(status.findData("active"))
        qtbot.waitUntil(lambda: not panel.model.is_loading and all(
            panel.model.row_at(i).status == "active" for i in range(panel.model.rowCount())),
            timeout=WAIT)
        qtbot.waitUntil(lambda: panel.model.row_index(target.id) is not None, timeout=WAIT)
        assert panel.view.select_row_by_key(target.id)
        page.detail.grab().save("/tmp/tiers-subscribers.png")
        dialog = panel.change_subscription("cancel_at_period_end")
        qtbot.waitUntil(lambda: dialog.apply_button.isEnabled(), timeout=WAIT)
        dialog.grab().save("/tmp/tiers-subscription-dialog.png")
        with qtbot.waitSignal(dialog.subscription_changed, timeout=WAIT):
            qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
            qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)  # double click
            # Escape or the window's close while Stripe works: the dialog stays and says so.
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
            dialog.close()
            assert dialog.isVisible() and "Stripe is making the change" in \
                dialog.explanation.text()
        qtbot.waitUntil(lambda: panel.model.row_at(
            panel.model.row_index(target.id)).cancel_at_period_end, timeout=WAIT)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM subscriptions WHERE id = :id"),
                               {"id": target.id}).one()
            requests = conn.execute(text("SELECT count(*) FROM admin.subscription_requests"
                                         )).scalar_one()
        assert row.cancel_at_period_end and requests == 1
        assert retrieve_subscription(stripe_gateway, row.stripe_subscription_id
                                     ).cancel_at_period_end
        dialog.close()
        assert not dialog.isVisible()  # answered: it closes
        opened = []
        page.user_requested.connect(opened.append)
        qtbot.mouseClick(panel.open_user_button, Qt.MouseButton.LeftButton)
        assert opened == [target.customer_id]
    finally:
        engine.dispose()


def test_a_cancel_stripe_answered_before_the_app_died_is_finished_on_start(
        qtbot, stripe_database, engine, session_factory, stripe_gateway):
    import uuid

    from data.payments.subscriptions import create_subscription
    from data.services import subscriptions as service
    from desktop.subscription_recovery import SubscriptionRecovery
    from tests.data.factories import insert_user
    from tests.data.tier_factories import add_subscription, add_tier

    customer = insert_user(engine, "late@example.com", "Late Cancel")
    real = create_subscription(stripe_gateway, "late@example.com", 1500, "month")
    sub = add_subscription(engine, customer, add_tier(engine, "Gold"), stripe_id=real.id)
    with session_factory.begin() as s:  # the previous run: stored, asked Stripe, died
        req = service.open_request(s, "support", uuid.uuid4(), sub, "cancel_now")
    service.call_stripe(stripe_gateway, req)

    recovery = SubscriptionRecovery(stripe_database)
    reported = []
    recovery.status_reported.connect(reported.append)
    with qtbot.waitSignal(recovery.finished, timeout=WAIT):
        recovery.start()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM subscriptions WHERE id = :id"),
                            {"id": sub}).scalar_one() == "canceled"
    assert reported == ["Finished 1 subscription change(s) left open."]


def test_check_against_stripe_button_lists_the_differences(qtbot, stripe_page, monkeypatch):
    from desktop.pages.subscription_drift_dialog import SubscriptionDriftDialog

    page = stripe_page
    opened = []
    monkeypatch.setattr(page, "open_dialog", lambda d: opened.append(d) or d)
    qtbot.mouseClick(page.drift_button, Qt.MouseButton.LeftButton)
    dialog = opened[0]
    assert isinstance(dialog, SubscriptionDriftDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.drifts is not None, timeout=WAIT)
    # the older demo subscriptions have made-up ids: listed as unknown to Stripe
    assert any(d.field == "missing" for d in dialog.drifts)
    assert dialog.table.rowCount() == len(dialog.drifts)
    assert "Nothing was changed" in dialog.summary.text()
    dialog.show()
    dialog.grab().save("/tmp/tiers-drift.png")


def test_token_balances_expiring_credits_dialog_lists_who_loses_credits_soon(
        qtbot, demo_database, demo_engine):
    from desktop.pages.expiring_credits_dialog import ExpiringCreditsDialog

    with demo_engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(DISTINCT customer_id) FROM credit_transactions WHERE amount > 0 "
            "AND expires_at >= (now() AT TIME ZONE 'UTC') AND expires_at < "
            "(now() AT TIME ZONE 'UTC') + interval '90 days'")).scalar_one()
    dialog = ExpiringCreditsDialog(demo_database, days=90)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=WAIT)
    assert len(dialog.rows) == min(expected, 500)
    assert dialog.table.rowCount() == len(dialog.rows)
    dialog.rows = None
    dialog.days.setValue(7)  # typed as a person would: the list follows
    qtbot.waitUntil(lambda: dialog.rows is not None, timeout=WAIT)
    assert "within 7 days" in dialog.summary.text()
    dialog.show()
    dialog.grab().save("/tmp/tiers-expiring.png")


def test_users_subscriptions_tab_changes_a_subscription(qtbot, demo_database, demo_engine,
                                                        monkeypatch):
    from desktop.pages import users as users_module
    from desktop.pages.subscription_dialog import SubscriptionDialog
    from desktop.pages.users import UserDetailPane

    with demo_engine.connect() as conn:
        sub = conn.execute(text(
            "SELECT id, customer_id FROM subscriptions WHERE status = 'active' AND NOT "
            "cancel_at_period_end ORDER BY created_at DESC LIMIT 1")).one()
    opened = []
    monkeypatch.setattr(users_module, "open_dialog", lambda d: opened.append(d) or d)
    pane = UserDetailPane(demo_database)
    qtbot.addWidget(pane)
    pane.show(sub.customer_id)
    qtbot.waitUntil(lambda: pane.record is not None and pane.subscriptions.rowCount() > 0,
                    timeout=WAIT)
    pane.subscriptions.selectRow(pane.subscriptions.keys.index(sub.id))
    qtbot.mouseClick(pane.subscriptions.row_button, Qt.MouseButton.LeftButton)
    dialog = opened[0]
    assert isinstance(dialog, SubscriptionDialog) and dialog.subscription_id == sub.id
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.state is not None, timeout=WAIT)
    assert dialog.buttons["cancel_at_period_end"].isEnabled()
    assert not dialog.buttons["resume"].isEnabled()  # nothing to resume


# -- built over several turns ----------------------------------------------------------------

def _tab_titles(detail) -> list[str]:
    return [detail.tabs.tabText(i) for i in range(detail.tabs.count())]


def test_the_page_is_built_over_several_turns_with_the_same_tabs_as_built_at_once(
        qtbot, demo_database):
    stepped = TiersPage(demo_database)
    qtbot.addWidget(stepped)
    stepped.resize(1500, 900)
    stepped.show()
    # The list and the toolbar at once; the form and the detail's tabs on later turns.
    assert not stepped.built
    assert stepped.drift_button.isVisible()
    qtbot.waitUntil(lambda: stepped.built, timeout=WAIT)
    at_once = TiersPage(demo_database)
    qtbot.addWidget(at_once)
    assert _tab_titles(at_once.detail) == _tab_titles(stepped.detail)  # read: built now
    assert at_once.built
    assert _tab_titles(stepped.detail) == ["Plan", "Price history", "History", "Subscribers"]
    # Built in steps, it shows a tier as one built at once does.
    qtbot.waitUntil(lambda: stepped.model.rowCount() > 0 and not stepped.model.is_loading,
                    timeout=WAIT)
    row = _click_row(qtbot, stepped, 0)
    assert stepped.detail.form.field_widget("name").text() == row.name
    assert stepped.detail.subscribers.tier_id == row.id


def test_categories_read_before_the_form_is_built_are_offered_in_it(qtbot, demo_database):
    detail = TierDetailPane(demo_database)
    qtbot.addWidget(detail)
    detail.set_categories(("Breathwork", "Yoga"))  # as the page does when they arrive
    assert not detail.built
    qtbot.waitUntil(lambda: detail.built, timeout=WAIT)
    completer = detail.form.field_widget("category_access").chips.entry.completer()
    assert completer is not None and completer.model().stringList() == ["Breathwork", "Yoga"]
