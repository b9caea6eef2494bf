"""ledger types: this period's subscription credits by hand, as an ``earned_subscription`` row.

Support's fix when the platform missed a subscription's monthly grant. Until now every token
change went through ``admin.adjust_tokens`` (0010), which writes ``adjustment`` rows; this
grant is the platform's own kind of row: ``earned_subscription`` with ``subscription_id``,
the tier's ``monthly_credits``, expiring at the period's end unless the tier rolls credits
over (as the platform's own grants do).

* ``admin.period_credit_grants``: one row per (subscription, period start), its primary key.
  A period can never be granted twice by the app, whatever the clicks, retries or staff: the
  second grant of a period finds the first (the same request id: its first result again;
  another: "already granted by … at …").
* ``admin.grant_period_credits(request_id, subscription_id, period_start, transaction_id)``:
  ``SECURITY DEFINER`` (search_path pinned, EXECUTE revoked from PUBLIC; ``db roles`` grants
  it to support), actor ``session_user``. It locks the customer's balance row (creating a
  first one), then decides under that lock: the period the caller saw must still be the
  current one, the subscription active or trialing, the tier granting credits, and neither
  the app nor the platform may have granted this period yet (the platform: an
  ``earned_subscription`` row of that subscription dated at or after the period start). Then
  one ledger row, the balance (current and lifetime earned), the grant row and the audit
  record. Refusals and replays are RETURNED as ``outcome`` (the caller's transaction stays
  usable); bad arguments RAISE with SQLSTATE 22023.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PINNED = "SET search_path = admin, public, pg_temp"
GRANT_SIGNATURE = "admin.grant_period_credits(uuid, uuid, timestamp without time zone, uuid)"
GRANTING_STATUSES = ("active", "trialing")

GRANT_PERIOD = f"""
CREATE OR REPLACE FUNCTION admin.grant_period_credits(
    p_request_id uuid, p_subscription_id uuid, p_period_start timestamp,
    p_transaction_id uuid)
RETURNS TABLE (outcome text, r_customer_id uuid, r_amount integer,
               r_balance_before integer, r_balance_after integer, r_transaction_id uuid,
               r_created_at timestamptz, r_actor text)
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    s record;
    b record;
    n record;
    g record;
    platform record;
    claimed timestamptz;
    created boolean := false;
    description text;
