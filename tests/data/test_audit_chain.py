"""The audit trail's hash chain, written by the database: ``audit verify`` is clean on an
untouched trail and names the row a superuser altered or the gap where one was removed;
concurrent writers take chains of their own and every chain stays intact. Real embedded PostgreSQL, real commits.
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


def _chain_ids(engine):
    """The ids of the one chain the rows so far are in, and its number."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, chain FROM admin.audit_log ORDER BY id")).all()
    assert len({c for _i, c in rows}) == 1
    return [i for i, _c in rows], rows[0][1]


def _verify(db_url, capsys):
    capsys.readouterr()
    code = cli_main(["audit", "verify", "--database-url",
                     db_url.render_as_string(hide_password=False)])
    return code, capsys.readouterr().out.strip()


def test_verify_says_the_chain_is_intact(db_url, session_factory, capsys):
    assert _verify(db_url, capsys) == (0, "0 rows, chain intact.")
    _write(session_factory, 5)
    code, out = _verify(db_url, capsys)
    assert code == 0 and out.startswith("5 rows, chain intact (heads digest ")


def test_verify_says_its_progress_chain_by_chain(db_url, session_factory, capsys):
    _write(session_factory, 3)
    capsys.readouterr()
    code = cli_main(["audit", "verify", "--database-url",
                     db_url.render_as_string(hide_password=False)])
    captured = capsys.readouterr()
    steps = captured.err.strip().splitlines()
    assert code == 0 and captured.out.startswith("3 rows, chain intact")
    assert len(steps) == 16 and steps[0].startswith("Checked 1 of 16 chains")
    assert steps[-1] == "Checked 16 of 16 chains (3 rows written in them)…"


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
    _write(session_factory, 5)  # one connection after another: one chain
    ids, chain = _chain_ids(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin.audit_log WHERE id = :i"), {"i": ids[2]})
    code, out = _verify(db_url, capsys)
    assert code == 1
    assert out == (f"Audit rows were removed from chain {chain} between audit rows {ids[1]} "
                   f"and {ids[3]}: row {ids[3]} does not follow the row before it.")


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


INSERT = ("INSERT INTO admin.audit_log (actor, action, entity_type, entity_id) "
          "VALUES ('x', %s, 'test', %s) RETURNING id, chain")


def _two_open_chains(dsn):
    """Two transactions each writing two rows while both are open, then committing: they
    take two chains. Returns {connection name: [(id, chain), (id, chain)]}."""
    rows = {"a": [], "b": []}
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        for i in range(2):
            for name, conn in (("a", a), ("b", b)):
                rows[name].append(tuple(conn.execute(INSERT, (name, str(i))).fetchone()))
        a.commit()
        b.commit()
    return rows


def test_a_writer_does_not_wait_for_another_writers_open_transaction(pg_server, db_url,
                                                                     engine):
    """A holds its chain open (uncommitted insert); B's insert takes another chain and
    commits at once, without waiting for A. Then many writers at once: every chain intact."""
    dsn = pg_server.libpq_dsn(db_url.database)
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        _a_id, a_chain = a.execute(INSERT, ("first", "a")).fetchone()
        done = {}

        def write_b():
            done["row"] = b.execute(INSERT, ("second", "b")).fetchone()
            b.commit()

        thread = threading.Thread(target=write_b)
        thread.start()
        thread.join(timeout=10)
        committed_while_a_open = not thread.is_alive()
        a.commit()
        thread.join()
    assert committed_while_a_open and done["row"][1] != a_chain

    def many(tag):
        with psycopg.connect(dsn) as conn:
            for i in range(50):
                conn.execute(INSERT, (tag, str(i)))
                conn.commit()

    threads = [threading.Thread(target=many, args=(t,)) for t in ("left", "right", "third")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from data.db import make_session_factory

    with make_session_factory(engine)() as s:
        report = verify_chain(s)
    assert report.intact and report.rows == 152


def test_a_transaction_keeps_to_one_chain(pg_server, db_url):
    rows = _two_open_chains(pg_server.libpq_dsn(db_url.database))
    assert [len({c for _i, c in r}) for r in rows.values()] == [1, 1]
    assert rows["a"][0][1] != rows["b"][0][1]


def test_a_row_removed_at_the_end_of_a_chain_that_is_not_the_last_is_named(
        pg_server, db_url, engine, session_factory):
    rows = _two_open_chains(pg_server.libpq_dsn(db_url.database))
    (a1, chain), (a2, _) = rows["a"]
    assert a2 < rows["b"][1][0]  # b's last row ends the table; a2 ends only a's chain
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin.audit_log WHERE id = :i"), {"i": a2})
    with session_factory() as s:
        report = str(verify_chain(s))
    assert report == (f"Audit rows were removed at the end of chain {chain} after audit row "
                      f"{a1}: the last row written in it was {a2}.")


def test_a_row_altered_in_a_second_chain_is_named(pg_server, db_url, engine, session_factory):
    rows = _two_open_chains(pg_server.libpq_dsn(db_url.database))
    altered = rows["b"][0][0]
    with engine.begin() as conn:
        conn.execute(text("UPDATE admin.audit_log SET entity_id = 'z' WHERE id = :i"),
                     {"i": altered})
    with session_factory() as s:
        assert str(verify_chain(s)) == (f"Audit row {altered} was altered after it was "
                                        "written: its content no longer matches its hash.")


def test_a_removed_chain_head_is_named(pg_server, db_url, engine, session_factory):
    rows = _two_open_chains(pg_server.libpq_dsn(db_url.database))
    (first, chain), _ = rows["b"]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin.audit_chains WHERE chain = :c"), {"c": chain})
    with session_factory() as s:
        assert str(verify_chain(s)) == (f"Audit row {first} is in chain {chain}, which has "
                                        "no head: it was moved or its head removed.")
    with engine.begin() as conn:  # an empty chain's head
        conn.execute(text("DELETE FROM admin.audit_chains WHERE chain NOT IN (:a, :b)"),
                     {"a": rows["a"][0][1], "b": chain})
        conn.execute(text("INSERT INTO admin.audit_chains (chain, last_id, last_hash) "
                          "SELECT :c, max(id), (SELECT row_hash FROM admin.audit_log "
                          "WHERE chain = :c ORDER BY id DESC LIMIT 1) "
                          "FROM admin.audit_log WHERE chain = :c"), {"c": chain})
    with session_factory() as s:
        assert "The head of audit chain " in str(verify_chain(s))


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
