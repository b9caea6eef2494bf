"""Offerings indexes: the Bookings tab pages straight off an index; the agenda reads only
the dated offerings that overlap its four weeks.

The Bookings tab lists one offering's bookings newest first (``created_at DESC, id DESC``),
all of them, a keyset page at a time. The platform indexes ``offering_bookings`` by
``offering_id`` alone, so each page of an offering with 50,000 bookings would sort them all.
The agenda asks for dated offerings whose first day is before the window's end (0013's
first-day index) and whose last day is after its start: with an index on the last day too,
PostgreSQL combines both instead of working out both days of every offering. Built
CONCURRENTLY, like every ``ix_admin_`` index, so the platform keeps writing meanwhile.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_INDEXES = {
    "ix_admin_offering_bookings_offering_created":
        "offering_bookings (offering_id, created_at DESC, id DESC)",
    "ix_admin_offerings_last_day":
        "offerings ((admin.offering_last_day(offering_type, schedule)))",
}


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
