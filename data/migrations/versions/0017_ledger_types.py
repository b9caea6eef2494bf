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

Bookings paid with credits (issue 13) get the platform's own rows too:

* ``admin.apply_ledger_change(...)``: 0010's ``admin.apply_adjustment`` body (lock the
  balance, claim the request id in ``admin.credit_adjustments``, move the balance, append the
  ledger row, audit) with the ledger row's ``type``, its ``offering_booking_id`` and the audit
  action as arguments. ``admin.apply_adjustment`` now calls it (``adjustment``, no booking,
  ``credits.adjust``): one body for every token change. Not a definer function; PUBLIC may
  not run it.
* ``admin.move_booking_credits(booking_id, direction, request_id, transaction_id, reason)``:
  ``SECURITY DEFINER`` (granted to support). ``spend``: a confirmed booking paid with
  credits pays its ``credits_used`` as a ``spent_offering`` row; ``return``: a cancelled one
  gets them back as an ``adjustment`` row (the platform's own way, seed demo), both with
  ``offering_booking_id``. The amount and the customer are read from the booking (locked),
  never chosen by the caller; ``admin.booking_credit_moves`` (booking, direction) makes each
  happen once, whatever request ids a caller makes up (the app keeps its keys,
  ``spend_key``/``return_key``, as the request ids).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import importlib
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


OUTCOME = """TABLE (outcome text, r_customer_id uuid, r_amount integer, r_balance_before integer,
              r_balance_after integer, r_transaction_id uuid, r_created_at timestamptz)"""
APPLY_LEDGER_SIGNATURE = ("admin.apply_ledger_change(uuid, uuid, integer, text, uuid, uuid, "
                          "text, uuid, text)")
MOVE_SIGNATURE = "admin.move_booking_credits(uuid, text, uuid, uuid, text)"
MAX_REASON = 500

# 0010's apply_adjustment, with the ledger row's type, booking and the audit action given.
APPLY_LEDGER = f"""
CREATE OR REPLACE FUNCTION admin.apply_ledger_change(
    p_request_id uuid, p_customer_id uuid, p_amount integer, p_reason text, p_bulk_id uuid,
    p_transaction_id uuid, p_type text, p_booking_id uuid, p_action text)
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
        (id, customer_id, type, amount, balance_after, offering_booking_id, description,
         created_at)
    VALUES (p_transaction_id, p_customer_id, p_type, p_amount, n.current_balance,
            p_booking_id, p_reason, b.at);
    details := jsonb_build_object('amount', p_amount, 'request_id', p_request_id,
                                  'transaction_id', p_transaction_id);
    IF p_bulk_id IS NOT NULL THEN
        details := details || jsonb_build_object('bulk_id', p_bulk_id);
    END IF;
    IF p_booking_id IS NOT NULL THEN
        details := details || jsonb_build_object('offering_booking_id', p_booking_id,
                                                 'type', p_type);
    END IF;
    IF created THEN
        details := details || jsonb_build_object('balance_created', true);
    END IF;
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, p_action, 'credit_balance', p_customer_id::text,
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

APPLY_ADJUSTMENT = f"""
CREATE OR REPLACE FUNCTION admin.apply_adjustment(
    p_request_id uuid, p_customer_id uuid, p_amount integer, p_reason text, p_bulk_id uuid,
    p_transaction_id uuid)
RETURNS {OUTCOME}
LANGUAGE sql {PINNED}
AS $$
    SELECT * FROM admin.apply_ledger_change(p_request_id, p_customer_id, p_amount, p_reason,
        p_bulk_id, p_transaction_id, 'adjustment', NULL, 'credits.adjust')
$$
"""

MOVE_BOOKING_CREDITS = f"""
CREATE OR REPLACE FUNCTION admin.move_booking_credits(
    p_booking_id uuid, p_direction text, p_request_id uuid, p_transaction_id uuid,
    p_reason text)
RETURNS {OUTCOME}
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    bk record;
    m record;
    r record;
    wanted text := CASE p_direction WHEN 'spend' THEN 'confirmed' ELSE 'canceled' END;
BEGIN
    IF p_direction IS NULL OR p_direction NOT IN ('spend', 'return') THEN
        RAISE EXCEPTION 'A booking''s credits are spent or returned.' USING ERRCODE = '22023';
    END IF;
    IF p_request_id IS NULL OR p_transaction_id IS NULL THEN
        RAISE EXCEPTION 'A request id and a transaction id are needed.'
            USING ERRCODE = '22023';
    END IF;
    IF p_reason IS NULL OR btrim(p_reason) = '' OR length(p_reason) > {MAX_REASON} THEN
        RAISE EXCEPTION 'Enter a reason of at most {MAX_REASON} characters.'
            USING ERRCODE = '22023';
    END IF;
    SELECT b.customer_id, b.status, b.payment_method, coalesce(b.credits_used, 0) AS credits
    INTO bk FROM offering_bookings b WHERE b.id = p_booking_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'missing_booking', NULL::uuid, NULL::integer, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO m FROM admin.booking_credit_moves bm
    WHERE bm.booking_id = p_booking_id AND bm.direction = p_direction;
    IF FOUND THEN  -- done before (perhaps under another request id): its first result
        RETURN QUERY SELECT 'replayed', a.customer_id, a.amount, a.balance_before,
            a.balance_after, a.transaction_id, a.created_at
        FROM admin.credit_adjustments a WHERE a.request_id = m.request_id;
        RETURN;
    END IF;
    IF bk.status <> wanted OR bk.payment_method <> 'credits' OR bk.credits <= 0 THEN
        RETURN QUERY SELECT 'not_applicable', bk.customer_id, bk.credits, NULL::integer,
            NULL::integer, NULL::uuid, NULL::timestamptz;
        RETURN;
    END IF;
    SELECT * INTO r FROM admin.apply_ledger_change(
        p_request_id, bk.customer_id,
        CASE p_direction WHEN 'spend' THEN -bk.credits ELSE bk.credits END, btrim(p_reason),
        NULL, p_transaction_id,
        CASE p_direction WHEN 'spend' THEN 'spent_offering' ELSE 'adjustment' END,
        p_booking_id, 'credits.booking_' || p_direction);
    IF r.outcome = 'applied' THEN
        INSERT INTO admin.booking_credit_moves (booking_id, direction, request_id,
                                                transaction_id)
        VALUES (p_booking_id, p_direction, p_request_id, p_transaction_id);
    END IF;
    RETURN QUERY SELECT r.outcome, r.r_customer_id, r.r_amount, r.r_balance_before,
        r.r_balance_after, r.r_transaction_id, r.r_created_at;
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
    op.create_table(
        "booking_credit_moves",
        sa.Column("booking_id", sa.UUID(), nullable=False),
        sa.Column("direction", sa.Text(), nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("direction IN ('spend', 'return')",
                           name=op.f("booking_credit_moves_direction_check")),
        sa.PrimaryKeyConstraint("booking_id", "direction",
                                name=op.f("booking_credit_moves_pkey")),
        schema="admin",
    )
    for sql in (GRANT_PERIOD, APPLY_LEDGER, APPLY_ADJUSTMENT, MOVE_BOOKING_CREDITS):
        op.execute(sql)
    for signature in (GRANT_SIGNATURE, APPLY_LEDGER_SIGNATURE, MOVE_SIGNATURE):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def downgrade() -> None:
    m0010 = importlib.import_module("data.migrations.versions.0010_money_functions")
    op.execute(m0010.APPLY)  # apply_adjustment's own body again
    for signature in (MOVE_SIGNATURE, APPLY_LEDGER_SIGNATURE, GRANT_SIGNATURE):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.drop_table("booking_credit_moves", schema="admin")
    op.drop_table("period_credit_grants", schema="admin")
