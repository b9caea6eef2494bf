"""Demo payments: turn the demo's card payments into real PaymentIntents on a test Stripe.

The demo data invents ``pi_demo_…`` ids; this creates a confirmed card PaymentIntent (test
card ``pm_card_visa``) for each of the most recent completed purchases and card-paid
bookings, with their amount, and writes its id back, so refunds in the demo go through the
same code path as in production. Only a test-mode gateway is accepted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from data.payments.gateway import StripeGateway, to_minor_units

DEMO_REAL_PAYMENTS = 60
DEMO_REAL_BOOKINGS = 40
"""How many recent purchases and card bookings the demo makes real. localstripe rewrites its
whole state file after every change, so each payment costs more than the last: 600 took 52 s,
100 take about 2 s. Older demo payments keep their made-up ``pi_demo_`` ids, which the
refund service refuses up front."""


@dataclass(frozen=True)
class RealPayments:
    purchases: int
    bookings: int
    seconds: float


_RECENT_PURCHASES = text("""
SELECT id, amount_paid, currency FROM purchases
WHERE status = 'completed' AND amount_paid > 0 AND stripe_payment_intent_id LIKE 'pi_demo_%'
ORDER BY coalesce(purchased_at, created_at) DESC, id DESC
LIMIT :n
""")

_RECENT_BOOKINGS = text("""
SELECT id, amount_paid, 'usd' FROM offering_bookings
WHERE payment_method = 'purchase' AND amount_paid > 0 AND status <> 'canceled'
  AND (stripe_payment_intent_id IS NULL OR stripe_payment_intent_id LIKE 'pi_demo_%')
ORDER BY created_at DESC, id DESC
LIMIT :n
""")


def make_payments_real(
    session_factory: sessionmaker[Session],
    gateway: StripeGateway,
    *,
    purchases: int = DEMO_REAL_PAYMENTS,
    bookings: int | None = None,
    workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> RealPayments:
    """Create PaymentIntents for the ``purchases`` most recent completed purchases and the
    ``bookings`` (default: as many) most recent card-paid bookings; store their ids. Once
    ``cancelled()`` says so (the app is closing), no more are created: those made are
    stored, the others keep their made-up ids."""
    if not gateway.config.is_test_mode:
        raise ValueError("make_payments_real only runs against a test-mode Stripe key")
    start = time.monotonic()
    bookings = purchases if bookings is None else bookings
    with session_factory() as session:
        todo = [("purchases", *r) for r in session.execute(_RECENT_PURCHASES,
                                                          {"n": purchases}).all()]
        todo += [("offering_bookings", *r) for r in session.execute(_RECENT_BOOKINGS,
                                                                   {"n": bookings}).all()]
    done = 0

    def create(item):
        table, row_id, amount, currency = item
        if cancelled is not None and cancelled():
            return None
        return table, row_id, gateway.create_payment_intent(
            to_minor_units(amount, currency), currency,
            metadata={"table": table, "id": str(row_id), "demo": "true"},
        )

    results = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(create, todo):
            if result is not None:
                results.append(result)
            done += 1
            if progress is not None and (done % 25 == 0 or done == len(todo)):
                progress(done, len(todo))
    with session_factory.begin() as session:
        for table in ("purchases", "offering_bookings"):
            rows = [{"id": r, "pi": pi} for t, r, pi in results if t == table]
            if rows:
                session.execute(
                    text(f"UPDATE {table} SET stripe_payment_intent_id = :pi WHERE id = :id"),
                    rows)
    counts = {t: sum(1 for r in results if r[0] == t) for t in ("purchases", "offering_bookings")}
    return RealPayments(counts["purchases"], counts["offering_bookings"],
                        time.monotonic() - start)
