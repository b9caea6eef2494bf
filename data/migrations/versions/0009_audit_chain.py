"""audit chain: an audit trail the database writes, chains by hash and nobody can change.

* ``admin.audit_log`` gains ``prev_hash`` and ``row_hash`` (bytea, sha256). A BEFORE INSERT
  trigger, whatever wrote the row, sets ``actor`` to ``session_user`` (never the caller's
  word), ``occurred_at`` to the transaction's time, takes the chain head
  (``admin.audit_chain_head``, one row, ``FOR UPDATE``: concurrent inserts queue there, so
  the chain is the order rows were committed in), gives the row the next id only then (ids
  follow the chain), and computes ``row_hash = sha256(canonical row || prev_hash)``. It
  sends ``NOTIFY platform_admin_audit`` with the new id only, never row data.
* Existing rows are chained once, in id order.
* The table and the chain head belong to the NOLOGIN role ``platform_admin_audit_owner``,
  created here when the migrating login may create roles; the migrating login keeps only
  SELECT and INSERT (the definer functions it owns write audit rows). On a server where it
  may not, a NOTICE says so and ``platform-admin db roles --apply`` (run by a login that may)
  does it later.

``sha256(bytea)`` is core PostgreSQL (11+): no pgcrypto needed.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_OWNER = "platform_admin_audit_owner"
GENESIS = r"'\x" + "00" * 32 + "'::bytea"

# The row's content as stable text: jsonb's text form is canonical (key order, spacing), and
# the time is written in UTC so the session's TimeZone cannot change it. Kept in one SQL
# function so that the trigger and `audit verify` hash exactly the same thing.
CANONICAL = """
CREATE OR REPLACE FUNCTION admin.audit_canonical(
    p_id bigint, p_occurred_at timestamptz, p_actor text, p_action text, p_entity_type text,
    p_entity_id text, p_old_values jsonb, p_new_values jsonb, p_reason text)
RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = admin, pg_catalog, pg_temp
AS $$
    SELECT convert_to(jsonb_build_array(
        p_id,
        to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_entity_type, p_entity_id, p_old_values, p_new_values, p_reason
    )::text, 'UTF8')
$$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION admin.audit_log_chain()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = admin, pg_catalog, pg_temp
AS $$
DECLARE
    head admin.audit_chain_head%ROWTYPE;
BEGIN
    -- Who and when are the database's to say, not the caller's.
    NEW.actor := session_user;
    NEW.occurred_at := now();
    -- One writer at a time from here to commit: the next insert reads this one's hash.
    SELECT * INTO head FROM admin.audit_chain_head WHERE singleton FOR UPDATE;
    -- The id is taken under the lock, so id order is chain order.
    NEW.id := nextval(pg_get_serial_sequence('admin.audit_log', 'id'));
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := sha256(admin.audit_canonical(
        NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id,
        NEW.old_values, NEW.new_values, NEW.reason) || NEW.prev_hash);
    UPDATE admin.audit_chain_head
    SET last_id = NEW.id, last_hash = NEW.row_hash, rows_written = rows_written + 1
    WHERE singleton;
    PERFORM pg_notify('platform_admin_audit', NEW.id::text);
    RETURN NEW;
END
$$
"""

# Chain what is there already, in id order (one pass; the audit table is small before this).
BACKFILL = f"""
DO $$
DECLARE
    r record;
    prev bytea := {GENESIS};
    n bigint := 0;
    last bigint := NULL;
BEGIN
    FOR r IN SELECT * FROM admin.audit_log ORDER BY id LOOP
        UPDATE admin.audit_log
        SET prev_hash = prev,
            row_hash = sha256(admin.audit_canonical(
                r.id, r.occurred_at, r.actor, r.action, r.entity_type, r.entity_id,
                r.old_values, r.new_values, r.reason) || prev)
        WHERE id = r.id
        RETURNING row_hash INTO prev;
        n := n + 1;
        last := r.id;
    END LOOP;
    INSERT INTO admin.audit_chain_head (singleton, last_id, last_hash, rows_written)
    VALUES (true, last, prev, n);
