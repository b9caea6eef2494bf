"""Offerings benchmark: the list's and the agenda's first rows at scale, and bookings per
second under contention through the service against a bare-SQL floor.

    python bench/offerings.py --offerings 10000 --bookings 1000000
    python bench/offerings.py --offerings 1000 --bookings 50000 --threads 8 --per-thread 50

Starts its own embedded PostgreSQL, migrates it, builds its rows with set-based SQL
(``INSERT … SELECT`` over ``generate_series``, hash-joined to numbered temp tables: no
per-row lookups; 10k offerings and 1M bookings, two years of them, with their portal access)
and prints one ``name=value`` per line: the list's first rows per sort, the agenda, the first
page of an offering's, a customer's bookings and a booking's History. Contention: ``--threads`` threads book distinct customers on ONE
offering at once (real commits), each booking locking the offering row; the floor does the
same lock, count, inserts, counter update and audit row as bare SQL, without validation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import threading
import time
import uuid

from sqlalchemy import text

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.queries.audit import list_booking_history
from data.queries.offering_bookings import (
    BookingFilter,
    list_customer_bookings_page,
    list_offering_bookings_page,
)
from data.queries.offerings import (
    AGENDA_PAGE,
    OfferingFilter,
    agenda_page,
    list_agenda,
    list_offerings_page,
)
from data.services.bookings import book_on_behalf

_BUILD = """
INSERT INTO users (id, email, password_hash, full_name, role)
SELECT gen_random_uuid(), 'creator' || g || '@bench.example', 'x', 'Creator ' || g,
       'platform_creator' FROM generate_series(1, 50) g;
INSERT INTO users (id, email, password_hash, full_name, role)
SELECT gen_random_uuid(), 'c' || g || '@bench.example', 'x', 'Customer ' || g, 'customer'
FROM generate_series(1, :customers) g;
CREATE TEMP TABLE creators AS SELECT id, row_number() OVER () AS n FROM users
  WHERE role = 'platform_creator';
CREATE TEMP TABLE customers AS SELECT id, row_number() OVER () AS n FROM users
  WHERE role = 'customer';
CREATE UNIQUE INDEX ON customers (n);
CREATE UNIQUE INDEX ON creators (n);
INSERT INTO offerings (id, creator_id, title, slug, offering_type, capacity_type,
    max_participants, delivery_method, schedule, price, credit_cost, status, booking_count)
SELECT gen_random_uuid(), (SELECT id FROM creators WHERE n = 1 + g % 50),
       'Offering ' || g, 'offering-' || g, t.kind, 'large_group', 1000, 'online',
       CASE t.kind
         WHEN 'one_time_event' THEN jsonb_build_object('date', (current_date + (g % 400 - 200))::text,
              'start_time', '19:00', 'duration_minutes', 90)
         WHEN 'multi_day_program' THEN jsonb_build_object('start_date', (current_date + (g % 400 - 200))::text,
              'end_date', (current_date + (g % 400 - 198))::text, 'sessions', jsonb_build_array(
                jsonb_build_object('date', (current_date + (g % 400 - 200))::text,
                                   'start_time', '09:00', 'duration_minutes', 90)))
         WHEN 'recurring_fixed' THEN jsonb_build_object('pattern', 'weekly', 'day', 'tuesday',
              'time', '18:00', 'duration_minutes', 60)
         WHEN 'recurring_bookable' THEN jsonb_build_object('availability', jsonb_build_object(
              'monday', jsonb_build_array(jsonb_build_object('start', '09:00', 'end', '12:00'))),
              'booking_window_days', 14, 'buffer_minutes', 15)
         WHEN 'cohort_course' THEN jsonb_build_object('cohort_start_date', (current_date + (g % 400 - 200))::text,
              'weeks', 6, 'sessions_per_week', 1, 'day', 'wednesday', 'time', '18:30',
              'duration_minutes', 75)
         ELSE jsonb_build_object('start_date', (current_date + (g % 400 - 200))::text,
              'end_date', (current_date + (g % 400 - 196))::text, 'check_in_time', '15:00',
              'check_out_time', '11:00')
       END, 25, 3, 'published', 0
