"""Who has access to a content item, and why (``content_access``).

A popular item may have thousands of access rows, so the list is keyset paged, newest grant
first. "Active" means not expired: ``expires_at`` is NULL (permanent) or later than now, in
the database's own clock (the columns are ``timestamp without time zone``, as the platform
writes them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import Session

from data.models import ContentAccess, User
from data.queries.users import UserFilter, UserRow, list_users_page

ACCESS_TYPES = ("purchased", "subscription", "complimentary", "preview")


@dataclass(frozen=True)
class AccessRow:
    """One person's access to one item."""

    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    full_name: str
    access_type: str
    granted_at: dt.datetime
    expires_at: dt.datetime | None
    last_accessed_at: dt.datetime | None
    active: bool


def _active():
    return or_(ContentAccess.expires_at.is_(None),
               ContentAccess.expires_at > func.localtimestamp())


_COLUMNS = (
    ContentAccess.id, ContentAccess.user_id, User.email, User.full_name,
    ContentAccess.access_type, ContentAccess.granted_at, ContentAccess.expires_at,
    ContentAccess.last_accessed_at, _active().label("active"),
)


def list_access_page(
    session: Session, content_id: uuid.UUID, *, cursor: tuple | None, limit: int
) -> tuple[list[AccessRow], tuple | None]:
    """One keyset page of the item's access rows, newest grant first."""
    stmt = (select(*_COLUMNS).join(User, User.id == ContentAccess.user_id)
            .where(ContentAccess.content_id == content_id))
    if cursor is not None:
        stmt = stmt.where(tuple_(ContentAccess.granted_at, ContentAccess.id) < tuple_(*cursor))
    stmt = stmt.order_by(ContentAccess.granted_at.desc(), ContentAccess.id.desc())
    rows = [AccessRow(*r) for r in session.execute(stmt.limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    return rows, (rows[-1].granted_at, rows[-1].id)


def get_access(session: Session, content_id: uuid.UUID, user_id: uuid.UUID,
               *, for_update: bool = False) -> AccessRow | None:
    """The one access row of ``user_id`` to ``content_id`` (UNIQUE), or None."""
    stmt = (select(*_COLUMNS).join(User, User.id == ContentAccess.user_id)
            .where(ContentAccess.content_id == content_id, ContentAccess.user_id == user_id))
    if for_update:
        stmt = stmt.with_for_update(of=ContentAccess)
    row = session.execute(stmt).first()
    return AccessRow(*row) if row else None


@dataclass(frozen=True)
class AccessSummary:
    """How many people have active access to an item, by reason."""

    by_type: tuple[tuple[str, int], ...]
    expired: int

    @property
    def active(self) -> int:
        return sum(n for _, n in self.by_type)


def access_summary(session: Session, content_id: uuid.UUID) -> AccessSummary:
    rows = session.execute(
        select(ContentAccess.access_type, _active(), func.count())
        .where(ContentAccess.content_id == content_id)
        .group_by(ContentAccess.access_type, _active())
    ).all()
    counts = {t: 0 for t in ACCESS_TYPES}
    expired = 0
    for access_type, active, n in rows:
        if active:
            counts[access_type] = counts.get(access_type, 0) + n
        else:
            expired += n
    return AccessSummary(tuple(counts.items()), expired)



def find_people_to_grant(session: Session, search: str, limit: int) -> list[UserRow]:
    """The first ``limit`` active users whose email or name matches ``search`` (the people
    complimentary access can be granted to), as the Users list finds them."""
    return list_users_page(session, UserFilter(search=search, status="active"), None,
                           limit)[0]
