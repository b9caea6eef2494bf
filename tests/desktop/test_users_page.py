"""The Users page driven as a person would: type, click, edit, save, export."""

from __future__ import annotations

import csv
import threading

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from data.queries import users as user_queries
from desktop.pages import users as users_page_module
from desktop.pages.users import UsersPage

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
    qtbot.waitUntil(lambda: page.detail._profile is not None
                    and page.detail._profile.id == row.id, timeout=WAIT)
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

    monkeypatch.setattr(users_page_module, "list_users_page", slow_for_old)
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
    page.role.setCurrentIndex(page.role.findData("platform_owner"))
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0,
                    timeout=WAIT)
    assert {r.role for r in _loaded_rows(page)} == {"platform_owner"}
    page.role.setCurrentIndex(0)
    page.status.setCurrentIndex(page.status.findData("deleted"))
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
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0


def test_save_after_someone_else_changed_the_user_is_refused(qtbot, page, demo_engine):
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
    assert page.detail.form.values()["full_name"] == "Changed Elsewhere"
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == "Changed Elsewhere"


def test_soft_delete_after_confirmation_and_restore(qtbot, page, demo_engine, monkeypatch):
    # The confirmation is a modal QMessageBox; the test answers it as the user would.
    answers = []
    monkeypatch.setattr(users_page_module, "confirm",
                        lambda *a, **k: answers.append(k["title"]) or True)
    row = _select_row(qtbot, page, 3)
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail._profile.deleted_at is not None, timeout=WAIT)
    assert answers == ["Delete user"]
    assert page.model.row_at(3).deleted_at is not None
    assert page.detail.delete_button.text() == "&Restore…"
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail._profile.deleted_at is None, timeout=WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT deleted_at FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() is None


def test_declined_confirmation_deletes_nothing(qtbot, page, demo_engine, monkeypatch):
    monkeypatch.setattr(users_page_module, "confirm", lambda *a, **k: False)
    row = _select_row(qtbot, page, 4)
    qtbot.mouseClick(page.detail.delete_button, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    page._db.runner.wait_for_done(WAIT)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT deleted_at FROM users WHERE id = :i"),
                            {"i": row.id}).scalar() == row.deleted_at


def test_export_writes_the_filtered_list(qtbot, page, tmp_path, demo_engine):
    page.role.setCurrentIndex(page.role.findData("customer"))
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    target = tmp_path / "customers.csv"
    handle = page.export_csv(target)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    qtbot.waitUntil(target.exists, timeout=WAIT)
    with target.open() as f:
        rows = list(csv.reader(f))
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM users WHERE role = 'customer'")).scalar()
    assert rows[0][:2] == ["id", "email"]
    assert len(rows) == n + 1
    assert {r[3] for r in rows[1:]} == {"customer"}
    assert not (tmp_path / "customers.csv.part").exists()


def test_export_cancelled_leaves_no_file(qtbot, page, tmp_path, monkeypatch):
    """The export is held after its first batch until the test has pressed Cancel."""
    release = threading.Event()
    real = user_queries.iter_users

    def held(session, flt, batch=5_000):
        for rows in real(session, flt, batch=50):
            yield rows
            release.wait(10)

    monkeypatch.setattr(users_page_module, "iter_users", held)
    target = tmp_path / "all.csv"
    handle = page.export_csv(target)
    handle.cancel()
    release.set()
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    assert not target.exists()
    assert not (tmp_path / "all.csv.part").exists()


def test_down_from_search_selects_the_first_user(qtbot, page):
    page.focus_search()
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    first = page.model.row_at(0)
    qtbot.waitUntil(lambda: page.detail._profile is not None
                    and page.detail._profile.id == first.id, timeout=WAIT)