FROM generate_series(1, :offerings) g
CROSS JOIN LATERAL (SELECT (ARRAY['one_time_event', 'multi_day_program', 'recurring_fixed',
    'recurring_bookable', 'cohort_course', 'retreat'])[1 + g % 6] AS kind) t;
CREATE TEMP TABLE offering_ids AS SELECT id, offering_type, row_number() OVER () AS n
  FROM offerings;
CREATE UNIQUE INDEX ON offering_ids (n);
ANALYZE customers;
ANALYZE offering_ids;
INSERT INTO offering_bookings (customer_id, offering_id, payment_method, amount_paid,
    credits_used, status, booking_details, created_at, updated_at)
SELECT c.id, o.id, m.method,
       CASE WHEN m.method = 'purchase' THEN 25 ELSE 0 END,
       CASE WHEN m.method = 'credits' THEN 3 ELSE 0 END,
       CASE WHEN g % 10 = 0 THEN 'canceled' WHEN g % 10 = 1 THEN 'completed'
            ELSE 'confirmed' END,
       -- a 1:1 booking holds its session, a few days after it was booked (as the platform
       -- writes them); the other types book the offering, not a session
       CASE WHEN o.offering_type = 'recurring_bookable' THEN jsonb_build_object(
           'booked_sessions', jsonb_build_array(jsonb_build_object(
               'date', (t.at::date + 1 + g % 14)::text, 'time', '10:00')))
            ELSE '{}'::jsonb END,
       t.at, t.at
FROM generate_series(1, :bookings) g
-- two years of bookings, newest last, so keyset pages walk real history
CROSS JOIN LATERAL (SELECT now()::timestamp
                    - ((:bookings - g) * (63072000.0 / :bookings)) * interval '1 second'
                    AS at) t
JOIN customers c ON c.n = 1 + (g::bigint * 7919) % :customers
JOIN offering_ids o ON o.n = 1 + g % :offerings
CROSS JOIN LATERAL (SELECT (ARRAY['subscription', 'purchase', 'credits'])[1 + g % 3]
                    AS method) m;
INSERT INTO offering_portal_access (booking_id, user_id, offering_id)
SELECT id, customer_id, offering_id FROM offering_bookings WHERE status <> 'canceled';
UPDATE offerings o SET booking_count = b.n FROM (
    SELECT offering_id, count(*) FILTER (WHERE status <> 'canceled') AS n
    FROM offering_bookings GROUP BY offering_id) b WHERE b.offering_id = o.id;
"""


# The bookings' secondary indexes are dropped for the load and built again after it: one
# sort per index instead of a million random insertions into each.
_SECONDARY = text("""
SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'offering_bookings'::regclass AND NOT x.indisprimary AND NOT x.indisunique
""")


def build(engine, offerings: int, bookings: int) -> None:
    customers = max(1000, bookings // 20)
    with engine.begin() as conn:
        indexes = conn.execute(_SECONDARY).all()
        for name, _definition in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        for statement in _BUILD.split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {"customers": customers,
                                               "offerings": offerings, "bookings": bookings})
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _name, definition in indexes:
            conn.execute(text(definition))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def contender(engine, customers: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A fresh unlimited offering and ``customers`` new customers to book on it."""
    oid = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(customers)]
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO offerings (id, creator_id, title, slug, offering_type, capacity_type, "
            "delivery_method, schedule, status) SELECT :id, id, 'Contended', :slug, "
            "'one_time_event', 'unlimited', 'online', CAST(:s AS jsonb), 'published' "
            "FROM users WHERE role = 'platform_creator' LIMIT 1"),
            {"id": oid, "slug": f"contended-{oid.hex}",
             "s": '{"date": "2030-01-01", "start_time": "10:00", "duration_minutes": 60}'})
        conn.execute(text("INSERT INTO users (id, email, password_hash, full_name, role) "
                          "SELECT u, 'b-' || u || '@bench.example', 'x', 'Booker', 'customer' "
                          "FROM unnest(CAST(:ids AS uuid[])) u"), {"ids": ids})
    return oid, ids


