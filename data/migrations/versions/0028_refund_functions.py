"""refund functions: the refund request record written only through definer functions.

Until now support wrote ``admin.refund_requests`` (INSERT, UPDATE) and ``purchases``
(UPDATE) directly, and the request's ``actor`` was whatever the app passed. Three
``SECURITY DEFINER`` functions in ``admin`` now make every write of a refund request
(``search_path`` pinned with ``pg_temp`` last, EXECUTE revoked from PUBLIC; ``db roles``
grants them to support), each recording ``session_user`` as the actor:

* ``admin.record_refund_request(id, kind, target_id, amount, reason, note)``: step 1. Locks
  the purchase (or the booking's offering, then the booking), answers ``exists`` when the
  request id is already recorded (a racing or repeated submit), else inserts the request with
  what the database reads from the target (customer, currency, Stripe payment, tokens still
  to return, whether it refunds in full), a fresh idempotency key, and its ``refund.request``
  audit row. The partial unique indexes (``ix_refund_requests_open_*``) and the trigger
  ``refund_requests_within_paid`` still refuse what they refused, with the same constraint
  names, which the service turns into messages on the amount field.
* ``admin.count_refund_attempt(id)``: committed before each Stripe call.
* ``admin.record_refund_answer(id, status, refund_id, stripe_status, failure)``: step 3.
  Locks the request; NULL when it is no longer open (another run finished it). On
  ``succeeded`` applies the effects as the service did: a purchase refunded in full becomes
  ``refunded`` and its purchased ``content_access`` is revoked; a booking is cancelled
  (``booking_count`` down) and its portal access revoked; each with its audit row
  (``refund.purchase``, ``refund.booking``, ``refund.revoke_access``). Then the request and
  its ``refund.result`` row. Returns whether the request now refunds in full. Tokens paid for
  a booking come back through ``admin.adjust_tokens`` in the same transaction (the service).

Referral grants (data.services.referral_grants) the same way:

* ``admin.record_referral_grant(request_id, referrer_id, reward_id, referral_ids)``: the
  claim in ``user_referral_rewards``, the grant in ``admin.referral_grants`` (whose unique
  index ``ix_referral_grants_once`` still makes it happen once: NULL when a grant of that
  key exists), the counted referrals marked ``rewarded`` and the ``referrals.grant`` audit
  row. The threshold and the tokens are read from the reward, and the referrals must be
  exactly that many countable referrals of the referrer, whatever the caller passes. The
  tokens themselves move through ``admin.adjust_tokens`` (the service, same transaction).
  Support no longer INSERTs into either table directly.

Bad arguments RAISE with SQLSTATE 22023.

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PINNED = "SET search_path = admin, public, pg_temp"
RECORD_SIGNATURE = "admin.record_refund_request(uuid, text, uuid, numeric, text, text)"
ATTEMPT_SIGNATURE = "admin.count_refund_attempt(uuid)"
ANSWER_SIGNATURE = "admin.record_refund_answer(uuid, text, text, text, text)"
GRANT_SIGNATURE = "admin.record_referral_grant(uuid, uuid, integer, integer[])"
SIGNATURES = (RECORD_SIGNATURE, ATTEMPT_SIGNATURE, ANSWER_SIGNATURE, GRANT_SIGNATURE)

# The reason as staff read it (data.services.refunds.REFUND_REASON_LABELS).
_LABEL = """CASE {reason} WHEN 'requested_by_customer' THEN 'Requested by customer'
        WHEN 'duplicate' THEN 'Duplicate' WHEN 'fraudulent' THEN 'Fraudulent'
        WHEN 'other' THEN 'Other' ELSE {reason} END"""

RECORD = f"""
CREATE OR REPLACE FUNCTION admin.record_refund_request(
    p_id uuid, p_kind text, p_target_id uuid, p_amount numeric, p_reason text, p_note text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    t record;
    v_refunded numeric;
    v_credits_back integer;
    v_credits integer := 0;
    v_intent text;
    v_full boolean;
    v_key text := 'admin-refund-' || gen_random_uuid();
    v_amount numeric;
BEGIN
    IF p_id IS NULL OR p_target_id IS NULL OR p_amount IS NULL
       OR p_kind IS NULL OR p_kind NOT IN ('purchase', 'booking') THEN
        RAISE EXCEPTION 'A refund request needs an id, a purchase or booking and an amount.'
            USING ERRCODE = '22023';
    END IF;
    IF p_amount <> round(p_amount, 2) THEN
        RAISE EXCEPTION 'Enter at most two decimals (cents).' USING ERRCODE = '22023';
    END IF;
    -- Lock the target: requests for it queue up here (a booking's offering first, as every
    -- booking write does).
    IF p_kind = 'purchase' THEN
        SELECT p.customer_id, p.currency::text AS currency, p.amount_paid AS paid,
               0 AS credits, p.stripe_payment_intent_id::text AS intent, 'purchase' AS method
        INTO t FROM purchases p WHERE p.id = p_target_id FOR UPDATE;
    ELSE
        PERFORM 1 FROM offerings o
        WHERE o.id = (SELECT b.offering_id FROM offering_bookings b WHERE b.id = p_target_id)
        FOR UPDATE;
        SELECT b.customer_id, 'usd' AS currency,
               CASE WHEN b.payment_method = 'purchase' THEN coalesce(b.amount_paid, 0)
                    ELSE 0 END AS paid,
               CASE WHEN b.payment_method = 'credits' THEN coalesce(b.credits_used, 0)
                    ELSE 0 END AS credits,
               b.stripe_payment_intent_id::text AS intent, b.payment_method::text AS method
        INTO t FROM offering_bookings b WHERE b.id = p_target_id FOR UPDATE;
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This % no longer exists.', p_kind USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM admin.refund_requests r WHERE r.id = p_id) THEN
        RETURN 'exists';
    END IF;
    IF p_amount > 0 AND t.method <> 'purchase' THEN
        RAISE EXCEPTION 'This booking was not paid by card: there is no money to refund.'
            USING ERRCODE = '22023';
    END IF;
    IF p_amount > 0 AND t.intent IS NULL THEN
        RAISE EXCEPTION 'No Stripe payment is recorded for this %.', p_kind
            USING ERRCODE = '22023';
    END IF;
    SELECT coalesce(sum(r.amount) FILTER (WHERE r.status = 'succeeded'), 0),
           coalesce(sum(r.credits_returned) FILTER (WHERE r.status <> 'failed'), 0)
    INTO v_refunded, v_credits_back
    FROM admin.refund_requests r
    WHERE (p_kind = 'purchase' AND r.purchase_id = p_target_id)
       OR (p_kind = 'booking' AND r.booking_id = p_target_id);
    IF p_kind = 'booking' THEN
        v_credits := greatest(t.credits - v_credits_back, 0);
    END IF;
    v_full := t.paid > 0 AND v_refunded + p_amount >= t.paid;
    v_intent := CASE WHEN p_amount > 0 THEN t.intent END;
    INSERT INTO admin.refund_requests AS r
        (id, purchase_id, booking_id, customer_id, amount, currency, credits_returned,
         full_refund, reason, note, actor, idempotency_key, stripe_payment_intent_id, status)
    VALUES (p_id, CASE WHEN p_kind = 'purchase' THEN p_target_id END,
            CASE WHEN p_kind = 'booking' THEN p_target_id END, t.customer_id, p_amount,
            t.currency, v_credits, v_full, p_reason, p_note, session_user, v_key, v_intent,
            'requested')
    RETURNING r.amount INTO v_amount;
    -- The audit table's trigger sets the actor (session_user) and chains the row.
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'refund.request', 'refund_request', p_id::text, NULL,
            jsonb_build_object(
                'purchase_id', CASE WHEN p_kind = 'purchase' THEN p_target_id END,
                'booking_id', CASE WHEN p_kind = 'booking' THEN p_target_id END,
                'customer_id', t.customer_id, 'amount', v_amount::text,
                'currency', t.currency, 'credits_returned', v_credits,
                'full_refund', v_full, 'reason', p_reason, 'note', p_note,
                'actor', session_user, 'idempotency_key', v_key,
                'stripe_payment_intent_id', v_intent, 'status', 'requested'),
            coalesce(p_note, {_LABEL.format(reason="p_reason")}));
    RETURN 'recorded';
