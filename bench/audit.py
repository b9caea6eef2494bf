"""The Audit page and a record's History tab on a big trail, and adjustments through the
definer function against a bare-SQL floor.

    python bench/audit.py --rows 10000000 --skip-adjustments   # the issue's size (about an
                                               # hour on the shared 2-core machine)
    python bench/audit.py --rows 1000000       # minutes
    python bench/audit.py --rows 200000 --fill trigger   # every row through the trigger

Starts its own embedded PostgreSQL and migrates it. Fills ``admin.audit_log`` with ``--rows``
rows written as ``--staff`` staff logins over twenty tables and 100,000 records, one record
getting ``--history`` rows spread over the whole trail, in one of two ways:

- ``--fill fast`` (the default): the trail spread over the last ``--months`` months (one
  partition each, migration 0023), built set-based by ``INSERT ... SELECT generate_series``
  with the trigger switched off and the table's indexes dropped, then rebuilt. The chain is
  still the real one: per chain, ``row_hash`` is a running aggregate of
  ``sha256(admin.audit_canonical(row) || previous row_hash)`` (the trigger's own formula and
  canonical form) in id order, ``prev_hash`` the previous row's, and each chain's head in
  ``admin.audit_chains`` is set to its last row, so ``audit verify`` passes (``--verify``
  runs it). What it skips is per-row work the bench does not measure (NOTIFY, redaction of
  values that hold no secret, the chain lock);
- ``--fill trigger``: batches of ``INSERT ... SELECT generate_series`` through the trail's
  own trigger (every row chained, locked and notified as the app's writes are), all in the
  current month (the trigger stamps ``now()``); slow at 10M rows.

Then times the first page (200 rows, as the page asks; median of ``--repeat``) of the Audit
page unfiltered and under each filter, the count the page shows, and the History tab's first
page of that record. Finally ``--threads`` connections make adjustments as a support login
through ``admin.adjust_tokens`` and through a bare-SQL floor (bench/adjustment_load.py), one
customer per thread, and the ratio is printed (target ≥ 0.7).

Prints one ``name=value`` per line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import psycopg
from audit_adjustments import SUPPORT_LOGIN, measure
from sqlalchemy import text

from data import migrate
from data.audit_chain import CHAINS, verify_chain
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.queries.audit import (
    AuditFilter,
    count_audit,
    list_audit_page,
    list_record_history,
)
from data.roles import SUPPORT_GROUP, apply_roles

PAGE = 200
BATCH = 1_000  # per transaction: the chain head row is updated once per row, and
# within one transaction its dead versions pile up (each insert walks them): keep it short
TABLES = ("user", "content", "credit_balance", "refund_request", "purchase",
          "offering_booking", "content_series", "platform_settings", "bulk_grant",
          "content_access", "subscription_tier", "offering", "referral_reward", "series",
          "tag", "category", "email", "notification", "setting", "report")
TARGET = "00000000-0000-0000-0000-00000000beef"

FILL = f"""
INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values, new_values,
                             reason)
SELECT 'ignored',
       t.name || CASE WHEN mod(g, 7) = 0 THEN '.create' ELSE '.update' END,
       t.name,
       CASE WHEN mod(g, %(every)s) = 0 THEN '{TARGET}'
            ELSE '00000000-0000-0000-0000-' || lpad(mod(g, 100000)::text, 12, '0') END,
       jsonb_build_object('full_name', 'Person ' || g, 'price', mod(g, 5000) / 100.0),
       jsonb_build_object('full_name', 'Person ' || (g + 1), 'price', mod(g, 5000) / 100.0 + 1),
       CASE WHEN mod(g, 3) = 0 THEN 'Support ticket #' || g END
