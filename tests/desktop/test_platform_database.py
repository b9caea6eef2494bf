"""The platform's own database (built from hand-written DDL, rows inserted with plain SQL),
upgraded by the app, shown on the Users page; the app's guard refuses SQL on the GUI thread."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from data import migrate
from data.db import make_engine
from desktop.database import Database
from desktop.pages.users import UsersPage
from desktop.startup import open_url

DDL = Path(__file__).parents[1] / "fixtures" / "platform_ddl.sql"
WAIT = 15_000


@pytest.fixture
def platform_url(empty_db):
    dsn = empty_db.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(DDL.read_text())
        conn.execute(
            "INSERT INTO users (email, password_hash, full_name, role, created_at) VALUES "
            "('first.platform@example.com', 'x', 'First Platform', 'customer', '2025-01-01'),"
            "('second.platform@example.com', 'x', 'Second Platform', 'media_owner', "
            "'2025-02-01')"
        )
    engine = make_engine(empty_db, pool_size=1)
    migrate.upgrade(engine)
    engine.dispose()
    return empty_db


def test_users_page_shows_the_platforms_users(qtbot, runner, platform_url):
    backend = open_url(platform_url, lambda *a: None)
    try:
        page = UsersPage(Database(backend, runner))
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() == 2 and not page.model.is_loading,
                        timeout=WAIT)
        assert [page.model.row_at(i).email for i in range(2)] == [
            "second.platform@example.com", "first.platform@example.com"]
        qtbot.waitUntil(lambda: page.count_label.text() == "2 users", timeout=WAIT)
    finally:
        runner.cancel_all()
        runner.wait_for_done(WAIT)
        backend.close()


def test_the_app_engine_refuses_sql_on_the_gui_thread(platform_url):
    backend = open_url(platform_url, lambda *a: None)
    try:
        with pytest.raises(RuntimeError, match="forbidden thread"), backend.engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
    finally:
        backend.close()


def test_users_model_passes_qt_model_tester(qtbot, qtmodeltester, demo_database):
    page = UsersPage(demo_database)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    qtmodeltester.check(page.model, force_py=True)
