"""The UI follows the role everywhere, with real logins in each staff group on the embedded
server: on every page (each built lazily, after the rights were read), in the dialogs opened
later, in context menus and for keys, what the login may not do is disabled, its tooltip
naming the group that may, and a key for it does nothing; what it may do works. A right taken
away while the app runs makes the dialog's write a sentence, with nothing written."""

from __future__ import annotations

from decimal import Decimal

import psycopg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from sqlalchemy import text

from data.roles import FOUNDER_GROUP, OWNER_GROUP, SUPPORT_GROUP
from desktop.pages.featured_dialog import FeaturedContentDialog
from desktop.pages.manage_booking_dialog import ManageBookingDialog
from desktop.pages.refund_dialog import RefundDialog
from desktop.pages.series_dialog import SeriesDialog
from desktop.pages.token_adjustment import AdjustmentDialog
from tests.data.catalog_factories import add_item, add_purchase
from tests.data.factories import insert_user
from tests.data.offering_factories import add_booking, add_customer, add_offering
from tests.desktop.test_role_ui import (  # noqa: F401 (the fixtures)
    WAIT,
    _window,
    database_as,
    login,
    staffed_db,
)
from widgets.actions import ActionBar, context_menu

SUPPORT_MAY = "members of platform_admin_support may."
OWNER_MAY = "members of platform_admin_owner may."


def _some_of_everything(engine):
    """A customer with tokens, a purchase and a booking; an item; an offering."""
    customer = add_customer(engine, balance=40)
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    item = add_item(engine, creator, "Breathwork basics", status="published")
    add_purchase(engine, customer, item, Decimal("9.99"))
    offering = add_offering(engine)
    add_booking(engine, offering, customer)
    return customer


def _show(qtbot, window, page, *, select=True):
    """Show ``page``'s tab; with ``select`` its first row, and wait for its detail."""
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    if select:
        page.view.setCurrentIndex(page.model.index(0, 0))
        detail = page.detail
        if hasattr(detail, "record"):
            qtbot.waitUntil(lambda: detail.record is not None, timeout=WAIT)
    return page


def _customer_row(qtbot, window):
    """The Users page with the customer (the one with a purchase) shown."""
    page = window.users_page
    _show(qtbot, window, page, select=False)
    for row in range(page.model.rowCount()):
        page.view.setCurrentIndex(page.model.index(row, 0))
        qtbot.waitUntil(lambda: page.detail.record is not None
                        and page.detail.record.id == page.view.current_row().id, timeout=WAIT)
        if page.detail.purchases.rowCount():
            return page.detail
    raise AssertionError("no user with a purchase")


def _button(widget, text_part):
    [button] = [b for b in widget.findChildren(QPushButton) if text_part in b.text()]
    return button


def _press_return(qtbot, view):
    """Return on ``view``, focused in the active window (a key's action fires only there)."""
    window = view.window()
    if QApplication.activeWindow() is not window:
        with qtbot.waitActive(window):
            window.activateWindow()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)


