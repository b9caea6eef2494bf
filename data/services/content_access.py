"""Complimentary access: give a person an item for free (optionally until a date), and take
it back.

``content_access`` holds one row per (user, item). A purchased or subscription access is
never overwritten here (a purchase is taken back by refunding it); an expired complimentary,
subscription or a preview row may be turned into a complimentary grant. Revoking ends the
grant now (``expires_at``) rather than deleting the row, so when and how long someone had
the item stays visible.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from data.errors import DomainError, NotFoundError, ValidationError
from data.models import Content, ContentAccess, User
from data.queries.content_access import AccessRow, get_access
from data.services.audit import record_change
from data.services.text import parse_id

REASONS = {
    "purchased": "bought it",
    "subscription": "has it through a subscription",
    "preview": "has a preview",
    "complimentary": "has complimentary access",
}


def _db_now(session: Session) -> dt.datetime:
    return session.execute(select(func.localtimestamp())).scalar_one()


def _naive(value: dt.datetime) -> dt.datetime:
    """The columns are ``timestamp without time zone`` in the database's clock (UTC on the
    platform); an aware value is converted to UTC first."""
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _access_values(row: AccessRow | None) -> dict | None:
    if row is None:
        return None
    return {"user_id": row.user_id, "access_type": row.access_type,
            "granted_at": row.granted_at, "expires_at": row.expires_at}


def _check_content(session: Session, content_id: uuid.UUID) -> str:
    row = session.execute(
        select(Content.title, Content.deleted_at).where(Content.id == content_id)
    ).first()
    if row is None:
        raise NotFoundError("This content item no longer exists.")
    if row.deleted_at is not None:
        raise DomainError(f"'{row.title}' is deleted; restore it before granting access.")
    return row.title


def grant_complimentary_access(
    session: Session, actor: str, content_id: uuid.UUID, user_id: uuid.UUID | None,
    expires_at: dt.datetime | None,
) -> AccessRow:
    """Give ``user_id`` free access to the item, permanently or until ``expires_at``.

    Renews (new expiry) an existing complimentary grant, expired or not. Refuses, naming
    the "user_id" field, someone who bought the item or has it through an active
    subscription; "expires_at" in the past is refused too. Nothing is written on refusal.
    """
    content_id = parse_id("content_id", content_id, "Not a content id.")
    errors: dict[str, str] = {}
    if expires_at is not None and not isinstance(expires_at, dt.datetime):
        errors["expires_at"] = "Choose a date and time, or none for permanent access."
        expires_at = None
    if user_id is not None and not isinstance(user_id, uuid.UUID):
        try:
            user_id = uuid.UUID(str(user_id))
        except (ValueError, TypeError, AttributeError):
            user_id = None  # "Choose who gets access." below
    now = _db_now(session)
    if expires_at is not None:
        expires_at = _naive(expires_at)
        if expires_at <= now:
            errors["expires_at"] = "The expiry date must be in the future."
    if user_id is None:
        errors["user_id"] = "Choose who gets access."
    else:
        person = session.execute(
            select(User.email, User.deleted_at).where(User.id == user_id)
        ).first()
        if person is None:
            errors["user_id"] = "This person no longer exists."
        elif person.deleted_at is not None:
            errors["user_id"] = f"{person.email} is deleted; restore them first."
    if errors:
        raise ValidationError(errors)
    assert user_id is not None
    _check_content(session, content_id)

    inserted = session.execute(
        pg_insert(ContentAccess)
        .values(user_id=user_id, content_id=content_id, access_type="complimentary",
                expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["user_id", "content_id"])
        .returning(ContentAccess.id)
    ).first()
    if inserted is not None:
        saved = get_access(session, content_id, user_id)
        assert saved is not None
        record_change(session, actor=actor, action="content_access.grant",
                      entity_type="content", entity_id=content_id, old_values=None,
                      new_values=_access_values(saved))
        return saved

    current = get_access(session, content_id, user_id, for_update=True)
    assert current is not None  # the unique row exists; access rows are never deleted here
    if current.access_type == "purchased" or (
            current.access_type == "subscription" and current.active):
        since = current.granted_at.strftime("%Y-%m-%d")
        raise ValidationError({"user_id": (
            f"{current.email} already {REASONS[current.access_type]} (since {since}); "
            "nothing was changed.")})
    session.execute(
        update(ContentAccess).where(ContentAccess.id == current.id)
        .values(access_type="complimentary", expires_at=expires_at,
                granted_at=current.granted_at if current.active
                and current.access_type == "complimentary" else func.localtimestamp(),
                updated_at=func.localtimestamp())
    )
    saved = get_access(session, content_id, user_id)
    assert saved is not None
    record_change(session, actor=actor, action="content_access.grant", entity_type="content",
                  entity_id=content_id, old_values=_access_values(current),
                  new_values=_access_values(saved))
    return saved


def revoke_access(
    session: Session, actor: str, content_id: uuid.UUID, user_id: uuid.UUID
) -> AccessRow:
    """End a complimentary grant now. Other kinds of access are refused with the reason."""
    content_id = parse_id("content_id", content_id, "Not a content id.")
    user_id = parse_id("user_id", user_id, "Choose whose access ends.")
    current = get_access(session, content_id, user_id, for_update=True)
    if current is None:
        raise NotFoundError("This person has no access to this item.")
    if current.access_type == "purchased":
        raise DomainError(f"{current.email} bought this item: purchased access ends only "
                          "when the purchase is refunded.")
    if current.access_type != "complimentary":
        raise DomainError(f"{current.email} {REASONS[current.access_type]}; only "
                          "complimentary access can be revoked here.")
    if not current.active:
        raise DomainError(f"{current.email}'s complimentary access has already ended.")
    session.execute(
        update(ContentAccess).where(ContentAccess.id == current.id)
        .values(expires_at=func.localtimestamp(), updated_at=func.localtimestamp())
    )
    saved = get_access(session, content_id, user_id)
    assert saved is not None
    record_change(session, actor=actor, action="content_access.revoke", entity_type="content",
                  entity_id=content_id, old_values=_access_values(current),
                  new_values=_access_values(saved))
    return saved