END
$$
"""

ATTEMPT = f"""
CREATE OR REPLACE FUNCTION admin.count_refund_attempt(p_id uuid)
RETURNS integer
LANGUAGE sql SECURITY DEFINER {PINNED}
AS $$
    UPDATE admin.refund_requests SET attempts = attempts + 1, updated_at = now()
    WHERE id = p_id AND status IN ('requested', 'pending')
    RETURNING attempts
$$
"""

ANSWER = f"""
CREATE OR REPLACE FUNCTION admin.record_refund_answer(
    p_id uuid, p_status text, p_refund_id text, p_stripe_status text, p_failure text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    r record;
    p record;
    b record;
    n record;
    v_full boolean;
    v_refunded numeric;
    v_now timestamp;
    v_clash boolean;
    v_new_status text;
    v_reason text;
    v_cancel_reason text;
BEGIN
    IF p_id IS NULL OR p_status IS NULL OR p_status NOT IN ('pending', 'succeeded', 'failed')
    THEN
        RAISE EXCEPTION 'A refund answer needs a request and a status: pending, succeeded '
                        'or failed.' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO r FROM admin.refund_requests rr WHERE rr.id = p_id FOR UPDATE;
    IF NOT FOUND OR r.status NOT IN ('requested', 'pending') THEN
        RETURN NULL;  -- finished by another run meanwhile (or never recorded)
    END IF;
    v_full := CASE p_status WHEN 'failed' THEN false ELSE r.full_refund END;
    IF p_status = 'succeeded' THEN
        IF r.amount > 0 AND coalesce(p_refund_id, r.stripe_refund_id) IS NULL THEN
            RAISE EXCEPTION 'A succeeded refund of money needs Stripe''s refund id.'
                USING ERRCODE = '22023';
        END IF;
        v_reason := {_LABEL.format(reason="r.reason")}
                    || CASE WHEN r.note IS NOT NULL THEN ': ' || r.note ELSE '' END;
        IF r.purchase_id IS NOT NULL THEN
            SELECT pu.amount_paid, pu.status::text AS status, pu.refunded_at,
                   pu.refund_reason, pu.customer_id, pu.content_id
            INTO p FROM purchases pu WHERE pu.id = r.purchase_id FOR UPDATE;
            SELECT coalesce(sum(q.amount), 0) INTO v_refunded FROM admin.refund_requests q
            WHERE q.purchase_id = r.purchase_id AND (q.status = 'succeeded' OR q.id = r.id);
            v_full := v_refunded >= p.amount_paid;
            IF v_full THEN
                v_now := now()::timestamp;
                -- The platform allows one refunded purchase per (customer, item).
                v_clash := EXISTS (
                    SELECT FROM purchases o WHERE o.customer_id = p.customer_id
                    AND o.content_id = p.content_id AND o.status = 'refunded'
                    AND o.id <> r.purchase_id);
                v_new_status := CASE WHEN v_clash THEN p.status ELSE 'refunded' END;
                UPDATE purchases SET status = v_new_status, refunded_at = v_now,
                       refund_reason = v_reason, updated_at = v_now
                WHERE id = r.purchase_id;
                INSERT INTO admin.audit_log
                    (actor, action, entity_type, entity_id, old_values, new_values, reason)
                VALUES (session_user, 'refund.purchase', 'purchase', r.purchase_id::text,
                        jsonb_build_object('status', p.status, 'refunded_at', p.refunded_at,
                                           'refund_reason', p.refund_reason),
                        jsonb_build_object('status', v_new_status, 'refunded_at', v_now,
                                           'refund_reason', v_reason,
                                           'refund_request_id', r.id),
                        v_reason);
                WITH revoked AS (
                    DELETE FROM content_access a
                    WHERE a.user_id = p.customer_id AND a.content_id = p.content_id
                      AND a.access_type = 'purchased'
                    RETURNING a.id, a.access_type, a.granted_at, a.expires_at
                )
                INSERT INTO admin.audit_log
                    (actor, action, entity_type, entity_id, old_values, new_values, reason)
                SELECT session_user, 'refund.revoke_access', 'content_access', v.id::text,
                       jsonb_build_object('id', v.id, 'access_type', v.access_type,
                                          'granted_at', v.granted_at,
                                          'expires_at', v.expires_at,
                                          'user_id', p.customer_id,
                                          'content_id', p.content_id),
                       NULL, 'Full refund of purchase ' || r.purchase_id
                FROM revoked v ORDER BY v.id;
            END IF;
        ELSE
            PERFORM 1 FROM offerings o
            WHERE o.id = (SELECT ob.offering_id FROM offering_bookings ob
                          WHERE ob.id = r.booking_id)
            FOR UPDATE;
            SELECT ob.status::text AS status, ob.canceled_at, ob.cancellation_reason,
                   ob.offering_id, coalesce(ob.amount_paid, 0) AS paid,
                   ob.payment_method::text AS method
            INTO b FROM offering_bookings ob WHERE ob.id = r.booking_id FOR UPDATE;
            SELECT coalesce(sum(q.amount), 0) INTO v_refunded FROM admin.refund_requests q
            WHERE q.booking_id = r.booking_id AND (q.status = 'succeeded' OR q.id = r.id);
            v_full := b.method = 'purchase' AND b.paid > 0 AND v_refunded >= b.paid;
            IF b.status <> 'canceled' THEN
                v_now := now()::timestamp;
                v_cancel_reason := 'Refunded: ' || v_reason;
                UPDATE offering_bookings
                SET status = 'canceled', canceled_at = v_now,
                    cancellation_reason = v_cancel_reason, updated_at = v_now
                WHERE id = r.booking_id;
                UPDATE offerings SET booking_count = greatest(booking_count - 1, 0)
                WHERE id = b.offering_id;
                INSERT INTO admin.audit_log
                    (actor, action, entity_type, entity_id, old_values, new_values, reason)
                VALUES (session_user, 'refund.booking', 'offering_booking', r.booking_id::text,
                        jsonb_build_object('status', b.status, 'canceled_at', b.canceled_at,
                                           'cancellation_reason', b.cancellation_reason),
                        jsonb_build_object('status', 'canceled', 'canceled_at', v_now,
                                           'cancellation_reason', v_cancel_reason,
                                           'refund_request_id', r.id),
                        v_reason);
                -- Under the booking's id, so the booking's History shows it.
                WITH revoked AS (
                    DELETE FROM offering_portal_access a WHERE a.booking_id = r.booking_id
                    RETURNING a.id, a.booking_id, a.user_id, a.offering_id, a.granted_at,
                              a.expires_at
                )
                INSERT INTO admin.audit_log
                    (actor, action, entity_type, entity_id, old_values, new_values, reason)
                SELECT session_user, 'refund.revoke_access', 'offering_portal_access',
                       r.booking_id::text,
                       jsonb_build_object('id', v.id, 'booking_id', v.booking_id,
                                          'user_id', v.user_id, 'offering_id', v.offering_id,
                                          'granted_at', v.granted_at,
                                          'expires_at', v.expires_at),
                       NULL, 'Booking ' || r.booking_id || ' refunded'
                FROM revoked v ORDER BY v.id;
            END IF;
        END IF;
    END IF;
    UPDATE admin.refund_requests q
    SET status = p_status, stripe_refund_id = coalesce(p_refund_id, q.stripe_refund_id),
        stripe_status = coalesce(p_stripe_status, q.stripe_status),
        failure_message = p_failure, full_refund = v_full, updated_at = now(),
        completed_at = CASE WHEN p_status IN ('succeeded', 'failed') THEN now() END
    WHERE q.id = p_id
    RETURNING q.stripe_refund_id, q.stripe_status INTO n;
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'refund.result', 'refund_request', p_id::text,
            jsonb_build_object('status', r.status, 'stripe_refund_id', r.stripe_refund_id,
                               'stripe_status', r.stripe_status),
            jsonb_build_object('status', p_status, 'stripe_refund_id', n.stripe_refund_id,
                               'stripe_status', n.stripe_status,
                               'failure_message', p_failure, 'attempts', r.attempts),
            p_failure);
    RETURN v_full;
