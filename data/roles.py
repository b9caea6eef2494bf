"""``db roles``: the staff group roles and what each may do, as idempotent SQL.

PostgreSQL, not the app, decides what a staff login may do. Each staff member logs in as
themselves and is a member of one group:

- ``platform_admin_owner``: the catalog (content, series), subscription tiers, offerings,
  referral rewards and platform settings (featured content); reads everything;
- ``platform_admin_support``: profile fixes (name, email, bio, picture: by column, never
  ``password_hash`` or ``role``), token adjustments and bulk grants (only through the money
  functions: no write right on the balances, the ledger or the request tables), refunds
  (only through the refund functions: no write right on ``admin.refund_requests`` or
  ``purchases``), bookings and content access; reads everything else;
- ``platform_admin_founder``: reads only (revenue included).

``platform_admin_audit_owner`` (NOLOGIN) owns the audit table and its chain heads. No staff
group may UPDATE, DELETE, TRUNCATE or INSERT into the audit table: staff write audit rows
through ``admin.record_audit`` and the money functions, whose trigger-chained rows name the
session user.

Every statement is idempotent (``CREATE ROLE`` only when missing; GRANT and REVOKE repeat
harmlessly), so applying twice is the same as once.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from data.services.audit import RECORD_AUDIT
from data.services.credits import BOOKING_CREDIT_FUNCTIONS, MONEY_FUNCTIONS
from data.services.period_credits import PERIOD_CREDIT_FUNCTIONS
from data.services.referral_grants import GRANT_FUNCTIONS as REFERRAL_GRANT_FUNCTIONS
from data.services.refunds import REFUND_FUNCTIONS
from data.services.revenue_rollup import ROLLUP_FIRST_DAY, ROLLUP_REFRESH

AUDIT_OWNER = "platform_admin_audit_owner"
OWNER_GROUP = "platform_admin_owner"
SUPPORT_GROUP = "platform_admin_support"
FOUNDER_GROUP = "platform_admin_founder"
STAFF_GROUPS = (OWNER_GROUP, SUPPORT_GROUP, FOUNDER_GROUP)

SUPPORT_USER_COLUMNS = ("full_name", "email", "bio", "profile_image_url", "updated_at")
"""The columns of ``users`` support may change (a profile fix), and nothing else."""
REFERRAL_USER_COLUMNS = ("referral_count", "was_referred", "referred_by")
"""The referral counters of ``users`` support may correct (``referrals check``)."""

OWNER_WRITES: dict[str, str] = {
    "content": "INSERT, UPDATE",
    "content_series": "INSERT, UPDATE, DELETE",
    "subscription_tiers": "INSERT, UPDATE, DELETE",  # delete: only a never-used tier
    "admin.tier_prices": "INSERT, DELETE",
    "offerings": "INSERT, UPDATE",
    "offering_resources": "INSERT, UPDATE, DELETE",
    "referral_rewards": "INSERT, UPDATE, DELETE",
    "referral_codes": "INSERT, UPDATE",
    "platform_settings": "INSERT, UPDATE",
}
"""Tables the owners write directly (not yet through audited functions), and how."""

SUPPORT_WRITES: dict[str, str] = {
    "admin.subscription_requests": "INSERT, UPDATE",
    "subscriptions": "UPDATE",  # from Stripe's answer to a cancel or resume
    "offering_bookings": "INSERT, UPDATE",
    "offerings": "UPDATE",
    "content_access": "INSERT, UPDATE, DELETE",
    "offering_portal_access": "INSERT, UPDATE, DELETE",
    # The referral program (support settles disputes): codes, moves, reviews (grants only
    # through admin.record_referral_grant).
    "referral_codes": "INSERT, UPDATE",
    "referrals": "UPDATE",
    "admin.referral_voids": "INSERT",
    "admin.referral_flags": "INSERT, UPDATE",
}
"""Tables support writes directly (bookings, content access; not yet through audited
functions), and how. Token money and refund requests are not here: only the functions
write them."""

THROUGH_FUNCTIONS_ONLY: dict[str, str] = {
    "admin.refund_requests": "INSERT, UPDATE, DELETE, TRUNCATE",
    "purchases": "INSERT, UPDATE, DELETE, TRUNCATE",
    "user_referral_rewards": "INSERT, UPDATE, DELETE, TRUNCATE",
    "admin.referral_grants": "INSERT, UPDATE, DELETE, TRUNCATE",
}
"""Tables earlier versions of ``db roles`` let staff write that only the definer functions
write now: the rights are revoked from every staff group (a database set up before keeps
none of them)."""

AUDIT_TABLES = ("admin.audit_log", "admin.audit_chains", "admin.audit_archives",
                "admin.audit_archive_links")


def _create_role(name: str) -> str:
    return (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
            f"THEN CREATE ROLE {name} NOLOGIN; END IF; END $$")


# The audit table to its NOLOGIN owner (migration 0009 does this when the migrating login may
# create roles; here for when it could not). Whoever owns the money functions (and the table's
# previous owner) keeps SELECT and INSERT: those functions write audit rows with their owner's
# rights. Granted after the hand-over: ALTER OWNER turns the old owner's grants into the new
# owner's.
_HAND_OVER_AUDIT = f"""
DO $$
DECLARE
    writers name[];
    writer name;
    part regclass;
