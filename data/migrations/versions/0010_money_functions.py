"""money functions: token adjustments and bulk grants run in the database, as its owner.

``SECURITY DEFINER`` functions in ``admin``, owned by the migrating login (which may write the
platform's ledger), each with ``search_path`` pinned (``pg_temp`` last) and EXECUTE revoked
from PUBLIC (``platform-admin db roles`` grants it to support):

* ``admin.adjust_tokens(request_id, customer_id, amount, reason, transaction_id)``: one
  adjustment, once per request id;
* ``admin.create_bulk_grant(bulk_id, amount, reason, total, customers_digest)``: records a
  bulk grant (true when created, false when it existed);
* ``admin.grant_bulk_item(bulk_id, customer_id, request_id, transaction_id)``: one customer's
  grant of a bulk, its amount and reason read from the bulk (the caller cannot choose them);
* ``admin.finish_bulk_grant(bulk_id)``: marks the bulk done.

They record ``session_user`` as the actor (in the request rows and in the audit row), never a
name the caller passes. Bad arguments (which the app refuses before calling) RAISE with
SQLSTATE 22023 and a sentence. Business refusals (no such customer, below zero, beyond the
largest balance) and replays are RETURNED as ``outcome``, not raised, so the caller's
transaction stays usable: a bulk batch skips a customer deleted since it was planned and
carries on, as before.

``admin.apply_adjustment`` is their shared body; it is not a definer function and PUBLIC may
not run it, so it runs only from within them (as their owner).

A unique index on ``credit_adjustments (bulk_id, customer_id)`` makes a bulk grant reach each
customer once even if someone calls ``grant_bulk_item`` with made-up request ids.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_ADJUSTMENT_TOKENS = 1_000_000
MAX_REASON = 500
PINNED = "SET search_path = admin, public, pg_temp"
OUTCOME = """TABLE (outcome text, r_customer_id uuid, r_amount integer, r_balance_before integer,
              r_balance_after integer, r_transaction_id uuid, r_created_at timestamptz)"""

CHECK_ARGUMENTS = f"""
CREATE OR REPLACE FUNCTION admin.check_adjustment_arguments(p_amount integer, p_reason text)
RETURNS void LANGUAGE plpgsql {PINNED}
AS $$
BEGIN
    IF p_amount IS NULL OR p_amount = 0 THEN
        RAISE EXCEPTION 'Enter a number of tokens other than zero.' USING ERRCODE = '22023';
    END IF;
    IF abs(p_amount) > {MAX_ADJUSTMENT_TOKENS} THEN
        RAISE EXCEPTION 'At most {MAX_ADJUSTMENT_TOKENS:,} tokens in one adjustment.'
            USING ERRCODE = '22023';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' THEN
        RAISE EXCEPTION 'Enter a reason.' USING ERRCODE = '22023';
    END IF;
    IF length(p_reason) > {MAX_REASON} THEN
        RAISE EXCEPTION 'The reason may be at most {MAX_REASON} characters.'
            USING ERRCODE = '22023';
    END IF;
END
$$
"""

# The body of _APPLY in data/services/credits.py before this migration, statement by
# statement: lock the balance (creating a first one), claim the request id, move the balance,
# append the ledger row, write the audit row.
APPLY = f"""
CREATE OR REPLACE FUNCTION admin.apply_adjustment(
    p_request_id uuid, p_customer_id uuid, p_amount integer, p_reason text, p_bulk_id uuid,
    p_transaction_id uuid)
RETURNS {OUTCOME}
LANGUAGE plpgsql {PINNED}
AS $$
DECLARE
    b record;
    n record;
    stored record;
    claimed timestamptz;
    created boolean := false;
    earned integer := greatest(p_amount, 0);
    spent integer := greatest(-p_amount, 0);
    details jsonb;
