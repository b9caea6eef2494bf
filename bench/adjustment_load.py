"""What the token-adjustment benches share: the bare-SQL floor, a customer to adjust, the
amounts, the workers and the contention harness (bench/ledger.py, bench/audit_adjustments.py).
"""

from __future__ import annotations

import threading
import time
import uuid

from sqlalchemy import text

from data.operations import run_in_transaction
from data.operations.credits import AdjustBalance

_FLOOR_UPDATE = text("""
UPDATE credit_balances
SET current_balance = current_balance + :amount,
    lifetime_earned = lifetime_earned + :earned,
    lifetime_spent = lifetime_spent + :spent,
    updated_at = clock_timestamp()
WHERE customer_id = :customer_id
RETURNING current_balance
""")
_FLOOR_INSERT = text("""
INSERT INTO credit_transactions (customer_id, type, amount, balance_after, description,
                                 created_at)
VALUES (:customer_id, 'adjustment', :amount, :balance_after, 'bench', clock_timestamp())
""")


def insert_customer(engine) -> uuid.UUID:
    """A new customer (no balance yet)."""
    customer_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, email, password_hash, full_name, role) "
            "VALUES (:id, :email, 'x', 'Bench Customer', 'customer')"),
            {"id": customer_id, "email": f"bench-{customer_id}@example.com"})
    return customer_id


def amounts(n: int) -> list[int]:
    """+3, -2, +3, -2, …: each thread drifts up, so the balance never nears zero."""
    return [3 if i % 2 == 0 else -2 for i in range(n)]


def service_worker(factory, actor: str, customer_id, n: int) -> None:
    """``n`` adjustments as the app makes them (the token adjustment dialog's
    ``AdjustBalance``, run by the write worker's :func:`run_in_transaction`), one
    transaction each."""
    for amount in amounts(n):
        run_in_transaction(AdjustBalance(customer_id, amount, "bench", uuid.uuid4()),
                           factory, actor)


def floor_worker(engine, customer_id, n: int) -> None:
    """``n`` adjustments as bare SQL: the least any correct adjustment must do."""
    for amount in amounts(n):
        with engine.begin() as conn:
            after = conn.execute(_FLOOR_UPDATE, {
                "customer_id": customer_id, "amount": amount,
                "earned": max(amount, 0), "spent": max(-amount, 0),
            }).scalar_one()
            conn.execute(_FLOOR_INSERT, {"customer_id": customer_id, "amount": amount,
                                         "balance_after": after})


def contend(jobs) -> float:
    """Run each ``(target, args)`` on its own thread at once; seconds until all are done."""
    barrier = threading.Barrier(len(jobs) + 1)
    errors: list[BaseException] = []

    def run(target, args) -> None:
        barrier.wait()
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    workers = [threading.Thread(target=run, args=job) for job in jobs]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed
