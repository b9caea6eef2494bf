"""The audit trail partitioned by month (migration 0023): rows land in their month's partition,
a month without one falls back to the default partition until ``audit partitions`` makes it,
the retention detaches old months without deleting them and ``audit verify`` still checks
what remains (an altered or a removed row is still named), and no staff login may change any
partition. Real embedded PostgreSQL, real commits, real logins.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from data.audit_chain import verify_chain
from data.audit_partitions import add_partitions, detach_partitions, list_archives
from data.errors import ValidationError
from data.roles import STAFF_GROUPS
from data.services.audit import record_change
from desktop.cli import main as cli_main
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401


def _url(db_url) -> str:
    return db_url.render_as_string(hide_password=False)


def _month_partition(when: dt.datetime) -> str:
    return f"admin.audit_log_{when.astimezone(dt.UTC):%Y_%m}"


def _write(session_factory, n=1, chain=None, entity_id="u1"):
    """``n`` audit rows through the trigger, each in its own transaction (in ``chain`` when
    given, as a transaction already holding it would)."""
    for i in range(n):
        with session_factory.begin() as s:
            if chain is not None:
                s.execute(text("SELECT set_config('platform_admin.audit_chain', :c, true)"),
                          {"c": str(chain)})
            record_change(s, actor="x", action="user.update", entity_type="user",
                          entity_id=f"{entity_id}-{i}", old_values={"full_name": "Old"},
                          new_values={"full_name": f"New {i}"}, reason="Typo")


# What the trigger does, with a time of our choosing (as a superuser could, to make a trail
# that spans months): the row chained to its chain's head, the head moved on.
_BACKDATED = """
DO $$
DECLARE
    h admin.audit_chains%ROWTYPE;
    i bigint;
    t timestamptz := now() - interval '{months} months';
    v jsonb := '{{"full_name": "Old"}}';
    hash bytea;
BEGIN
    FOR k IN 1..{n} LOOP
        SELECT * INTO h FROM admin.audit_chains WHERE chain = {chain} FOR UPDATE;
        i := nextval('admin.audit_log_id_seq');
        hash := sha256(admin.audit_canonical(i, t, 'postgres', 'user.update', 'user',
                                             'old-' || i, NULL, v, NULL) || h.last_hash);
        INSERT INTO admin.audit_log (id, occurred_at, actor, action, entity_type, entity_id,
                                     new_values, chain, prev_hash, row_hash)
        VALUES (i, t, 'postgres', 'user.update', 'user', 'old-' || i, v, {chain},
                h.last_hash, hash);
        UPDATE admin.audit_chains SET last_id = i, last_hash = hash,
                                      rows_written = rows_written + 1
        WHERE chain = {chain};
    END LOOP;