BEGIN
    SELECT cb.id, cb.current_balance, cb.lifetime_earned, cb.lifetime_spent,
           greatest(clock_timestamp()::timestamp, cb.updated_at + interval '1 microsecond') AS at
    INTO b FROM credit_balances cb WHERE cb.customer_id = p_customer_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO credit_balances (customer_id)
        SELECT u.id FROM users u WHERE u.id = p_customer_id
        ON CONFLICT (customer_id) DO NOTHING;
        created := FOUND;
        SELECT cb.id, cb.current_balance, cb.lifetime_earned, cb.lifetime_spent,
               greatest(clock_timestamp()::timestamp,
                        cb.updated_at + interval '1 microsecond') AS at
        INTO b FROM credit_balances cb WHERE cb.customer_id = p_customer_id FOR UPDATE;
        IF NOT FOUND THEN
            SELECT * INTO stored FROM admin.credit_adjustments a
            WHERE a.request_id = p_request_id;
            IF FOUND THEN
                RETURN QUERY SELECT 'replayed', stored.customer_id, stored.amount,
                    stored.balance_before, stored.balance_after, stored.transaction_id,
                    stored.created_at;
                RETURN;
            END IF;
            RETURN QUERY SELECT 'missing', p_customer_id, p_amount, NULL::integer,
                NULL::integer, NULL::uuid, NULL::timestamptz;
            RETURN;
        END IF;
    END IF;
    -- Checked before the INSERT, not in its WHERE: PL/pgSQL's values are constants to the
    -- planner, which would fold an overflowing sum before any WHERE could refuse it.
    IF (p_amount > 0 OR b.current_balance::bigint + p_amount >= 0)
       AND b.current_balance::bigint + p_amount <= 2147483647
       AND b.lifetime_earned::bigint + earned <= 2147483647
       AND b.lifetime_spent::bigint + spent <= 2147483647 THEN
        INSERT INTO admin.credit_adjustments AS a
            (request_id, customer_id, amount, reason, actor, bulk_id, transaction_id,
             balance_before, balance_after, created_at)
        VALUES (p_request_id, p_customer_id, p_amount, p_reason, session_user, p_bulk_id,
                p_transaction_id, b.current_balance, b.current_balance + p_amount,
                b.at::timestamptz)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING a.created_at INTO claimed;
    END IF;
    IF claimed IS NULL THEN
        -- Not claimed: applied before (answer its first result), or refused by the checks.
        SELECT * INTO stored FROM admin.credit_adjustments a WHERE a.request_id = p_request_id;
        IF FOUND THEN
            RETURN QUERY SELECT 'replayed', stored.customer_id, stored.amount,
                stored.balance_before, stored.balance_after, stored.transaction_id,
                stored.created_at;
            RETURN;
        END IF;
        RETURN QUERY SELECT
            CASE WHEN p_amount < 0 AND b.current_balance + p_amount < 0 THEN 'insufficient'
                 ELSE 'too_large' END,
            p_customer_id, p_amount, b.current_balance, NULL::integer, NULL::uuid,
            NULL::timestamptz;
        RETURN;
    END IF;
    UPDATE credit_balances cb
    SET current_balance = cb.current_balance + p_amount,
        lifetime_earned = cb.lifetime_earned + earned,
        lifetime_spent = cb.lifetime_spent + spent,
        updated_at = b.at
    WHERE cb.id = b.id
    RETURNING cb.current_balance, cb.lifetime_earned, cb.lifetime_spent INTO n;
    INSERT INTO credit_transactions
        (id, customer_id, type, amount, balance_after, description, created_at)
    VALUES (p_transaction_id, p_customer_id, 'adjustment', p_amount, n.current_balance,
            p_reason, b.at);
    details := jsonb_build_object('amount', p_amount, 'request_id', p_request_id,
                                  'transaction_id', p_transaction_id);
    IF p_bulk_id IS NOT NULL THEN
        details := details || jsonb_build_object('bulk_id', p_bulk_id);
    END IF;
    IF created THEN
        details := details || jsonb_build_object('balance_created', true);
    END IF;
    -- The audit table's trigger sets the actor (session_user) and chains the row.
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'credits.adjust', 'credit_balance', p_customer_id::text,
            jsonb_build_object('current_balance', b.current_balance,
                               'lifetime_earned', b.lifetime_earned,
                               'lifetime_spent', b.lifetime_spent),
            jsonb_build_object('current_balance', n.current_balance,
                               'lifetime_earned', n.lifetime_earned,
                               'lifetime_spent', n.lifetime_spent) || details,
            p_reason);
    RETURN QUERY SELECT 'applied', p_customer_id, p_amount, b.current_balance,
        n.current_balance, p_transaction_id, claimed;
