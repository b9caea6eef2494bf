"""audit function: staff write audit rows only through ``admin.record_audit``.

Staff groups get no INSERT on ``admin.audit_log`` (``platform-admin db roles``), yet the
services that are not database functions yet (profiles, catalog, series, featured, content
access) write their audit row next to their change. ``admin.record_audit`` is that one
insert as a ``SECURITY DEFINER`` function (search_path pinned, no PUBLIC execute): the
caller chooses what it describes, never who or when (the audit table's trigger sets
``session_user`` and the time, and chains the row).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "admin.record_audit(text, text, text, jsonb, jsonb, text)"


def upgrade() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION admin.record_audit(
            p_action text, p_entity_type text, p_entity_id text, p_old_values jsonb,
            p_new_values jsonb, p_reason text)
        RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = admin, public, pg_temp
        AS $$
            INSERT INTO admin.audit_log
                (actor, action, entity_type, entity_id, old_values, new_values, reason)
            VALUES (session_user, p_action, p_entity_type, p_entity_id, p_old_values,
                    p_new_values, p_reason)
            RETURNING id
        $$""")
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
