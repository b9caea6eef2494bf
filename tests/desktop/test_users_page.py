"""The Users page driven as a person would: type, click, edit, save, export."""

from __future__ import annotations

import csv
import dataclasses
import threading

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from data.queries import users as user_queries
from desktop.pages.refund_dialog import RefundDialog
from desktop.pages.users import UsersPage
from widgets import actions as actions_module

WAIT = 15_000


@pytest.fixture
def page(qtbot, demo_database):
    p = UsersPage(demo_database)
    qtbot.addWidget(p)
    p.resize(1400, 800)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def _loaded_rows(page):
    return [page.model.row_at(i) for i in range(page.model.rowCount())]


def _select_row(qtbot, page, row_index: int):
    index = page.model.index(row_index, 0)
    page.view.scrollTo(index)
    rect = page.view.visualRect(index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    row = page.model.row_at(row_index)
    qtbot.waitUntil(lambda: page.detail.record is not None
                    and page.detail.record.id == row.id, timeout=WAIT)
    return row


def test_first_page_shows_newest_users(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        newest = conn.execute(text(
            "SELECT email FROM users ORDER BY created_at DESC, id DESC LIMIT 5")).scalars().all()
    assert [r.email for r in _loaded_rows(page)[:5]] == newest
    qtbot.waitUntil(lambda: page.count_label.text() == "300 users", timeout=WAIT)


def test_typing_in_search_shows_matching_rows(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        email = conn.execute(text("SELECT email FROM users ORDER BY email LIMIT 1")).scalar()
    prefix = email[:4]
    qtbot.keyClicks(page.search, prefix)
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0
                    and all(_matches(r, prefix) for r in _loaded_rows(page)), timeout=WAIT)
    assert email in {r.email for r in _loaded_rows(page)}


def _matches(row, q):
    q = q.lower()
    return row.email.lower().startswith(q) or any(
        w.lower().startswith(q) for w in row.full_name.split())


def test_slow_older_search_never_replaces_newer(qtbot, page, monkeypatch):
    """The first search is held back until the second has shown; its late answer is dropped."""
    release = threading.Event()
    real = user_queries.list_users_page

    def slow_for_old(session, flt, cursor, limit):
        if flt.search == "zzzz-old":
            release.wait(10)
        return real(session, flt, cursor, limit)

    page.spec = dataclasses.replace(page.spec, query=slow_for_old)
    page.search.setText("zzzz-old")
    page.refresh()
    page.search.setText("")
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    shown = page.model.rowCount()
    release.set()
    page._db.runner.wait_for_done(WAIT)
    qtbot.wait(100)
    assert page.model.rowCount() == shown and shown > 0  # not replaced by the empty old answer


def test_filters_by_role_and_status(qtbot, page):
    page.filters.widget("role").setCurrentIndex(page.filters.widget("role").findData("platform_owner"))
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0,
                    timeout=WAIT)
    assert {r.role for r in _loaded_rows(page)} == {"platform_owner"}
    page.filters.widget("role").setCurrentIndex(0)
    page.filters.widget("status").setCurrentIndex(page.filters.widget("status").findData("deleted"))
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0,
                    timeout=WAIT)
    assert all(r.deleted_at is not None for r in _loaded_rows(page))


def test_edit_and_save_updates_database_list_and_audit(qtbot, page, demo_engine):
    row = _select_row(qtbot, page, 0)
    name = page.detail.form.field_widget("full_name")
    name.clear()
    qtbot.keyClicks(name, "Renamed By Support")
    assert page.detail.save_button.isEnabled()
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.row_at(0).full_name == "Renamed By Support", timeout=WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == "Renamed By Support"
        actor, new = conn.execute(text(
            "SELECT actor, new_values FROM admin.audit_log WHERE entity_id = :i"),
            {"i": str(row.id)}).one()
    assert actor == "postgres" and new == {"full_name": "Renamed By Support"}


def test_bad_email_is_shown_under_the_field_and_nothing_is_written(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:  # the demo's own audit history
        audited = conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar()
    row = _select_row(qtbot, page, 1)
    email = page.detail.form.field_widget("email")
    email.clear()
    qtbot.keyClicks(email, "not-an-email")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.form.error_text("email") != "", timeout=WAIT)
    assert "not a valid email" in page.detail.form.error_text("email")
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT email FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == row.email
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == audited


