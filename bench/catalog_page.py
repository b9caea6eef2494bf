"""Content catalog benchmark: first rows of the lazy list, search and filter times.

    python bench/catalog_page.py                  # 200,000 items
    python bench/catalog_page.py --items 20000

Builds its own embedded PostgreSQL and data (``INSERT … SELECT generate_series``: titles of
three words from a vocabulary plus a number, unique slugs, every type, status, visibility,
a few categories, series, deleted items); prints one ``name=value`` per line. Times are in
milliseconds: ``*_query_ms`` is the page query alone on the worker's path, ``page_*_ms`` is
what a person waits for on the page (from the request to the first rows on screen).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from data import migrate
from data.db import connection_info, make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.queries.catalog import CATALOG_SORTS, CatalogFilter, count_content, list_content_page
from data.queries.featured import search_published_content
from data.queries.series import search_series_candidates
from desktop.database import Backend, Database
from desktop.pages.catalog import CatalogPage
from widgets.operations import OperationRunner

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when QApplication is built

WORDS = (
    "yoga", "breath", "sleep", "focus", "strength", "mobility", "nutrition", "mindset", "calm",
    "energy", "balance", "core", "flow", "habit", "recovery", "stretch", "posture",
    "meditation", "journal", "rhythm", "spine", "hips", "morning", "evening", "gentle", "deep",
    "advanced", "beginner", "guided", "practice", "masterclass", "basics", "essentials",
    "healing", "walking", "running", "cycling", "kitchen", "protein", "fasting", "hydration",
)
CATEGORIES = ("yoga", "sleep", "nutrition", "strength", "mindset", "breathwork",
              "meditation", "mobility")

FILL_SQL = """
WITH params AS (
    SELECT CAST(:creators AS uuid[]) AS creators, CAST(:series AS uuid[]) AS series,
           CAST(:words AS text[]) AS words, CAST(:categories AS text[]) AS categories
)
INSERT INTO content (creator_id, title, slug, description, content_type, media_url,
    media_duration_seconds, content_body, category, tags, series_id, visibility, price,
    status, published_at, view_count, purchase_count, created_at, updated_at, deleted_at)
SELECT
    (p.creators)[1 + i % array_length(p.creators, 1)],
    initcap(w1) || ' ' || w2 || ' ' || w3 || ' ' || i,
    w1 || '-' || w2 || '-' || w3 || '-' || i,
    'About ' || w1 || ' and ' || w2,
    kind,
    CASE WHEN kind <> 'written' THEN 'https://media.example.com/' || i || '.mp4' END,
    CASE WHEN kind <> 'written' THEN 60 + (i * 37) % 3600 END,
    CASE WHEN kind = 'written' THEN '<p>' || w1 || ' ' || w2 || '</p>' END,
    (p.categories)[1 + (i * 7) % array_length(p.categories, 1)],
    jsonb_build_array(w1, w2),
    CASE WHEN i % 5 = 0 THEN (p.series)[1 + (i / 5) % array_length(p.series, 1)] END,
    (ARRAY['public', 'private', 'members_only', 'purchased_only',
           'purchased_only'])[1 + i % 5],
    CASE WHEN i % 5 IN (3, 4) OR i % 7 = 0 THEN (4.99 + (i % 20) * 5)::numeric(10, 2) END,
    status,
    CASE WHEN status <> 'draft'
         THEN timestamp '2020-01-01' + (i * interval '13 minutes') END,
    (i * 31) % 5000, (i * 17) % 300,
    timestamp '2020-01-01' + (i * interval '13 minutes'),
    timestamp '2020-01-01' + (i * interval '13 minutes'),
    CASE WHEN i % 97 = 0 THEN timestamp '2024-01-01' END