END
$$"""


def _backdated(engine, months, n=1, chain=0):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE admin.audit_log DISABLE TRIGGER USER"))
        conn.execute(text(_BACKDATED.format(months=months, n=n, chain=chain)))
        conn.execute(text("ALTER TABLE admin.audit_log ENABLE TRIGGER USER"))


def _where(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, tableoid::regclass::text FROM admin.audit_log "
                                 "ORDER BY id")).all()


def _verify(db_url, capsys):
    capsys.readouterr()
    code = cli_main(["audit", "verify", "--database-url", _url(db_url)])
    return code, capsys.readouterr().out.strip()


def test_rows_land_in_their_months_partition_and_months_ahead_exist(engine, session_factory):
    _write(session_factory, 3)
    with engine.connect() as conn:
        now = conn.execute(text("SELECT now()")).scalar_one()
        partitions = set(conn.execute(text(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'admin.audit_log'::regclass")).scalars())
    assert {p for _i, p in _where(engine)} == {_month_partition(now)}
    ahead = {_month_partition(now.replace(day=1) + dt.timedelta(days=31 * k + 1))
             for k in range(4)}
    assert ahead | {"admin.audit_log_default"} <= partitions


def test_a_month_without_partition_falls_back_to_default_until_audit_partitions(
        db_url, engine, session_factory, capsys):
    with engine.connect() as conn:
        this_month = _month_partition(conn.execute(text("SELECT now()")).scalar_one())
    with engine.begin() as conn:  # as if nobody had made this month's partition
        conn.execute(text(f"ALTER TABLE admin.audit_log DETACH PARTITION {this_month}"))
        conn.execute(text(f"DROP TABLE {this_month}"))
    _write(session_factory, 2)
    assert {p for _i, p in _where(engine)} == {"admin.audit_log_default"}
    capsys.readouterr()
    assert cli_main(["audit", "partitions", "--database-url", _url(db_url)]) == 0
    out = capsys.readouterr().out
    assert f"{this_month}  FOR VALUES FROM" in out and "1 partition(s) made" in out
    assert {p for _i, p in _where(engine)} == {this_month}  # moved, hashes untouched
    assert _verify(db_url, capsys)[0] == 0
    with session_factory.begin() as s:
        assert add_partitions(s) == 0  # nothing left to make
        with pytest.raises(ValidationError, match="months_ahead"):
            add_partitions(s, -1)


def test_verify_names_an_altered_and_a_removed_row_in_any_partition(
        db_url, engine, session_factory, capsys):
    _backdated(engine, months=3, n=3)
    _write(session_factory, 3, chain=0)
    with session_factory.begin() as s:
        add_partitions(s)  # the backdated month gets its partition
    ids = [i for i, _p in _where(engine)]
    assert len({p for _i, p in _where(engine)}) == 2
    assert _verify(db_url, capsys)[0] == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE admin.audit_log SET reason = 'rewritten' WHERE id = :i"),
                     {"i": ids[1]})
    assert _verify(db_url, capsys) == (
        1, f"Audit row {ids[1]} was altered after it was written: its content no longer "
           "matches its hash.")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM admin.audit_log WHERE id IN (:a, :b)"),
                     {"a": ids[1], "b": ids[4]})
    code, out = _verify(db_url, capsys)
    assert code == 1
    assert out.startswith(f"Audit rows were removed from chain 0 between audit rows {ids[0]} "
                          f"and {ids[2]}")


def test_detaching_old_months_archives_them_and_verify_still_checks_the_rest(
        db_url, engine, session_factory, capsys):
    """Chain 0 crosses the month boundary twice (old, new, old, new: a transaction's time
    is its start): the archive keeps the links the remaining rows need."""
    _backdated(engine, months=3, n=2)
    _write(session_factory, 2, chain=0)
    _backdated(engine, months=3, n=1)
    _write(session_factory, 2, chain=0)
    _write(session_factory, 2)  # other chains too
    with session_factory.begin() as s:
        add_partitions(s)
    with engine.connect() as conn:
        old = _month_partition(conn.execute(text(
            "SELECT now() - interval '3 months'")).scalar_one())
    before = _where(engine)
    capsys.readouterr()
    assert cli_main(["audit", "detach", "--keep-months", "2", "--database-url",
                     _url(db_url)]) == 0
    archive = old.replace("audit_log_", "audit_archive_")
    assert f"{archive}: detached." in capsys.readouterr().out
    with engine.connect() as conn:  # nothing deleted: the month is its own table now
        assert conn.execute(text(f"SELECT count(*) FROM {archive}")).scalar() == 3
    with session_factory() as s:
        [record] = list_archives(s)
        assert (record.name, record.rows) == (archive, 3)
    left = _where(engine)
    assert len(left) == len(before) - 3 and old not in {p for _i, p in left}
    code, out = _verify(db_url, capsys)
    assert code == 0 and out.startswith(f"{len(left)} rows, chain intact")
    recent = [i for i, p in before if p != old]
    with engine.begin() as conn:  # a remaining row between two archived ones
        conn.execute(text("DELETE FROM admin.audit_log WHERE id = :i"), {"i": recent[1]})
    assert _verify(db_url, capsys)[0] == 1
    with session_factory.begin() as s, pytest.raises(ValidationError, match="keep_months"):
        detach_partitions(s, 0)


def test_detach_keeps_what_is_recent(engine, session_factory):
    _write(session_factory, 2)
    with session_factory.begin() as s:
        assert detach_partitions(s, 1) == []
    assert len(_where(engine)) == 2


@pytest.mark.parametrize("group", STAFF_GROUPS)
def test_no_staff_role_may_change_any_partition(engine, session_factory, login, group):  # noqa: F811
    _write(session_factory, 1)
    _name, staff = login(group)
    with engine.connect() as conn:
        partitions = list(conn.execute(text(
            "SELECT inhrelid::regclass::text FROM pg_inherits "
            "WHERE inhparent = 'admin.audit_log'::regclass")).scalars())
    for table in [*partitions, "admin.audit_archive_links"]:
        for statement in (f"UPDATE {table} SET chain = chain", f"DELETE FROM {table}",
                          f"TRUNCATE {table}"):
            _refused(_in_session(staff, lambda s, q=statement: s.execute(text(q))))
    for call in ("SELECT admin.audit_detach_partitions(1)",):
        _refused(_in_session(staff, lambda s, q=call: s.execute(text(q))))
    with session_factory() as s:
        assert verify_chain(s).intact