def test_save_after_someone_else_changed_the_user_is_refused_and_my_edit_kept(
        qtbot, page, demo_engine):
    row = _select_row(qtbot, page, 2)
    with demo_engine.begin() as conn:  # another staff member, or the platform itself
        conn.execute(text("UPDATE users SET full_name = 'Changed Elsewhere' WHERE id = :i"),
                     {"i": row.id})
    name = page.detail.form.field_widget("full_name")
    name.clear()
    qtbot.keyClicks(name, "My Edit")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT)
    assert "changed this user" in page.detail.banner.text()
    assert "Your unsaved changes are kept" in page.detail.banner.text()
    # Nothing typed is lost (not even when the list and detail catch up with their change),
    # and the clash is said under the field with their value.
    qtbot.waitUntil(lambda: page.detail._db.runner.active_count == 0, timeout=WAIT)
    assert page.detail.title.text() != "Loading…"
    assert page.detail.form.values()["full_name"] == "My Edit"
    assert "“Changed Elsewhere”" in page.detail.form.error_text("full_name")
    assert page.detail.save_button.isEnabled()
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == "Changed Elsewhere"
    # Revert takes theirs.
    qtbot.mouseClick(page.detail.revert_button, Qt.MouseButton.LeftButton)
    assert page.detail.form.values()["full_name"] == "Changed Elsewhere"
    assert not page.detail.form.is_dirty


def test_edits_to_other_fields_survive_a_conflict_and_save_on_top_of_theirs(
        qtbot, page, demo_engine):
    row = _select_row(qtbot, page, 2)
    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE users SET full_name = 'Changed Elsewhere' WHERE id = :i"),
                     {"i": row.id})
    bio = page.detail.form.field_widget("bio")
    bio.clear()
    qtbot.keyClicks(bio, "Teaches breathing.")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT)
    values = page.detail.form.values()
    assert (values["full_name"], values["bio"]) == ("Changed Elsewhere", "Teaches breathing.")
    assert page.detail.form.error_text("full_name") == ""
    assert page.detail.form.changed_values() == {"bio": "Teaches breathing."}
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.detail.form.is_dirty, timeout=WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT full_name, bio FROM users WHERE id = :i"),
                            {"i": row.id}).one() == ("Changed Elsewhere", "Teaches breathing.")


def test_a_reload_while_typing_keeps_the_edits(qtbot, page, demo_engine):
    """The detail reloads by itself (a refund finished in the background, the list caught
    up with a save): what is being typed must survive it."""
    row = _select_row(qtbot, page, 2)
    bio = page.detail.form.field_widget("bio")
    bio.clear()
    qtbot.keyClicks(bio, "Half a sentence")
    page.detail.reload()
    qtbot.waitUntil(lambda: page.detail._db.runner.active_count == 0, timeout=WAIT)
    assert page.detail.form.values()["bio"] == "Half a sentence"
    assert not page.detail.banner.isVisible()

    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE users SET full_name = 'Changed Elsewhere' WHERE id = :i"),
                     {"i": row.id})
    page.detail.reload()
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT)
    assert "while you were editing" in page.detail.banner.text()
    values = page.detail.form.values()
    assert (values["full_name"], values["bio"]) == ("Changed Elsewhere", "Half a sentence")
    assert page.detail.form.changed_values() == {"bio": "Half a sentence"}


def test_soft_delete_after_confirmation_and_restore(qtbot, page, demo_engine, monkeypatch):
    # The confirmation is a modal QMessageBox; the test answers it as the user would.
    answers = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: answers.append(k["title"]) or True)
    row = _select_row(qtbot, page, 3)
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record.deleted_at is not None, timeout=WAIT)
    assert answers == ["Delete user"]
    # The list's row follows when the change is announced (it is read again in place).
    qtbot.waitUntil(lambda: page.model.row_at(3).deleted_at is not None, timeout=WAIT)
    assert page.detail.delete_button.text() == "&Restore…"
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record.deleted_at is None, timeout=WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT deleted_at FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() is None


