"""refund requests: the app's record of every refund it asks Stripe for.

``admin.refund_requests`` holds one row per refund a staff member asked for, written and
committed BEFORE Stripe is called (with the idempotency key the call will use), then updated
with Stripe's answer. Its id is the request id the refund dialog created when it opened.

What the database itself guarantees (so two app instances or a buggy caller cannot break it):

* exactly one target: a purchase or an offering booking;
* one open (``requested`` or ``pending``) request per purchase and per booking, by partial
  unique indexes;
* never more back than was paid: the trigger ``refund_requests_within_paid`` locks the
  purchase or booking row (so concurrent requests for it queue up) and refuses a request
  whose amount plus every other request that has not failed exceeds ``amount_paid`` (and the
  same for tokens against ``credits_used``). It raises ``check_violation`` naming the
  constraint ``refund_requests_within_paid``, which the service turns into a message on the
  amount field.

The platform's tables get no trigger or constraint from the app: the check lives on the
app's own table and only reads (and row-locks) the platform's row.

``admin.revenue_events`` (0004) is replaced, same columns: a purchase or card booking with
refunds made through the app counts each succeeded refund (its amount, when Stripe
confirmed it), so partial refunds show in revenue; one refunded on the platform (no request
here) counts as before, in full when refunded or cancelled.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHIN_PAID = """
CREATE OR REPLACE FUNCTION admin.refund_requests_within_paid() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    paid numeric;
    paid_credits integer;
    other_amount numeric;
    other_credits integer;
BEGIN
    IF NEW.status = 'failed' THEN
        RETURN NEW;  -- a failed request moves no money
    END IF;
    -- Lock the purchase or booking: requests for the same target queue up here, and the
    -- sum below (a new snapshot per statement) sees every one committed before us.
    IF NEW.purchase_id IS NOT NULL THEN
        SELECT p.amount_paid, 0 INTO paid, paid_credits
        FROM purchases p WHERE p.id = NEW.purchase_id FOR UPDATE;
    ELSE
        SELECT coalesce(b.amount_paid, 0), coalesce(b.credits_used, 0)
        INTO paid, paid_credits
        FROM offering_bookings b WHERE b.id = NEW.booking_id FOR UPDATE;
    END IF;
    SELECT coalesce(sum(r.amount), 0), coalesce(sum(r.credits_returned), 0)
    INTO other_amount, other_credits
    FROM admin.refund_requests r
    WHERE r.status <> 'failed' AND r.id <> NEW.id
      AND (r.purchase_id = NEW.purchase_id OR r.booking_id = NEW.booking_id);
    IF other_amount + NEW.amount > coalesce(paid, 0)
       OR other_credits + NEW.credits_returned > coalesce(paid_credits, 0) THEN
        RAISE EXCEPTION 'refunds would exceed what was paid: % already refunded or '
                        'requested of %, % more asked', other_amount, paid, NEW.amount
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'refund_requests_within_paid',
                  DETAIL = format('paid=%s refunded=%s', paid, other_amount);
    END IF;
    RETURN NEW;
END
$$
"""

WITHIN_PAID_TRIGGER = """
CREATE TRIGGER refund_requests_within_paid
BEFORE INSERT OR UPDATE OF amount, credits_returned, status, purchase_id, booking_id
ON admin.refund_requests
FOR EACH ROW EXECUTE FUNCTION admin.refund_requests_within_paid()
"""


# The refund branches of 0004's view, now only for refunds the app did not make, and the
# refunds the app made, one event each.
REVENUE_EVENTS = """
CREATE OR REPLACE VIEW admin.revenue_events AS
SELECT coalesce(p.purchased_at, p.created_at) AS ts, 'sale'::text AS event,
       'content'::text AS source, c.content_type::text AS kind, p.content_id AS item_id,
       p.customer_id, p.id AS record_id, p.amount_paid AS amount
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status IN ('completed', 'refunded')
UNION ALL
SELECT p.refunded_at, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, p.amount_paid
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL
  AND NOT EXISTS (SELECT FROM admin.refund_requests r
                  WHERE r.purchase_id = p.id AND r.status = 'succeeded')
UNION ALL
SELECT r.completed_at::timestamp, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, r.amount
FROM admin.refund_requests r
JOIN purchases p ON p.id = r.purchase_id JOIN content c ON c.id = p.content_id
WHERE r.status = 'succeeded' AND r.amount > 0
UNION ALL
SELECT b.created_at, 'sale', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0
UNION ALL
SELECT b.canceled_at, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.status = 'canceled'
  AND b.canceled_at IS NOT NULL
  AND NOT EXISTS (SELECT FROM admin.refund_requests r
                  WHERE r.booking_id = b.id AND r.status = 'succeeded')
