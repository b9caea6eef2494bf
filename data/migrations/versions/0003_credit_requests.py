"""token adjustments: the app's request table, bulk grants, and indexes for the ledger pages.

``admin.credit_adjustments`` is keyed by the request id a dialog creates when it opens, so a
double click or a retry applies an adjustment once. ``admin.bulk_grants`` records each bulk
grant; its customers' adjustments point back to it.

The indexes on ``credit_transactions`` and ``credit_balances`` are the app's (prefixed
``ix_admin_``) and are built CONCURRENTLY, so that on the platform's live database the web
app keeps writing while they are built.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    # One customer's ledger newest first (keyset pages), the activity filter's EXISTS, the
    # last ledger time an adjustment dates itself after, and the ledger check's window.
    "ix_admin_credit_transactions_customer_created":
        "credit_transactions (customer_id, created_at DESC, id DESC)",
    # Balances sorted by balance, and by last change: keyset page keys.
    "ix_admin_credit_balances_balance": "credit_balances (current_balance DESC, id DESC)",
    "ix_admin_credit_balances_updated": "credit_balances (updated_at DESC, id DESC)",
}


def upgrade() -> None:
    op.create_table(
        "bulk_grants",
        sa.Column("bulk_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("customers_digest", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("bulk_grants_amount_check")),
        sa.CheckConstraint("total >= 0", name=op.f("bulk_grants_total_check")),
        sa.PrimaryKeyConstraint("bulk_id", name=op.f("bulk_grants_pkey")),
        schema="admin",
    )
    op.create_table(
        "credit_adjustments",
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("bulk_id", sa.UUID(), nullable=True),
        sa.Column("transaction_id", sa.UUID(), nullable=False),
        sa.Column("balance_before", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True),
                  server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("credit_adjustments_amount_check")),
        sa.ForeignKeyConstraint(["bulk_id"], ["admin.bulk_grants.bulk_id"],
                                name=op.f("credit_adjustments_bulk_id_fkey")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("credit_adjustments_pkey")),
        schema="admin",
    )
    op.create_index("ix_credit_adjustments_transaction_id", "credit_adjustments",
                    ["transaction_id"], unique=True, schema="admin")
    op.create_index("ix_credit_adjustments_bulk_id", "credit_adjustments", ["bulk_id"],
                    schema="admin")
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.drop_table("credit_adjustments", schema="admin")
    op.drop_table("bulk_grants", schema="admin")
