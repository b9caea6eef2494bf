"""Fixtures for the pages: a real database, a real runner, and a guard that fails the test
if any SQL statement runs on the GUI thread."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from PySide6.QtCore import QSettings
from sqlalchemy import event

from data.db import connection_info, make_engine, make_session_factory
from desktop.database import Backend, Database
from tests.qt_support import (  # noqa: F401 (fixture and hook shared with tests/widgets)
    gui_thread_garbage_collection,
    pytest_runtest_teardown,
)
from widgets.operations import OperationRunner


class GuiThreadSqlRecorder:
    """Records every statement that runs on the main (GUI) thread."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def attach(self, engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _record(conn, cursor, statement, parameters, context, executemany):
            if threading.current_thread() is threading.main_thread():
                self.statements.append(statement)


@pytest.fixture
def runner(qapp):
    r = OperationRunner()
    yield r
    r.cancel_all()
    assert r.wait_for_done(20_000)


@pytest.fixture
def gui_sql():
    return GuiThreadSqlRecorder()


@contextmanager
def _database(url, runner, gui_sql, gateway=None):
    """The app's own engine (tests check the database through another one)."""
    engine = make_engine(url)
    info = connection_info(engine)  # set-up, before the recorder is attached
    gui_sql.attach(engine)
    backend = Backend(engine, make_session_factory(engine), info, "test database",
                      gateway=gateway)
    database = Database(backend, runner)
    try:
        yield database
    finally:
        # Closed, not just disposed: a page's answer delivered after the test (the window
        # is still alive until qtbot closes it) may ask for more rows, and a merely disposed
        # engine would open a fresh connection for it that nobody closes.
        database.close()
    assert gui_sql.statements == [], "SQL ran on the GUI thread"


@pytest.fixture
def demo_database(demo_db_url, demo_engine, runner, gui_sql):
    with _database(demo_db_url, runner, gui_sql) as db:
        yield db


@pytest.fixture
def empty_database(db_url, engine, runner, gui_sql):
    with _database(db_url, runner, gui_sql) as db:
        yield db


@pytest.fixture
def stripe_database(db_url, engine, runner, gui_sql, stripe_gateway):
    """An empty migrated database with a Stripe gateway to the session's localstripe; add
    purchases and bookings with real PaymentIntents through ``paid_purchase``,
    ``card_booking`` and ``credit_booking`` (tests/conftest.py)."""
    with _database(db_url, runner, gui_sql, gateway=stripe_gateway) as db:
        yield db


@pytest.fixture
def stripe_demo_database(stripe_demo_db_url, runner, gui_sql, stripe_gateway):
    """The demo database whose most recent purchases and card bookings are real
    PaymentIntents on the session's localstripe, with a gateway to it."""
    with _database(stripe_demo_db_url, runner, gui_sql, gateway=stripe_gateway) as db:
        yield db


@pytest.fixture
def unreachable_gateway(localstripe):
    """A gateway to a loopback port nobody listens on: every call is a real connection
    refusal (Stripe down), with no retries and no sleeping."""
    import socket

    from data.payments import StripeConfig, StripeGateway

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = StripeConfig(localstripe.config().api_key, f"http://127.0.0.1:{port}",
                          send_reason=False)
    return StripeGateway(config, sleep=lambda _s: None, retry_delays=())


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture(autouse=True)
def _times_shown_in_utc_again():
    """A main window sets the zone times are shown in; the next test starts from UTC."""
    yield
    from desktop.formatting import set_time_zone

    set_time_zone("UTC")
