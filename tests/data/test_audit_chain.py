"""The audit trail's hash chain, written by the database: ``audit verify`` is clean on an
untouched trail and names the row a superuser altered or the gap where one was removed;
concurrent writers on two connections still chain. Real embedded PostgreSQL, real commits.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from sqlalchemy import text

from data.audit_chain import verify_chain
from data.services.audit import record_change
from desktop.cli import main as cli_main


def _write(session_factory, n, actor="someone_else", entity="user"):
    for i in range(n):
        with session_factory.begin() as s:
            record_change(s, actor=actor, action="users.update", entity_type=entity,
                          entity_id=f"id-{i}", old_values={"full_name": "Old"},
                          new_values={"full_name": f"New {i}"}, reason="Typo")


def _ids(engine):
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM admin.audit_log ORDER BY id")).scalars())


def _verify(db_url, capsys):
    capsys.readouterr()
    code = cli_main(["audit", "verify", "--database-url",
                     db_url.render_as_string(hide_password=False)])
    return code, capsys.readouterr().out.strip()


def test_verify_says_the_chain_is_intact(db_url, session_factory, capsys):
    assert _verify(db_url, capsys) == (0, "0 rows, chain intact.")
    _write(session_factory, 5)
    code, out = _verify(db_url, capsys)
    assert code == 0 and out.startswith("5 rows, chain intact (last hash ")


def test_the_database_records_the_session_user_not_the_callers_name(engine, session_factory):
    _write(session_factory, 1, actor="someone_else")
    with engine.connect() as conn:
        actor, user = conn.execute(text(
            "SELECT actor, session_user FROM admin.audit_log")).one()
    assert actor == user == "postgres"


def test_a_superuser_update_is_named(db_url, engine, session_factory, capsys):
    _write(session_factory, 4)
    altered = _ids(engine)[1]
    with engine.begin() as conn:  # postgres is a superuser: privileges do not stop it
        conn.execute(text("UPDATE admin.audit_log SET new_values = '{\"full_name\": \"X\"}' "
                          "WHERE id = :i"), {"i": altered})
    code, out = _verify(db_url, capsys)
    assert code == 1
    assert out == (f"Audit row {altered} was altered after it was written: its content no "
                   "longer matches its hash.")


def test_a_superuser_update_of_the_actor_is_named(engine, session_factory):
    _write(session_factory, 3)
    first = _ids(engine)[0]
    with engine.begin() as conn:
        conn.execute(text("UPDATE admin.audit_log SET actor = 'nobody' WHERE id = :i"),
                     {"i": first})
    with session_factory() as s:
        report = verify_chain(s)
    assert not report.intact and f"Audit row {first} was altered" in str(report)


def test_a_superuser_delete_is_named_as_a_gap(db_url, engine, session_factory, capsys):
    _write(session_factory, 5)
    ids = _ids(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin.audit_log WHERE id = :i"), {"i": ids[2]})
    code, out = _verify(db_url, capsys)
    assert code == 1
    assert out == (f"Audit rows were removed between audit rows {ids[1]} and {ids[3]}: row "
                   f"{ids[3]} does not follow the row before it.")


@pytest.mark.parametrize("how", ["DELETE FROM admin.audit_log WHERE id = (SELECT max(id) "
                                 "FROM admin.audit_log)", "TRUNCATE admin.audit_log"])
def test_rows_removed_at_the_end_are_named(db_url, engine, session_factory, capsys, how):
    _write(session_factory, 3)
    ids = _ids(engine)
    with engine.begin() as conn:
        conn.execute(text(how))
    code, out = _verify(db_url, capsys)
    assert code == 1
    assert out.startswith("Audit rows were removed at the end") and str(ids[-1]) in out


def test_concurrent_inserts_from_two_connections_still_chain(pg_server, db_url, engine):
    """A holds the chain open (uncommitted insert); B's insert waits for it, then chains
    after A; then both write at once, many times. The chain stays intact and id order is
    commit order."""
    dsn = pg_server.libpq_dsn(db_url.database)
    insert = ("INSERT INTO admin.audit_log (actor, action, entity_type, entity_id) "
              "VALUES ('x', %s, 'test', %s) RETURNING id")
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        a_id = a.execute(insert, ("first", "a")).fetchone()[0]
        b_result = {}
        started = threading.Event()

        def write_b():
            started.set()
            b_result["id"] = b.execute(insert, ("second", "b")).fetchone()[0]
            b.commit()

        thread = threading.Thread(target=write_b)
        thread.start()
        started.wait()
        with psycopg.connect(dsn, autocommit=True) as watcher:  # B is queued on A's lock
            for _ in range(200):
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = %s", (db_url.database,)).fetchone()[0]
                if waiting:
                    break
                threading.Event().wait(0.05)
        a.commit()
        thread.join()
    assert b_result["id"] > a_id

    def many(tag):
        with psycopg.connect(dsn) as conn:
            for i in range(50):
                conn.execute(insert, (tag, str(i)))
                conn.commit()

    threads = [threading.Thread(target=many, args=(t,)) for t in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from data.db import make_session_factory

    with make_session_factory(engine)() as s:
        report = verify_chain(s)
    assert report.intact and report.rows == 102


def test_each_insert_notifies_its_id_only(pg_server, db_url, session_factory):
    dsn = pg_server.libpq_dsn(db_url.database)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("LISTEN platform_admin_audit")
        _write(session_factory, 2)
        notes = list(listener.notifies(timeout=5, stop_after=2))
    with session_factory() as s:
        ids = [str(i) for i in s.execute(text("SELECT id FROM admin.audit_log ORDER BY id"))
               .scalars()]
    assert [n.payload for n in notes] == ids
