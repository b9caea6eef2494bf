"""The Audit page and the History tabs, driven as an owner would: filter, read a change
field by field, export; a user's and a content item's History after a save."""

from __future__ import annotations

import csv
import uuid

import openpyxl
from PySide6.QtCore import Qt
from sqlalchemy import text

from data.services.audit import record_change
from data.services.credits import adjust_balance
from data.services.users import get_profile, update_profile
from desktop.pages.audit import AuditPage
from desktop.pages.catalog import CatalogPage
from desktop.pages.users import UsersPage
from tests.data.factories import insert_user

WAIT = 20_000


def _write(session_factory, action, entity_type, entity_id, old, new, reason=None):
    with session_factory.begin() as s:
        record_change(s, actor="claimed", action=action, entity_type=entity_type,
                      entity_id=entity_id, old_values=old, new_values=new, reason=reason)


def _page(qtbot, database):
    page = AuditPage(database)
    qtbot.addWidget(page)
    page.resize(1500, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    return page


def _rows(page):
    return [page.model.row_at(i) for i in range(page.model.rowCount())]


def _choose(qtbot, page, name, value):
    combo = page.filters.widget(name)
    qtbot.waitUntil(lambda: combo.findData(value) >= 0, timeout=WAIT)
    combo.setCurrentIndex(combo.findData(value))
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)


def _cell(page, row, column):
    return page.model.index(row, column).data()


def test_the_trail_newest_first_filtered_and_one_change_field_by_field(
        qtbot, empty_database, session_factory):
    _write(session_factory, "user.update", "user", "u1", {"full_name": "Ann", "email": "a@x"},
           {"full_name": "Anna", "email": "a@x"})
    _write(session_factory, "content.update", "content", "c1", {"title": "Old"},
           {"title": "New", "price": "9.00"}, reason="Typo in the title")
    _write(session_factory, "user.update", "user", "u2", {"password_hash": "x"},
           {"password_hash": "y"})
    page = _page(qtbot, empty_database)
    assert [r.entity_id for r in _rows(page)] == ["u2", "c1", "u1"]
    assert _cell(page, 0, 1) == "postgres"  # the login, not the name the caller claimed
    assert _cell(page, 1, 5) == "title: Old → New; price: — → 9.00"
    assert _cell(page, 0, 5) == "password_hash: (hidden) → (hidden)"
    qtbot.waitUntil(lambda: page.count_label.text() == "3 changes", timeout=WAIT)

    _choose(qtbot, page, "entity_type", "user")
    assert [r.entity_id for r in _rows(page)] == ["u2", "u1"]
    qtbot.keyClicks(page.filters.widget("record"), "u1")
    qtbot.waitUntil(lambda: [r.entity_id for r in _rows(page)] == ["u1"], timeout=WAIT)
    page.filters.widget("record").clear()
    _choose(qtbot, page, "entity_type", None)
    qtbot.keyClicks(page.search, "typo")
    qtbot.waitUntil(lambda: [r.entity_id for r in _rows(page)] == ["c1"], timeout=WAIT)
    # What a text matches is said where it is typed: words from their start.
    assert "Words starting" in page.search.placeholderText()
    assert '"icket" finds nothing' in page.search.toolTip()

    index = page.model.index(0, 0)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.view.visualRect(index).center())
    view = page.change_view
    qtbot.waitUntil(lambda: view.row is not None, timeout=WAIT)
    table = view.table
    cells = [[table.item(r, c).text() for c in range(3)] for r in range(table.rowCount())]
    assert cells == [["title", "Old", "New"], ["price", "—", "9.00"]]
    assert "Typo in the title" in view.facts.text() and "postgres" in view.facts.text()
    page.grab().save("/tmp/audit-page.png")


def test_staff_member_and_action_filters_offer_what_the_trail_holds(
        qtbot, empty_database, session_factory, engine):
    customer = insert_user(engine, "nina@example.com", "Nina")
    with session_factory.begin() as s:
        adjust_balance(s, "claimed", customer, 40, "Goodwill", uuid.uuid4())
    _write(session_factory, "user.update", "user", str(customer), {"bio": None}, {"bio": "Hi"})
    page = _page(qtbot, empty_database)
    _choose(qtbot, page, "action", "credits.adjust")
    [row] = _rows(page)
    assert "current_balance: 0 → 40" in row.summary and row.reason == "Goodwill"
    _choose(qtbot, page, "action", None)
    _choose(qtbot, page, "actor", "postgres")
    assert len(_rows(page)) == 2


