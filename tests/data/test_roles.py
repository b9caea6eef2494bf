"""Staff roles enforced by PostgreSQL (``platform-admin db roles``), with a real login in
each group on the embedded server: what a group may do works, what it may not is refused by
PostgreSQL itself and comes back as a sentence, and no staff login can change the audit
trail. The records name the login (session_user) whatever actor the caller passes."""

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
from data.ledger_health import check_ledger
from data.operations import run_in_transaction
from data.operations.base import ConnectionOperation
from data.operations.credits import AdjustBalance
from data.roles import AUDIT_OWNER, FOUNDER_GROUP, OWNER_GROUP, STAFF_GROUPS, SUPPORT_GROUP
from data.services.catalog import create_content
from data.services.credits import InsufficientBalanceError, adjust_balance
from data.services.revenue_rollup import refresh_rollup
from data.services.users import get_profile, update_profile
from desktop.cli import main as cli_main
from tests.data.factories import insert_user

_logins = itertools.count(1)


def _url_text(url) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture
def staffed_db(db_url, capsys):
    """``db_url`` with ``db roles --apply`` run on it (by the superuser)."""
    assert cli_main(["db", "roles", "--apply", "--database-url", _url_text(db_url)]) == 0
    capsys.readouterr()
    return db_url


@pytest.fixture
def login(pg_server, staffed_db):
    """Factory: a new login, member of ``group``; its session factory. Dropped afterwards."""
    made = []

    def make(group):
        name = f"pa_{group.rsplit('_', 1)[-1]}_{os.getpid()}_{next(_logins)}"
        with psycopg.connect(pg_server.libpq_dsn(staffed_db.database), autocommit=True) as c:
            c.execute(f"CREATE ROLE {name} LOGIN IN ROLE {group}")
        engine = make_engine(staffed_db.set(username=name))
        made.append((name, engine))
        return name, make_session_factory(engine)

    yield make
    for name, engine in made:
        engine.dispose()
        with psycopg.connect(pg_server.libpq_dsn(staffed_db.database), autocommit=True) as c:
            c.execute(f"DROP OWNED BY {name}")
            c.execute(f"DROP ROLE {name}")


def _refused(action) -> PermissionDeniedError:
    """Run ``action``; it must be refused by PostgreSQL. The sentence the app shows."""
    with pytest.raises(DBAPIError) as refused:
        action()
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
    translated = translate_db_error(refused.value)
    assert isinstance(translated, PermissionDeniedError)
    return translated


def _in_session(factory, work):
    def run():
        with factory.begin() as s:
            return work(s)
    return run


def test_roles_sql_is_printed_and_applying_it_twice_is_harmless(db_url, engine, capsys):
    assert cli_main(["db", "roles", "--database-url", _url_text(db_url)]) == 0
    printed = capsys.readouterr().out
    for group in STAFF_GROUPS:
        assert f"CREATE ROLE {group} NOLOGIN" in printed
    assert ("GRANT UPDATE (full_name, email, bio, profile_image_url, updated_at) ON users TO "
            "platform_admin_support;") in printed
    assert ("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON admin.audit_log FROM "
            "platform_admin_owner, platform_admin_support, platform_admin_founder;") in printed
    assert f"CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE {SUPPORT_GROUP};" in printed
    with engine.connect() as conn:  # printing applied nothing
        acl = conn.execute(text("SELECT coalesce(proacl::text, '') FROM pg_proc WHERE oid = "
                                "'admin.adjust_tokens(uuid, uuid, integer, text, uuid)'"
                                "::regprocedure")).scalar()
    assert SUPPORT_GROUP not in acl
    for _ in range(2):
        assert cli_main(["db", "roles", "--apply", "--database-url", _url_text(db_url)]) == 0
        assert "Staff roles are set up" in capsys.readouterr().out
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                                  "WHERE oid = 'admin.audit_log'::regclass")).scalar()
    assert owner == AUDIT_OWNER
    assert cli_main(["db", "check", "--database-url", _url_text(db_url)]) == 0