END
$$
"""


GRANT = f"""
CREATE OR REPLACE FUNCTION admin.record_referral_grant(
    p_request_id uuid, p_referrer_id uuid, p_reward_id integer, p_referral_ids integer[])
RETURNS TABLE (grant_id bigint, user_reward_id integer, tokens integer)
LANGUAGE plpgsql SECURITY DEFINER {PINNED}
AS $$
DECLARE
    w record;
    v_tokens integer;
    v_number numeric;
    v_claim integer;
    v_grant bigint;
    v_ids integer[];
BEGIN
    IF p_request_id IS NULL OR p_referrer_id IS NULL OR p_reward_id IS NULL
       OR p_referral_ids IS NULL THEN
        RAISE EXCEPTION 'A referral grant needs a request, a referrer, a reward and the '
                        'referrals it counts.' USING ERRCODE = '22023';
    END IF;
    SELECT rw.id, rw.name, rw.type::text AS type, rw.value, rw.required_referrals,
           rw.is_active
    INTO w FROM referral_rewards rw WHERE rw.id = p_reward_id;
    IF NOT FOUND OR NOT w.is_active THEN
        RAISE EXCEPTION 'This reward does not exist or is not active.' USING ERRCODE = '22023';
    END IF;
    IF w.type = 'credits' THEN
        IF jsonb_typeof(w.value -> 'credits') = 'number' THEN
            v_number := (w.value ->> 'credits')::numeric;
        END IF;
        IF v_number IS NULL OR v_number <= 0 OR v_number <> trunc(v_number)
           OR v_number > 2147483647 THEN
            RAISE EXCEPTION 'This credits reward has no valid number of tokens.'
                USING ERRCODE = '22023';
        END IF;
        v_tokens := v_number::integer;
    END IF;
    -- Exactly the reward's threshold of the referrer's countable referrals, locked.
    SELECT array_agg(r.id ORDER BY r.id) INTO v_ids FROM (
        SELECT r.id FROM referrals r
        WHERE r.id = ANY(p_referral_ids) AND r.referrer_id = p_referrer_id
          AND r.status IN ('qualified', 'rewarded')
          AND NOT EXISTS (SELECT FROM admin.referral_voids v WHERE v.referral_id = r.id)
          AND NOT EXISTS (SELECT FROM admin.referral_flags f
                          WHERE f.referral_id = r.id AND f.reviewed_at IS NULL)
        ORDER BY r.id FOR UPDATE) AS r;
    IF coalesce(cardinality(v_ids), 0) <> w.required_referrals
       OR cardinality(p_referral_ids) <> w.required_referrals THEN
        RAISE EXCEPTION 'The reward needs % countable referrals of this referrer; % of the % '
                        'given are.', w.required_referrals, coalesce(cardinality(v_ids), 0),
                        cardinality(p_referral_ids) USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT FROM admin.referral_grants g WHERE g.referrer_id = p_referrer_id
               AND g.reward_id = p_reward_id AND g.threshold = w.required_referrals) THEN
        RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::integer;
        RETURN;
    END IF;
    INSERT INTO user_referral_rewards AS c (user_id, reward_id, claimed_at, applied_at)
    VALUES (p_referrer_id, p_reward_id, now(), CASE WHEN v_tokens IS NOT NULL THEN now() END)
    RETURNING c.id INTO v_claim;
    INSERT INTO admin.referral_grants AS g
        (request_id, referrer_id, reward_id, threshold, user_reward_id, referral_ids, tokens)
    VALUES (p_request_id, p_referrer_id, p_reward_id, w.required_referrals, v_claim,
            p_referral_ids, v_tokens)
    ON CONFLICT (referrer_id, reward_id, threshold) DO NOTHING
    RETURNING g.id INTO v_grant;
    IF v_grant IS NULL THEN  -- a racing grant committed first: undo the claim
        DELETE FROM user_referral_rewards c WHERE c.id = v_claim;
        RETURN QUERY SELECT NULL::bigint, NULL::integer, NULL::integer;
        RETURN;
    END IF;
    UPDATE referrals SET status = 'rewarded', reward_claimed = true, reward_claimed_at = now()
    WHERE id = ANY(p_referral_ids) AND status = 'qualified';
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    VALUES (session_user, 'referrals.grant', 'referral_grant', v_grant::text, NULL,
            jsonb_build_object('referrer_id', p_referrer_id, 'reward_id', p_reward_id,
                               'threshold', w.required_referrals,
                               'referral_ids', to_jsonb(p_referral_ids),
                               'tokens', v_tokens, 'user_reward_id', v_claim),
            NULL);
    RETURN QUERY SELECT v_grant, v_claim, v_tokens;
END
$$
"""


def upgrade() -> None:
    for sql in (RECORD, ATTEMPT, ANSWER, GRANT):
        op.execute(sql)
    for signature in SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def downgrade() -> None:
    for signature in SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