END
$$
"""

# Idempotent and harmless where the migrating login may not create roles: it says so and
# leaves ownership as it is (`platform-admin db roles --apply` finishes the job).
HAND_OVER = f"""
DO $$
DECLARE
    me name := current_user;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{AUDIT_OWNER}') THEN
        BEGIN
            CREATE ROLE {AUDIT_OWNER} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'platform-admin: this login may not create roles; the audit table '
                         'stays owned by %. Run "platform-admin db roles --apply" as a login '
                         'that may.', me;
            RETURN;
        END;
    END IF;
    BEGIN
        -- Handing a table over needs membership of the new owner; only for this block.
        EXECUTE format('GRANT {AUDIT_OWNER} TO %I', me);
        GRANT USAGE ON SCHEMA admin TO {AUDIT_OWNER};
        ALTER TABLE admin.audit_log OWNER TO {AUDIT_OWNER};
        ALTER TABLE admin.audit_chain_head OWNER TO {AUDIT_OWNER};
        ALTER FUNCTION admin.audit_log_chain() OWNER TO {AUDIT_OWNER};
        -- Granted after the hand-over (ALTER OWNER rewrites the old owner's grants into the
        -- new owner's), by the new owner: the migrating login, whose definer functions write
        -- audit rows, may read and insert, nothing more.
        SET LOCAL ROLE {AUDIT_OWNER};
        EXECUTE format('GRANT SELECT, INSERT ON admin.audit_log TO %I', me);
        EXECUTE format('GRANT SELECT ON admin.audit_chain_head TO %I', me);
        RESET ROLE;
        EXECUTE format('REVOKE {AUDIT_OWNER} FROM %I', me);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'platform-admin: this login may not hand the audit table to %; '
                     'run "platform-admin db roles --apply" as a login that may.',
                     '{AUDIT_OWNER}';
    END;
END
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE admin.audit_log ADD COLUMN prev_hash bytea, "
               "ADD COLUMN row_hash bytea")
    op.execute("""
        CREATE TABLE admin.audit_chain_head (
            singleton boolean DEFAULT true NOT NULL,
            last_id bigint,
            last_hash bytea NOT NULL,
            rows_written bigint NOT NULL DEFAULT 0,
            CONSTRAINT audit_chain_head_pkey PRIMARY KEY (singleton),
            CONSTRAINT audit_chain_head_singleton_check CHECK (singleton)
        )""")
    op.execute(CANONICAL)
    op.execute(BACKFILL)
    op.execute("ALTER TABLE admin.audit_log ALTER COLUMN prev_hash SET NOT NULL, "
               "ALTER COLUMN row_hash SET NOT NULL")
    op.execute(TRIGGER_FUNCTION)
    op.execute("CREATE TRIGGER audit_log_chain BEFORE INSERT ON admin.audit_log "
               "FOR EACH ROW EXECUTE FUNCTION admin.audit_log_chain()")
    op.execute("REVOKE ALL ON FUNCTION admin.audit_log_chain() FROM PUBLIC")
    op.execute(HAND_OVER)


def downgrade() -> None:
    op.execute("""
        DO $$
        BEGIN
            ALTER TABLE admin.audit_log OWNER TO CURRENT_USER;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'platform-admin: the audit table stays with its owner';
        END
        $$""")
    op.execute("DROP TRIGGER IF EXISTS audit_log_chain ON admin.audit_log")
    op.execute("DROP FUNCTION IF EXISTS admin.audit_log_chain()")
    op.execute("DROP FUNCTION IF EXISTS admin.audit_canonical(bigint, timestamptz, text, text, "
               "text, text, jsonb, jsonb, text)")
    op.execute("DROP TABLE IF EXISTS admin.audit_chain_head")
    op.execute("ALTER TABLE admin.audit_log DROP COLUMN IF EXISTS prev_hash, "
               "DROP COLUMN IF EXISTS row_hash")
