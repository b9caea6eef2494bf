"""audit striped chains: audited writers no longer queue on one chain head; secrets redacted.

Before, every audit insert locked the one row of ``admin.audit_chain_head`` until its
transaction committed, so all audited transactions ran one at a time. Now there are
:data:`CHAINS` chains, one head row each in ``admin.audit_chains`` (chain, last id, last hash,
rows written). The audit table's trigger (still BEFORE INSERT, whatever wrote the row):

* sets ``actor`` (``session_user``) and ``occurred_at`` as before;
* redacts secret fields in ``old_values``/``new_values`` with ``admin.audit_redact`` (the same
  rule as :func:`data.queries.audit.is_redacted`): the key is kept and the value becomes
  "(hidden)", or "(hidden, changed)" in ``new_values`` where it differs from the old one, so
  who changed a password and when stays on record. Done before the row is hashed: no secret
  is stored;
* picks a chain: the one this transaction already holds (a transaction-local setting), else
  the first head nobody holds (``FOR UPDATE SKIP LOCKED``, starting at the backend's pid
  modulo :data:`CHAINS`), else waits for the pid's own one. A transaction holds at most one
  chain, so the chains never deadlock among themselves;
* takes the id under that chain's lock (within a chain, id order is commit order) and
  records ``chain`` and ``prev_hash`` (the chain's last hash) on the row.

Existing rows are chain 0, which continues ``admin.audit_chain_head``'s last id and hash;
the other chains start at the genesis hash. ``admin.audit_chain_head`` is dropped. An index
on ``(chain, id)`` lets ``audit verify`` walk each chain in order without a sort.

Triggers on the app's own tables that staff write directly (:data:`AUDITED_TABLES`; never on
platform tables) write an audit row per row inserted, updated or deleted, in the same
transaction: action ``<table>.insert|update|delete``, table ``admin.<table>``, the row's key,
old and new row values.

The migrating login must own ``admin.audit_log`` (or be a superuser, or be able to grant
itself the NOLOGIN audit owner for this migration); otherwise it stops saying so.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHAINS = 16
GENESIS = r"'\x" + "00" * 32 + "'::bytea"
# Keep in step with data.queries.audit.REDACTED_FIELDS / is_redacted and REDACTED.
REDACTED_FIELDS = (
    "password_hash", "password", "token", "access_token", "refresh_token", "reset_token",
    "verification_token", "api_key", "secret", "secret_key", "stripe_secret_key",
    "client_secret",
)
REDACTED = "(hidden)"
CHANGED = "(hidden, changed)"

# While it runs, the migrating login acts with the audit owner's rights if it is not the
# owner already (and gives them back at the end).
BORROW_OWNER = """
DO $$
DECLARE
    owner name := (SELECT pg_get_userbyid(relowner) FROM pg_class
                   WHERE oid = 'admin.audit_log'::regclass);
BEGIN
    IF pg_has_role(current_user, owner, 'USAGE') THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE format('GRANT %I TO %I', owner, current_user);
        PERFORM set_config('platform_admin.borrowed_owner', owner, true);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'platform-admin: this login may not change admin.audit_log (owned by '
                        '%); run "platform-admin db upgrade" as its owner or a superuser.',
                        owner;
    END;
END
$$
"""

RETURN_OWNER = """
DO $$
DECLARE
    owner text := current_setting('platform_admin.borrowed_owner', true);
BEGIN
    IF coalesce(owner, '') <> '' THEN
        EXECUTE format('REVOKE %I FROM %I', owner, current_user);
    END IF;
END
$$
"""

_NAMES = ", ".join(f"'{n}'" for n in REDACTED_FIELDS)
# A secret's value becomes REDACTED; in new_values, CHANGED where it differs from the value
# at the same place in old_values (so "the password was changed" stays on record).
REDACT = f"""
CREATE OR REPLACE FUNCTION admin.audit_redact(v jsonb, against jsonb DEFAULT NULL,
                                              compare boolean DEFAULT false)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = admin, pg_catalog, pg_temp
