"""Money actions in the database: the SECURITY DEFINER functions of migration 0010.

Real logins on the embedded server: one that may only EXECUTE the money functions (no write
right on any table) makes adjustments and bulk grants, and the records name it whatever the
caller says; it cannot write the tables directly. ``db check`` names a planted definer
function that is unsafe.
"""

from __future__ import annotations

import itertools
import os
import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from data.audit_chain import verify_chain
from data.db import make_engine, make_session_factory
from data.db_errors import translate_db_error
from data.errors import PermissionDeniedError
from data.services.credits import (
    MONEY_FUNCTIONS,
    InsufficientBalanceError,
    adjust_balance,
    create_bulk_grant,
    run_bulk_grant,
)
from desktop.cli import main as cli_main
from tests.data.factories import insert_user

_logins = itertools.count(1)


@pytest.fixture
def executor_url(pg_server, db_url):
    """``db_url`` as a login that may read every table and run the money functions, and
    write nothing directly."""
    role = f"pa_exec_{os.getpid()}_{next(_logins)}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public, admin TO {role}")
        for signature in MONEY_FUNCTIONS:
            conn.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")
    yield db_url.set(username=role)
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


@pytest.fixture
def executor(executor_url):
    engine = make_engine(executor_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_the_records_name_the_session_user_when_the_caller_names_someone_else(
        engine, executor, executor_url):
    carl = insert_user(engine, "carl@example.com", "Carl")
    with executor.begin() as s:
        result = adjust_balance(s, "someone_else", carl, 5_000, "Goodwill", uuid.uuid4())
    assert (result.balance_before, result.balance_after, result.replayed) == (0, 5_000, False)
    with engine.connect() as conn:
        audit = conn.execute(text("SELECT actor, action, new_values FROM admin.audit_log")).one()
        request_actor = conn.execute(text("SELECT actor FROM admin.credit_adjustments")).scalar()
    assert audit.actor == request_actor == executor_url.username
    assert (audit.action, audit.new_values["current_balance"]) == ("credits.adjust", 5_000)


def test_refusals_come_back_as_typed_errors_and_the_transaction_goes_on(engine, executor):
    carl = insert_user(engine, "carl@example.com", "Carl")
    with executor.begin() as s:
        adjust_balance(s, "x", carl, 10, "Goodwill", uuid.uuid4())
        with pytest.raises(InsufficientBalanceError) as low:
            adjust_balance(s, "x", carl, -11, "Too much", uuid.uuid4())
        assert (low.value.current, low.value.amount) == (10, -11)
        assert adjust_balance(s, "x", carl, -10, "All of it", uuid.uuid4()).balance_after == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_balance FROM credit_balances")).scalar() == 0


def test_bulk_grants_run_through_the_functions(engine, executor, executor_url):
    customers = [insert_user(engine, f"c{i}@example.com", f"C {i}") for i in range(3)]
    with executor.begin() as s:
        bulk = create_bulk_grant(s, "someone_else", 7, "Launch gift", customers)
    result = run_bulk_grant(executor, "someone_else", bulk, customers, batch_size=2)
    assert (result.granted, result.already_granted, result.stopped) == (3, 0, False)
    again = run_bulk_grant(executor, "someone_else", bulk, customers)
    assert (again.granted, again.already_granted) == (0, 3)
    with engine.connect() as conn:
        actors = set(conn.execute(text("SELECT actor FROM admin.audit_log")).scalars())
        bulk_row = conn.execute(text(
            "SELECT actor, finished_at IS NOT NULL FROM admin.bulk_grants")).one()
        balances = sorted(conn.execute(text(
            "SELECT current_balance FROM credit_balances")).scalars())
    assert actors == {executor_url.username} and tuple(bulk_row) == (executor_url.username, True)
    assert balances == [7, 7, 7]


def test_a_bulk_reaches_a_customer_once_whatever_request_id_is_made_up(
        engine, executor, executor_url):
    carl = insert_user(engine, "carl@example.com", "Carl")
    with executor.begin() as s:
        bulk = create_bulk_grant(s, "x", 7, "Launch gift", [carl])
    with executor() as s:  # as psql would: the function called directly, twice
        s.execute(text("SELECT * FROM admin.grant_bulk_item(:b, :c, :r, :t)"),
                  {"b": bulk, "c": carl, "r": uuid.uuid4(), "t": uuid.uuid4()})
        s.commit()
        with pytest.raises(DBAPIError) as second:
            s.execute(text("SELECT * FROM admin.grant_bulk_item(:b, :c, :r, :t)"),
                      {"b": bulk, "c": carl, "r": uuid.uuid4(), "t": uuid.uuid4()})
    assert isinstance(second.value.orig, psycopg.errors.UniqueViolation)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_balance FROM credit_balances")).scalar() == 7


def test_the_function_refuses_bad_arguments_from_psql(executor):
    with executor() as s, pytest.raises(DBAPIError) as refused:
        s.execute(text("SELECT * FROM admin.adjust_tokens(:r, :c, 0, ' ', :t)"),
                  {"r": uuid.uuid4(), "c": uuid.uuid4(), "t": uuid.uuid4()})
    orig = refused.value.orig
    assert orig.sqlstate == "22023"
    assert orig.diag.message_primary == "Enter a number of tokens other than zero."


def test_the_login_may_not_write_the_tables_directly(engine, executor):
    carl = insert_user(engine, "carl@example.com", "Carl")
    with executor.begin() as s:
        adjust_balance(s, "x", carl, 5, "Goodwill", uuid.uuid4())
    for statement in ("UPDATE credit_balances SET current_balance = 5000",
                      "UPDATE credit_transactions SET description = 'rewritten'",
                      "DELETE FROM admin.credit_adjustments",
                      "DELETE FROM admin.audit_log",
                      "INSERT INTO admin.audit_log (actor, action, entity_type, entity_id) "
                      "VALUES ('x', 'x', 'x', 'x')"):
        with executor() as s, pytest.raises(DBAPIError) as refused:
            s.execute(text(statement))
        translated = translate_db_error(refused.value)
        assert isinstance(translated, PermissionDeniedError), statement
        assert str(translated).startswith("Your database login may not change ")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_balance FROM credit_balances")).scalar() == 5
    with make_session_factory(engine)() as s:
        assert verify_chain(s).intact


def test_a_login_without_the_functions_but_with_table_rights_works_as_before(
        pg_server, db_url, engine):
    """No staff roles set up: a login granted the tables by hand (not the functions) takes
    the plain SQL path with its own rights, and is still audited as itself."""
    role = f"pa_clerk_{os.getpid()}_{next(_logins)}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA admin TO {role}")
    carl = insert_user(engine, "carl@example.com", "Carl")
    clerk = make_engine(db_url.set(username=role))
    try:
        with make_session_factory(clerk).begin() as s:
            result = adjust_balance(s, "someone_else", carl, 12, "Goodwill", uuid.uuid4())
        assert result.balance_after == 12
    finally:
        clerk.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM admin.audit_log")).scalar() == role
        assert conn.execute(text("SELECT actor FROM admin.credit_adjustments")).scalar() == role
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_db_check_lists_an_unsafe_definer_function(db_url, engine, capsys):
    url = db_url.render_as_string(hide_password=False)
    capsys.readouterr()
    assert cli_main(["db", "check", "--database-url", url]) == 0
    assert "definer" not in capsys.readouterr().out.lower()
    with engine.begin() as conn:
        conn.execute(text("CREATE FUNCTION admin.planted() RETURNS int LANGUAGE sql "
                          "SECURITY DEFINER AS 'SELECT 1'"))
        conn.execute(text("CREATE FUNCTION admin.half_pinned() RETURNS int LANGUAGE sql "
                          "SECURITY DEFINER SET search_path = pg_temp, admin AS 'SELECT 1'"))
        conn.execute(text("REVOKE ALL ON FUNCTION admin.half_pinned() FROM PUBLIC"))
    assert cli_main(["db", "check", "--database-url", url]) == 1
    out = capsys.readouterr().out
    assert ("ERROR   admin.planted(): SECURITY DEFINER but its search_path is not pinned "
            "(SET search_path = …, pg_temp) and PUBLIC may execute it (REVOKE EXECUTE … FROM "
            "PUBLIC)") in out
    assert ("ERROR   admin.half_pinned(): SECURITY DEFINER but its search_path is not pinned "
            "(SET search_path = …, pg_temp)\n") in out
    assert "adjust_tokens" not in out