def test_declined_confirmation_deletes_nothing(qtbot, page, demo_engine, monkeypatch):
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: False)
    row = _select_row(qtbot, page, 4)
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    page._db.runner.wait_for_done(WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT deleted_at FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == row.deleted_at


def test_export_writes_the_filtered_list(qtbot, page, tmp_path, demo_engine):
    page.filters.widget("role").setCurrentIndex(page.filters.widget("role").findData("customer"))
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    target = tmp_path / "customers.csv"
    handle = page.export_to(target)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    qtbot.waitUntil(target.exists, timeout=WAIT)
    with target.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM users WHERE role = 'customer'")).scalar()
    assert rows[0][:2] == ["id", "email"]
    assert len(rows) == n + 1
    assert {r[3] for r in rows[1:]} == {"customer"}
    assert not (tmp_path / "customers.csv.part").exists()


def test_export_cancelled_leaves_no_file(qtbot, page, tmp_path, monkeypatch):
    """The export is held after its first page until the test has pressed Cancel."""
    release = threading.Event()
    real = user_queries.list_users_page

    def held(session, flt, cursor, limit):
        if cursor is not None:
            release.wait(10)
        return real(session, flt, cursor, 50)

    page.spec = dataclasses.replace(page.spec, query=held)
    target = tmp_path / "all.csv"
    handle = page.export_to(target)
    handle.cancel()
    release.set()
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    assert not target.exists()
    assert not (tmp_path / "all.csv.part").exists()


def test_down_from_search_selects_the_first_user(qtbot, page):
    page.focus_search()
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    first = page.model.row_at(0)
    qtbot.waitUntil(lambda: page.detail.record is not None
                    and page.detail.record.id == first.id, timeout=WAIT)


# -- refunds from the user's detail (real PaymentIntents on localstripe) ---------------------

def _refund_page_for(qtbot, database, session_factory, target_sql, target_id):
    """The Users page with the customer who owns ``target_id`` selected."""
    with session_factory() as s:
        customer_id = s.execute(text(target_sql), {"id": target_id}).scalar_one()
    page = UsersPage(database)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.row_index(customer_id) is not None, timeout=WAIT)
    page.view.select_row_by_key(customer_id)
    qtbot.waitUntil(lambda: page.detail.record is not None
                    and page.detail.record.id == customer_id, timeout=WAIT)
    return page


def _purchase_status_cell(page) -> str:
    return page.detail.purchases.item(0, 2).text()


