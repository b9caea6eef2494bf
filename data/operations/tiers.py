"""Operations on subscription tiers: create, edit (prices and access included), archive,
make active again, delete. Each announces the tier it changed (table
``subscription_tiers``, by id): the list reloads that row and the detail the tier it shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.tiers import TierRecord
from data.services import tiers as service

__all__ = ["ArchiveTier", "CreateTier", "DeleteTier", "RestoreTier", "UpdateTier"]


class _TierOperation(Operation):
    def changes(self, result: TierRecord) -> Changes:
        return Changes.of(subscription_tiers=result.id)


@dataclass(frozen=True)
class CreateTier(_TierOperation):
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "create the tier"

    def run(self, session: Session, actor: str) -> TierRecord:
        return service.create_tier(session, actor, dict(self.values))


@dataclass(frozen=True)
class UpdateTier(_TierOperation):
    """Save edited fields (a price change writes a history version), if the tier is
    unchanged since ``version``."""

    tier_id: uuid.UUID
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "save the tier"

    def run(self, session: Session, actor: str) -> TierRecord:
        return service.update_tier(session, actor, self.tier_id, self.version,
                                   dict(self.values))


@dataclass(frozen=True)
class ArchiveTier(_TierOperation):
    tier_id: uuid.UUID
    version: int
    action = "archive the tier"

    def run(self, session: Session, actor: str) -> TierRecord:
        return service.set_tier_active(session, actor, self.tier_id, self.version, False)


@dataclass(frozen=True)
class RestoreTier(_TierOperation):
    tier_id: uuid.UUID
    version: int
    action = "make the tier active"

    def run(self, session: Session, actor: str) -> TierRecord:
        return service.set_tier_active(session, actor, self.tier_id, self.version, True)


@dataclass(frozen=True)
class DeleteTier(Operation):
    tier_id: uuid.UUID
    version: int
    action = "delete the tier"

    def run(self, session: Session, actor: str) -> uuid.UUID:
        return service.delete_tier(session, actor, self.tier_id, self.version)

    def changes(self, result: uuid.UUID) -> Changes:
        return Changes.of(subscription_tiers=result)
