"""Where a token adjustment's time goes: the Python client, the database, or a wait.

    python bench/adjustment_costs.py [--adjustments 1000] [--threads 8]

Complements bench/audit_adjustments.py (which prints the definer ÷ floor ratio) with the
figures that say which side to make cheaper. Starts its own embedded PostgreSQL, migrates
it, runs ``db roles`` and creates a support login, then prints, for the definer path
(the app's ``AdjustBalance`` operation on a Core connection, i.e.
:func:`data.services.credits.adjust_balance` through ``admin.adjust_tokens``) and the
bare-SQL floor (bench/adjustment_load.py):

- ``client_cpu_us_per_adjustment_*``: CPU of this Python process per adjustment, one thread
  (median of ``--repeat``). Under contention the bench's threads share one GIL, so this is the
  most the client side can do per second on one core;
- ``backend_cpu_us_per_adjustment_*``: CPU of one server backend per adjustment when the same
  statements run in a ``DO`` loop that commits after each one (no client, no round trips;
  read from ``/proc``, so Linux only);
- ``*_backend_wait_pct_<event>``: under ``--threads``-way contention (one customer per
  thread, as the ratio's ``own`` layout), what the bench's backends were doing, sampled from
  ``pg_stat_activity`` every 5 ms: ``Client:ClientRead`` is waiting for the Python client,
  ``cpu`` running, ``Lock:object`` waiting for the NOTIFY-at-commit lock (PostgreSQL
  serialises the commits of every transaction that sent a NOTIFY).

CPU times are less sensitive to a loaded machine than rates, but still move with it (shared
caches and cores): compare the two halves of one run, and say the load average.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import threading
import time
import uuid

import psycopg
from adjustment_load import contend, floor_worker, service_worker
from audit_adjustments import SUPPORT_LOGIN, new_customer

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.roles import SUPPORT_GROUP, apply_roles

_DEFINER_LOOP = """
DO $$ BEGIN FOR i IN 1..{n} LOOP
    PERFORM * FROM admin.adjust_tokens(gen_random_uuid(), '{customer}',
                                       CASE WHEN i % 2 = 0 THEN 3 ELSE -2 END, 'bench',
                                       gen_random_uuid());
    COMMIT;
END LOOP; END $$"""
_FLOOR_LOOP = """
DO $$ DECLARE after integer; amt integer; BEGIN FOR i IN 1..{n} LOOP
    amt := CASE WHEN i % 2 = 0 THEN 3 ELSE -2 END;
    UPDATE credit_balances
    SET current_balance = current_balance + amt,
        lifetime_earned = lifetime_earned + greatest(amt, 0),
        lifetime_spent = lifetime_spent + greatest(-amt, 0), updated_at = clock_timestamp()
    WHERE customer_id = '{customer}' RETURNING current_balance INTO after;
    INSERT INTO credit_transactions (customer_id, type, amount, balance_after, description,
                                     created_at)
    VALUES ('{customer}', 'adjustment', amt, after, 'bench', clock_timestamp());
    COMMIT;
END LOOP; END $$"""
_SAMPLE = """
SELECT state, wait_event_type, wait_event FROM pg_stat_activity
WHERE application_name IN ('bench-costs', 'bench-costs-owner') AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
"""


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu_us(dsn: str, loop: str, customer: uuid.UUID, n: int) -> float:
    """CPU of one backend per adjustment, ``n`` adjustments committed one by one."""
    with psycopg.connect(dsn, autocommit=True, application_name="bench-costs-loop") as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        conn.execute(loop.format(n=20, customer=customer))  # warm the caches
        began = _process_cpu(row[0])
        conn.execute(loop.format(n=n, customer=customer))
        return (_process_cpu(row[0]) - began) / n * 1e6


def client_cpu_us(run, n: int) -> float:
    began = time.process_time()
    run(n)
    return (time.process_time() - began) / n * 1e6


def sampled_waits(dsn: str, jobs) -> tuple[float, dict[str, int]]:
    """Run ``jobs`` at once; seconds taken and the backends' states, in % of samples."""
    seen: collections.Counter[str] = collections.Counter()
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                for state, kind, event in conn.execute(_SAMPLE):
                    seen[f"{kind}:{event}" if kind else
                         ("cpu" if state == "active" else str(state).replace(" ", "_"))] += 1
                time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        seconds = contend(jobs)
    finally:
        stop.set()
        sampler.join()
    total = sum(seen.values()) or 1
    return seconds, {k: round(100 * v / total) for k, v in seen.most_common(4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--adjustments", type=int, default=1000, help="per measurement")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    server = EmbeddedPostgres.start()
    dsn = server.libpq_dsn()
    owner = make_engine(server.url(), pool_size=args.threads + 1,
                        application_name="bench-costs-owner")
    support = None
    try:
        migrate.upgrade(owner)
        with owner.begin() as conn:
            apply_roles(conn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {SUPPORT_LOGIN} LOGIN IN ROLE {SUPPORT_GROUP}")
        support = make_engine(server.url().set(username=SUPPORT_LOGIN),
                              pool_size=args.threads + 1, application_name="bench-costs")
        owner_factory, support_factory = make_session_factory(owner), make_session_factory(support)
        mine, theirs = new_customer(owner, owner_factory), new_customer(owner, owner_factory)
        runs = {
            "definer": lambda n: service_worker(support_factory, "bench", mine, n),
            "floor": lambda n: floor_worker(owner, theirs, n),
        }
        for run in runs.values():
            run(50)
        print(f"load_average={os.getloadavg()[0]:.1f}")
        for kind, run in runs.items():
            cpu = statistics.median(client_cpu_us(run, args.adjustments)
                                    for _ in range(args.repeat))
            print(f"client_cpu_us_per_adjustment_{kind}={cpu:.0f}")
        for kind, loop in (("definer", _DEFINER_LOOP), ("floor", _FLOOR_LOOP)):
            cpu = statistics.median(backend_cpu_us(dsn, loop, mine, args.adjustments)
                                    for _ in range(args.repeat))
            print(f"backend_cpu_us_per_adjustment_{kind}={cpu:.0f}")
        per_thread = max(args.adjustments // 4, 50)
        for kind in ("definer", "floor"):
            customers = [new_customer(owner, owner_factory) for _ in range(args.threads)]
            if kind == "definer":
                jobs = [(service_worker, (support_factory, "bench", c, per_thread))
                        for c in customers]
            else:
                jobs = [(floor_worker, (owner, c, per_thread)) for c in customers]
            seconds, waits = sampled_waits(dsn, jobs)
            print(f"{kind}_adjustments_per_second={args.threads * per_thread / seconds:.0f}")
            for event, pct in waits.items():
                print(f"{kind}_backend_wait_pct_{event}={pct}")
        print(f"load_average={os.getloadavg()[0]:.1f}")
    finally:
        if support is not None:
            support.dispose()
        owner.dispose()
        server.stop()


if __name__ == "__main__":
    main()