def test_refund_button_opens_the_dialog_and_the_purchase_shows_refunded(
        qtbot, stripe_database, session_factory, paid_purchase):
    purchase_id = paid_purchase("30.00", title="Deep Work, Part 1")
    page = _refund_page_for(qtbot, stripe_database, session_factory,
                            "SELECT customer_id FROM purchases WHERE id = :id", purchase_id)
    detail = page.detail
    assert _purchase_status_cell(page) == "completed"
    assert not detail.refund_purchase_button.isEnabled()  # nothing selected yet
    qtbot.mouseClick(detail.purchases.viewport(), Qt.MouseButton.LeftButton,
                     pos=detail.purchases.visualItemRect(detail.purchases.item(0, 0)).center())
    assert detail.refund_purchase_button.isEnabled()
    qtbot.mouseClick(detail.refund_purchase_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(RefundDialog)
    assert dialog is not None and dialog.target_id == purchase_id
    qtbot.waitUntil(lambda: dialog.refundable is not None, timeout=WAIT)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return)  # review
    assert dialog.step == dialog.CONFIRM
    with qtbot.waitSignal(dialog.refund_finished, timeout=WAIT):
        qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    # The detail reloads: the purchase now shows refunded, what went back, and when.
    qtbot.waitUntil(lambda: _purchase_status_cell(page) == "refunded", timeout=WAIT)
    assert detail.purchases.item(0, 3).text() == "30.00 USD"
    assert detail.purchases.item(0, 5).text() != ""
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_booking_is_refunded_from_the_users_bookings_tab(
        qtbot, stripe_database, session_factory, card_booking):
    booking_id = card_booking("40.00")
    page = _refund_page_for(qtbot, stripe_database, session_factory,
                            "SELECT customer_id FROM offering_bookings WHERE id = :id",
                            booking_id)
    detail = page.detail
    tab = detail.bookings_tab
    detail.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1 and not tab.model.is_loading,
                    timeout=WAIT)
    assert not tab.refund_button.isEnabled()  # nothing selected yet
    tab.view.selectRow(0)
    qtbot.mouseClick(tab.refund_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(RefundDialog)
    assert dialog is not None and (dialog.kind, dialog.target_id) == ("booking", booking_id)
    qtbot.waitUntil(lambda: dialog.refundable is not None, timeout=WAIT)
    assert dialog.amount.text() == "40.00"
    dialog.close()
    assert page.detail.open_selected_refund("booking").target_id == booking_id


def test_a_selected_purchase_does_not_carry_over_to_the_next_user(
        qtbot, stripe_database, session_factory, paid_purchase):
    first = paid_purchase("30.00")
    second = paid_purchase("12.00")
    page = _refund_page_for(qtbot, stripe_database, session_factory,
                            "SELECT customer_id FROM purchases WHERE id = :id", first)
    page.detail.purchases.selectRow(0)
    assert page.detail.refund_purchase_button.isEnabled()
    with session_factory() as s:
        other = s.execute(text("SELECT customer_id FROM purchases WHERE id = :id"),
                          {"id": second}).scalar_one()
    page.view.select_row_by_key(other)
    qtbot.waitUntil(lambda: page.detail.record.id == other, timeout=WAIT)
    assert not page.detail.refund_purchase_button.isEnabled()
    assert page.detail.open_selected_refund("purchase") is None


def test_demo_purchase_is_refunded_through_localstripe_from_the_users_page(
        qtbot, stripe_demo_database, demo_engine, localstripe):
    """The demo's recent purchases are real PaymentIntents: the same path as production."""
    with demo_engine.connect() as conn:
        purchase_id, customer_id, email, paid = conn.execute(text(
            "SELECT p.id, p.customer_id, u.email, p.amount_paid FROM purchases p "
            "JOIN users u ON u.id = p.customer_id "
            "WHERE p.status = 'completed' AND p.stripe_payment_intent_id NOT LIKE 'pi_demo_%' "
            "ORDER BY p.purchased_at DESC LIMIT 1")).one()
    page = UsersPage(stripe_demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.keyClicks(page.search, email)
    qtbot.waitUntil(lambda: page.model.row_index(customer_id) is not None
                    and not page.model.is_loading, timeout=WAIT)
    page.view.select_row_by_key(customer_id)
    detail = page.detail
    qtbot.waitUntil(lambda: detail.record is not None and detail.record.id == customer_id
                    and purchase_id in detail.purchases.keys, timeout=WAIT)
    row = detail.purchases.keys.index(purchase_id)
    detail.purchases.setFocus()
    detail.purchases.selectRow(row)
    qtbot.keyClick(detail.purchases, Qt.Key.Key_Return)
    dialog = page.findChild(RefundDialog)
    qtbot.waitUntil(lambda: dialog.refundable is not None, timeout=WAIT)
    assert dialog.refusal.isHidden()
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.refund_finished, timeout=WAIT) as signal:
        qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    assert signal.args[0].status == "succeeded"
    qtbot.waitUntil(lambda: detail.purchases.item(row, 2) is not None
                    and detail.purchases.item(row, 2).text() == "refunded", timeout=WAIT)
    assert detail.purchases.item(row, 3).text() == f"{paid:,.2f} USD"  # what went back
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM purchases WHERE id = :id"),
                            {"id": purchase_id}).scalar() == "refunded"


def _hold_row_lock(demo_engine, user_id):
    """Another session locks the user's row: the app's write waits until it is released."""
    conn = demo_engine.connect()
    conn.execute(text("SELECT 1 FROM users WHERE id = :i FOR UPDATE"), {"i": user_id})
    return conn


