"""Operations on the content catalog: create, edit, the publishing workflow, delete and
restore, and bulk actions.

Each announces the items it changed (table ``content``, by id): the catalog's list reloads
those rows and its detail the item it shows. An edit may move an item into or out of a
series, so edits and creations announce ``content_series`` too (ids not known here).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.catalog import ContentRecord
from data.services import catalog as catalog_service
from data.services.catalog import BulkAction, BulkPreview

__all__ = ["ApplyBulk", "ArchiveContent", "CreateContent", "DeleteContent", "PublishContent",
           "RestoreContent", "ReturnToDraft", "UpdateContent"]


class _ContentOperation(Operation):
    def changes(self, result: ContentRecord) -> Changes:
        return Changes.of(content=result.id)


@dataclass(frozen=True)
class CreateContent(_ContentOperation):
    """A new item, saved as a draft."""

    values: Mapping[str, Any] = field(default_factory=dict)
    action = "create the item"

    def run(self, session: Session, actor: str) -> ContentRecord:
        return catalog_service.create_content(session, actor, dict(self.values))

    def changes(self, result: ContentRecord) -> Changes:
        return Changes.of(content=result.id, content_series=None)


@dataclass(frozen=True)
class UpdateContent(_ContentOperation):
    """Save edited fields, if the item is unchanged since ``version``."""

    content_id: uuid.UUID
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "save the item"

    def run(self, session: Session, actor: str) -> ContentRecord:
        return catalog_service.update_content(session, actor, self.content_id, self.version,
                                              dict(self.values))

    def changes(self, result: ContentRecord) -> Changes:
        changed = Changes.of(content=result.id)
        if "series_id" in self.values:  # the item left one series' order and joined another
            changed |= Changes.of(content_series=None)
        return changed


@dataclass(frozen=True)
class _Transition(_ContentOperation):
    content_id: uuid.UUID
    version: int
    service: ClassVar[Any]

    def run(self, session: Session, actor: str) -> ContentRecord:
        return type(self).service(session, actor, self.content_id, self.version)


@dataclass(frozen=True)
class PublishContent(_Transition):
    """Publish a complete item (an incomplete one is refused, naming what is missing)."""

    service = staticmethod(catalog_service.publish_content)
    action = "publish the item"


@dataclass(frozen=True)
class ArchiveContent(_Transition):
    service = staticmethod(catalog_service.archive_content)
    action = "archive the item"


@dataclass(frozen=True)
class ReturnToDraft(_Transition):
    service = staticmethod(catalog_service.return_to_draft)
    action = "return the item to draft"


@dataclass(frozen=True)
class DeleteContent(_Transition):
    """Soft delete: the item leaves the catalog; its purchases and access records stay."""

    service = staticmethod(catalog_service.soft_delete_content)
    action = "delete the item"


@dataclass(frozen=True)
class RestoreContent(_Transition):
    service = staticmethod(catalog_service.restore_content)
    action = "restore the item"


@dataclass(frozen=True)
class ApplyBulk(Operation):
    """Apply one bulk action to every item, all or nothing (checked again under locks)."""

    content_ids: tuple[uuid.UUID, ...]
    bulk_action: BulkAction
    value: Any = None
    action = "apply the bulk change"

    def run(self, session: Session, actor: str) -> BulkPreview:
        return catalog_service.apply_bulk(session, actor, list(self.content_ids),
                                          self.bulk_action, self.value)

    def changes(self, result: BulkPreview) -> Changes:
        return Changes.of(content=[c.id for c in result.changes])
