"""The audit trail: every change made through the app, written in the change's transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from data.models import AuditRecord


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
    """Append one audit record; the caller's transaction commits it with the change."""
    session.execute(
        insert(AuditRecord).values(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            old_values=_jsonable(old_values) if old_values is not None else None,
            new_values=_jsonable(new_values) if new_values is not None else None,
            reason=reason,
        )
    )
