"""Operations on the platform's users (profile edits, verification, soft delete)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.users import UserProfile
from data.services import users as user_service


class _ProfileOperation(Operation):
    user_id: uuid.UUID

    def changes(self, result: UserProfile) -> Changes:
        return Changes.of(users=result.id)


@dataclass(frozen=True)
class UpdateProfile(_ProfileOperation):
    """Save edited profile fields, if the user is unchanged since ``version``."""

    user_id: uuid.UUID
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "save the profile"

    def run(self, session: Session, actor: str) -> UserProfile:
        return user_service.update_profile(session, actor, self.user_id, self.version,
                                           dict(self.values))


@dataclass(frozen=True)
class _UserTransition(_ProfileOperation):
    """A change of one user's state by a service taking (user_id, version)."""

    user_id: uuid.UUID
    version: int
    service: ClassVar[Any]  # the service taking (session, actor, user_id, version)

    def run(self, session: Session, actor: str) -> UserProfile:
        return type(self).service(session, actor, self.user_id, self.version)


@dataclass(frozen=True)
class MarkEmailVerified(_UserTransition):
    action = "mark the email verified"
    service = staticmethod(user_service.mark_email_verified)


@dataclass(frozen=True)
class DeleteUser(_UserTransition):
    """Soft delete: the user can no longer sign in; their history stays."""

    action = "delete the user"
    service = staticmethod(user_service.soft_delete_user)


@dataclass(frozen=True)
class RestoreUser(_UserTransition):
    action = "restore the user"
    service = staticmethod(user_service.restore_user)
