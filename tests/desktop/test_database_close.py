"""Closing the database: work asked for after close never opens a connection.

A table whose answer arrives after the window's database was closed asks for its next
page; before ``Database.close()`` existed, the disposed engine quietly opened a fresh
connection for it that nobody ever closed (the garbage collector later complained)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex
from sqlalchemy import event, text

from data.db import connection_info, make_engine, make_session_factory
from data.queries.users import UserFilter, list_users_page
from desktop.database import Backend, Database
from widgets.lazy_table import LazyTableModel

WAIT = 20_000


@pytest.fixture
def closable(demo_db_url, runner):
    """A Database over its own engine, and the list of connections checked out of it."""
    engine = make_engine(demo_db_url)
    backend = Backend(engine, make_session_factory(engine), connection_info(engine), "test")
    used: list[object] = []
    event.listen(engine, "checkout", lambda dbapi_conn, record, proxy: used.append(dbapi_conn))
    try:
        yield Database(backend, runner), used
    finally:
        runner.cancel_all()
        runner.wait_for_done(WAIT)
        engine.dispose()


def test_work_asked_for_after_close_is_cancelled_without_connecting(qtbot, closable):
    db, opened = closable
    answers: list[object] = []
    handle = db.read(lambda s: s.execute(text("SELECT 1")).scalar_one(),
                     on_success=answers.append)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    assert answers == [1] and len(opened) == 1

    db.close()
    assert db.is_closed
    failures: list[BaseException] = []
    late = [
        db.read(lambda s: s.execute(text("SELECT 1")).scalar_one(),
                on_success=answers.append, on_failure=failures.append),
        db.write(lambda s, actor: s.execute(text("SELECT 1")),
                 on_success=answers.append, on_failure=failures.append),
        db.run_payment(lambda factory, gateway, actor: None, on_failure=failures.append),
        db.read_with_progress(lambda s, ctx: 1, on_success=answers.append,
                              on_failure=failures.append),
    ]
    qtbot.waitUntil(lambda: not any(h.is_running for h in late), timeout=WAIT)
    assert all(h.was_cancelled for h in late)
    assert answers == [1] and failures == []
    assert len(opened) == 1, "a closed database used a connection"


def test_a_table_answer_arriving_after_close_does_not_reconnect(qtbot, closable, runner):
    db, opened = closable
    model = LazyTableModel([], runner, page_size=20)
    model.set_fetcher(db.page_fetcher(list_users_page, UserFilter()))
    qtbot.waitUntil(lambda: not model.is_loading, timeout=WAIT)
    assert model.rowCount() == 20 and model.canFetchMore(QModelIndex())
    connections_before = len(opened)

    db.close()
    model.fetchMore(QModelIndex())  # what a view does when scrolled to the end
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=WAIT)
    assert model.rowCount() == 20
    assert len(opened) == connections_before
