"""Opening a database from the start dialog, and what it says when that fails."""

from __future__ import annotations

import threading

import psycopg
from PySide6.QtWidgets import QDialog

from data.embedded import EmbeddedPostgres
from desktop.start_dialog import StartDialog
from desktop.startup import prepare_demo_data

WAIT = 60_000


def _dialog(qtbot, runner, settings, **kw):
    d = StartDialog(runner, settings, **kw)
    qtbot.addWidget(d)
    d.show()
    return d


def test_unreachable_server_is_said_in_plain_words(qtbot, runner, settings):
    d = _dialog(qtbot, runner, settings)
    d.open_url("postgresql://anna:secret@127.0.0.1:1/platform")
    qtbot.waitUntil(lambda: "cannot be reached" in d.status.text(), timeout=WAIT)
    assert d.backend is None and d.connect_button.isEnabled()
    assert "Traceback" not in d.status.text()


def test_database_without_the_platform_schema_lists_findings(qtbot, runner, settings, empty_db):
    d = _dialog(qtbot, runner, settings)
    d.open_url(empty_db)
    qtbot.waitUntil(lambda: d.findings.isVisible(), timeout=WAIT)
    assert "not compatible" in d.status.text()
    assert "users: table is missing" in d.findings.toPlainText()


def test_missing_database_name_is_asked_for(qtbot, runner, settings):
    d = _dialog(qtbot, runner, settings)
    d.database.clear()
    d.connect_button.click()
    assert "Database" in d.status.text()


def test_connecting_to_a_good_database_accepts(qtbot, runner, settings, db_url):
    d = _dialog(qtbot, runner, settings)
    with qtbot.waitSignal(d.accepted, timeout=WAIT):
        d.open_url(db_url)
    assert d.result() == QDialog.DialogCode.Accepted
    assert d.backend.info.database_user == "postgres"
    d.backend.close()


def test_demo_opens_a_throwaway_server_its_data_made_afterwards_and_removes_it(
        qtbot, runner, settings):
    """The dialog is done once the server is up: the schema and the data are made behind
    the main window (desktop/demo_preparation.py), here on a thread."""
    d = _dialog(qtbot, runner, settings, demo_users=120)
    with qtbot.waitSignal(d.accepted, timeout=WAIT):
        d.open_demo()
    backend = d.backend
    assert backend.is_demo and backend.demo_data is not None
    directory = backend.embedded.directory
    with psycopg.connect(backend.embedded.libpq_dsn()) as conn:
        assert conn.execute("SELECT to_regclass('users')").fetchone()[0] is None
    thread = threading.Thread(target=prepare_demo_data, args=(backend,))
    thread.start()
    thread.join(WAIT / 1000)
    assert backend.demo_data is None
    with psycopg.connect(backend.embedded.libpq_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 120
    backend.close()
    assert not directory.exists()


def test_the_demo_opens_the_server_the_command_line_started_early(qtbot, runner, settings):
    starting = EmbeddedPostgres.start_in_background()
    d = _dialog(qtbot, runner, settings, demo_users=120, demo_server=starting)
    with qtbot.waitSignal(d.accepted, timeout=WAIT):
        d.open_demo()
    backend = d.backend
    assert backend.embedded is starting.result()
    directory = backend.embedded.directory
    backend.close()
    assert not directory.exists()


def test_a_url_that_is_not_a_database_url_is_said_in_words(qtbot, runner, settings):
    d = _dialog(qtbot, runner, settings)
    d.open_url("not a url")
    assert "That is not a database URL: expected postgresql://user@host:port/database" in (
        d.status.text())
    assert "SQLAlchemy" not in d.status.text()
    assert d.backend is None and d.connect_button.isEnabled()


def test_a_mysql_url_is_refused_not_opened_as_postgresql(qtbot, runner, settings):
    d = _dialog(qtbot, runner, settings)
    d.open_url("mysql://root@127.0.0.1/x")
    assert "PostgreSQL only" in d.status.text()
    assert d.backend is None and not d.progress.isVisible()