def test_support_fixes_a_profile_and_adjusts_tokens_recorded_as_itself(engine, login):
    name, support = login(SUPPORT_GROUP)
    carl = insert_user(engine, "carl@example.com", "Carl")
    with support.begin() as s:
        result = adjust_balance(s, "someone_else", carl, 5_000, "Goodwill", uuid.uuid4())
    assert result.balance_after == 5_000
    with support.begin() as s:
        version = get_profile(s, carl).version
        update_profile(s, "someone_else", carl, version, {"full_name": "Carl Fixed",
                                                          "email": "carl.fixed@example.com"})
    with engine.connect() as conn:
        actors = conn.execute(text("SELECT action, actor FROM admin.audit_log ORDER BY id")).all()
        assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                            {"i": carl}).scalar() == "Carl Fixed"
    assert [tuple(a) for a in actors] == [("credits.adjust", name), ("user.update", name)]
    with make_session_factory(engine)() as s:
        assert verify_chain(s).intact


def test_support_may_not_change_roles_passwords_balances_or_the_catalog(engine, login):
    _name, support = login(SUPPORT_GROUP)
    carl = insert_user(engine, "carl@example.com", "Carl")
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")

    def promote(s):
        update_profile(s, "x", carl, get_profile(s, carl).version, {"role": "media_owner"})

    refused = _refused(_in_session(support, promote))
    assert str(refused) == "Your database login may not change users (permission denied on users)."
    _refused(_in_session(support, lambda s: s.execute(text(
        "UPDATE users SET password_hash = 'x' WHERE id = :i"), {"i": carl})))
    refused = _refused(_in_session(support, lambda s: s.execute(text(
        "UPDATE credit_balances SET current_balance = 5000"))))
    assert "may not change token balances" in str(refused)
    refused = _refused(_in_session(support, lambda s: s.execute(text(
        "UPDATE credit_transactions SET description = 'rewritten'"))))
    assert "may not change the token ledger" in str(refused)
    refused = _refused(_in_session(support, lambda s: create_content(s, "x", {
        "title": "Deep Work", "content_type": "written", "creator_id": creator})))
    assert str(refused) == ("Your database login may not change the content catalog "
                            "(permission denied on content).")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT role FROM users WHERE id = :i"),
                            {"i": carl}).scalar() == "customer"
        assert conn.execute(text("SELECT count(*) FROM content")).scalar() == 0


def test_owner_edits_the_catalog_but_moves_no_tokens(engine, login):
    name, owner = login(OWNER_GROUP)
    carl = insert_user(engine, "carl@example.com", "Carl")
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    with owner.begin() as s:
        create_content(s, "someone_else", {"title": "Deep Work", "content_type": "written",
                                           "creator_id": creator})
    refused = _refused(_in_session(owner, lambda s: adjust_balance(
        s, "x", carl, 5, "Goodwill", uuid.uuid4())))
    assert "may not change token balances" in str(refused)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor, action FROM admin.audit_log")).one() == (
            name, "content.create")
        assert conn.execute(text("SELECT count(*) FROM credit_balances")).scalar() == 0


def test_founder_reads_and_changes_nothing(engine, login):
    _name, founder = login(FOUNDER_GROUP)
    carl = insert_user(engine, "carl@example.com", "Carl")
    with founder() as s:
        assert s.execute(text("SELECT count(*) FROM users")).scalar() == 1
        assert s.execute(text("SELECT count(*) FROM admin.revenue_events")).scalar() == 0
    _refused(_in_session(founder, lambda s: adjust_balance(
        s, "x", carl, 5, "Goodwill", uuid.uuid4())))
    refused = _refused(_in_session(founder, lambda s: update_profile(
        s, "x", carl, get_profile(s, carl).version, {"full_name": "Renamed"})))
    assert "may not change users" in str(refused)
    refused = _refused(_in_session(founder, lambda s: s.execute(text(
        "SELECT admin.record_audit('x', 'x', 'x', NULL, NULL, NULL)"))))
    assert "may not run record_audit" in str(refused)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM credit_balances")).scalar() == 0