AS $$
    SELECT CASE jsonb_typeof(v)
        WHEN 'object' THEN (
            SELECT coalesce(jsonb_object_agg(e.key, CASE
                WHEN lower(e.key) IN ({_NAMES}) OR lower(e.key) ~ '_(token|secret|key|hash)$'
                THEN to_jsonb(CASE WHEN compare AND (against -> e.key) IS DISTINCT FROM e.value
                                   THEN '{CHANGED}' ELSE '{REDACTED}' END)
                ELSE admin.audit_redact(e.value, against -> e.key, compare) END), '{{}}'::jsonb)
            FROM jsonb_each(v) AS e)
        WHEN 'array' THEN (
            SELECT coalesce(jsonb_agg(admin.audit_redact(a.value,
                                                         against -> (a.n - 1)::integer,
                                                         compare) ORDER BY a.n),
                            '[]'::jsonb)
            FROM jsonb_array_elements(v) WITH ORDINALITY AS a(value, n))
        ELSE v END
$$
"""

TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION admin.audit_log_chain()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = admin, pg_catalog, pg_temp
AS $$
DECLARE
    held text := current_setting('platform_admin.audit_chain', true);
    mine integer;
    prev bytea;
BEGIN
    -- Who and when are the database's to say, not the caller's; secrets are never stored.
    NEW.actor := session_user;
    NEW.occurred_at := now();
    NEW.new_values := admin.audit_redact(NEW.new_values, NEW.old_values, true);
    NEW.old_values := admin.audit_redact(NEW.old_values);
    -- A chain, locked to commit: the one this transaction holds, else a free one, else wait
    -- for the pid's own (holding none, so chains cannot deadlock).
    IF held ~ '^[0-9]{{1,4}}$' THEN
        SELECT c.chain, c.last_hash INTO mine, prev FROM admin.audit_chains c
        WHERE c.chain = held::integer FOR UPDATE;
    END IF;
    IF prev IS NULL THEN
        SELECT c.chain, c.last_hash INTO mine, prev FROM admin.audit_chains c
        ORDER BY (c.chain + {CHAINS} - pg_backend_pid() % {CHAINS}) % {CHAINS}
        LIMIT 1 FOR UPDATE SKIP LOCKED;
    END IF;
    IF prev IS NULL THEN
        SELECT c.chain, c.last_hash INTO mine, prev FROM admin.audit_chains c
        WHERE c.chain = pg_backend_pid() % {CHAINS} FOR UPDATE;
    END IF;
    PERFORM set_config('platform_admin.audit_chain', mine::text, true);
    -- The id is taken under the chain's lock, so within a chain id order is chain order.
    NEW.id := nextval(pg_get_serial_sequence('admin.audit_log', 'id'));
    NEW.chain := mine;
    NEW.prev_hash := prev;
    NEW.row_hash := sha256(admin.audit_canonical(
        NEW.id, NEW.occurred_at, NEW.actor, NEW.action, NEW.entity_type, NEW.entity_id,
        NEW.old_values, NEW.new_values, NEW.reason) || NEW.prev_hash);
    UPDATE admin.audit_chains
    SET last_id = NEW.id, last_hash = NEW.row_hash, rows_written = rows_written + 1
    WHERE chain = mine;
    PERFORM pg_notify('platform_admin_audit', NEW.id::text);
    RETURN NEW;
END
$$
"""

