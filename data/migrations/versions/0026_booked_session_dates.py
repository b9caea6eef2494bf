"""booked session dates: the agenda finds the 1:1 bookings of its window on an index.

A recurring_bookable booking holds its sessions in ``booking_details.booked_sessions``
(``[{date, time}, ...]``, seed 004). The agenda asked for the bookings whose session falls in
its four weeks by unpacking every booking's JSON: a full scan of ``offering_bookings``
(about 1 s at 1M bookings, ``bench/offerings.py``).

``admin.booked_session_dates(booking_details)`` is the dates (``YYYY-MM-DD`` text, blanks
trimmed, as :func:`data.schedules.read_date` reads them) of the sessions a booking holds;
an empty array for anything else. It is an index expression on the platform's table, so it
must never raise for any JSON the platform may write: every step is guarded by
``jsonb_typeof`` before it is unpacked, and the dates stay text (a string shaped like a date
that is no calendar day, "2030-02-30", is kept as text and dropped by the app when it reads
it; a ``::date`` cast would raise). A GIN index over the bookings that hold a place (not
canceled: the agenda counts no others) that name booked sessions serves
``booked_session_dates(...) && ARRAY[days]``. The other bookings (every type but 1:1, most
of the platform's writes) are not in it, so their INSERTs never touch it: with every
booking in it (an empty array each), 8-way booking contention in ``bench/offerings.py`` fell
from 0.85 to 0.52 of the bare-SQL floor (one run each, load 3-6).
Built CONCURRENTLY, like every ``ix_admin_`` index, so the platform keeps writing meanwhile.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION admin.booked_session_dates(details jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(DISTINCT d ORDER BY d), '{}'::text[])
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(details) = 'object'
                                    AND jsonb_typeof(details -> 'booked_sessions') = 'array'
                                   THEN details -> 'booked_sessions'
                                   ELSE '[]'::jsonb END) s
    CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s) = 'object'
                                     AND jsonb_typeof(s -> 'date') = 'string'
                                    THEN btrim(s ->> 'date', E' \t\n\r\f\v') END AS d) v
    WHERE d ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
$$;
"""

APP_INDEXES = {
    "ix_admin_offering_bookings_session_dates":
        "offering_bookings USING gin ((admin.booked_session_dates(booking_details))) "
        "WHERE status <> 'canceled' AND booking_details ? 'booked_sessions'",
}


def upgrade() -> None:
    op.execute(FUNCTION)
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS admin.booked_session_dates(jsonb)")
