"""The UI follows the role, with real logins in each staff group on the embedded server: a
founder sees the write actions disabled, each tooltip naming the group that may; the status
bar names the role; a right taken away while the app runs makes the save a sentence with
nothing written; without ``db roles`` a full-rights login works as before."""

from __future__ import annotations

import psycopg
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.db import connection_info, make_engine, make_session_factory
from data.roles import FOUNDER_GROUP, SUPPORT_GROUP
from data.services.audit import record_change
from desktop.database import Backend, Database
from desktop.main_window import MainWindow
from tests.data import test_roles
from tests.data.factories import insert_user

login, staffed_db = test_roles.login, test_roles.staffed_db  # the same fixtures
WAIT = 20_000


@pytest.fixture
def database_as(login, staffed_db, runner):
    """Factory: the app's Database as a new login in ``group`` (and the login's name)."""
    made = []

    def make(group):
        name, _factory = login(group)
        engine = make_engine(staffed_db.set(username=name))
        backend = Backend(engine, make_session_factory(engine), connection_info(engine), name)
        database = Database(backend, runner)
        made.append(database)
        return name, database

    yield make
    for database in made:
        database.close()


def _window(qtbot, database, settings):
    w = MainWindow(database, settings)
    qtbot.addWidget(w)
    w.resize(1400, 860)
    w.show()
    qtbot.waitUntil(lambda: w.privileges is not None, timeout=WAIT)
    return w


def _show_user(qtbot, window):
    page = window.users_page
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    page.view.setCurrentIndex(page.model.index(0, 0))
    qtbot.waitUntil(lambda: page.detail.record is not None, timeout=WAIT)
    return page.detail


def test_a_founder_sees_write_actions_disabled_saying_who_may(qtbot, engine, database_as,
                                                               settings):
    nina = insert_user(engine, "nina@example.com", "Nina")
    with Session(engine) as s, s.begin():
        record_change(s, actor="x", action="user.update", entity_type="user", entity_id=nina,
                      old_values={"bio": None}, new_values={"bio": "Hi"})
    _name, database = database_as(FOUNDER_GROUP)
    window = _window(qtbot, database, settings)
    assert window.role_label.text() == "Role: founder"
    detail = _show_user(qtbot, window)
    name = detail.form.field_widget("full_name")
    name.clear()
    qtbot.keyClicks(name, "Changed By A Founder")
    assert not detail.save_button.isEnabled()
    assert detail.save_button.toolTip() == ("Your database login may not fix a user's "
                                            "profile: members of platform_admin_support may.")
    delete = detail.delete_button
    assert not delete.isEnabled() and "no staff group may" in delete.toolTip()
    [adjust] = [b for b in detail.findChildren(type(delete)) if "just tokens" in b.text()]
    assert not adjust.isEnabled()
    assert "adjust token balances: members of platform_admin_support may" in adjust.toolTip()
    tokens = window.pages[4]
    window.tabs.setCurrentWidget(tokens)
    bulk = tokens.actions.buttons["bulk grant"]
    assert not bulk.isEnabled() and "platform_admin_support" in bulk.toolTip()
    catalog = window.pages[1]
    assert not catalog.new_button.isEnabled()
    assert "platform_admin_owner" in catalog.new_button.toolTip()
    tiers, offerings = window.pages[2], window.pages[3]  # the owners' plans and offerings
    for page, what in ((tiers, "change subscription tiers"),
                       (offerings, "create and change offerings")):
        assert not page.detail.new_button.isEnabled()
        assert f"{what}: members of platform_admin_owner may" in page.detail.new_button.toolTip()
    audit = window.pages[-1]
    window.tabs.setCurrentWidget(audit)  # a founder reads the trail
    qtbot.waitUntil(lambda: not audit.model.is_loading and audit.model.rowCount() == 1,
                    timeout=WAIT)
    assert audit.model.row_at(0).new_values == {"bio": "Hi"}
    window.tabs.setCurrentWidget(window.users_page)
    window.grab().save("/tmp/audit-founder.png")
    qtbot.keyClick(name, Qt.Key.Key_Return)  # Return in the form does not send it either
    with engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users")).scalar() == "Nina"


def test_support_may_save_a_profile_until_its_right_is_taken_away(
        qtbot, engine, database_as, settings, pg_server, staffed_db):
    insert_user(engine, "omar@example.com", "Omar")
    name, database = database_as(SUPPORT_GROUP)
    window = _window(qtbot, database, settings)
    assert window.role_label.text() == "Role: support"
    detail = _show_user(qtbot, window)
    assert detail.save_button.toolTip() == ""
    assert not detail.delete_button.isEnabled()  # support may not delete users
    with psycopg.connect(pg_server.libpq_dsn(staffed_db.database), autocommit=True) as c:
        c.execute(f"REVOKE {SUPPORT_GROUP} FROM {name}")
    field = detail.form.field_widget("full_name")
    field.clear()
    qtbot.keyClicks(field, "Omar Changed")
    assert detail.save_button.isEnabled()  # the app still believes it may: PostgreSQL decides
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.banner.isVisible() and not detail.is_busy, timeout=WAIT)
    assert "may not" in detail.banner.text() and "permission denied" in detail.banner.text()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users")).scalar() == "Omar"
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0


def test_without_db_roles_a_full_rights_login_works_and_is_told_how(
        qtbot, empty_database, engine, settings):
    insert_user(engine, "pia@example.com", "Pia")
    window = _window(qtbot, empty_database, settings)
    assert window.role_label.text() == ("No staff roles are set up "
                                        "(run “platform-admin db roles --apply”)")
    detail = _show_user(qtbot, window)
    assert detail.delete_button.isEnabled() and detail.delete_button.toolTip() == ""
    field = detail.form.field_widget("full_name")
    field.clear()
    qtbot.keyClicks(field, "Pia Saved")
    assert detail.save_button.isEnabled()
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.record.full_name == "Pia Saved", timeout=WAIT)