FROM generate_series(CAST(%(start)s AS bigint), CAST(%(stop)s AS bigint)) AS g
CROSS JOIN LATERAL (SELECT (ARRAY{list(TABLES)!r})[1 + mod(g, {len(TABLES)})] AS name) AS t
"""


def fill(dsn: str, rows: int, staff: int, history: int) -> float:
    """Write ``rows`` audit rows through the trigger; rows per second."""
    every = max(rows // max(history, 1), 1)
    began = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(staff):
            conn.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                         f"'bench_staff_{i}') THEN CREATE ROLE bench_staff_{i}; END IF; END $$")
            conn.execute(f"GRANT USAGE ON SCHEMA admin TO bench_staff_{i}")
            conn.execute(f"GRANT INSERT ON admin.audit_log TO bench_staff_{i}")
        for n, start in enumerate(range(1, rows + 1, BATCH)):
            stop = min(start + BATCH - 1, rows)
            with conn.transaction():
                conn.execute(f"SET LOCAL SESSION AUTHORIZATION bench_staff_{n % staff}")
                conn.execute(FILL.replace("%(every)s", str(every)),
                             {"start": start, "stop": stop})
        conn.execute("ANALYZE admin.audit_log")
    return rows / (time.perf_counter() - began)


GENESIS = "\\x" + "00" * 32

# The trigger's chain, set-based: a running aggregate per chain in id order.
CHAIN_AGGREGATE = f"""
CREATE SCHEMA IF NOT EXISTS bench;
CREATE OR REPLACE FUNCTION bench.chain_step(state bytea, canonical bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT sha256($2 || $1)';
DROP AGGREGATE IF EXISTS bench.chain_hash(bytea);
CREATE AGGREGATE bench.chain_hash(bytea) (sfunc = bench.chain_step, stype = bytea,
                                          initcond = '{GENESIS}');
"""

FAST_ROWS = f"""
INSERT INTO admin.audit_log (id, occurred_at, actor, action, entity_type, entity_id,
                             old_values, new_values, reason, chain, prev_hash, row_hash)
SELECT id, occurred_at, actor, action, entity_type, entity_id, old_values, new_values,
       reason, chain, coalesce(lag(row_hash) OVER w, CAST('{GENESIS}' AS bytea)), row_hash
FROM (
    SELECT r.*, bench.chain_hash(admin.audit_canonical(
               id, occurred_at, actor, action, entity_type, entity_id, old_values,
               new_values, reason)) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS row_hash
    FROM (
        SELECT g AS id,
               CAST(%(first)s AS timestamptz) + (g - 1) * CAST(%(step)s AS interval)
                   AS occurred_at,
               'bench_staff_' || mod(g, %(staff)s) AS actor,
               t.name || CASE WHEN mod(g, 7) = 0 THEN '.create' ELSE '.update' END AS action,
               t.name AS entity_type,
               CASE WHEN mod(g, %(every)s) = 0 THEN '{TARGET}'
                    ELSE '00000000-0000-0000-0000-' || lpad(mod(g, 100000)::text, 12, '0')
               END AS entity_id,
               jsonb_build_object('full_name', 'Person ' || g,
                                  'price', mod(g, 5000) / 100.0) AS old_values,
               jsonb_build_object('full_name', 'Person ' || (g + 1),
                                  'price', mod(g, 5000) / 100.0 + 1) AS new_values,
               CASE WHEN mod(g, 3) = 0 THEN 'Support ticket #' || g END AS reason,
               %(chain)s AS chain
        FROM generate_series(CAST(%(start)s AS bigint), %(rows)s, {{chains}}) AS g
        CROSS JOIN LATERAL (SELECT (ARRAY{list(TABLES)!r})[1 + mod(g, {len(TABLES)})]
                            AS name) AS t
    ) AS r
) AS h
WINDOW w AS (ORDER BY id)
"""


def _month_partitions(conn, first: dt.datetime, months: int) -> None:
    """The past months' partitions (``db upgrade`` makes only this month and ahead), owned
    like the others by the audit owner."""
    conn.execute(f"""
        DO $$
        DECLARE m date; owner name := (SELECT relowner::regrole::name FROM pg_class
                                       WHERE oid = 'admin.audit_log'::regclass);
        BEGIN
            SET LOCAL TimeZone = 'UTC';
            FOR m IN SELECT generate_series(date_trunc('month', CAST('{first.isoformat()}' AS timestamptz)),
                                            date_trunc('month', now()), interval '1 month')
            LOOP
                CONTINUE WHEN to_regclass('admin.audit_log_' || to_char(m, 'YYYY_MM'))
                              IS NOT NULL;
                EXECUTE format('CREATE TABLE admin.%I PARTITION OF admin.audit_log '
                               'FOR VALUES FROM (%L) TO (%L)',
                               'audit_log_' || to_char(m, 'YYYY_MM'), m::timestamptz,
                               (m + interval '1 month')::timestamptz);
                EXECUTE format('ALTER TABLE admin.%I OWNER TO %I',
                               'audit_log_' || to_char(m, 'YYYY_MM'), owner);
            END LOOP;
        END
        $$""")


def fill_fast(dsn: str, rows: int, staff: int, history: int, months: int) -> float:
    """Write ``rows`` chained audit rows over the last ``months`` months, set-based (see the
    module's docstring); rows per second, index rebuild included."""
    every = max(rows // max(history, 1), 1)
    began = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    first = now - dt.timedelta(days=30.4 * months)
    step = (now - first) / rows
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute(CHAIN_AGGREGATE)
        _month_partitions(conn, first, months)
        indexes = conn.execute(
            "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'admin.audit_log'::regclass AND NOT i.indisprimary").fetchall()
        for name, _definition in indexes:
            conn.execute(f"DROP INDEX admin.{name}")
        conn.execute("ALTER TABLE admin.audit_log DISABLE TRIGGER USER")
        try:
            for chain in range(CHAINS):
                conn.execute(FAST_ROWS.replace("{chains}", str(CHAINS)),
                             {"first": first, "step": step, "staff": staff, "every": every,
                              "chain": chain, "rows": rows, "start": chain or CHAINS})
        finally:
            conn.execute("ALTER TABLE admin.audit_log ENABLE TRIGGER USER")
        conn.execute("""
            UPDATE admin.audit_chains h SET last_id = t.id, last_hash = t.row_hash,
                                            rows_written = t.n
            FROM (SELECT DISTINCT ON (chain) chain, id, row_hash,
                         count(*) OVER (PARTITION BY chain) AS n
                  FROM admin.audit_log ORDER BY chain, id DESC) AS t
            WHERE t.chain = h.chain""")
        conn.execute("SELECT setval('admin.audit_log_id_seq', %s)", (rows,))
        for _name, definition in indexes:
            conn.execute(definition.replace(" ON ONLY ", " ON "))
        conn.execute("ANALYZE admin.audit_log")
    return rows / (time.perf_counter() - began)


def _bench_settings(dsn: str) -> None:
    """A kept bench directory is disposable: no durability (as a throwaway server's)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")


def _kept_shape(dsn: str) -> str | None:
    """What an earlier --keep-dir run filled here (None: nothing, or a fill cut short)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('bench.audit_fill')").fetchone()[0] is None:
            empty = conn.execute("SELECT NOT EXISTS (SELECT FROM admin.audit_log)"
                                 ).fetchone()[0]
            return _EMPTY if empty else None
        row = conn.execute("SELECT shape FROM bench.audit_fill").fetchone()
        return row[0] if row else None


_EMPTY = "empty"


def _keep_shape(dsn: str, shape: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS bench")
        conn.execute("CREATE TABLE IF NOT EXISTS bench.audit_fill (shape text NOT NULL)")
        conn.execute("DELETE FROM bench.audit_fill")
        conn.execute("INSERT INTO bench.audit_fill VALUES (%s)", (shape,))


def first_page_ms(factory, query, *args, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with factory() as session:
            began = time.perf_counter()
            query(session, *args, cursor=None, limit=PAGE)
            times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--staff", type=int, default=12)
    parser.add_argument("--history", type=int, default=60, help="rows of the one record")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--adjustments", type=int, default=150, help="per thread")
    parser.add_argument("--skip-adjustments", action="store_true")
    parser.add_argument("--fill", choices=("fast", "trigger"), default="fast")
    parser.add_argument("--months", type=int, default=24, help="--fill fast: months spanned")
    parser.add_argument("--verify", action="store_true", help="time audit verify too")
    parser.add_argument("--keep-dir", help="keep the server's data here and reuse a trail an "
                        "earlier run built there with the same --rows/--fill/--months/"
                        "--staff/--history (a 10M fill takes about an hour)")
    args = parser.parse_args()

    server = EmbeddedPostgres.start(args.keep_dir)
    owner = make_engine(server.url(), pool_size=args.threads + 1,
                        application_name="bench-audit-page")
    support = None
    try:
        if args.keep_dir:
            _bench_settings(server.libpq_dsn())
        migrate.upgrade(owner)
        shape = f"{args.fill} rows={args.rows} months={args.months} staff={args.staff} " \
                f"history={args.history}"
        if args.keep_dir and _kept_shape(server.libpq_dsn()) == shape:
            rate = 0.0  # reused: not filled in this run
            print("audit_fill_reused=1")
        else:
            if args.keep_dir and _kept_shape(server.libpq_dsn()) != _EMPTY:
                raise SystemExit(f"{args.keep_dir} holds another or an unfinished fill "
                                 f"({_kept_shape(server.libpq_dsn())}); use a new directory")
            if args.fill == "fast":
                rate = fill_fast(server.libpq_dsn(), args.rows, args.staff, args.history,
                                 args.months)
            else:
                rate = fill(server.libpq_dsn(), args.rows, args.staff, args.history)
            if args.keep_dir:
                _keep_shape(server.libpq_dsn(), shape)
        factory = make_session_factory(owner)
        print(f"audit_rows={args.rows}")
        print(f"audit_fill={args.fill}")
        print(f"audit_fill_rows_per_second={rate:.0f}")
        with owner.connect() as conn:
            print("audit_partitions=" + str(conn.exec_driver_sql(
                "SELECT count(*) FROM pg_inherits "
                "WHERE inhparent = 'admin.audit_log'::regclass").scalar()))
        today = dt.date.today()
        cases = {
            "unfiltered": AuditFilter(),
            "staff_member": AuditFilter(actor="bench_staff_3"),
            "table": AuditFilter(entity_type="refund_request"),
            "action": AuditFilter(action="content.create"),
            "record": AuditFilter(record=TARGET),
            "last_7_days": AuditFilter(date_from=today - dt.timedelta(days=7), date_to=today),
            # Text (data/queries/audit_search.py): a common word fills its page within the
            # walk; a rare one near the oldest end is found through the text index.
            "text_common": AuditFilter(search="ticket"),
            "text_rare": AuditFilter(search="Person 123457"),
            "text_none": AuditFilter(search="Nobody wrote this"),
        }
        for name, flt in cases.items():
            ms = first_page_ms(factory, list_audit_page, flt, repeat=args.repeat)
            print(f"audit_page_first_rows_{name}_ms={ms:.1f}")
        for name in ("unfiltered", "table", "text_rare", "text_common", "text_none"):
            times = []
            for _ in range(args.repeat):
                with factory() as session:
                    began = time.perf_counter()
                    count_audit(session, cases[name])
                    times.append((time.perf_counter() - began) * 1000)
            print(f"audit_page_count_{name}_ms={statistics.median(times):.1f}")
        ms = first_page_ms(factory, list_record_history, ("user", "credit_balance"), TARGET,
                           repeat=args.repeat)
        print(f"history_first_rows_ms={ms:.1f}")
        if args.verify:
            temp = ("SELECT temp_bytes FROM pg_stat_database "
                    "WHERE datname = current_database()")
            with factory() as session:
                temp_before = session.execute(text(temp)).scalar_one()
                began = time.perf_counter()
                report = verify_chain(session)
                seconds = time.perf_counter() - began
            with factory() as session:  # the server's spill to disk (its memory is capped)
                spilled = session.execute(text(temp)).scalar_one() - temp_before
                print(f"audit_verify_temp_mb={spilled / 2**20:.0f}")
                print(f"audit_verify_s_at_{args.rows}={seconds:.1f}")
                print(f"audit_verify_rows_per_second={report.rows / seconds:.0f}")
                print(f"audit_chain_intact={report.intact}")
        if args.skip_adjustments:
            return
        with owner.begin() as conn:
            apply_roles(conn)
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
            if conn.execute("SELECT FROM pg_roles WHERE rolname = %s",
                            (SUPPORT_LOGIN,)).fetchone() is None:  # a kept dir has it
                conn.execute(f"CREATE ROLE {SUPPORT_LOGIN} LOGIN IN ROLE {SUPPORT_GROUP}")
        support = make_engine(server.url().set(username=SUPPORT_LOGIN),
                              pool_size=args.threads + 1, application_name="bench-audit")
        support_factory = make_session_factory(support)
        for kind in ("definer", "floor"):  # warm up
            measure(owner, factory, support_factory, kind, "own", args.threads, 20)
        rates = {kind: max(measure(owner, factory, support_factory, kind, "own",
                                   args.threads, args.adjustments) for _ in range(2))
                 for kind in ("floor", "definer")}
        print(f"threads={args.threads}")
        print(f"definer_adjustments_per_second={rates['definer']:.0f}")
        print(f"floor_adjustments_per_second={rates['floor']:.0f}")
        print(f"definer_vs_floor_ratio={rates['definer'] / rates['floor']:.2f}")
    finally:
        if support is not None:
            support.dispose()
        owner.dispose()
        server.stop()


if __name__ == "__main__":
    main()
