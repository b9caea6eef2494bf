"""The Audit page and a record's History tab on a big trail, and adjustments through the
definer function against a bare-SQL floor.

    python bench/audit.py --rows 10000000      # the issue's size (a long fill)
    python bench/audit.py --rows 1000000       # minutes

Starts its own embedded PostgreSQL and migrates it. Fills ``admin.audit_log`` with ``--rows``
rows through the trail's own trigger (each row chained, as every write of the app is), in
batches written as one of ``--staff`` staff logins (``SET SESSION AUTHORIZATION``: the
trigger records the session user), over twenty tables and 100,000 records; one record gets
``--history`` rows spread over the whole trail.

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

from data import migrate
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
    args = parser.parse_args()

    server = EmbeddedPostgres.start()
    owner = make_engine(server.url(), pool_size=args.threads + 1,
                        application_name="bench-audit-page")
    support = None
    try:
        migrate.upgrade(owner)
        rate = fill(server.libpq_dsn(), args.rows, args.staff, args.history)
        factory = make_session_factory(owner)
        print(f"audit_rows={args.rows}")
        print(f"audit_fill_rows_per_second={rate:.0f}")
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
        for name in ("unfiltered", "table", "text_rare"):
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
        if args.skip_adjustments:
            return
        with owner.begin() as conn:
            apply_roles(conn)
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
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
