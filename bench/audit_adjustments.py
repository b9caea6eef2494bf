"""Token adjustments through the definer function, as a support login, against a bare-SQL floor.

    python bench/audit_adjustments.py --threads 8 --adjustments 300

Starts its own embedded PostgreSQL, migrates it, runs ``db roles`` and creates a login in
``platform_admin_support``. ``--threads`` connections each make ``--adjustments`` adjustments
(mixed signs that never cross zero), with real commits, in two layouts:

- ``shared``: every thread on one customer's balance (they queue on its row lock anyway);
- ``own``: each thread on a customer of its own (only the audit chain's head is shared: every
  audited transaction holds it from its audit insert to its commit).

Measured each way:

- ``definer``: the app's ``AdjustBalance`` operation as its write worker runs it (on a Core
  connection, :func:`data.operations.run_in_transaction`) as the support login, i.e. one
  ``admin.adjust_tokens`` call (lock, claim, ledger, balance, request row, chained audit row);
- ``floor``: a bare ``UPDATE credit_balances … RETURNING`` plus the ledger ``INSERT`` in SQL,
  as the owner: the least any correct adjustment must do (no request id, no audit).

Prints one ``name=value`` per line; the rates are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import uuid

import psycopg
from adjustment_load import contend, floor_worker, insert_customer, service_worker

from data import migrate
from data.audit_chain import verify_chain
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.ledger_health import check_ledger
from data.roles import SUPPORT_GROUP, apply_roles
from data.services.credits import adjust_balance

SUPPORT_LOGIN = "bench_support"



def new_customer(owner, factory) -> uuid.UUID:
    """A customer with an opening balance of 1,000 tokens."""
    customer_id = insert_customer(owner)
    with factory.begin() as session:
        adjust_balance(session, "bench", customer_id, 1_000, "opening balance", uuid.uuid4())
    return customer_id


def measure(owner, owner_factory, support_factory, kind: str, layout: str, threads: int,
            n: int) -> float:
    shared = new_customer(owner, owner_factory)
    customers = [shared if layout == "shared" else new_customer(owner, owner_factory)
                 for _ in range(threads)]
    if kind == "definer":
        jobs = [(service_worker, (support_factory, "bench", c, n)) for c in customers]
    else:
        jobs = [(floor_worker, (owner, c, n)) for c in customers]
    return threads * n / contend(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--adjustments", type=int, default=300, help="per thread")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    server = EmbeddedPostgres.start()
    owner = make_engine(server.url(), pool_size=args.threads + 1,
                        application_name="bench-audit-owner")
    support = None
    try:
        migrate.upgrade(owner)
        with owner.begin() as conn:
            apply_roles(conn)
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {SUPPORT_LOGIN} LOGIN IN ROLE {SUPPORT_GROUP}")
        support = make_engine(server.url().set(username=SUPPORT_LOGIN),
                              pool_size=args.threads + 1, application_name="bench-audit")
        owner_factory, support_factory = make_session_factory(owner), make_session_factory(support)
        for layout in ("shared", "own"):
            for kind in ("definer", "floor"):  # warm up both paths and the caches
                measure(owner, owner_factory, support_factory, kind, layout, args.threads, 20)
        print(f"threads={args.threads}")
        print(f"adjustments_per_thread={args.adjustments}")
        for layout in ("shared", "own"):
            rates: dict[str, list[float]] = {"definer": [], "floor": []}
            for _ in range(args.repeat):
                for kind in ("floor", "definer"):
                    rates[kind].append(measure(owner, owner_factory, support_factory, kind,
                                               layout, args.threads, args.adjustments))
            definer, floor = max(rates["definer"]), max(rates["floor"])
            print(f"{layout}_definer_adjustments_per_second={definer:.0f}")
            print(f"{layout}_floor_adjustments_per_second={floor:.0f}")
            print(f"{layout}_definer_vs_floor_ratio={definer / floor:.2f}")
        with owner_factory() as session:
            print(f"ledger_mismatches={len(check_ledger(session))}")
            print(f"audit_chain_intact={verify_chain(session).intact}")
    finally:
        if support is not None:
            support.dispose()
        owner.dispose()
        server.stop()


if __name__ == "__main__":
    main()
