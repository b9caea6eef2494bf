"""The audit trail: every change made through the app, written in the change's transaction.

The database decides who and when: the audit table's trigger (migration 0009) records
``session_user`` and the time and chains the row, whatever ``actor`` a caller passes (kept
in the signature for the callers' sake). Staff logins may not INSERT into the table: they
write through ``admin.record_audit`` (migration 0011); a login that may not run it (no staff
roles set up) inserts with its own rights, as before.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from data.definer_functions import execute_minding_rights, may_run
from data.models import AuditRecord

RECORD_AUDIT = ("admin.record_audit(text, text, text, jsonb, jsonb, text)",)
"""The definer function staff write audit rows through, as ``db roles`` grants it."""

_RECORD_AUDIT = text(
    "SELECT admin.record_audit(:action, :entity_type, :entity_id, CAST(:old_values AS jsonb), "
    "CAST(:new_values AS jsonb), :reason)")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record_change(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: Any,
    old_values: Mapping[str, Any] | None,
    new_values: Mapping[str, Any] | None,
    reason: str | None = None,
) -> None:
    """Append one audit record; the caller's transaction commits it with the change.

    The record names the session user, not ``actor`` (see the module's docstring)."""
    old = _jsonable(old_values) if old_values is not None else None
    new = _jsonable(new_values) if new_values is not None else None
    conn = session.connection()
    if may_run(conn, RECORD_AUDIT):
        execute_minding_rights(conn, _RECORD_AUDIT, {
            "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
            "old_values": None if old is None else json.dumps(old),
            "new_values": None if new is None else json.dumps(new), "reason": reason,
        })
        return
    statement = insert(AuditRecord).values(
        actor=actor, action=action, entity_type=entity_type, entity_id=str(entity_id),
        old_values=old, new_values=new, reason=reason,
    )
    execute_minding_rights(conn, statement, {})
