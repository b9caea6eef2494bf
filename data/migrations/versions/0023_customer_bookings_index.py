"""A customer's bookings page straight off an index, as an offering's do (0018).

The Users detail's Bookings tab lists one customer's bookings newest first
(``created_at DESC, id DESC``), a keyset page at a time. The platform indexes
``offering_bookings`` by ``customer_id`` alone, so each page would sort all of a customer's
bookings. Built CONCURRENTLY, like every ``ix_admin_`` index, so the platform keeps writing
meanwhile.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    "ix_admin_offering_bookings_customer_created":
        "offering_bookings (customer_id, created_at DESC, id DESC)",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
