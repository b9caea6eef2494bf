"""subscription tiers: each tier's prices over time, and the subscribers' index.

The platform's ``subscription_tiers`` keeps only the current prices. ``admin.tier_prices``
records every price in force: (tier, billing period, amount, currency, effective from, who
changed it). Its first version is the current row when the table is made ("migration
0012"), effective from that moment: what was charged before is not known, and the screens
say the current price was used for a period that began earlier. The Subscription tiers
page writes a new version with every price change, in the tier's transaction.

No foreign key to ``subscription_tiers``: the app adds no constraint that could refuse the
platform's own writes (a tier it removes leaves its history here, harmlessly).

``admin.subscription_requests`` holds one row per change staff asked Stripe to make to a
subscription (cancel at period end, resume, cancel now), written and committed BEFORE Stripe
is called; its id is the request id the dialog made when it opened, and the idempotency key
of the call. One open (``requested``) request per subscription (a partial unique index), so
two staff cannot act on one subscription at once. The next start finishes a request left
open when the app stopped between Stripe's answer and the database update.

``ix_admin_subscriptions_tier_status``, ``…_tier_created`` and ``…_tier_period_start`` (built
CONCURRENTLY, the web app keeps writing) serve the tier list's per-tier counts and MRR and
the subscribers list of one tier.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    "ix_admin_subscriptions_tier_status":
        "subscriptions (tier_id, status, created_at DESC, id DESC)",
    "ix_admin_subscriptions_tier_created": "subscriptions (tier_id, created_at DESC, id DESC)",
    # The tier list's subscribers and MRR: index-only range scans per price version.
    "ix_admin_subscriptions_tier_period_start":
        "subscriptions (tier_id, billing_period, current_period_start) INCLUDE (status)",
    # Token balances' "expiring within N days": only rows that add credits with an expiry.
    "ix_admin_credit_transactions_expiring":
        "credit_transactions (expires_at) WHERE expires_at IS NOT NULL AND amount > 0",
}

FIRST_VERSIONS = """
INSERT INTO admin.tier_prices (tier_id, billing_period, amount, currency, effective_from,
                               changed_by)
SELECT t.id, p.period, p.amount, 'usd', (now() AT TIME ZONE 'UTC'), 'migration 0012'
FROM subscription_tiers t
CROSS JOIN LATERAL (VALUES ('monthly', t.price_monthly), ('yearly', t.price_yearly))
    AS p(period, amount)
"""


def upgrade() -> None:
    op.create_table(
        "tier_prices",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tier_id", sa.UUID(), nullable=False),
        sa.Column("billing_period", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(10, 2), nullable=True),
        sa.Column("currency", sa.Text(), server_default=sa.text("'usd'"), nullable=False),
        sa.Column("effective_from", postgresql.TIMESTAMP(), nullable=False),
        sa.Column("changed_by", sa.Text(), server_default=sa.text("session_user"),
                  nullable=False),
        sa.CheckConstraint("billing_period IN ('monthly', 'yearly')",
                           name=op.f("tier_prices_billing_period_check")),
        sa.CheckConstraint("amount >= 0", name=op.f("tier_prices_amount_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("tier_prices_pkey")),
        schema="admin",
    )
    op.create_table(
        "subscription_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subscription_id", sa.UUID(), nullable=False),
        sa.Column("stripe_subscription_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'requested'"), nullable=False),
        sa.Column("stripe_status", sa.Text(), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("completed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('cancel_at_period_end', 'resume', 'cancel_now')",
                           name=op.f("subscription_requests_action_check")),
        sa.CheckConstraint("status IN ('requested', 'succeeded', 'failed')",
                           name=op.f("subscription_requests_status_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("subscription_requests_pkey")),
        schema="admin",
    )
    op.create_index("ix_subscription_requests_open", "subscription_requests",
                    ["subscription_id"], unique=True, schema="admin",
                    postgresql_where=sa.text("status = 'requested'"))
    op.create_index("ix_tier_prices_tier_period_from", "tier_prices",
                    ["tier_id", "billing_period", "effective_from"], schema="admin")
    op.execute(FIRST_VERSIONS)
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_table("subscription_requests", schema="admin")
    op.drop_table("tier_prices", schema="admin")