# Whoever could read the old head reads the chains (the definer functions' owner, staff).
CHAINS_TABLE = f"""
DO $$
DECLARE
    reader name;
BEGIN
    CREATE TABLE admin.audit_chains (
        chain integer PRIMARY KEY CHECK (chain >= 0 AND chain < {CHAINS}),
        last_id bigint,
        last_hash bytea NOT NULL,
        rows_written bigint NOT NULL DEFAULT 0
    ) WITH (fillfactor = 20);
    INSERT INTO admin.audit_chains (chain, last_id, last_hash, rows_written)
    SELECT 0, last_id, last_hash, rows_written FROM admin.audit_chain_head;
    INSERT INTO admin.audit_chains (chain, last_hash)
    SELECT n, {GENESIS} FROM generate_series(0, {CHAINS - 1}) AS n
    ON CONFLICT (chain) DO NOTHING;
    FOR reader IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
                  WHERE table_schema = 'admin' AND table_name = 'audit_chain_head'
                    AND privilege_type = 'SELECT' AND grantee <> current_user LOOP
        EXECUTE format('GRANT SELECT ON admin.audit_chains TO %I', reader);
    END LOOP;
    EXECUTE format('ALTER TABLE admin.audit_chains OWNER TO %I',
                   pg_get_userbyid((SELECT relowner FROM pg_class
                                    WHERE oid = 'admin.audit_log'::regclass)));
END
$$
"""


# The app's own tables that staff write directly (``db roles``), with each one's key: every
# statement on them writes one audit row per row changed, in the same transaction, through
# the audit table's trigger (session_user, chain, redaction). Never on platform tables.
AUDITED_TABLES = {
    "refund_requests": "id",
    "subscription_requests": "id",
    "tier_prices": "id",
    "referral_voids": "referral_id",
    "referral_grants": "id",
    "referral_flags": "id",
}

# Statement-level, from the transition tables: a bulk statement costs one set-based insert.
ROW_AUDIT_FUNCTION = """
CREATE OR REPLACE FUNCTION admin.audit_table_change()
RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = admin, pg_catalog, pg_temp
AS $$
DECLARE
    key text := TG_ARGV[0];
    action text := TG_TABLE_NAME || '.' || lower(TG_OP);
    entity text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, new_values)
        SELECT session_user, action, entity, r.j ->> key, r.j
        FROM (SELECT to_jsonb(n) AS j FROM new_rows n) AS r ORDER BY r.j ->> key;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values)
        SELECT session_user, action, entity, r.j ->> key, r.j
        FROM (SELECT to_jsonb(o) AS j FROM old_rows o) AS r ORDER BY r.j ->> key;
    ELSE
        INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values,
                                     new_values)
        SELECT session_user, action, entity, n.j ->> key, o.j, n.j
        FROM (SELECT to_jsonb(x) AS j FROM old_rows x) AS o
        JOIN (SELECT to_jsonb(y) AS j FROM new_rows y) AS n ON (n.j -> key) = (o.j -> key)
        WHERE o.j <> n.j
        ORDER BY n.j ->> key;
    END IF;
    RETURN NULL;
END
$$
"""


def _row_triggers() -> None:
    op.execute(ROW_AUDIT_FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION admin.audit_table_change() FROM PUBLIC")
    for table, key in AUDITED_TABLES.items():
        for event, tables in (("INSERT", "NEW TABLE AS new_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                              ("DELETE", "OLD TABLE AS old_rows")):
            op.execute(f"CREATE TRIGGER audit_{event.lower()} AFTER {event} ON admin.{table} "
                       f"REFERENCING {tables} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION admin.audit_table_change('{key}')")


def upgrade() -> None:
    op.execute(BORROW_OWNER)
    op.execute("ALTER TABLE admin.audit_log ADD COLUMN chain integer NOT NULL DEFAULT 0")
    op.execute(CHAINS_TABLE)
    op.execute(REDACT)
    op.execute(TRIGGER_FUNCTION)
    op.execute("DROP TABLE admin.audit_chain_head")
    op.execute("CREATE INDEX IF NOT EXISTS ix_admin_audit_log_chain_id "
               "ON admin.audit_log (chain, id)")
    _row_triggers()
    op.execute(RETURN_OWNER)


def downgrade() -> None:
    raise NotImplementedError("0018 folds the audit trail into striped chains; restore a "
                              "backup to go back before it.")