FROM (
    SELECT i,
           (p.words)[1 + (i * 7) % array_length(p.words, 1)] AS w1,
           (p.words)[1 + (i * 13 / 3) % array_length(p.words, 1)] AS w2,
           (p.words)[1 + (i * 29 / 7) % array_length(p.words, 1)] AS w3,
           (ARRAY['video', 'video', 'audio', 'written'])[1 + i % 4] AS kind,
           (ARRAY['published', 'published', 'published', 'draft', 'archived'])[1 + i % 5]
               AS status
    FROM generate_series(1, :n) AS i, params p
) g, params p
"""


def wait_until(predicate, timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step timed out")
        QTimer.singleShot(1, loop.quit)
        loop.exec()


def build(engine, n_items: int) -> None:
    with engine.begin() as conn:
        creators = conn.execute(text(
            "INSERT INTO users (email, password_hash, full_name, role) "
            "SELECT 'creator' || i || '@example.com', 'x', 'Creator ' || i, 'platform_owner' "
            "FROM generate_series(1, 20) i RETURNING id")).scalars().all()
        series = conn.execute(text(
            "INSERT INTO content_series (creator_id, title, slug) "
            "SELECT CAST(:c AS uuid), 'Series ' || i, 'series-' || i "
            "FROM generate_series(1, 1000) i RETURNING id"), {"c": creators[0]}).scalars().all()
        conn.execute(text(FILL_SQL), {"creators": creators, "series": series,
                                      "words": list(WORDS), "categories": list(CATEGORIES),
                                      "n": n_items})
        conn.execute(text(
            "UPDATE content_series s SET content_order = coalesce((SELECT "
            "jsonb_agg(c.id::text ORDER BY c.created_at) FROM content c "
            "WHERE c.series_id = s.id), '[]')"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE content"))


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# One letter, a common word, a rare title (one item), digits (11 items at 1M), no match.
FIXED_TERMS = {"letter": "y", "common": "yoga", "rare": "777777", "digits": "12345",
               "none": "zzqx"}


def bounded_search_figures(sf) -> None:
    """The first page of each fixed term in every sort, and each picker's answer."""
    with sf() as s:
        worst = 0.0
        for name, term in FIXED_TERMS.items():
            ms = max(timed(lambda sort=sort, term=term: list_content_page(
                s, CatalogFilter(search=term, sort=sort), None, 200), repeat=3)
                for sort in CATALOG_SORTS)
            worst = max(worst, ms)
            print(f"search_first_page_ms_{name}={ms:.1f}")
        print(f"search_first_page_ms_max={worst:.1f}")
        series = s.execute(text("SELECT id FROM content_series ORDER BY slug LIMIT 1")).scalar()
        for picker, fn in (("featured", lambda t: search_published_content(s, t, 50)),
                           ("series", lambda t: search_series_candidates(s, series, t, 50))):
            times = {}
            for name, term in {"empty": "", **FIXED_TERMS}.items():
                times[name] = timed(lambda fn=fn, term=term: fn(term), repeat=3)
                print(f"{picker}_picker_ms_{name}={times[name]:.1f}")
            print(f"{picker}_picker_ms_max={max(times.values()):.1f}")
        s.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--search-only", action="store_true",
                        help="only the fixed search terms and the pickers")
    parser.add_argument("--keep-dir", help="keep the server's data here and reuse the items "
                        "built there by an earlier run (migrations are still applied)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the page

    server = EmbeddedPostgres.start(args.keep_dir)
    try:
        engine = make_engine(server.url())
        migrate.upgrade(engine)
        t = time.perf_counter()
        with engine.connect() as conn:
            items = conn.execute(text("SELECT count(*) FROM content")).scalar_one()
        if items and args.keep_dir:
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE content"))
            print(f"items={items}")
            print("setup_seconds=0 (reused)")
        else:
            build(engine, args.items)
            print(f"items={args.items}")
            print(f"setup_seconds={time.perf_counter() - t:.1f}")
        sf = make_session_factory(engine)
        bounded_search_figures(sf)
        if args.search_only:
            return

        searches = ["yoga", "breath", "sleep-dee", "masterclass basics", "kitchen prot",
                    "hydration", "12345", "zzz-nothing"]
        with sf() as s:
            for sort in CATALOG_SORTS:
                ms = timed(lambda sort=sort: list_content_page(s, CatalogFilter(sort=sort),
                                                               None, 200))
                print(f"first_page_query_ms_{sort}={ms:.2f}")
            depth = int(args.items * 0.9)
            deep = s.execute(text(
                "SELECT published_at, id FROM content WHERE deleted_at IS NULL ORDER BY "
                "coalesce(published_at, '-infinity') DESC, id DESC OFFSET :n LIMIT 1"),
                {"n": depth}).one()
            print("deep_page_query_ms="
                  f"{timed(lambda: list_content_page(s, CatalogFilter(), tuple(deep), 200)):.2f}")
            query_times = []
            for q in searches:
                ms = timed(lambda q=q: list_content_page(s, CatalogFilter(search=q), None, 200),
                           repeat=3)
                query_times.append(ms)
                print(f"search_query_ms_{q.replace(' ', '_').replace('-', '_')}={ms:.1f}")
            print(f"search_query_ms_median={statistics.median(query_times):.1f}")
            print(f"search_query_ms_max={max(query_times):.1f}")
            filters = {
                "category": CatalogFilter(category="sleep"),
                "status_draft": CatalogFilter(status="draft"),
                "type_visibility": CatalogFilter(content_type="audio", visibility="private"),
                "series": CatalogFilter(series_id=s.execute(text(
                    "SELECT id FROM content_series ORDER BY slug LIMIT 1")).scalar()),
                "deleted_only": CatalogFilter(deleted="deleted"),
                "category_by_price": CatalogFilter(category="yoga", sort="price"),
            }
            for name, flt in filters.items():
                ms = timed(lambda flt=flt: list_content_page(s, flt, None, 200), repeat=3)
                print(f"filter_query_ms_{name}={ms:.1f}")
            print(f"count_ms={timed(lambda: count_content(s, CatalogFilter()), repeat=3):.1f}")

        runner = OperationRunner()
        database = Database(Backend(engine, sf, connection_info(engine), "bench"), runner)
        t = time.perf_counter()
        page = CatalogPage(database)
        page.resize(1500, 900)
        page.show()
        wait_until(lambda: page.model.rowCount() > 0)
        print(f"first_rows_ms={(time.perf_counter() - t) * 1000:.1f}")
        wait_until(lambda: runner.active_count == 0)
        refreshes = []
        for _ in range(5):
            t = time.perf_counter()
            page.refresh()
            wait_until(lambda: page.model.rowCount() > 0)
            refreshes.append((time.perf_counter() - t) * 1000)
            wait_until(lambda: runner.active_count == 0)
        print(f"page_refresh_first_rows_ms={statistics.median(refreshes):.1f}")

        page_searches = []
        for term in searches:
            t = time.perf_counter()
            page.search.setText(term)
            page.refresh()
            wait_until(lambda: not page.model.is_loading)
            page_searches.append((time.perf_counter() - t) * 1000)
            wait_until(lambda: runner.active_count == 0)
        print(f"page_search_ms_median={statistics.median(page_searches):.1f}")
        print(f"page_search_ms_max={max(page_searches):.1f}")
        runner.wait_for_done(30_000)
        page.close()
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
