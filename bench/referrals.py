"""Referral rewards benchmark: the referrals list's first rows (unfiltered, by state, by
referrer), the fraud scan and the counters' check, on generated data.

    python bench/referrals.py --users 100000 --referrals 50000
    python bench/referrals.py --users 1000000 --referrals 500000

Builds its own embedded PostgreSQL; users, codes (one holder in ten) and referrals are made
by SQL (``generate_series``), every referred user distinct, a few planted cases of each
fraud signal. Prints one ``name=value`` per line.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import text

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from data.queries.referrals import ReferralFilter, list_referrals_page
from data.services.referral_fraud import count_mismatches, find_signals

BUILD = [
    """INSERT INTO users (id, email, password_hash, full_name, role, created_at)
       SELECT gen_random_uuid(), 'user' || i || '@example.com', 'x', 'User Number' || i,
              'customer', timestamp '2023-01-01' + i * interval '1 minute'
       FROM generate_series(1, :users) i""",
    """CREATE TEMP TABLE numbered AS
       SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM users""",
    "CREATE INDEX ON numbered (n)",
    """INSERT INTO referral_codes (user_id, code, created_at)
       SELECT id, 'CODE' || n, timestamp '2022-12-01' FROM numbered WHERE n % 10 = 1""",
    # Referrals: user k (not a holder) referred by the holder just below it, in a mix of
    # states; referred_at a day after the user was made.
    """INSERT INTO referrals (referrer_id, referred_id, referral_code, referred_at, status,
                             reward_claimed)
       SELECT h.id, u.id, 'CODE' || h.n,
              timestamp '2023-01-02' + u.n * interval '1 minute'
              + (u.n % 10) * interval '2 days',
              (ARRAY['pending', 'qualified', 'rewarded'])[1 + u.n % 3], u.n % 3 = 2
       FROM numbered u JOIN numbered h ON h.n = ((u.n - 1) / 10) * 10 + 1
       WHERE u.n % 10 <> 1 AND u.n <= :referred_upto""",
    """UPDATE users SET referral_count = c.n FROM (
           SELECT referrer_id, count(*) AS n FROM referrals GROUP BY referrer_id) c
       WHERE users.id = c.referrer_id""",
    """UPDATE users SET was_referred = true, referred_by = r.referrer_id
       FROM referrals r WHERE r.referred_id = users.id""",
]


def median_ms(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=50_000)
    args = parser.parse_args()
    # 9 referred users per 10 (one in ten holds the code): the first ``upto`` users give
    # about ``--referrals`` referrals.
    upto = min(args.users, args.referrals * 10 // 9)
    server = EmbeddedPostgres.start()
    try:
        engine = make_engine(server.url())
        migrate.upgrade(engine)
        t = time.perf_counter()
        with engine.begin() as conn:
            for statement in BUILD:
                conn.execute(text(statement), {"users": args.users, "referred_upto": upto})
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            referrals = conn.execute(text("SELECT count(*) FROM referrals")).scalar_one()
        print(f"users={args.users}")
        print(f"referrals={referrals}")
        print(f"build_s={time.perf_counter() - t:.1f}")
        factory = make_session_factory(engine)
        with factory() as s:
            referrer = s.execute(text("SELECT referrer_id FROM referrals "
                                      "ORDER BY referred_at DESC LIMIT 1")).scalar_one()
            for name, flt in (("first_rows_ms", ReferralFilter()),
                              ("first_rows_pending_ms", ReferralFilter(status="pending")),
                              ("first_rows_referrer_ms", ReferralFilter(referrer=referrer)),
                              ("first_rows_flagged_ms", ReferralFilter(status="flagged"))):
                print(f"{name}={median_ms(lambda f=flt: list_referrals_page(s, f, None, 200)):.1f}")
            rows, cursor = list_referrals_page(s, ReferralFilter(), None, 200)
            print(f"next_page_ms={median_ms(lambda: list_referrals_page(s, ReferralFilter(), cursor, 200)):.1f}")
            t = time.perf_counter()
            signals = find_signals(s)
            print(f"fraud_scan_s={time.perf_counter() - t:.2f}")
            print(f"fraud_signals={len(signals)}")
            t = time.perf_counter()
            mismatches = count_mismatches(s)
            print(f"referrals_check_s={time.perf_counter() - t:.2f}")
            print(f"mismatches={len(mismatches)}")
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
