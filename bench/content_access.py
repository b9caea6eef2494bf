"""The Access tab of one popular item: keyset pages and the counts per reason.

    python bench/content_access.py --grants 1000000

Starts its own embedded PostgreSQL, migrates, creates ``--grants`` users who all have
access to one item (granted over a year, mixed reasons), then times what the Access tab
runs: the first page, a page 90% deep, and the summary counts. ``--without-index`` drops
``ix_admin_content_access_content_granted`` first (migration 0007) to show what it buys.
Prints one ``name=value`` per line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1]))

from data import migrate  # noqa: E402
from data.db import make_engine, make_session_factory  # noqa: E402
from data.embedded import EmbeddedPostgres  # noqa: E402
from data.queries.content_access import access_summary, list_access_page  # noqa: E402
from tests.data.series_factories import insert_content, insert_creator  # noqa: E402

PAGE = 200


def _fill(engine, grants: int):
    creator = insert_creator(engine)
    item = insert_content(engine, creator, title="Popular item")
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO users (email, password_hash, full_name, role)
            SELECT 'fan' || n || '@example.com', 'x', 'Fan ' || n, 'customer'
            FROM generate_series(1, :n) AS n"""), {"n": grants})
        conn.execute(text("""
            INSERT INTO content_access (user_id, content_id, access_type, granted_at)
            SELECT u.id, :item,
                   (ARRAY['purchased', 'subscription', 'complimentary', 'preview'])
                     [1 + (abs(hashtext(u.email)) % 4)],
                   timestamp '2025-01-01' + (abs(hashtext(u.email || 'g')) % 31536000)
                     * interval '1 second'
            FROM users u WHERE u.email LIKE 'fan%'"""), {"item": item})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE content_access"))
        conn.execute(text("VACUUM ANALYZE users"))
    return item


def _time(fn, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--without-index", action="store_true")
    args = parser.parse_args()
    server = EmbeddedPostgres.start()
    engine = make_engine(server.url())
    try:
        migrate.upgrade(engine)
        t = time.perf_counter()
        item = _fill(engine, args.grants)
        print(f"grants={args.grants}")
        print(f"setup_seconds={time.perf_counter() - t:.1f}")
        if args.without_index:
            with engine.begin() as conn:
                conn.execute(text("DROP INDEX ix_admin_content_access_content_granted"))
        print(f"index={'dropped' if args.without_index else 'ix_admin_content_access_content_granted'}")
        factory = make_session_factory(engine)
        with factory() as s:
            print(f"first_page_ms={_time(lambda: list_access_page(s, item, cursor=None, limit=PAGE)):.1f}")
            deep = s.execute(text(
                "SELECT granted_at, id FROM content_access WHERE content_id = :i "
                "ORDER BY granted_at DESC, id DESC OFFSET :o LIMIT 1"),
                {"i": item, "o": int(args.grants * 0.9)}).one()
            print(f"page_90pct_deep_ms="
                  f"{_time(lambda: list_access_page(s, item, cursor=tuple(deep), limit=PAGE)):.1f}")
            print(f"summary_counts_ms={_time(lambda: access_summary(s, item), repeat=3):.1f}")
    finally:
        engine.dispose()
        server.stop()


if __name__ == "__main__":
    main()
