"""Operations on who may open an item: complimentary grants and their revocation.

Both announce ``content_access`` by the item's id (what the Access panel lists by).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.content_access import AccessRow
from data.services import content_access as access_service

__all__ = ["GrantAccess", "RevokeAccess"]


@dataclass(frozen=True)
class GrantAccess(Operation):
    """Free access to one item for one person, permanently (``expires_at`` None) or until
    then; renews an existing complimentary grant."""

    content_id: uuid.UUID
    user_id: uuid.UUID | None
    expires_at: dt.datetime | None = None
    action = "grant access"

    def run(self, session: Session, actor: str) -> AccessRow:
        return access_service.grant_complimentary_access(session, actor, self.content_id,
                                                         self.user_id, self.expires_at)

    def changes(self, result: AccessRow) -> Changes:
        return Changes.of(content_access=self.content_id)


@dataclass(frozen=True)
class RevokeAccess(Operation):
    """End a complimentary grant now."""

    content_id: uuid.UUID
    user_id: uuid.UUID
    action = "revoke access"

    def run(self, session: Session, actor: str) -> AccessRow:
        return access_service.revoke_access(session, actor, self.content_id, self.user_id)

    def changes(self, result: AccessRow) -> Changes:
        return Changes.of(content_access=self.content_id)