BEGIN
    IF p_request_id IS NULL OR p_subscription_id IS NULL OR p_period_start IS NULL
       OR p_transaction_id IS NULL THEN
        RAISE EXCEPTION 'A period grant needs a request, a subscription, its period start '
                        'and a transaction id.' USING ERRCODE = '22023';
    END IF;
    SELECT sub.id, sub.customer_id, sub.status, sub.current_period_start,
           sub.current_period_end, t.name AS tier_name, t.monthly_credits, t.credit_rollover
    INTO s FROM subscriptions sub JOIN subscription_tiers t ON t.id = sub.tier_id
    WHERE sub.id = p_subscription_id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing', NULL::uuid, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    -- The customer's balance row, locked: grants (and adjustments) of one customer queue
    -- here, and everything below is decided as the previous lock holder committed it.
    SELECT cb.id, cb.current_balance, cb.lifetime_earned,
           greatest(clock_timestamp()::timestamp, cb.updated_at + interval '1 microsecond') AS at
    INTO b FROM credit_balances cb WHERE cb.customer_id = s.customer_id FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO credit_balances (customer_id)
        SELECT u.id FROM users u WHERE u.id = s.customer_id
        ON CONFLICT (customer_id) DO NOTHING;
        created := FOUND;
        SELECT cb.id, cb.current_balance, cb.lifetime_earned,
               greatest(clock_timestamp()::timestamp,
                        cb.updated_at + interval '1 microsecond') AS at
        INTO b FROM credit_balances cb WHERE cb.customer_id = s.customer_id FOR UPDATE;
    END IF;
    SELECT * INTO g FROM admin.period_credit_grants pg
    WHERE pg.subscription_id = p_subscription_id AND pg.period_start = p_period_start;
    IF FOUND THEN
        RETURN QUERY SELECT
            CASE WHEN g.request_id = p_request_id THEN 'replayed' ELSE 'already_granted' END,
            g.customer_id, g.amount, g.balance_before, g.balance_after, g.transaction_id,
            g.created_at, g.actor;
        RETURN;
    END IF;
    IF EXISTS (SELECT FROM admin.period_credit_grants pg WHERE pg.request_id = p_request_id)
    THEN
        RETURN QUERY SELECT 'request_reused', s.customer_id, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    IF s.current_period_start <> p_period_start THEN
        RETURN QUERY SELECT 'period_changed', s.customer_id, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    IF s.status NOT IN {GRANTING_STATUSES} THEN
        RETURN QUERY SELECT 'not_current', s.customer_id, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, s.status::text;
        RETURN;
    END IF;
    IF s.monthly_credits IS NULL OR s.monthly_credits <= 0 THEN
        RETURN QUERY SELECT 'no_credits', s.customer_id, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    SELECT ct.id, ct.amount, ct.created_at INTO platform FROM credit_transactions ct
    WHERE ct.customer_id = s.customer_id AND ct.subscription_id = s.id
      AND ct.type = 'earned_subscription' AND ct.created_at >= s.current_period_start
      AND NOT EXISTS (SELECT FROM admin.period_credit_grants pg
                      WHERE pg.transaction_id = ct.id)
    ORDER BY ct.created_at LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'platform_granted', s.customer_id, platform.amount,
            NULL::integer, NULL::integer, platform.id, platform.created_at::timestamptz,
            NULL::text;
        RETURN;
    END IF;
    IF b.current_balance::bigint + s.monthly_credits > 2147483647
       OR b.lifetime_earned::bigint + s.monthly_credits > 2147483647 THEN
        RETURN QUERY SELECT 'too_large', s.customer_id, s.monthly_credits, b.current_balance,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    INSERT INTO admin.period_credit_grants AS pg
        (subscription_id, period_start, request_id, customer_id, amount, transaction_id,
         balance_before, balance_after, actor, created_at)
    VALUES (s.id, p_period_start, p_request_id, s.customer_id, s.monthly_credits,
            p_transaction_id, b.current_balance, b.current_balance + s.monthly_credits,
            session_user, b.at::timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING pg.created_at INTO claimed;
    IF claimed IS NULL THEN  -- cannot happen under the lock; the keys are the last word
        RETURN QUERY SELECT 'already_granted', s.customer_id, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz, NULL::text;
        RETURN;
    END IF;
    UPDATE credit_balances cb
    SET current_balance = cb.current_balance + s.monthly_credits,
        lifetime_earned = cb.lifetime_earned + s.monthly_credits,
        updated_at = b.at
    WHERE cb.id = b.id
    RETURNING cb.current_balance, cb.lifetime_earned, cb.lifetime_spent INTO n;
    description := format('%s monthly credits (%s) for the period from %s, granted by hand',
                          s.monthly_credits, s.tier_name,
                          to_char(p_period_start, 'YYYY-MM-DD'));
    INSERT INTO credit_transactions
        (id, customer_id, type, amount, balance_after, subscription_id, description,
         expires_at, created_at)
    VALUES (p_transaction_id, s.customer_id, 'earned_subscription', s.monthly_credits,
            n.current_balance, s.id, description,
            CASE WHEN s.credit_rollover THEN NULL ELSE s.current_period_end END, b.at);
    -- The audit table's trigger sets the actor (session_user) and chains the row.
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'credits.period_grant', 'credit_balance', s.customer_id::text,
            jsonb_build_object('current_balance', b.current_balance,
                               'lifetime_earned', b.lifetime_earned),
            jsonb_build_object('current_balance', n.current_balance,
                               'lifetime_earned', n.lifetime_earned,
                               'amount', s.monthly_credits, 'subscription_id', s.id,
                               'period_start', p_period_start, 'request_id', p_request_id,
                               'transaction_id', p_transaction_id,
                               'balance_created', created),
            description);
    RETURN QUERY SELECT 'applied', s.customer_id, s.monthly_credits, b.current_balance,
        n.current_balance, p_transaction_id, claimed, session_user::text;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "period_credit_grants",
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("period_start", postgresql.TIMESTAMP(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("balance_before", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("actor", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("period_credit_grants_amount_check")),
        sa.PrimaryKeyConstraint("subscription_id", "period_start",
                                name=op.f("period_credit_grants_pkey")),
        schema="admin",
    )
    op.create_index("ix_period_credit_grants_request_id", "period_credit_grants",
                    ["request_id"], unique=True, schema="admin")
    op.create_index("ix_period_credit_grants_transaction_id", "period_credit_grants",
                    ["transaction_id"], unique=True, schema="admin")
    op.execute(GRANT_PERIOD)
    op.execute(f"REVOKE ALL ON FUNCTION {GRANT_SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {GRANT_SIGNATURE}")
    op.drop_table("period_credit_grants", schema="admin")
