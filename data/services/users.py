"""Business actions on users: edit the profile, verify the email, soft-delete and restore.

Each action validates its input, locks the row, refuses to overwrite a change made since the
user was loaded (``expected_version`` is the row's xmin when it was read), applies the
change and writes the audit record in the caller's transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.errors import ConflictError, ValidationError
from data.models import User
from data.models.users import USER_ROLES
from data.queries.users import UserProfile, get_profile, profile_values
from data.services.audit import record_change
from data.services.text import (
    clean_fields,
    clean_identifier,
    clean_line,
    clean_multiline,
    column_length,
)
from data.services.unique import unique_violation
from data.services.urls import clean_url

EDITABLE_FIELDS = ("email", "full_name", "role", "bio", "profile_image_url")
MAX_LENGTHS = {"email": column_length(User.__table__.c.email),
               "full_name": column_length(User.__table__.c.full_name),
               "bio": 10_000, "profile_image_url": 2_000}
"""Email and name from their VARCHAR columns; bio and image address are TEXT: our limits."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
EMAIL_CONSTRAINT = "users_email_key"
CONFLICT_MESSAGE = (
    "Someone else changed this user after you opened it. Nothing was saved; "
    "the current values are shown."
)


def email_taken_message(email: str) -> str:
    return f"{email} is already used by another user."


def _clean_field(name: str, value: Any) -> Any:
    """One edited field, clean; raises ValidationError naming it (see data.services.text)."""
    if value is not None and not isinstance(value, str):
        raise ValidationError({name: "Must be text."})
    limit = MAX_LENGTHS.get(name)
    if name == "email":
        email = clean_identifier(name, value, limit, required="Email is required.")
        if not _EMAIL.match(email):
            raise ValidationError({name: f"'{email}' is not a valid email address."})
        return email
    if name == "full_name":
        return clean_line(name, value, limit, required="Full name is required.")
    if name == "role":
        value = clean_identifier(name, value)
        if value not in USER_ROLES:
            raise ValidationError({name: f"Role must be one of: {', '.join(USER_ROLES)}."})
        return value
    if name == "profile_image_url":
        return clean_url(name, value, limit)
    return clean_multiline(name, value, limit) or None  # bio


def validate_profile_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check edited fields; raises ValidationError naming each bad field."""
    return clean_fields(changes, EDITABLE_FIELDS, _clean_field)


def _lock_and_check(session: Session, user_id: uuid.UUID, expected_version: int) -> UserProfile:
    current = get_profile(session, user_id, for_update=True)
    if current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE, current=current)
    return current


def _apply(
    session: Session, actor: str, action: str, current: UserProfile, values: dict[str, Any],
) -> UserProfile:
    """Write ``values`` and the audit record (old and new as stored) in this transaction."""
    session.execute(
        update(User).where(User.id == current.id).values(**values, updated_at=func.now())
    )
    saved = get_profile(session, current.id)
    record_change(
        session, actor=actor, action=action, entity_type="user", entity_id=current.id,
        old_values={k: getattr(current, k) for k in values},
        new_values={k: getattr(saved, k) for k in values},
    )
    return saved


def update_profile(
    session: Session, actor: str, user_id: uuid.UUID, expected_version: int,
    changes: Mapping[str, Any],
) -> UserProfile:
    """Save edited profile fields; only the fields that differ are written and audited."""
    clean = validate_profile_changes(changes)
    current = _lock_and_check(session, user_id, expected_version)
    before = profile_values(current)
    diff = {k: v for k, v in clean.items() if before.get(k) != v}
    if not diff:
        return current
    if "email" in diff:
        clash = session.execute(
            select(User.id).where(
                func.lower(User.email) == diff["email"].lower(), User.id != user_id
            )
        ).first()
        if clash:
            raise ValidationError({"email": email_taken_message(diff["email"])})
    try:
        # A savepoint: a concurrent insert of the same address (committed after the check
        # above) fails only this write, and the caller's transaction carries on.
        with session.begin_nested():
            return _apply(session, actor, "user.update", current, diff)
    except IntegrityError as exc:
        if unique_violation(exc) == EMAIL_CONSTRAINT and "email" in diff:
            raise ValidationError({"email": email_taken_message(diff["email"])}) from None
        raise


def mark_email_verified(
    session: Session, actor: str, user_id: uuid.UUID, expected_version: int
) -> UserProfile:
    current = _lock_and_check(session, user_id, expected_version)
    if current.email_verified_at is not None:
        return current
    return _apply(session, actor, "user.verify_email", current, {"email_verified_at": func.now()})


def soft_delete_user(
    session: Session, actor: str, user_id: uuid.UUID, expected_version: int
) -> UserProfile:
    """Mark the user deleted (``deleted_at``); their purchases and history stay."""
    current = _lock_and_check(session, user_id, expected_version)
    if current.deleted_at is not None:
        return current
    return _apply(session, actor, "user.soft_delete", current, {"deleted_at": func.now()})


def restore_user(
    session: Session, actor: str, user_id: uuid.UUID, expected_version: int
) -> UserProfile:
    current = _lock_and_check(session, user_id, expected_version)
    if current.deleted_at is None:
        return current
    return _apply(session, actor, "user.restore", current, {"deleted_at": None})