_FLOOR = [
    "SELECT id FROM offerings WHERE id = :o FOR UPDATE",
    "SELECT status, count(*) FROM offering_bookings WHERE offering_id = :o GROUP BY status",
    "INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method, status) "
    "VALUES (:b, :c, :o, 'purchase', 'confirmed')",
    "UPDATE offerings SET booking_count = booking_count + 1 WHERE id = :o",
    "INSERT INTO offering_portal_access (booking_id, user_id, offering_id) VALUES (:b, :c, :o)",
    # Every change is audited: the floor writes its audit row too (the chain trigger runs).
    "INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, new_values) "
    "VALUES (session_user, 'booking.create', 'offering_booking', CAST(:b AS text), '{}')",
]


def run_threads(jobs) -> float:
    barrier = threading.Barrier(len(jobs) + 1)
    errors: list[BaseException] = []

    def run(fn, args):
        barrier.wait()
        try:
            fn(*args)
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - start


def measure(engine, kind: str, threads: int, per_thread: int) -> float:
    oid, ids = contender(engine, threads * per_thread)
    factory = make_session_factory(engine)

    def service(chunk):
        for c in chunk:
            with factory.begin() as s:
                book_on_behalf(s, "bench", oid, c, "complimentary", uuid.uuid4())

    def floor(chunk):
        for c in chunk:
            with engine.begin() as conn:
                b = uuid.uuid4()
                for statement in _FLOOR:
                    conn.execute(text(statement), {"o": oid, "b": b, "c": c})

    target = service if kind == "service" else floor
    chunks = [ids[i::threads] for i in range(threads)]
    seconds = run_threads([(target, (chunk,)) for chunk in chunks])
    with engine.connect() as conn:
        n = conn.execute(text("SELECT booking_count FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar_one()
    assert n == len(ids), (n, len(ids))
    return len(ids) / seconds


def list_figures(s) -> None:
    for sort in ("next", "title", "bookings"):
        flt = OfferingFilter(sort=sort)  # type: ignore[arg-type]
        print(f"list_first_rows_ms_{sort}="
              f"{median_ms(lambda f=flt: list_offerings_page(s, f, None, 200)):.1f}")
    flt = OfferingFilter(offering_type="retreat", when="all")
    print(f"list_first_rows_ms_filtered="
          f"{median_ms(lambda: list_offerings_page(s, flt, None, 200)):.1f}")
    # a page of 1:1 offerings only: each row's next booked session is read
    flt = OfferingFilter(offering_type="recurring_bookable", when="all")
    print(f"list_first_rows_ms_one_on_one="
          f"{median_ms(lambda: list_offerings_page(s, flt, None, 200)):.1f}")


def agenda_walk(s, now: dt.datetime) -> tuple[list[float], list[str], int]:
    """The whole four weeks as the dialog pages through them: each page's ms, the day it
    ended on, and the sessions shown."""
    times, days, shown, cursor = [], [], 0, None
    while True:
        t0 = time.perf_counter()
        rows, cursor = agenda_page(s, now, 28, cursor, AGENDA_PAGE)
        times.append((time.perf_counter() - t0) * 1000)
        days.append(f"{rows[-1].start:%a}" if rows else "")
        shown += len(rows)
        if cursor is None:
            return times, days, shown


def agenda_figures(s, walks: int) -> None:
    now = dt.datetime.now(dt.UTC)
    print(f"agenda_ms={median_ms(lambda: list_agenda(s, now), repeat=3):.1f}")
    print(f"agenda_sessions={len(list_agenda(s, now))}")
    page = AGENDA_PAGE
    # from a Tuesday morning: every weekly class of the data set meets on Tuesdays
    tuesday = now.replace(hour=6) + dt.timedelta(days=(1 - now.weekday()) % 7)
    print("agenda_first_rows_ms_busiest_day="
          f"{median_ms(lambda: agenda_page(s, tuesday, 28, None, page)):.1f}")
    # The first page and the worst later page of each walk through the four weeks, the
    # median of ``walks`` walks for each (one walk's worst page is one sample of a loaded
    # machine): the first page and the later ones measured the same way, in the same run.
    firsts, worst, all_pages = [], [], []
    for _ in range(walks):
        t = time.perf_counter()
        times, days, shown = agenda_walk(s, now)
        all_pages.append((time.perf_counter() - t) * 1000)
        firsts.append(times[0])
        slowest = max(range(1, len(times)), key=times.__getitem__, default=0)
        worst.append((times[slowest], days[slowest], slowest))
    worst.sort()
    ms, day, at = worst[len(worst) // 2]
    print(f"agenda_first_rows_ms={statistics.median(firsts):.1f}")
    print(f"agenda_later_page_ms={ms:.1f}")
    print(f"agenda_later_page_at=page {at} of {len(times)}, ending on a {day}")
    print(f"agenda_later_page_vs_first_ratio={ms / statistics.median(firsts):.2f}")
    print(f"agenda_all_pages_ms={statistics.median(all_pages):.1f}")
    print(f"agenda_pages={len(times)}")
    print(f"agenda_paged_sessions={shown}")


def booking_list_figures(s) -> None:
    busiest, booker, booking = s.execute(text(
        "SELECT offering_id, customer_id, id FROM offering_bookings "
        "ORDER BY created_at DESC LIMIT 1")).one()
    every = BookingFilter()
    print("offering_bookings_first_rows_ms="
          f"{median_ms(lambda: list_offering_bookings_page(s, every, busiest, None, 100)):.1f}")
    print("customer_bookings_first_rows_ms="
          f"{median_ms(lambda: list_customer_bookings_page(s, every, booker, None, 100)):.1f}")
    print("booking_history_first_rows_ms="
          f"{median_ms(lambda: list_booking_history(s, booking, None, 100)):.1f}")


def contention_figures(engine, threads: int, per_thread: int) -> None:
    for kind in ("service", "floor"):  # warm up
        measure(engine, kind, threads, 5)
    rates: dict[str, float] = {}
    for kind in ("floor", "service"):
        rates[kind] = max(measure(engine, kind, threads, per_thread) for _ in range(2))
    print(f"threads={threads}")
    print(f"service_bookings_per_second={rates['service']:.0f}")
    print(f"floor_bookings_per_second={rates['floor']:.0f}")
    print(f"service_vs_floor_ratio={rates['service'] / rates['floor']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offerings", type=int, default=10_000)
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=100)
    parser.add_argument("--keep-dir", help="keep the server's data here and reuse the rows "
                        "built there by an earlier run today (migrations are still applied)")
    parser.add_argument("--agenda-only", action="store_true",
                        help="only the agenda's figures (no lists, no contention)")
    parser.add_argument("--reads-only", action="store_true",
                        help="the lists' and the agenda's figures (no contention)")
    parser.add_argument("--agenda-walks", type=int, default=5,
                        help="walks through the agenda's four weeks page by page (the "
                        "first page's and the worst later page's ms: medians over the walks)")
    args = parser.parse_args()
    server = EmbeddedPostgres.start(args.keep_dir)
    engine = make_engine(server.url(), pool_size=args.threads + 2,
                         application_name="bench-offerings")
    try:
        migrate.upgrade(engine)
        t = time.perf_counter()
        with engine.connect() as conn:
            built = conn.execute(text("SELECT count(*) FROM offerings")).scalar_one()
        if built and args.keep_dir:  # the rows are dated from the day they were built
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
                args.offerings = built
                args.bookings = conn.execute(text(
                    "SELECT count(*) FROM offering_bookings")).scalar_one()
            print("build_seconds=0 (reused)")
        else:
            build(engine, args.offerings, args.bookings)
            print(f"build_seconds={time.perf_counter() - t:.1f}")
        print(f"offerings={args.offerings}")
        print(f"bookings={args.bookings}")
        factory = make_session_factory(engine)
        with factory() as s:
            if not args.agenda_only:
                list_figures(s)
            agenda_figures(s, args.agenda_walks)
            if not args.agenda_only:
                booking_list_figures(s)
        if not (args.agenda_only or args.reads_only):
            contention_figures(engine, args.threads, args.per_thread)
    finally:
        engine.dispose()
        server.stop()


if __name__ == "__main__":
    main()