def test_a_founder_updates_the_revenue_rollup_only_through_its_function(engine, login):
    _name, founder = login(FOUNDER_GROUP)
    with founder.begin() as s:
        assert refresh_rollup(s) is True
    with founder() as s:
        assert s.execute(text("SELECT timezone FROM admin.revenue_rollup_info")).scalar() \
            == "UTC"
    refused = _refused(_in_session(founder, lambda s: s.execute(text(
        "UPDATE admin.revenue_rollup_info SET timezone = 'x'"))))
    assert "revenue_rollup_info" in str(refused)


AUDIT_WRITES = {
    "update": "UPDATE admin.audit_log SET reason = 'rewritten'",
    "delete": "DELETE FROM admin.audit_log",
    "truncate": "TRUNCATE admin.audit_log",
    "insert": "INSERT INTO admin.audit_log (actor, action, entity_type, entity_id) "
              "VALUES ('x', 'x', 'x', 'x')",
    "chain head": "UPDATE admin.audit_chains SET rows_written = 0",
}


@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_no_staff_role_may_change_the_audit_trail(engine, login, group):
    _name, staff = login(group)
    carl = insert_user(engine, "carl@example.com", "Carl")
    with make_session_factory(engine).begin() as s:  # a row to change, as the app's owner
        adjust_balance(s, "x", carl, 5, "Goodwill", uuid.uuid4())
    for what, statement in AUDIT_WRITES.items():
        refused = _refused(_in_session(staff, lambda s, q=statement: s.execute(text(q))))
        assert "may not change the audit log" in str(refused) or what == "chain head"
    with make_session_factory(engine)() as s:
        report = verify_chain(s)
    assert report.intact and report.rows == 1


def test_a_migrating_login_that_may_not_create_roles_leaves_it_to_db_roles(
        pg_server, empty_db, capsys):
    """``db upgrade`` by a login without CREATEROLE (owning its database, as a platform's
    login would): 0009 cannot hand the audit table over, says so and goes on; ``db roles
    --apply`` by a login that may finishes it, and adjustments are still audited."""
    migrator = f"pa_migrator_{os.getpid()}_{next(_logins)}"
    database = empty_db.database
    with psycopg.connect(pg_server.libpq_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {migrator} LOGIN")
        conn.execute(f"ALTER DATABASE {database} OWNER TO {migrator}")
    with psycopg.connect(pg_server.libpq_dsn(database), autocommit=True) as conn:
        conn.execute(f"ALTER SCHEMA public OWNER TO {migrator}")
    migrator_url = empty_db.set(username=migrator)
    try:
        assert cli_main(["db", "upgrade", "--database-url", _url_text(migrator_url)]) == 0
        engine = make_engine(migrator_url)
        with engine.connect() as conn:
            owner = conn.execute(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                                      "WHERE oid = 'admin.audit_log'::regclass")).scalar()
        assert owner == migrator
        assert cli_main(["db", "roles", "--apply", "--database-url", _url_text(empty_db)]) == 0
        carl = insert_user(engine, "carl@example.com", "Carl")
        with make_session_factory(engine).begin() as s:
            adjust_balance(s, "x", carl, 5, "Goodwill", uuid.uuid4())
        with engine.connect() as conn:
            owner = conn.execute(text("SELECT pg_get_userbyid(relowner) FROM pg_class "
                                      "WHERE oid = 'admin.audit_log'::regclass")).scalar()
            actor = conn.execute(text("SELECT actor FROM admin.audit_log")).scalar()
            refused = conn.execute(text(
                "SELECT has_table_privilege('admin.audit_log', 'UPDATE')")).scalar()
        assert (owner, actor, refused) == (AUDIT_OWNER, migrator, False)
        with make_session_factory(engine)() as s:
            assert verify_chain(s).intact
        engine.dispose()
    finally:
        with psycopg.connect(pg_server.libpq_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            conn.execute(f"DROP ROLE {migrator}")
    capsys.readouterr()


def test_a_refused_support_adjustment_leaves_no_balance_row_and_a_retry_applies_once(
        engine, login):
    """The app runs a support login's adjustment as its one definer-function statement, in
    autocommit: a refusal must still write nothing, not even the balance row the function
    makes for a customer who had none."""
    _, support = login(SUPPORT_GROUP)
    dana = insert_user(engine, "dana@example.com", "Dana")
    with pytest.raises(InsufficientBalanceError):
        run_in_transaction(AdjustBalance(dana, -5, "Correction", uuid.uuid4()), support, "x")

    def written():
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT (SELECT count(*) FROM credit_balances WHERE customer_id = :c), "
                "(SELECT count(*) FROM credit_transactions WHERE customer_id = :c), "
                "(SELECT count(*) FROM admin.credit_adjustments WHERE customer_id = :c), "
                "(SELECT count(*) FROM admin.audit_log)"), {"c": dana}).one()

    assert tuple(written()) == (0, 0, 0, 0)
    request = uuid.uuid4()
    first = run_in_transaction(AdjustBalance(dana, 40, "Goodwill", request), support, "x")
    again = run_in_transaction(AdjustBalance(dana, 40, "Goodwill", request), support, "x")
    assert (first.balance_after, again.transaction_id) == (40, first.transaction_id)
    assert tuple(written()) == (1, 1, 1, 1)
    with make_session_factory(engine)() as s:
        assert check_ledger(s) == []