def test_a_founder_finds_every_write_disabled_on_every_page_in_dialogs_menus_and_keys(
        qtbot, engine, database_as, settings):  # noqa: F811 (fixture)
    customer = _some_of_everything(engine)
    _name, database = database_as(FOUNDER_GROUP)
    window = _window(qtbot, database, settings)
    assert window.role_label.text() == "Role: founder"
    privileges = window.privileges
    pages = window.pages  # built now, each lazily, after the rights arrived

    # Every declared action on every page: its button and its context menu entry.
    checked = 0
    for page in pages:
        for bar in page.findChildren(ActionBar):
            for key, button in bar.buttons.items():
                requires = bar.action(key).requires
                if not requires:
                    continue
                why = privileges.refusal(requires)
                assert not button.isEnabled(), (page.title, key)
                assert button.toolTip() == why, (page.title, key)
                entry = bar.menu_actions.get(key)
                if entry is not None:
                    assert not entry.isEnabled() and entry.toolTip() == why
                checked += 1
    assert checked >= 25

    # Users: the purchase's Refund (button, context menu, Return) and Adjust tokens.
    detail = _customer_row(qtbot, window)
    detail.purchases.selectRow(0)
    refund_entry = detail.purchases.row_action
    assert not detail.refund_purchase_button.isEnabled()
    assert detail.refund_purchase_button.toolTip().endswith(SUPPORT_MAY)
    [entry] = [a for a in context_menu(detail.purchases).actions() if "fund purchase" in a.text()]
    assert entry is refund_entry and not entry.isEnabled()
    assert "refund purchases and bookings: " + SUPPORT_MAY in entry.toolTip()
    _press_return(qtbot, detail.purchases)
    qtbot.mouseDClick(detail.purchases.viewport(), Qt.MouseButton.LeftButton,
                      pos=detail.purchases.visualItemRect(detail.purchases.item(0, 0)).center())
    assert detail.findChildren(RefundDialog) == []
    assert not detail.subscriptions.row_action.isEnabled()
    adjust = _button(detail, "just tokens")
    assert not adjust.isEnabled() and adjust.toolTip().endswith(SUPPORT_MAY)

    # A dialog a founder may open to look: the booking's, every change in it disabled.
    tab = detail.bookings_tab
    detail.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 and not tab.model.is_loading, timeout=WAIT)
    tab.view.selectRow(0)
    assert not tab.refund_button.isEnabled()
    assert tab.refund_button.toolTip() == privileges.refusal("refund")
    tab.manage_button.click()
    [manage] = detail.findChildren(ManageBookingDialog)
    for button in (manage.cancel_button, manage.completed_button, manage.no_show_button,
                   manage.extend_button, manage.revoke_button):
        assert not button.isEnabled()
        assert button.toolTip() == privileges.refusal("bookings")
    manage.close()

    # Token balances: the default action's Return and the ledger's double click do nothing.
    tokens = _show(qtbot, window, pages[4])
    assert tokens.view.current_row().customer_id == customer
    _press_return(qtbot, tokens.view)
    tokens.ledger_view.doubleClicked.emit(tokens.model.index(0, 0))
    assert tokens.findChildren(AdjustmentDialog) == []

    # The catalog's dialogs open for a founder to look; what would change them is disabled.
    catalog = _show(qtbot, window, pages[1])
    assert not catalog.new_button.isEnabled()
    access = catalog.detail.access_panel  # a tab built with the item's detail
    for button in (access.grant_button, access.revoke_button):
        assert not button.isEnabled()
        assert button.toolTip() == privileges.refusal("content_access")
    series = catalog.open_series_dialog()
    assert isinstance(series, SeriesDialog)
    for button in (series.new_button, series.save_button):
        assert not button.isEnabled()
        assert button.toolTip() == ("Your database login may not change the content "
                                    "catalog: " + OWNER_MAY)
    series.close()
    featured = catalog.open_featured_dialog()
    assert isinstance(featured, FeaturedContentDialog)
    for button in (featured.save_button, featured.add_button):
        assert not button.isEnabled() and button.toolTip().endswith(OWNER_MAY)
    featured.close()

    # Offerings: booking on behalf; Refunds: retry and check.
    offerings = _show(qtbot, window, pages[3])
    book = offerings.detail.bookings_tab.book_button
    assert not book.isEnabled() and book.toolTip().endswith(SUPPORT_MAY)
    form = offerings.detail.form  # Ctrl+Return says why, before any impact question
    qtbot.keyClicks(form.field_widget("title"), " (moved)")
    qtbot.keyClick(form.field_widget("title"), Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier)
    assert offerings.detail.banner.text() == privileges.refusal("edit_offerings")
    assert offerings.detail.impact_question is None and not offerings.detail.is_busy
    refunds = window.refunds_page
    for control in (refunds.retry_button, refunds.check_button, refunds.retry_action):
        assert not control.isEnabled()
        assert control.toolTip() == privileges.refusal("refund")

    # Referral codes: owners and support may; the tooltip names both.
    codes = pages[5].codes
    new_code = codes.actions.buttons["new_code"]
    assert not new_code.isEnabled()
    assert new_code.toolTip().endswith(
        "members of platform_admin_owner or platform_admin_support may.")

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0
        assert conn.execute(text("SELECT title FROM offerings")).scalar() == \
            "Sound Bath Workshop"


def test_support_may_adjust_balances_but_not_edit_the_catalog(
        qtbot, engine, database_as, settings):  # noqa: F811 (fixture)
    _some_of_everything(engine)
    _name, database = database_as(SUPPORT_GROUP)
    window = _window(qtbot, database, settings)
    assert window.role_label.text() == "Role: support"
    tokens = _show(qtbot, window, window.pages[4])
    for key in ("adjust tokens", "bulk grant"):
        button = tokens.actions.buttons[key]
        assert button.isEnabled() and button.toolTip() == ""
    _press_return(qtbot, tokens.view)  # the default action's key works for support
    qtbot.waitUntil(lambda: len(tokens.findChildren(AdjustmentDialog)) == 1, timeout=WAIT)
    [dialog] = tokens.findChildren(AdjustmentDialog)
    assert dialog.apply_button.toolTip() == ""
    dialog.close()

    catalog = _show(qtbot, window, window.pages[1])
    assert not catalog.new_button.isEnabled()
    assert catalog.new_button.toolTip() == ("Your database login may not change the "
                                            "content catalog: " + OWNER_MAY)
    detail = catalog.detail
    qtbot.keyClicks(detail.form.title, " (edited)")
    assert detail.form.is_dirty and not detail.save_button.isEnabled()
    series = catalog.open_series_dialog()
    assert not series.new_button.isEnabled() and series.new_button.toolTip().endswith(OWNER_MAY)
    series.close()
    users = _customer_row(qtbot, window)
    assert _button(users, "just tokens").isEnabled()


