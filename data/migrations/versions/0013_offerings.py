"""offerings: the Offerings page's sort keys and the day functions they use.

``admin.offering_first_day(type, schedule)`` and ``admin.offering_last_day(type, schedule)``
read the first and last day of a dated offering from its schedule JSON (the shapes of
:mod:`data.schedules`); NULL for a recurring one or a schedule they cannot read (never an
error: the platform may write any JSON). They are IMMUTABLE (they read only their
arguments; dates are parsed with an explicit format), so the list's "next session" order
can walk an index. The indexes on the platform's tables are built CONCURRENTLY and end with
``id`` (the keyset's tie-breaker), as in 0006.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_FUNCTIONS = """
CREATE OR REPLACE FUNCTION admin.schedule_date(value jsonb) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(value) <> 'string' OR value #>> '{}' !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN make_date(substr(value #>> '{}', 1, 4)::int, substr(value #>> '{}', 6, 2)::int,
                     substr(value #>> '{}', 9, 2)::int);
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION admin.offering_first_day(offering_type text, schedule jsonb)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(schedule) <> 'object' THEN NULL
                WHEN offering_type = 'one_time_event' THEN admin.schedule_date(schedule -> 'date')
                WHEN offering_type IN ('multi_day_program', 'retreat')
                    THEN admin.schedule_date(schedule -> 'start_date')
                WHEN offering_type = 'cohort_course'
                    THEN admin.schedule_date(schedule -> 'cohort_start_date')
           END
$$;

CREATE OR REPLACE FUNCTION admin.offering_last_day(offering_type text, schedule jsonb)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(schedule) <> 'object' THEN NULL
                WHEN offering_type = 'one_time_event' THEN admin.schedule_date(schedule -> 'date')
                WHEN offering_type IN ('multi_day_program', 'retreat')
                    THEN admin.schedule_date(schedule -> 'end_date')
                WHEN offering_type = 'cohort_course'
                    THEN admin.schedule_date(schedule -> 'cohort_start_date')
                         + 7 * CASE WHEN jsonb_typeof(schedule -> 'weeks') = 'number'
                                         AND (schedule ->> 'weeks') ~ '^[0-9]{1,3}$'
                                    THEN (schedule ->> 'weeks')::int ELSE 1 END - 1
           END
$$;
"""

APP_INDEXES = {
    # "Next session": dated offerings by their first day, recurring ones (no day) last.
    "ix_admin_offerings_first_day_id":
        "offerings ((coalesce(admin.offering_first_day(offering_type, schedule), "
        "'infinity'::date)), id)",
    "ix_admin_offerings_title_lower_id": "offerings (lower(title), id)",
    "ix_admin_offerings_bookings_id": "offerings (booking_count DESC, id DESC)",
    # Seats taken and capacity checks count an offering's bookings by status.
    "ix_admin_offering_bookings_offering_status": "offering_bookings (offering_id, status)",
    "ix_admin_offering_bookings_customer_created":
        "offering_bookings (customer_id, created_at DESC, id DESC)",
}


def upgrade() -> None:
    op.execute(DAY_FUNCTIONS)
    with op.get_context().autocommit_block():
        for name, definition in APP_INDEXES.items():
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in APP_INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    for fn in ("offering_last_day(text, jsonb)", "offering_first_day(text, jsonb)",
               "schedule_date(jsonb)"):
        op.execute(f"DROP FUNCTION IF EXISTS admin.{fn}")
