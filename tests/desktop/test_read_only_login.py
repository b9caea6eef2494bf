"""A database login that may only read: every save says which action it may not take,
writes nothing, and reaches the page's on_failure (no crash dialog). A real role on the
embedded server, granted SELECT only."""

from __future__ import annotations

import itertools
import os
import uuid

import psycopg
import pytest
from sqlalchemy import text

from data.db import connection_info, make_engine, make_session_factory
from data.errors import PermissionDeniedError
from data.services.catalog import create_content
from data.services.credits import adjust_balance
from desktop.database import Backend, Database
from tests.data.factories import insert_user

WAIT_MS = 20_000
_roles = itertools.count(1)


@pytest.fixture
def read_only_url(pg_server, db_url):
    """``db_url`` as a login granted SELECT on every table and nothing else."""
    role = f"pa_reader_{os.getpid()}_{next(_roles)}"
    database = db_url.database
    with psycopg.connect(pg_server.libpq_dsn(database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public, admin TO {role}")
    yield db_url.set(username=role)
    with psycopg.connect(pg_server.libpq_dsn(database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


@pytest.fixture
def reader_database(read_only_url, runner):
    engine = make_engine(read_only_url)
    backend = Backend(engine, make_session_factory(engine), connection_info(engine), "reader")
    database = Database(backend, runner)
    yield database
    database.close()


def _run(qtbot, database, runner, fn):
    unhandled, failures, results = [], [], []
    runner.unhandled_error.connect(unhandled.append)
    handle = database.write(fn, on_success=results.append, on_failure=failures.append)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    runner.unhandled_error.disconnect(unhandled.append)
    assert results == [] and unhandled == []
    [failure] = failures
    return failure


def test_a_token_adjustment_says_the_login_may_not_change_balances(
        qtbot, engine, reader_database, runner):
    customer = insert_user(engine, "nina@example.com", "Nina")
    failure = _run(qtbot, reader_database, runner,
                   lambda s, actor: adjust_balance(s, actor, customer, 25, "Goodwill",
                                                   uuid.uuid4()))
    assert isinstance(failure, PermissionDeniedError)
    assert str(failure) == ("Your database login may not change token balances "
                            "(permission denied on credit_balances).")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM credit_balances")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM credit_transactions")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one() == 0
    assert reader_database.state == "connected"


def test_a_content_save_says_the_login_may_not_change_the_catalog(
        qtbot, engine, reader_database, runner):
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    failure = _run(qtbot, reader_database, runner,
                   lambda s, actor: create_content(s, actor, {
                       "title": "Deep Work", "content_type": "written",
                       "creator_id": creator}))
    assert isinstance(failure, PermissionDeniedError)
    assert str(failure) == ("Your database login may not change the content catalog "
                            "(permission denied on content).")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content")).scalar_one() == 0


def test_a_read_it_may_not_do_says_read(qtbot, pg_server, engine, read_only_url,
                                        reader_database, runner):
    with psycopg.connect(pg_server.libpq_dsn(read_only_url.database), autocommit=True) as c:
        c.execute(f"REVOKE SELECT ON users FROM {read_only_url.username}")
    failures = []
    handle = reader_database.read(
        lambda s: s.execute(text("SELECT count(*) FROM users")).scalar_one(),
        on_failure=failures.append)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert [str(f) for f in failures] == [
        "Your database login may not read users (permission denied on users)."]


def test_refund_recovery_as_a_reader_says_why_and_asks_stripe_nothing(
        qtbot, read_only_url, runner, session_factory, paid_purchase, stripe_gateway,
        localstripe):
    from desktop.refund_recovery import RefundRecovery
    from tests.data.test_refunds import _refunds_in_stripe
    from tests.desktop.test_refund_startup import _leave_open

    purchase_id = paid_purchase("30.00")
    _leave_open(session_factory, purchase_id)
    engine = make_engine(read_only_url)
    backend = Backend(engine, make_session_factory(engine), connection_info(engine), "reader",
                      gateway=stripe_gateway)
    database = Database(backend, runner)
    unhandled = []
    runner.unhandled_error.connect(unhandled.append)
    try:
        recovery = RefundRecovery(database)
        with qtbot.waitSignal(recovery.status_reported, timeout=WAIT_MS) as blocker:
            recovery.check_now()
        assert blocker.args == [
            "Open refunds could not be checked: Your database login may not change refund "
            "requests (permission denied on refund_requests)."]
    finally:
        runner.unhandled_error.disconnect(unhandled.append)
        database.close()
    assert unhandled == []
    with session_factory() as s:
        intent = s.execute(text("SELECT stripe_payment_intent_id FROM purchases WHERE id = :id"),
                           {"id": purchase_id}).scalar_one()
        assert s.execute(text("SELECT status, attempts FROM admin.refund_requests")).one() == \
            ("requested", 0)
    assert _refunds_in_stripe(localstripe, intent) == []


def test_a_list_page_the_login_may_not_read_gets_the_sentence(
        pg_server, read_only_url, reader_database):
    """Lists fetch through ``Database.page_fetcher`` (on the table model's worker; called
    directly here): a refused SELECT reaches the model as the same sentence."""
    from data.queries.refunds import refund_requests_page

    with psycopg.connect(pg_server.libpq_dsn(read_only_url.database), autocommit=True) as c:
        c.execute(f"REVOKE SELECT ON admin.refund_requests FROM {read_only_url.username}")
    fetch = reader_database.page_fetcher(refund_requests_page, None)
    with pytest.raises(PermissionDeniedError) as err:
        fetch(None, 10)
    assert str(err.value) == ("Your database login may not read refund requests "
                              "(permission denied on refund_requests).")


def test_a_profile_save_on_the_users_page_says_the_sentence_under_no_crash_dialog(
        qtbot, engine, reader_database, runner):
    """Clicked as staff would: the edit is refused with a sentence in the detail's banner;
    the crash dialog (unhandled_error) stays shut and the form keeps what was typed."""
    from PySide6.QtCore import Qt

    from desktop.pages.users import UsersPage

    user = insert_user(engine, "olga@example.com", "Olga")
    unhandled = []
    runner.unhandled_error.connect(unhandled.append)
    page = UsersPage(reader_database)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.row_index(user) is not None, timeout=WAIT_MS)
    page.view.select_row_by_key(user)
    qtbot.waitUntil(lambda: page.detail.record is not None, timeout=WAIT_MS)
    name = page.detail.form.field_widget("full_name")
    name.setFocus()
    name.end(False)
    qtbot.keyClicks(name, " Petrova")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT_MS)
    assert page.detail.banner.text() == ("Your database login may not change users "
                                         "(permission denied on users).")
    assert unhandled == []
    assert name.text() == "Olga Petrova" and page.detail.form.is_dirty
    with engine.connect() as conn:
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": user}).scalar_one() == "Olga"


def test_a_bulk_grant_run_by_a_reader_says_the_sentence_and_grants_nothing(
        qtbot, engine, reader_database, runner):
    """The batch operation's failure is translated like any other write's (it used to reach
    the page as the driver's exception, i.e. the crash dialog)."""
    from data.db import make_session_factory
    from data.operations.credits import RunBulkGrant
    from data.services.credits import create_bulk_grant

    customer = insert_user(engine, "pia@example.com", "Pia")
    with make_session_factory(engine).begin() as s:
        bulk = create_bulk_grant(s, "owner", 10, "Outage, 12 Nov", [customer],
                                 bulk_id=uuid.uuid4())
    unhandled, failures = [], []
    runner.unhandled_error.connect(unhandled.append)
    handle = reader_database.perform_in_batches(RunBulkGrant(bulk, (customer,)),
                                                on_failure=failures.append)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert unhandled == []
    [failure] = failures
    assert isinstance(failure, PermissionDeniedError)
    assert str(failure).startswith("Your database login may not change token balances")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM credit_transactions")).scalar_one() == 0