def test_an_owner_may_edit_the_catalog_but_not_adjust_balances(
        qtbot, engine, database_as, settings):  # noqa: F811 (fixture)
    _some_of_everything(engine)
    _name, database = database_as(OWNER_GROUP)
    window = _window(qtbot, database, settings)
    assert window.role_label.text() == "Role: owner"
    catalog = _show(qtbot, window, window.pages[1])
    assert catalog.new_button.isEnabled() and catalog.new_button.toolTip() == ""
    detail = catalog.detail
    qtbot.keyClicks(detail.form.title, " (edited)")
    assert detail.save_button.isEnabled()
    series = catalog.open_series_dialog()
    assert series.new_button.isEnabled()
    series.close()

    tokens = _show(qtbot, window, window.pages[4])
    adjust_why = "Your database login may not adjust token balances: " + SUPPORT_MAY
    for key in ("adjust tokens", "bulk grant"):
        button = tokens.actions.buttons[key]
        assert not button.isEnabled() and button.toolTip() == adjust_why
    entry = tokens.actions.menu_actions["adjust tokens"]
    assert not entry.isEnabled() and entry.toolTip() == adjust_why
    _press_return(qtbot, tokens.view)
    assert tokens.findChildren(AdjustmentDialog) == []
    users = _customer_row(qtbot, window)
    adjust = _button(users, "just tokens")
    assert not adjust.isEnabled() and adjust.toolTip() == adjust_why


def test_a_right_revoked_while_a_dialog_is_open_is_a_sentence_and_nothing_is_written(
        qtbot, engine, database_as, settings, pg_server, staffed_db):  # noqa: F811
    customer = add_customer(engine, balance=40)
    name, database = database_as(SUPPORT_GROUP)
    window = _window(qtbot, database, settings)
    tokens = _show(qtbot, window, window.pages[4])
    dialog = tokens.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current == 40, timeout=WAIT)
    with psycopg.connect(pg_server.libpq_dsn(staffed_db.database), autocommit=True) as c:
        c.execute(f"REVOKE {SUPPORT_GROUP} FROM {name}")
    qtbot.keyClicks(dialog.amount.line_edit, "5")
    qtbot.keyClicks(dialog.reason, "Goodwill for ticket 812")
    assert dialog.apply_button.isEnabled()  # the app still believes it may: PostgreSQL decides
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "may not" in dialog.message.text(), timeout=WAIT)
    said = dialog.message.text()
    assert "Your database login may not" in said and "Traceback" not in said
    assert dialog.isVisible() and dialog.result_ is None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_balance FROM credit_balances "
                                 "WHERE customer_id = :c"), {"c": customer}).scalar() == 40
        assert conn.execute(text("SELECT count(*) FROM credit_transactions")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0


def test_an_action_refused_after_a_revoke_is_a_sentence_in_the_detail(
        qtbot, engine, database_as, settings, pg_server, staffed_db):  # noqa: F811
    _some_of_everything(engine)
    name, database = database_as(OWNER_GROUP)
    window = _window(qtbot, database, settings)
    catalog = _show(qtbot, window, window.pages[1])
    archive = catalog.detail.actions.buttons["archive"]
    assert archive.isEnabled()
    with psycopg.connect(pg_server.libpq_dsn(staffed_db.database), autocommit=True) as c:
        c.execute(f"REVOKE {OWNER_GROUP} FROM {name}")
    qtbot.mouseClick(archive, Qt.MouseButton.LeftButton)
    detail = catalog.detail
    qtbot.waitUntil(lambda: detail.banner.isVisible() and not detail.is_busy, timeout=WAIT)
    assert detail.banner.text().startswith("Your database login may not")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM content")).scalar() == "published"
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0


def test_every_right_a_control_requires_is_one_the_database_is_asked_about():
    """A misspelt ``requires`` would leave its control enabled for everyone."""
    import re
    from pathlib import Path

    from data.privileges import BY_NAME

    root = Path(__file__).parents[2] / "desktop"
    said = re.compile(r"""(?:requires=|\.guard\([^,]+,\s*|\.allowing\(\s*)["']([a-z_]*)["']""",
                      re.S)
    named = {(path.name, name) for path in root.rglob("*.py")
             for name in said.findall(path.read_text())}
    assert len(named) >= 25
    assert {(file, name) for file, name in named if name not in BY_NAME} == set()