BEGIN
    SELECT array_agg(DISTINCT w) INTO writers FROM (
        SELECT pg_get_userbyid(p.proowner) FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'admin' AND p.prosecdef
        UNION SELECT pg_get_userbyid(c.relowner) FROM pg_class c
        WHERE c.oid = 'admin.audit_log'::regclass) AS o(w)
    WHERE w <> '{AUDIT_OWNER}';
    GRANT USAGE ON SCHEMA admin TO {AUDIT_OWNER};
    ALTER TABLE admin.audit_log OWNER TO {AUDIT_OWNER};
    ALTER TABLE admin.audit_chains OWNER TO {AUDIT_OWNER};
    ALTER FUNCTION admin.audit_log_chain() OWNER TO {AUDIT_OWNER};
    -- The monthly partitions, the retention's records and the functions that make and
    -- detach partitions (migration 0023): the audit owner's too, so no staff login owns one.
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = 'admin.audit_log'::regclass LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO {AUDIT_OWNER}', part);
    END LOOP;
    IF to_regclass('admin.audit_archives') IS NOT NULL THEN
        ALTER TABLE admin.audit_archives OWNER TO {AUDIT_OWNER};
        ALTER TABLE admin.audit_archive_links OWNER TO {AUDIT_OWNER};
        ALTER FUNCTION admin.audit_add_partitions(integer) OWNER TO {AUDIT_OWNER};
        ALTER FUNCTION admin.audit_detach_partitions(integer) OWNER TO {AUDIT_OWNER};
        GRANT CREATE ON SCHEMA admin TO {AUDIT_OWNER};
        FOREACH writer IN ARRAY coalesce(writers, '{{}}') LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION admin.audit_add_partitions(integer) '
                           'TO %I', writer);
            EXECUTE format('GRANT SELECT ON admin.audit_archives, admin.audit_archive_links '
                           'TO %I', writer);
        END LOOP;
    END IF;
    FOREACH writer IN ARRAY coalesce(writers, '{{}}') LOOP
        EXECUTE format('GRANT SELECT, INSERT ON admin.audit_log TO %I', writer);
        EXECUTE format('GRANT SELECT ON admin.audit_chains TO %I', writer);
    END LOOP;
END
$$"""


# Every partition of the trail and every archived month, however it came to be granted.
_REVOKE_AUDIT_PARTITIONS = """
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits
                WHERE inhparent = 'admin.audit_log'::regclass
                UNION SELECT c.oid::regclass FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'admin' AND c.relkind = 'r'
                  AND c.relname LIKE 'audit\\_archive%' LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %s FROM {everyone}', part);
    END LOOP;
END
$$"""


def roles_sql() -> list[str]:
    """The statements, in order, that create the roles and grant what each may do in the
    current database (roles are cluster-wide, grants per database)."""
    statements = [_create_role(r) for r in (AUDIT_OWNER, *STAFF_GROUPS)]
    statements.append(_HAND_OVER_AUDIT)
    everyone = ", ".join(STAFF_GROUPS)
    writers = f"{OWNER_GROUP}, {SUPPORT_GROUP}"
    statements += [
        f"GRANT USAGE ON SCHEMA public, admin TO {everyone}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public, admin TO {everyone}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, admin TO {writers}",
        f"GRANT EXECUTE ON FUNCTION {RECORD_AUDIT[0]} TO {writers}",
        # Derived data: anyone who reads the charts may bring the rollup up to date.
        f"GRANT EXECUTE ON FUNCTION {ROLLUP_REFRESH}, {ROLLUP_FIRST_DAY} TO {everyone}",
    ]
    statements += [f"GRANT EXECUTE ON FUNCTION {f} TO {SUPPORT_GROUP}"
                   for f in (*MONEY_FUNCTIONS, *PERIOD_CREDIT_FUNCTIONS,
                             *BOOKING_CREDIT_FUNCTIONS, *REFUND_FUNCTIONS,
                             *REFERRAL_GRANT_FUNCTIONS)]
    statements += [f"GRANT {how} ON {table} TO {OWNER_GROUP}"
                   for table, how in OWNER_WRITES.items()]
    statements += [f"GRANT {how} ON {table} TO {SUPPORT_GROUP}"
                   for table, how in SUPPORT_WRITES.items()]
    statements.append(
        f"GRANT UPDATE ({', '.join(SUPPORT_USER_COLUMNS)}) ON users TO {SUPPORT_GROUP}")
    statements.append(
        f"GRANT UPDATE ({', '.join(REFERRAL_USER_COLUMNS)}) ON users TO {SUPPORT_GROUP}")
    statements += [f"REVOKE {how} ON {table} FROM {everyone}"
                   for table, how in THROUGH_FUNCTIONS_ONLY.items()]
    # Nobody on the staff changes the audit trail, whatever was granted before.
    statements += [f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {everyone}"
                   for table in AUDIT_TABLES]
    statements.append(_REVOKE_AUDIT_PARTITIONS.format(everyone=everyone))
    return statements


def membership_help(database: str) -> str:
    """How to make a staff login a member of a group (printed after the SQL)."""
    return (
        "-- Make each staff member a login of their own, member of one group, e.g.:\n"
        f"--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE {SUPPORT_GROUP};\n"
        f"--   GRANT {OWNER_GROUP} TO olga;      -- an existing login\n"
        f"--   GRANT CONNECT ON DATABASE {database} TO alice, olga;\n"
        f"--   REVOKE {SUPPORT_GROUP} FROM alice;  -- when she moves on\n"
        "-- The audit trail names each login (session_user), so never share one."
    )


def apply_roles(conn: Connection) -> None:
    """Run :func:`roles_sql` on ``conn``, in its transaction (the caller commits)."""
    for statement in roles_sql():
        conn.execute(text(statement))
