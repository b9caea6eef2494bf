"""Refunds through the whole safe flow against localstripe, and the demo's start-up cost.

    python bench/refunds.py --refunds 100 --demo-payments 100

Starts its own embedded PostgreSQL and localstripe, migrates, creates ``--refunds`` paid
purchases (real PaymentIntents) and refunds each through
:func:`data.services.refunds.submit_refund` (record + commit, Stripe call, result + effects),
one after another as the serial worker would. Then times making ``--demo-payments``
PaymentIntents as the demo start-up does (localstripe rewrites its state file after every
change, so this grows faster than linearly). Prints one ``name=value`` per line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from data import migrate  # noqa: E402
from data.db import make_engine, make_session_factory  # noqa: E402
from data.embedded import EmbeddedPostgres  # noqa: E402
from data.payments import LocalStripe, StripeGateway  # noqa: E402
from data.services.refunds import load_refundable, submit_refund, validate_refund  # noqa: E402
from tests.data.payment_factories import insert_paid_purchase  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refunds", type=int, default=100)
    parser.add_argument("--demo-payments", type=int, default=100)
    args = parser.parse_args()
    server = EmbeddedPostgres.start()
    local = LocalStripe.start()
    engine = make_engine(server.url())
    try:
        migrate.upgrade(engine)
        factory = make_session_factory(engine)
        gateway = StripeGateway(local.config())
        purchases = [insert_paid_purchase(factory, gateway, "30.00")
                     for _ in range(args.refunds)]
        latencies = []
        start = time.perf_counter()
        for purchase_id in purchases:
            t = time.perf_counter()
            with factory() as s:
                refundable = load_refundable(s, "purchase", purchase_id)
            clean = validate_refund(refundable, "30.00", "duplicate", None)
            outcome = submit_refund(factory, gateway, "bench", "purchase", purchase_id, clean,
                                    uuid.uuid4())
            assert outcome.status == "succeeded", outcome
            latencies.append(time.perf_counter() - t)
        total = time.perf_counter() - start
        print(f"refunds={args.refunds}")
        print(f"refunds_per_second={args.refunds / total:.1f}")
        print(f"refund_ms_p50={statistics.median(latencies) * 1000:.1f}")
        print(f"refund_ms_max={max(latencies) * 1000:.1f}")
        fresh = LocalStripe.start()
        try:
            demo_gateway = StripeGateway(fresh.config())
            t = time.perf_counter()
            for _ in range(args.demo_payments):
                demo_gateway.create_payment_intent(1000)
            print(f"demo_payment_intents={args.demo_payments}")
            print(f"demo_payment_intents_seconds={time.perf_counter() - t:.2f}")
        finally:
            fresh.stop()
    finally:
        engine.dispose()
        local.stop()
        server.stop()


if __name__ == "__main__":
    main()
