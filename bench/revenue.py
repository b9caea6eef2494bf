"""Revenue page benchmark: the default page's data computed by PostgreSQL (with the daily
rollup, and without it), the time to render it, and the naive approach (fetch the raw rows,
compute the same series in Python) for comparison.

    python bench/revenue.py --purchases 500000
    python bench/revenue.py --purchases 5000000 --users 200000

``rollup_refresh_after_1100_changes_ms`` is the rollup's upkeep after the same changes at any
size (1,000 back-dated sales on 30 past days, 100 refunds): compare it between sizes, it
should not grow with history. ``rollup_refresh_next_day_ms`` is a day's refresh: the same
changes and the day that became complete (the rollup adds changes by delta, so a day
becoming complete costs nothing more).

    python bench/revenue.py --upkeep 500000,5000000 --keep-dir /tmp/revenue-pg [--explain]

measures only the rollup at each size, each size a database of one server, built set-based
(:mod:`revenue_data`, minutes at 5M) and kept in ``--keep-dir`` for the next run: the time to
the first chart on a cold start (the first chunk of the build, then the default page), then
a day's refresh, interleaved (a round refreshes every size once, the same changes each time)
so that both sizes see the same load, and ``rollup_day_refresh_ratio`` (the median of the
largest size over the median of the smallest; target <= 1.5).

Builds its own embedded PostgreSQL and demo data; prints one ``name=value`` per line.
``naive_matches`` says whether the naive figures equal the database's (they must).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
import PySide6  # noqa: E402, F401 - before pyqtgraph
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench import revenue_data  # noqa: E402
from data import migrate  # noqa: E402
from data.db import connection_info, make_engine, make_session_factory  # noqa: E402
from data.demo import fill_demo_data  # noqa: E402
from data.embedded import EmbeddedPostgres  # noqa: E402
from data.operations.revenue import BUILD_CHUNK_MONTHS, BuildRevenueRollup  # noqa: E402
from data.queries.revenue import (  # noqa: E402
    BOOKING_CURRENCY,
    RevenueSnapshot,
    load_revenue,
    period_floor,
    purchases_in_period,
    snapshot_session,
)
from data.services.revenue_rollup import refresh_rollup, refresh_rollup_report  # noqa: E402
from desktop.database import Backend, Database  # noqa: E402
from desktop.pages.revenue import (  # noqa: E402
    DEFAULT_GRANULARITY,
    DEFAULT_PRESET,
    RevenuePage,
)
from widgets.operations import OperationRunner  # noqa: E402


def median_ms(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


# -- the naive approach: every raw row into Python -----------------------------------------------


def naive_fetch(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    """What an app without aggregation in SQL would read: every relevant row."""
    q = conn.execute
    return {
        "tz": q("SELECT timezone FROM platform_settings ORDER BY created_at, id LIMIT 1"
                ).fetchall(),
        "purchases": q(
            "SELECT p.status, p.purchased_at, p.created_at, p.refunded_at, p.amount_paid,"
            " c.content_type, p.content_id, c.title, lower(p.currency) FROM purchases p"
            " JOIN content c ON c.id = p.content_id").fetchall(),
        "bookings": q(
            "SELECT payment_method, amount_paid, status, created_at, canceled_at"
            " FROM offering_bookings").fetchall(),
        "subscriptions": q(
            "SELECT s.billing_period, s.status, s.created_at, s.trial_end, s.canceled_at,"
            " s.current_period_end, t.price_monthly, t.price_yearly FROM subscriptions s"
            " JOIN subscription_tiers t ON t.id = s.tier_id").fetchall(),
        "credits": q("SELECT type, amount, created_at FROM credit_transactions").fetchall(),
    }


def naive_compute(rows: dict[str, list[tuple]], snap: RevenueSnapshot) -> dict:
    """The default page's series, computed in Python from the raw rows (same rules), in the
    snapshot's main currency (bookings carry none: counted as BOOKING_CURRENCY)."""
    tz = ZoneInfo((rows["tz"][0][0] if rows["tz"] else None) or "UTC")
    g = snap.granularity
    start, end = snap.start, snap.end

    def local(ts: datetime) -> datetime:
        return ts.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)

    def bucket(ts: datetime):
        day = local(ts).date()
        if start <= day <= end:
            return datetime.combine(period_floor(day, g), datetime.min.time())
        return None

    zero = Decimal("0.00")
    revenue = defaultdict(lambda: [zero, zero])
    top: dict = defaultdict(lambda: [zero, zero, ""])
    for status, purchased_at, created_at, refunded_at, amount, _kind, item, title, cur in \
            rows["purchases"]:
        if cur != snap.currency:
            continue
        if status in ("completed", "refunded"):
            p = bucket(purchased_at or created_at)
            if p is not None:
                revenue[p][0] += amount
                top[item][0] += amount
                top[item][2] = title
        if status == "refunded" and refunded_at is not None:
            p = bucket(refunded_at)
            if p is not None:
                revenue[p][1] += amount
                top[item][1] += amount
                top[item][2] = title
    for method, amount, status, created_at, canceled_at in rows["bookings"]:
        if method != "purchase" or not amount or amount <= 0 \
                or snap.currency != BOOKING_CURRENCY:
            continue
        p = bucket(created_at)
        if p is not None:
            revenue[p][0] += amount
        if status == "canceled" and canceled_at is not None:
            p = bucket(canceled_at)
            if p is not None:
                revenue[p][1] += amount
    tokens = defaultdict(lambda: [0, 0, 0, 0])
    for kind, amount, created_at in rows["credits"]:
        p = bucket(created_at)
        if p is None:
            continue
        cell = tokens[p]
        cell[0] += max(amount, 0)
        cell[1] += -amount if kind == "spent_offering" else 0
        cell[2] += -amount if kind == "expired" else 0
        cell[3] += amount
    # MRR at each period's end (or now): every subscription checked at every period.
    now = snap.as_of.replace(tzinfo=None)
    ends = []
    for i in range(len(snap.periods)):
        nxt = snap.periods[i + 1] if i + 1 < len(snap.periods) else \
            datetime.combine(end + timedelta(days=1), datetime.min.time())
        ends.append(nxt.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None))
    subs = []
    for billing, status, created, trial_end, canceled_at, period_end, monthly, yearly in \
            rows["subscriptions"]:
        if status == "trialing":
            continue
        paying_from = max(created, trial_end or created)
        ended = (canceled_at or period_end) if status == "canceled" else None
        if ended is not None and ended <= paying_from:
            continue
        annual = (yearly or 0) if billing == "yearly" else 12 * (monthly or 0)
        subs.append((paying_from, ended, Decimal(annual)))
    mrr = []
    for e in ends:
        total, n = Decimal(0), 0
        for paying_from, ended, annual in subs:
            if paying_from < e and paying_from <= now and (ended is None or ended >= e
                                                             or ended > now):
                total += annual
                n += 1
        mrr.append(((total / 12).quantize(Decimal("0.01"), ROUND_HALF_UP), n))
    ranked = sorted(((v[0] - v[1], v[2], k) for k, v in top.items()),
                    key=lambda t: (-t[0], t[1], str(t[2])))[:10]
    return {
        "revenue": [(p, *revenue.get(p, (zero, zero))) for p in snap.periods],
        "tokens": [(p, *tokens.get(p, (0, 0, 0, 0))) for p in snap.periods],
        "mrr": mrr,
        "top": [(title, net) for net, title, _ in ranked],
    }


