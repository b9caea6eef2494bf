"""Token adjustments under contention: the service against the bare-SQL floor.

    python bench/ledger.py --threads 8 --adjustments 500

Starts its own embedded PostgreSQL, migrates it, creates one customer per measurement and
has ``--threads`` connections each make ``--adjustments`` adjustments on that one balance
(mixed signs that never cross zero), with real commits. Measured twice:

- ``service``: :func:`data.services.credits.adjust_balance` in ``session_factory.begin()``
  (request id claimed, row lock, ledger row, balance, request row and audit record);
- ``floor``: a bare ``UPDATE credit_balances … RETURNING`` plus the ledger ``INSERT``, in
  SQL on a Core connection of the same engine: the least any correct adjustment must do.

Prints one ``name=value`` per line; the rates are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import uuid

from adjustment_load import contend, floor_worker, insert_customer, service_worker
from sqlalchemy import event

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.ledger_health import check_ledger
from data.services.credits import adjust_balance

ACTOR = "bench"



def measure(engine, factory, kind: str, threads: int, n: int) -> float:
    customer_id = insert_customer(engine)
    with factory.begin() as session:  # the starting balance, through the service
        adjust_balance(session, ACTOR, customer_id, 1_000, "opening balance", uuid.uuid4())
    if kind == "service":
        elapsed = contend([(service_worker, (factory, ACTOR, customer_id, n))] * threads)
    else:
        elapsed = contend([(floor_worker, (engine, customer_id, n))] * threads)
    return threads * n / elapsed


def statements_per_adjustment(engine, factory) -> int:
    customer_id = insert_customer(engine)
    with factory.begin() as session:
        adjust_balance(session, ACTOR, customer_id, 5, "warm up", uuid.uuid4())
    count = 0

    def on_execute(*_args) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        with factory.begin() as session:
            adjust_balance(session, ACTOR, customer_id, 5, "counted", uuid.uuid4())
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--adjustments", type=int, default=500, help="per thread")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    server = EmbeddedPostgres.start()
    engine = make_engine(server.url(), pool_size=args.threads + 1,
                         application_name="bench-ledger")
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        for kind in ("service", "floor"):  # warm up both paths and the caches
            measure(engine, factory, kind, args.threads, 20)
        rates: dict[str, list[float]] = {"service": [], "floor": []}
        for _ in range(args.repeat):
            for kind in ("floor", "service"):
                rates[kind].append(measure(engine, factory, kind, args.threads,
                                           args.adjustments))
        service, floor = max(rates["service"]), max(rates["floor"])
        with factory() as session:
            mismatches = check_ledger(session)
        print(f"threads={args.threads}")
        print(f"adjustments_per_thread={args.adjustments}")
        print(f"service_adjustments_per_second={service:.0f}")
        print(f"floor_adjustments_per_second={floor:.0f}")
        print(f"service_vs_floor_ratio={service / floor:.2f}")
        print(f"service_sql_statements_per_adjustment={statements_per_adjustment(engine, factory)}")
        print(f"ledger_mismatches={len(mismatches)}")
    finally:
        engine.dispose()
        server.stop()


if __name__ == "__main__":
    main()
