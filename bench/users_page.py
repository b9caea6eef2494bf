"""Users page benchmark: first rows, a page at 90% depth, search, memory; and Qt's own
QSqlQueryModel (QPSQL driver) over the same rows for comparison.

    python bench/users_page.py --users 10000
    python bench/users_page.py --users 1000000

Builds its own embedded PostgreSQL and demo data; prints one ``name=value`` per line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import psutil
import psycopg
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtSql import QSqlDatabase, QSqlQueryModel
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from data import migrate
from data.db import connection_info, make_engine, make_session_factory
from data.demo import fill_demo_data
from data.embedded import EmbeddedPostgres
from data.queries.users import UserFilter, list_users_page
from desktop.database import Backend, Database
from desktop.pages.users import USER_COLUMNS, UsersPage
from widgets.lazy_table import LazyTableModel, Page
from widgets.operations import OperationRunner

QSQL_QUERY = (
    "SELECT email, full_name, role, email_verified_at IS NOT NULL, created_at, deleted_at "
    "FROM users ORDER BY created_at DESC, id DESC"
)


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when QApplication is built


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def wait_until(app, predicate, timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step timed out")
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def build_users_database(server, users: int, seed: int):
    """Migrate and fill ``server`` with ``users`` demo users; prints the setup figures and
    returns the engine."""
    engine = make_engine(server.url())
    migrate.upgrade(engine)
    t = time.perf_counter()
    with psycopg.connect(server.libpq_dsn()) as conn:
        fill_demo_data(conn, users=users, seed=seed, purchases=max(users // 10, 100))
    with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"users={users}")
    print(f"setup_seconds={time.perf_counter() - t:.1f}")
    return engine


def reuse_users_database(server):
    """The engine of users an earlier ``--keep-dir`` run built, migrated to head; None
    when there are none."""
    engine = make_engine(server.url())
    with engine.connect() as conn:
        built = conn.execute(text("SELECT to_regclass('users') IS NOT NULL")).scalar_one()
        users = conn.execute(text("SELECT count(*) FROM users")).scalar_one() if built else 0
    if not users:
        return None
    migrate.upgrade(engine)
    with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE users")
    print(f"users={users}")
    print("setup_seconds=0 (reused)")
    return engine


# One letter, a common surname (1 in 100 users), a rare name (a first and last name pair:
# about 1 in 10,000), digits, no match.
FIXED_TERMS = {"letter": "a", "common_surname": "garcia", "rare_name": "thandiwe haddad",
               "digits": "12345", "none": "zzqx"}


def timed_query(session, flt, cursor, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        list_users_page(session, flt, cursor, 200)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-only", action="store_true",
                        help="only the first page of the fixed search terms")
    parser.add_argument("--keep-dir", help="keep the server's data here and reuse the users "
                        "built there by an earlier run (migrations are still applied)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    server = EmbeddedPostgres.start(args.keep_dir)
    try:
        engine = reuse_users_database(server) if args.keep_dir else None
        if engine is None:
            engine = build_users_database(server, args.users, args.seed)
        sf = make_session_factory(engine)
        with sf() as s:
            worst = 0.0
            for name, term in FIXED_TERMS.items():
                ms = max(timed_query(s, UserFilter(search=term, sort=sort), None, repeat=3)
                         for sort in ("created", "email"))
                worst = max(worst, ms)
                print(f"search_first_page_ms_{name}={ms:.1f}")
            print(f"search_first_page_ms_max={worst:.1f}")
        if args.search_only:
            return

        # Query level: the first page and a page at 90% depth, on the worker's path.
        with sf() as s:
            depth = int(args.users * 0.9)
            deep_cursor = tuple(s.execute(text(
                "SELECT created_at, id FROM users ORDER BY created_at DESC, id DESC "
                "OFFSET :n LIMIT 1"), {"n": depth}).one())
            print(f"first_page_query_ms={timed_query(s, UserFilter(), None):.2f}")
            print(f"deep_page_query_ms={timed_query(s, UserFilter(), deep_cursor):.2f}")
            t = time.perf_counter()
            s.execute(text(
                "SELECT email FROM users ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 200"
            ), {"n": depth}).all()
            print(f"deep_page_offset_ms={(time.perf_counter() - t) * 1000:.2f}")
            samples = s.execute(text(
                "SELECT split_part(email, '@', 1), split_part(full_name, ' ', 2) "
                "FROM users TABLESAMPLE SYSTEM (5) LIMIT 20")).all()

        # Model level, like for like with QSqlQueryModel: the lazy model fed by a worker.
        runner = OperationRunner()
        backend = Backend(engine, sf, connection_info(engine), "bench")
        database = Database(backend, runner)

        def fetch(cursor, limit):
            with sf() as session:
                rows, next_cursor = list_users_page(session, UserFilter(), cursor, limit)
            return Page(rows, next_cursor)

        rss_before = rss_mb()
        t = time.perf_counter()
        model = LazyTableModel(USER_COLUMNS, runner, page_size=200, row_key=lambda r: r.id)
        model.set_fetcher(fetch)
        wait_until(app, lambda: model.rowCount() > 0)
        first_rows_ms = (time.perf_counter() - t) * 1000
        rss_growth = rss_mb() - rss_before
        print(f"first_rows_ms={first_rows_ms:.1f}")
        print(f"rss_growth_mb={rss_growth:.1f}")

        # Page level: what a person sees on F5 and when typing in the search box.
        page = UsersPage(database)
        page.resize(1400, 800)
        page.show()
        wait_until(app, lambda: page.model.rowCount() > 0 and not page.model.is_loading)
        refreshes = []
        for _ in range(5):
            t = time.perf_counter()
            page.refresh()
            wait_until(app, lambda: page.model.rowCount() > 0)
            refreshes.append((time.perf_counter() - t) * 1000)
            wait_until(app, lambda: runner.active_count == 0)
        print(f"page_refresh_first_rows_ms={statistics.median(refreshes):.1f}")

        searches = []
        terms = [e[:4] for e, _ in samples[:5]] + [n[:5] for _, n in samples[:5] if n]
        for term in terms:
            t = time.perf_counter()
            page.search.setText(term)
            page.refresh()
            wait_until(app, lambda: not page.model.is_loading)
            searches.append((time.perf_counter() - t) * 1000)
        print(f"search_ms_median={statistics.median(searches):.1f}")
        print(f"search_ms_max={max(searches):.1f}")
        runner.wait_for_done(30_000)

        # Qt's own QSqlQueryModel over QPSQL: reads the whole result before showing it.
        db = QSqlDatabase.addDatabase("QPSQL", "bench")
        db.setHostName(server.socket_dir)
        db.setDatabaseName("postgres")
        db.setUserName("postgres")
        if not db.open():
            print(f"qsql_error={db.lastError().text()!r}")
        else:
            rss_before = rss_mb()
            t = time.perf_counter()
            qmodel = QSqlQueryModel()
            qmodel.setQuery(QSQL_QUERY, db)
            _ = qmodel.rowCount()
            qsql_first_ms = (time.perf_counter() - t) * 1000
            qsql_rss = rss_mb() - rss_before
            print(f"qsql_first_rows_ms={qsql_first_ms:.1f}")
            print(f"qsql_rss_growth_mb={qsql_rss:.1f}")
            print(f"first_rows_speedup_vs_qsql={qsql_first_ms / first_rows_ms:.1f}")
            print(f"rss_growth_ratio_vs_qsql={rss_growth / qsql_rss if qsql_rss > 0 else 0:.3f}")
            qmodel.clear()
            db.close()
        page.close()
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