UNION ALL
SELECT r.completed_at::timestamp, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, r.amount
FROM admin.refund_requests r
JOIN offering_bookings b ON b.id = r.booking_id JOIN offerings o ON o.id = b.offering_id
WHERE r.status = 'succeeded' AND r.amount > 0
"""

REVENUE_EVENTS_0004 = """
CREATE OR REPLACE VIEW admin.revenue_events AS
SELECT coalesce(p.purchased_at, p.created_at) AS ts, 'sale'::text AS event,
       'content'::text AS source, c.content_type::text AS kind, p.content_id AS item_id,
       p.customer_id, p.id AS record_id, p.amount_paid AS amount
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status IN ('completed', 'refunded')
UNION ALL
SELECT p.refunded_at, 'refund', 'content', c.content_type::text, p.content_id,
       p.customer_id, p.id, p.amount_paid
FROM purchases p JOIN content c ON c.id = p.content_id
WHERE p.status = 'refunded' AND p.refunded_at IS NOT NULL
UNION ALL
SELECT b.created_at, 'sale', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0
UNION ALL
SELECT b.canceled_at, 'refund', 'offering', o.offering_type::text, b.offering_id,
       b.customer_id, b.id, b.amount_paid
FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
WHERE b.payment_method = 'purchase' AND b.amount_paid > 0 AND b.status = 'canceled'
  AND b.canceled_at IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "refund_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("purchase_id", sa.UUID(), nullable=True),
        sa.Column("booking_id", sa.UUID(), nullable=True),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("credits_returned", sa.Integer(), server_default=sa.text("0"),
                  nullable=False),
        sa.Column("full_refund", sa.Boolean(), server_default=sa.text("false"),
                  nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'requested'"), nullable=False),
        sa.Column("stripe_refund_id", sa.Text(), nullable=True),
        sa.Column("stripe_status", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("num_nonnulls(purchase_id, booking_id) = 1",
                           name=op.f("refund_requests_one_target_check")),
        sa.CheckConstraint("amount >= 0 AND credits_returned >= 0 "
                           "AND (amount > 0 OR credits_returned > 0)",
                           name=op.f("refund_requests_amount_check")),
        sa.CheckConstraint(
            "reason IN ('requested_by_customer', 'duplicate', 'fraudulent', 'other')",
            name=op.f("refund_requests_reason_check"),
        ),
        sa.CheckConstraint("reason <> 'other' OR btrim(coalesce(note, '')) <> ''",
                           name=op.f("refund_requests_note_check")),
        sa.CheckConstraint("status IN ('requested', 'pending', 'succeeded', 'failed')",
                           name=op.f("refund_requests_status_check")),
        sa.CheckConstraint("attempts >= 0", name=op.f("refund_requests_attempts_check")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"],
                                name=op.f("refund_requests_purchase_id_fkey")),
        sa.ForeignKeyConstraint(["booking_id"], ["offering_bookings.id"],
                                name=op.f("refund_requests_booking_id_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("refund_requests_pkey")),
        sa.UniqueConstraint("idempotency_key", name=op.f("refund_requests_idempotency_key_key")),
        sa.UniqueConstraint("stripe_refund_id",
                            name=op.f("refund_requests_stripe_refund_id_key")),
        schema="admin",
    )
    # One open request per purchase / per booking.
    op.create_index("ix_refund_requests_open_purchase", "refund_requests", ["purchase_id"],
                    unique=True, schema="admin",
                    postgresql_where=sa.text("status IN ('requested', 'pending')"))
    op.create_index("ix_refund_requests_open_booking", "refund_requests", ["booking_id"],
                    unique=True, schema="admin",
                    postgresql_where=sa.text("status IN ('requested', 'pending')"))
    op.create_index("ix_refund_requests_purchase_id", "refund_requests", ["purchase_id"],
                    schema="admin")
    op.create_index("ix_refund_requests_booking_id", "refund_requests", ["booking_id"],
                    schema="admin")
    # The Refunds view: newest first (keyset), optionally by status.
    op.create_index("ix_refund_requests_created", "refund_requests", ["created_at", "id"],
                    schema="admin")
    op.create_index("ix_refund_requests_status_created", "refund_requests",
                    ["status", "created_at", "id"], schema="admin")
    # Succeeded refunds by when Stripe confirmed them: the revenue view's time filter.
    op.create_index("ix_refund_requests_completed", "refund_requests", ["completed_at"],
                    schema="admin", postgresql_where=sa.text("status = 'succeeded'"))
    op.execute(WITHIN_PAID)
    op.execute(WITHIN_PAID_TRIGGER)
    op.execute(REVENUE_EVENTS)


def downgrade() -> None:
    op.execute(REVENUE_EVENTS_0004)
    op.execute("DROP TRIGGER IF EXISTS refund_requests_within_paid ON admin.refund_requests")
    op.drop_table("refund_requests", schema="admin")
    op.execute("DROP FUNCTION IF EXISTS admin.refund_requests_within_paid()")
