"""Reads that fail say so: in the page's banner, in the log, and (a lost connection) in the
status bar. Every failure here is a real one: a login refused by a REVOKE, a database that
stops accepting connections, a query naming a column the table does not have."""

from __future__ import annotations

import logging
import os
import traceback
import uuid

import psycopg
import pytest
from sqlalchemy import literal_column, text
from sqlalchemy.engine import make_url

from data.models import SubscriptionTier
from data.queries.listing import TableListing, list_page
from desktop.main_window import MainWindow
from desktop.pages.table_page import TablePage
from desktop.pages.users import UsersPage
from tests.desktop.conftest import _database

WAIT = 15_000


@pytest.fixture
def reader_database(demo_db_url, demo_engine, runner, gui_sql):
    """The demo database as a login that may read every table but ``users``."""
    role = f"pa_reader_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with demo_engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public, admin TO {role}"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public, admin TO {role}"))
        conn.execute(text(f"REVOKE SELECT ON users FROM {role}"))
    try:
        with _database(make_url(demo_db_url).set(username=role), runner, gui_sql) as db:
            yield db
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_a_list_the_login_may_not_read_says_why_in_the_banner_and_the_log(
        qtbot, reader_database, caplog):
    caplog.set_level(logging.WARNING, logger="platform_admin")
    page = UsersPage(reader_database)
    qtbot.addWidget(page)
    page.resize(1400, 900)
    page.show()
    qtbot.waitUntil(lambda: page.list_banner.isVisible(), timeout=WAIT)
    said = page.list_banner.text()
    assert "Could not load the users" in said
    assert "may not read" in said and "permission denied on users" in said
    assert "permission denied on users" in page.view.placeholder_text()
    assert page.model.rowCount() == 0
    assert any("permission denied on users" in r.getMessage()
               for r in caplog.records if r.name == "platform_admin")
    qtbot.waitUntil(lambda: page.count_label.text() == "Count unavailable", timeout=WAIT)
    # Permission is not a lost connection: the connection itself is fine.
    assert reader_database.state == "connected"


def _allow_connections(pg_server, name: str, allowed: bool) -> None:
    with psycopg.connect(pg_server.libpq_dsn(), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allowed).lower()}")
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


def test_a_lost_connection_shows_in_the_banner_and_the_status_bar(
        qtbot, demo_database, demo_db_url, demo_engine, pg_server, settings):
    window = MainWindow(demo_database, settings)
    qtbot.addWidget(window)
    window.show()
    page = window.users_page
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    demo_engine.dispose()
    name = make_url(demo_db_url).database
    _allow_connections(pg_server, name, False)
    try:
        page.refresh()
        qtbot.waitUntil(lambda: page.list_banner.isVisible(), timeout=WAIT)
        assert window.state_label.text().startswith("Connection problem:")
        assert "Could not load the users" in page.list_banner.text()
    finally:
        _allow_connections(pg_server, name, True)
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    assert not page.list_banner.isVisible()
    assert window.state_label.text() == "Connected"


def test_a_page_fetch_alone_reports_the_lost_connection(
        qtbot, demo_database, demo_db_url, demo_engine, pg_server):
    """Only the lazy table's page fetch runs (no count beside it): its failure must still
    reach the connection state the status bar shows."""
    page = TablePage(TableListing("Tiers", (("Name", SubscriptionTier.name),),
                                  sort=SubscriptionTier.created_at,
                                  id_column=SubscriptionTier.id), demo_database)
    qtbot.addWidget(page)
    page._loaded = True  # no first-show load: the fetcher is set below, alone
    name = make_url(demo_db_url).database
    demo_engine.dispose()
    _allow_connections(pg_server, name, False)
    try:
        page.model.set_fetcher(demo_database.page_fetcher(list_page, page.listing))
        qtbot.waitUntil(lambda: not page.banner.isHidden(), timeout=WAIT)
        assert demo_database.state != "connected"
        assert "cannot be reached" in page.banner.text()
    finally:
        _allow_connections(pg_server, name, True)


def test_a_query_bug_is_logged_with_its_traceback(qtbot, demo_database, caplog):
    caplog.set_level(logging.WARNING, logger="platform_admin")
    broken = TableListing("Tiers", (("Name", literal_column("no_such_column")),),
                          sort=SubscriptionTier.created_at, id_column=SubscriptionTier.id)
    page = TablePage(broken, demo_database)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=WAIT)
    assert "Could not load" in page.banner.text()
    errors = [r for r in caplog.records if r.name == "platform_admin"
              and r.levelno == logging.ERROR]
    assert errors and errors[0].exc_info is not None
    assert "no_such_column" in "".join(traceback.format_exception(*errors[0].exc_info))