def test_export_writes_the_whole_filtered_trail(qtbot, empty_database, session_factory,
                                                tmp_path):
    for i in range(5):
        _write(session_factory, "content.update", "content", f"c{i}", {"title": f"T{i}"},
               {"title": f"=cmd|{i}"})
    _write(session_factory, "user.update", "user", "u1", None, {"full_name": "Zed"})
    page = _page(qtbot, empty_database)
    _choose(qtbot, page, "entity_type", "content")
    target = tmp_path / "audit.csv"
    handle = page.export_to(target)
    qtbot.waitUntil(lambda: not handle.is_running and target.exists(), timeout=WAIT)
    with target.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0][:6] == ["id", "occurred_at", "staff_member", "action", "table", "record"]
    assert [r[5] for r in rows[1:]] == ["c4", "c3", "c2", "c1", "c0"]
    assert not rows[1][6].startswith("=")  # a formula typed in a value stays text
    xlsx = tmp_path / "audit.xlsx"
    handle = page.export_to(xlsx)
    qtbot.waitUntil(lambda: not handle.is_running and xlsx.exists(), timeout=WAIT)
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet.max_row == 6


def test_a_users_history_tab_shows_a_save_old_to_new(qtbot, demo_database, demo_engine):
    page = UsersPage(demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    index = page.model.index(0, 0)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.view.visualRect(index).center())
    detail = page.detail
    qtbot.waitUntil(lambda: detail.record is not None, timeout=WAIT)
    old_name = detail.record.full_name
    [history] = [i for i in detail.inline_lists if i.spec.title == "History"]
    detail.tabs.setCurrentWidget(history)
    qtbot.waitUntil(lambda: not history.model.is_loading, timeout=WAIT)
    before = history.model.rowCount()
    name = detail.form.field_widget("full_name")
    name.clear()
    qtbot.keyClicks(name, "Renamed For History")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: history.model.rowCount() == before + 1
                    and not history.model.is_loading, timeout=WAIT)
    top = history.model.row_at(0)
    assert (top.action, top.actor) == ("user.update", "postgres")
    assert history.model.index(0, 3).data() == f"full_name: {old_name} → Renamed For History"
    detail.grab().save("/tmp/audit-user-history.png")


def test_a_token_adjustment_shows_in_the_users_history(qtbot, empty_database, engine,
                                                        session_factory):
    customer = insert_user(engine, "olga@example.com", "Olga")
    with session_factory.begin() as s:
        update_profile(s, "x", customer, get_profile(s, customer).version, {"bio": "Hello"})
    page = UsersPage(empty_database)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    page.view.setCurrentIndex(page.model.index(0, 0))
    [history] = [i for i in page.detail.inline_lists if i.spec.title == "History"]
    qtbot.waitUntil(lambda: history.model.rowCount() == 1 and not history.model.is_loading,
                    timeout=WAIT)
    with session_factory.begin() as s:
        adjust_balance(s, "x", customer, 12, "Sorry", uuid.uuid4())
    empty_database.announce(__import__("data.operations", fromlist=["Changes"])
                            .Changes.of(credit_balances=customer))
    qtbot.waitUntil(lambda: history.model.rowCount() == 2 and not history.model.is_loading,
                    timeout=WAIT)
    assert [history.model.row_at(i).action for i in range(2)] == ["credits.adjust",
                                                                  "user.update"]


def test_a_content_items_history_tab(qtbot, demo_database, demo_engine):
    with demo_engine.begin() as conn:
        content_id = conn.execute(text("SELECT id FROM content WHERE deleted_at IS NULL "
                                       "ORDER BY published_at DESC NULLS LAST, id DESC "
                                       "LIMIT 1")).scalar()
    page = CatalogPage(demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    row = page.model.row_index(content_id)
    assert row is not None
    page.view.setCurrentIndex(page.model.index(row, 0))
    qtbot.waitUntil(lambda: page.detail.record is not None, timeout=WAIT)
    [history] = [i for i in page.detail.inline_lists if i.spec.title == "History"]
    qtbot.waitUntil(lambda: not history.model.is_loading, timeout=WAIT)
    with demo_engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM admin.audit_log WHERE "
                                     "entity_type = 'content' AND entity_id = :i"),
                                {"i": str(content_id)}).scalar()
    assert history.model.rowCount() == min(expected, 100)


def test_a_change_made_in_the_app_shows_at_the_top_of_the_open_audit_page(
        qtbot, empty_database, session_factory, engine):
    from data.operations.users import UpdateProfile
    customer = insert_user(engine, "rita@example.com", "Rita")
    _write(session_factory, "content.update", "content", "c1", {"title": "A"}, {"title": "B"})
    page = _page(qtbot, empty_database)
    with session_factory() as s:
        version = get_profile(s, customer).version
    empty_database.perform(UpdateProfile(customer, version, {"full_name": "Rita Moreno"}))
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and not page.model.is_loading,
                    timeout=WAIT)
    assert _cell(page, 0, 5) == "full_name: Rita → Rita Moreno"
    assert _cell(page, 0, 4) == str(customer)