def test_after_an_autocommitted_adjustment_the_pooled_connection_rolls_back_again(
        engine, staffed_db, login):
    """The same pooled connection, next used for a change of several statements, is in a
    transaction again: a failure half-way leaves nothing written."""
    name, _ = login(SUPPORT_GROUP)
    one = make_engine(staffed_db.set(username=name), pool_size=1)
    try:
        factory = make_session_factory(one)
        erin = insert_user(engine, "erin@example.com", "Erin")
        run_in_transaction(AdjustBalance(erin, 10, "Goodwill", uuid.uuid4()), factory, "x")

        class RenameThenFail(ConnectionOperation):
            def run(self, conn, actor):
                conn.execute(text("UPDATE users SET full_name = 'Half Done' WHERE id = :i"),
                             {"i": erin})
                raise RuntimeError("the second statement failed")

        with pytest.raises(RuntimeError):
            run_in_transaction(RenameThenFail(), factory, "x")
        assert one.pool.checkedin() == 1  # one connection served both
        with one.connect() as conn:
            assert conn.execute(text("SELECT full_name FROM users WHERE id = :i"),
                                {"i": erin}).scalar() == "Erin"
    finally:
        one.dispose()


def test_a_login_that_may_not_run_the_money_function_adjusts_in_a_transaction(
        engine, pg_server, db_url):
    """Without EXECUTE on ``admin.adjust_tokens`` (no staff roles, table rights granted by
    hand), the adjustment is several statements in one transaction: it works, and a refusal
    rolls back the balance row it made."""
    name = f"pa_tables_{os.getpid()}_{next(_logins)}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as c:
        c.execute(f"CREATE ROLE {name} LOGIN")
        c.execute(f"GRANT USAGE ON SCHEMA public, admin TO {name}")
        c.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public, admin "
                  f"TO {name}")
        c.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, admin TO {name}")
    tables_only = make_engine(db_url.set(username=name))
    try:
        factory = make_session_factory(tables_only)
        fay = insert_user(engine, "fay@example.com", "Fay")
        with pytest.raises(InsufficientBalanceError):
            run_in_transaction(AdjustBalance(fay, -1, "Correction", uuid.uuid4()), factory, "x")
        result = run_in_transaction(AdjustBalance(fay, 25, "Goodwill", uuid.uuid4()),
                                    factory, "x")
        assert result.balance_after == 25
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM credit_transactions "
                                     "WHERE customer_id = :c"), {"c": fay}).scalar() == 1
        with make_session_factory(engine)() as s:
            assert check_ledger(s) == []
    finally:
        tables_only.dispose()
        with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as c:
            c.execute(f"DROP OWNED BY {name}")
            c.execute(f"DROP ROLE {name}")