def test_a_second_click_while_a_write_is_in_flight_writes_nothing_and_shows_no_conflict(
        qtbot, page, demo_engine, monkeypatch):
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: True)
    row = _select_row(qtbot, page, 3)
    lock = _hold_row_lock(demo_engine, row.id)
    try:
        qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
        for button in (page.detail.delete_button, page.detail.verify_button,
                       page.detail.save_button):
            assert not button.isEnabled()
        qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(page.detail.verify_button, Qt.MouseButton.LeftButton)
    finally:
        lock.rollback()
        lock.close()
    qtbot.waitUntil(lambda: page.detail.record.deleted_at is not None
                    and page._db.runner.active_count == 0, timeout=WAIT)
    assert page.detail.banner.isHidden()
    assert page.detail.delete_button.isEnabled()
    with demo_engine.connect() as conn:
        actions = conn.execute(text(
            "SELECT action FROM admin.audit_log WHERE entity_id = :i"),
            {"i": str(row.id)}).scalars().all()
    assert len(actions) == 1


def test_a_save_answered_after_another_user_was_selected_does_not_replace_them(
        qtbot, page, demo_engine):
    first = _select_row(qtbot, page, 0)
    name = page.detail.form.field_widget("full_name")
    name.clear()
    qtbot.keyClicks(name, "Saved Late")
    lock = _hold_row_lock(demo_engine, first.id)
    try:
        qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
        second = _select_row(qtbot, page, 1)
    finally:
        lock.rollback()
        lock.close()
    qtbot.waitUntil(lambda: page.model.row_at(0).full_name == "Saved Late", timeout=WAIT)
    assert page.detail.record.id == second.id
    assert page.detail.form.field_widget("full_name").text() == second.full_name
    assert second.full_name in page.detail.title.text()


def test_the_detail_shows_every_history_column_and_the_token_summary_whole(
        qtbot, demo_database, demo_engine):
    with demo_engine.connect() as conn:
        email = conn.execute(text(
            "SELECT u.email FROM users u JOIN purchases p ON p.customer_id = u.id "
            "JOIN credit_transactions t ON t.customer_id = u.id "
            "GROUP BY u.email ORDER BY count(*) DESC, u.email LIMIT 1")).scalar()
    page = UsersPage(demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    page.show()
    page.search.setText(email)
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1 and not page.model.is_loading,
                    timeout=WAIT)
    _select_row(qtbot, page, 0)
    qtbot.waitUntil(lambda: page.detail.purchases.rowCount() > 0, timeout=WAIT)
    for tab in range(page.detail.tabs.count()):
        page.detail.tabs.setCurrentIndex(tab)
        qtbot.wait(10)
    page.detail.tabs.setCurrentIndex(0)
    table = page.detail.purchases
    assert table.horizontalHeader().length() <= table.viewport().width()
    page.detail.tabs.setCurrentIndex(2)
    qtbot.waitUntil(page.detail.ledger.isVisible, timeout=WAIT)
    ledger = page.detail.ledger
    assert ledger.horizontalHeader().length() <= ledger.viewport().width()
    balance = page.detail.balance
    assert balance.wordWrap() or balance.sizeHint().width() <= balance.width()
    for i in range(page.model.columnCount()):  # the list beside it still shows its columns
        assert page.view.columnWidth(i) >= page.view.horizontalHeader().sectionSizeHint(i)
    assert page.view.horizontalHeader().length() <= page.view.viewport().width()


def _tab_titles(detail) -> list[str]:
    return [detail.tabs.tabText(i) for i in range(detail.tabs.count())]


def test_the_page_is_built_over_several_turns_with_the_same_tabs_as_built_at_once(
        qtbot, demo_database):
    stepped = UsersPage(demo_database)
    qtbot.addWidget(stepped)
    stepped.resize(1400, 800)
    stepped.show()
    assert not stepped.built  # the list alone: the detail and its history come after
    qtbot.waitUntil(lambda: stepped.built, timeout=WAIT)
    at_once = UsersPage(demo_database)
    qtbot.addWidget(at_once)
    assert _tab_titles(at_once.detail) == _tab_titles(stepped.detail)  # read: built now
    assert at_once.built
    assert _tab_titles(stepped.detail) == [
        "Purchases", "Subscriptions", "Tokens", "Referrals", "Bookings", "Emails",
        "Activity", "Notifications", "History"]
    # The bookings table waits for its tab to be shown.
    bookings = stepped.detail.bookings_tab
    assert bookings.list.view_if_built is None
    stepped.detail.tabs.setCurrentWidget(bookings)
    stepped.detail.body.setVisible(True)
    qtbot.waitUntil(lambda: bookings.list.view_if_built is not None, timeout=WAIT)