def matches(naive: dict, snap: RevenueSnapshot) -> bool:
    rev = [(r[0], r[1], r[2]) for r in snap.revenue.rows]
    got_rev = [(p, g, r) for p, g, r in naive["revenue"]]
    mrr = [(r[1], r[2]) for r in snap.subscriptions.rows]
    top = [(t.title, t.net) for t in snap.top_content]
    return (rev == got_rev and [tuple(r) for r in snap.tokens.rows] == naive["tokens"]
            and mrr == naive["mrr"] and top == naive["top"])


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--purchases", type=int, default=500_000)
    parser.add_argument("--users", type=int, default=None, help="default: purchases / 4")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--upkeep", default=None,
                        help="comma-separated purchase counts: the rollup's upkeep only")
    parser.add_argument("--keep-dir", default=None,
                        help="--upkeep: keep the server here and reuse the sizes built there")
    parser.add_argument("--explain", action="store_true",
                        help="--upkeep: a day's refresh at each size, its time per function")
    args = parser.parse_args()
    if args.upkeep:
        upkeep([int(n) for n in args.upkeep.split(",")], args.users, args.repeat, args.keep_dir,
               args.explain)
        return
    users = args.users or max(args.purchases // 4, 1_000)
    app = QApplication.instance() or QApplication([])

    server = EmbeddedPostgres.start()
    try:
        engine = make_engine(server.url())
        migrate.upgrade(engine)
        t = time.perf_counter()
        with psycopg.connect(server.libpq_dsn()) as conn:
            counts = fill_demo_data(conn, users=users, seed=args.seed, purchases=args.purchases)
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(f"users={users}")
        for table in ("purchases", "offering_bookings", "subscriptions", "credit_transactions"):
            print(f"rows_{table}={counts.get(table, 0)}")
        print(f"fill_s={time.perf_counter() - t:.1f}")
        factory = make_session_factory(engine)

        # A cold start: the newest months first, three at a time, as the page builds it.
        t = time.perf_counter()
        with factory.begin() as s:
            chunk = refresh_rollup_report(s, BUILD_CHUNK_MONTHS)
        print(f"rollup_cold_first_chunk_s={time.perf_counter() - t:.2f}")
        while not chunk.complete:
            with factory.begin() as s:
                chunk = refresh_rollup_report(s, BUILD_CHUNK_MONTHS)
        print(f"rollup_cold_build_total_s={time.perf_counter() - t:.2f}")
        with factory.begin() as s:
            s.execute(text("DELETE FROM admin.revenue_rollup_info"))
        t = time.perf_counter()
        with factory.begin() as s:
            refresh_rollup(s)
        print(f"rollup_first_build_s={time.perf_counter() - t:.2f}")
        t = time.perf_counter()
        with factory.begin() as s:
            refresh_rollup(s)
        print(f"rollup_refresh_nothing_changed_ms={(time.perf_counter() - t) * 1000:.1f}")
        change_ms, day_ms = [], []
        for round_ in range(args.repeat):
            # The same changes at any size: 1,000 sales written now onto 30 past days
            # (back-dated imports) and 100 refunds of old sales, then a refresh.
            with factory.begin() as s:
                for sql in CHANGES:
                    s.execute(text(sql), {"tag": f"bench{round_}"})
            t = time.perf_counter()
            with factory.begin() as s:
                changed = refresh_rollup_report(s)
            change_ms.append((time.perf_counter() - t) * 1000)
            day_ms.append(_day_refresh_ms(factory, f"day{round_}"))
        print(f"rollup_days_rebuilt_after_changes={changed.days}")
        print(f"rollup_refresh_after_1100_changes_ms={statistics.median(change_ms):.1f}")
        print(f"rollup_refresh_next_day_ms={statistics.median(day_ms):.1f}")
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT (SELECT count(*) FROM admin.revenue_daily),"
                " (SELECT count(*) FROM admin.revenue_daily_content)")).one()
        print(f"rollup_rows_daily={rows[0]}")
        print(f"rollup_rows_daily_content={rows[1]}")

        def load(use_rollup):
            with snapshot_session(factory) as s:
                return load_revenue(s, preset=DEFAULT_PRESET, granularity=DEFAULT_GRANULARITY,
                                    use_rollup=use_rollup)

        print(f"page=preset {DEFAULT_PRESET}, per {DEFAULT_GRANULARITY}")
        load(None)  # warm the caches
        compute_ms, snap = median_ms(lambda: load(None), args.repeat)
        print(f"compute_used_rollup={snap.used_rollup}")
        print(f"compute_ms={compute_ms:.1f}")
        raw_ms, raw = median_ms(lambda: load(False), max(1, args.repeat // 2))
        print(f"compute_without_rollup_ms={raw_ms:.1f}")
        print(f"rollup_equals_raw={raw.tables() == snap.tables() and raw.kpis == snap.kpis}")
        all_ms, _ = median_ms(lambda: _all_time(factory), max(1, args.repeat // 2))
        print(f"compute_all_time_by_day_ms={all_ms:.1f}")
        month = snap.periods[-2].date().replace(day=1)

        def month_page():
            with factory() as s:
                return purchases_in_period(s, month, "month", snap.timezone, limit=200)

        page_ms, _ = median_ms(month_page, args.repeat)
        print(f"period_list_first_page_of_a_month_ms={page_ms:.1f}")

        runner = OperationRunner()
        database = Database(Backend(engine, factory, connection_info(engine), "bench"), runner)
        page = RevenuePage(database, auto_refresh_rollup=False)
        page.resize(1400, 900)

        def render():
            page._show_snapshot(snap)
            page.tabs.currentWidget().grab()  # lay out and paint the visible tab
            app.processEvents()

        render()
        render_ms, _ = median_ms(render, args.repeat)
        print(f"render_ms={render_ms:.1f}")

        t = time.perf_counter()
        with psycopg.connect(server.libpq_dsn()) as conn:
            raw_rows = naive_fetch(conn)
        fetch_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        naive = naive_compute(raw_rows, snap)
        naive_compute_ms = (time.perf_counter() - t) * 1000
        naive_ms = fetch_ms + naive_compute_ms
        print(f"naive_fetch_ms={fetch_ms:.0f}")
        print(f"naive_compute_ms={naive_compute_ms:.0f}")
        print(f"naive_total_ms={naive_ms:.0f}")
        print(f"naive_matches={matches(naive, snap)}")
        print(f"naive_over_sql_ratio={naive_ms / compute_ms:.0f}")
        print(f"naive_over_sql_without_rollup_ratio={naive_ms / raw_ms:.1f}")
        runner.wait_for_done(10_000)
        engine.dispose()
    finally:
        server.stop()


CHANGES = (
    """
    INSERT INTO purchases (customer_id, content_id, amount_paid, currency,
                           stripe_payment_intent_id, creator_payout_amount, status,
                           purchased_at)
    SELECT u.id, c.id, c.price, 'usd', 'pi_' || :tag || '_' || n, c.price, 'completed',
           (now() AT TIME ZONE 'UTC') - make_interval(days => 40 + (n % 30)::int)
    FROM (SELECT id, row_number() OVER () AS n FROM users TABLESAMPLE SYSTEM (5)
          LIMIT 1000) u
    CROSS JOIN LATERAL (SELECT id, coalesce(price, 1) AS price FROM content
                        WHERE u.n > 0 OFFSET (u.n % 97) LIMIT 1) c
    ON CONFLICT DO NOTHING""",
    """
    UPDATE purchases SET status = 'refunded', refunded_at = now() AT TIME ZONE 'UTC',
           updated_at = now() AT TIME ZONE 'UTC'
    WHERE id IN (SELECT id FROM purchases WHERE status = 'completed'
                 ORDER BY purchased_at LIMIT 100)""",
)
"""The same changes at any size, made before each measured refresh (stamped with
``updated_at`` as the platform stamps every write)."""


def _day_refresh_ms(factory, tag: str) -> float:
    """A day's refresh: the day's changes (:data:`CHANGES`, the same at any size), and the
    day they were made on became complete (as if the last refresh had run yesterday)."""
    with factory.begin() as s:
        for sql in CHANGES:
            s.execute(text(sql), {"tag": tag})
        s.execute(text("UPDATE admin.revenue_rollup_info SET boundary_day = boundary_day - 1"))
    t = time.perf_counter()
    with factory.begin() as s:
        refresh_rollup_report(s)
    return (time.perf_counter() - t) * 1000


def _size_database(server, purchases: int, users: int | None, keep: bool):
    """The engine of the database of ``purchases`` purchases on ``server``: built set-based
    (:mod:`bench.revenue_data`), or reused from an earlier ``--keep-dir`` run."""
    name = f"revenue_{purchases}"
    with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (name,)).fetchone()
        built = False
        if exists:
            with psycopg.connect(server.libpq_dsn(name)) as db:
                built = bool(db.execute(
                    "SELECT to_regclass('purchases') IS NOT NULL AND"
                    " EXISTS (SELECT FROM purchases OFFSET %s)", (purchases - 1,)).fetchone()[0])
            if not built:
                conn.execute(f'DROP DATABASE "{name}"')
        if not built:
            conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(server.url(name))
    migrate.upgrade(engine)  # a reused database gets any new migration
    if built and keep:
        print(f"fill_s_at_{purchases}=0 (reused)")
    else:
        t = time.perf_counter()
        counts = revenue_data.fill(server.libpq_dsn(name), purchases, users)
        print(f"fill_s_at_{purchases}={time.perf_counter() - t:.1f}")
        for table in ("users", "purchases", "offering_bookings", "credit_transactions"):
            print(f"rows_{table}_at_{purchases}={counts[table]}")
    return engine


def upkeep(sizes: list[int], users: int | None, repeat: int, keep_dir: str | None,
           explain: bool) -> None:
    """The rollup's upkeep at each size, all sizes' databases on one server: the cold start's
    first chart at each, then a day's refresh measured interleaved (each round refreshes
    every size once, the same day's changes at each), so every size sees the same load; the
    medians and the ratio of the medians."""
    print(f"load_average_at_start={os.getloadavg()[0]:.2f}")
    server = EmbeddedPostgres.start(keep_dir)
    engines = {}
    try:
        for purchases in sizes:
            engines[purchases] = _size_database(server, purchases, users, keep_dir is not None)
        factories = {n: make_session_factory(e) for n, e in engines.items()}
        for purchases, factory in factories.items():
            _cold_start(factory, purchases)
        run = f"{time.time():.0f}"  # tags unique across runs on a kept database
        for factory in factories.values():
            _day_refresh_ms(factory, f"warm{run}")
        if explain:
            for purchases, factory in factories.items():
                print(f"-- explain at {purchases}")
                _explain_day_refresh(factory, f"explain{run}")
        times: dict[int, list[float]] = {n: [] for n in sizes}
        for i in range(repeat):
            for purchases, factory in factories.items():
                times[purchases].append(_day_refresh_ms(factory, f"up{run}_{i}"))
        for purchases in sizes:
            print(f"rollup_day_refresh_ms_at_{purchases}={statistics.median(times[purchases]):.1f}")
            print(f"rollup_day_refresh_rounds_ms_at_{purchases}="
                  + ",".join(f"{ms:.0f}" for ms in times[purchases]))
        if len(sizes) > 1:
            ratio = statistics.median(times[max(sizes)]) / statistics.median(times[min(sizes)])
            print(f"rollup_day_refresh_ratio={ratio:.2f}")
            print(f"rollup_day_refresh_rounds={repeat}")
        print(f"load_average_at_end={os.getloadavg()[0]:.2f}")
    finally:
        for engine in engines.values():
            engine.dispose()
        server.stop()


def _cold_start(factory, purchases: int) -> None:
    """A cold start as the page makes it (:class:`BuildRevenueRollup`, the newest months
    first): the time to its first chunk committed and the default page read from it, the
    whole build, and a full month's chunk (the first chunk's worst case: on the last day of a
    month the current month is whole; today's first chunk holds the month so far)."""
    with factory.begin() as s:  # never built (a kept database's rollup of the last run: gone)
        s.execute(text("TRUNCATE admin.revenue_rollup_info, admin.revenue_daily,"
                       " admin.revenue_daily_content, admin.revenue_monthly_payers,"
                       " admin.credit_daily, admin.revenue_rollup_recent"))
    t = time.perf_counter()
    first: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        if not first:
            first["chunk"] = time.perf_counter() - t
            with snapshot_session(factory) as s:
                snap = load_revenue(s, preset=DEFAULT_PRESET, granularity=DEFAULT_GRANULARITY)
            first["chart"] = time.perf_counter() - t
            first["rollup"] = snap.used_rollup
            first["start"] = snap.start.toordinal()

    report = BuildRevenueRollup().run(factory, "bench", progress, lambda: False)
    print(f"cold_start_first_chunk_s_at_{purchases}={first['chunk']:.2f}")
    print(f"cold_start_first_chart_s_at_{purchases}={first['chart']:.2f}")
    print(f"cold_start_first_chart_used_rollup_at_{purchases}={first['rollup']}")
    print(f"cold_start_first_chart_from_at_{purchases}={date.fromordinal(int(first['start']))}")
    print(f"cold_start_build_total_s_at_{purchases}={time.perf_counter() - t:.2f}"
          f" ({report.kind})")
    with factory() as s:  # a whole month's chunk, rolled back
        t = time.perf_counter()
        s.execute(text("""
            SELECT admin.revenue_rollup_days(tz, m, (m + interval '1 month')::date),
                   admin.revenue_rollup_months(tz, m, (m + interval '1 month')::date)
            FROM admin.platform_timezone() tz,
                 LATERAL (SELECT (date_trunc('month', now() AT TIME ZONE tz)
                                  - interval '1 month')::date AS m) x"""))
        print(f"cold_start_full_month_chunk_s_at_{purchases}={time.perf_counter() - t:.2f}")
        s.rollback()


def _explain_day_refresh(factory, tag: str) -> None:
    """Where a day's refresh spends its time: each helper function's own time
    (``track_functions``; the embedded server has no auto_explain), printed per function."""
    with factory.begin() as s:
        for sql in CHANGES:
            s.execute(text(sql), {"tag": tag})
        s.execute(text("UPDATE admin.revenue_rollup_info SET boundary_day = boundary_day - 1"))
    with factory() as s:
        s.execute(text("SET track_functions = 'all'"))
        s.execute(text("SELECT pg_stat_clear_snapshot(), pg_stat_reset()"))
        s.commit()
        refresh_rollup_report(s)
        s.commit()
        s.execute(text("SELECT pg_stat_force_next_flush()"))
        s.commit()
        for name, calls, total, own in s.execute(text(
                "SELECT funcname, calls, total_time, self_time FROM pg_stat_user_functions"
                " WHERE schemaname = 'admin' ORDER BY self_time DESC")):
            print(f"  {name}: calls={calls} total_ms={total:.1f} self_ms={own:.1f}")


def _all_time(factory):
    with snapshot_session(factory) as s:
        return load_revenue(s, preset="all", granularity="day")


if __name__ == "__main__":
    main()