END
$$
"""

ADJUST = f"""
CREATE OR REPLACE FUNCTION admin.adjust_tokens(
    p_request_id uuid, p_customer_id uuid, p_amount integer, p_reason text,
    p_transaction_id uuid)
RETURNS {OUTCOME}
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
BEGIN
    PERFORM admin.check_adjustment_arguments(p_amount, p_reason);
    RETURN QUERY SELECT * FROM admin.apply_adjustment(
        p_request_id, p_customer_id, p_amount, btrim(p_reason), NULL, p_transaction_id);
END
$$
"""

GRANT_ITEM = f"""
CREATE OR REPLACE FUNCTION admin.grant_bulk_item(
    p_bulk_id uuid, p_customer_id uuid, p_request_id uuid, p_transaction_id uuid)
RETURNS {OUTCOME}
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    bulk record;
BEGIN
    SELECT g.amount, g.reason INTO bulk FROM admin.bulk_grants g WHERE g.bulk_id = p_bulk_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This bulk grant does not exist.' USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY SELECT * FROM admin.apply_adjustment(
        p_request_id, p_customer_id, bulk.amount, bulk.reason, p_bulk_id, p_transaction_id);
END
$$
"""

CREATE_BULK = f"""
CREATE OR REPLACE FUNCTION admin.create_bulk_grant(
    p_bulk_id uuid, p_amount integer, p_reason text, p_total integer, p_digest text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
BEGIN
    PERFORM admin.check_adjustment_arguments(p_amount, p_reason);
    IF p_amount < 0 THEN
        RAISE EXCEPTION 'A bulk grant adds tokens: enter a positive number.'
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO admin.bulk_grants (bulk_id, amount, reason, actor, total, customers_digest)
    VALUES (p_bulk_id, p_amount, btrim(p_reason), session_user, p_total, p_digest)
    ON CONFLICT (bulk_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'credits.bulk_grant', 'bulk_grant', p_bulk_id::text, NULL,
            jsonb_build_object('amount', p_amount, 'total', p_total), btrim(p_reason));
    RETURN true;
END
$$
"""

FINISH_BULK = f"""
CREATE OR REPLACE FUNCTION admin.finish_bulk_grant(p_bulk_id uuid)
RETURNS void
LANGUAGE sql SECURITY DEFINER {PINNED}
AS $$
    UPDATE admin.bulk_grants SET finished_at = now()
    WHERE bulk_id = p_bulk_id AND finished_at IS NULL
$$
"""

SIGNATURES = (
    "admin.check_adjustment_arguments(integer, text)",
    "admin.apply_adjustment(uuid, uuid, integer, text, uuid, uuid)",
    "admin.adjust_tokens(uuid, uuid, integer, text, uuid)",
    "admin.grant_bulk_item(uuid, uuid, uuid, uuid)",
    "admin.create_bulk_grant(uuid, integer, text, integer, text)",
    "admin.finish_bulk_grant(uuid)",
)


def upgrade() -> None:
    op.create_index("ix_credit_adjustments_bulk_customer", "credit_adjustments",
                    ["bulk_id", "customer_id"], unique=True, schema="admin")
    for sql in (CHECK_ARGUMENTS, APPLY, ADJUST, GRANT_ITEM, CREATE_BULK, FINISH_BULK):
        op.execute(sql)
    for signature in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def downgrade() -> None:
    for signature in reversed(SIGNATURES):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_index("ix_credit_adjustments_bulk_customer", "credit_adjustments", schema="admin")
