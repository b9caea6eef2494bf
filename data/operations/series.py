"""Operations on content series: create, edit and reorder, add and remove items; and the
featured content list.

Series operations announce ``content_series`` (the series) and ``content`` (the items whose
series changed); the featured list announces ``platform_settings``, where it is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.featured import FeaturedState
from data.queries.series import SeriesDetail, get_series
from data.services import featured as featured_service
from data.services import series as series_service

__all__ = ["AddToSeries", "CreateSeries", "RemoveFromSeries", "SaveSeries", "SetFeatured"]


class _SeriesOperation(Operation):
    def changes(self, result: SeriesDetail) -> Changes:
        return Changes.of(content_series=result.id)


@dataclass(frozen=True)
class CreateSeries(_SeriesOperation):
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "create the series"

    def run(self, session: Session, actor: str) -> SeriesDetail:
        return series_service.create_series(session, actor, dict(self.values))


@dataclass(frozen=True)
class SaveSeries(_SeriesOperation):
    """Save edited fields and (``order`` not None) the items' order together, if the series
    is unchanged since ``version``."""

    series_id: uuid.UUID
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    order: tuple[uuid.UUID, ...] | None = None
    action = "save the series"

    def run(self, session: Session, actor: str) -> SeriesDetail:
        saved = None
        version = self.version
        if self.values:
            saved = series_service.update_series(session, actor, self.series_id, version,
                                                 dict(self.values))
            version = saved.version
        if self.order is not None:
            saved = series_service.reorder_series(session, actor, self.series_id, version,
                                                  list(self.order))
        return saved if saved is not None else get_series(session, self.series_id)


@dataclass(frozen=True)
class AddToSeries(Operation):
    """Append items to the end of a series; an item in another series leaves it."""

    series_id: uuid.UUID
    content_ids: tuple[uuid.UUID, ...]
    action = "add the items to the series"

    def run(self, session: Session, actor: str) -> SeriesDetail:
        return series_service.add_items_to_series(session, actor, self.series_id,
                                                  list(self.content_ids))

    def changes(self, result: SeriesDetail) -> Changes:
        # The series the items left changed too: which ones is not known here.
        return Changes.of(content_series=None, content=self.content_ids)


@dataclass(frozen=True)
class RemoveFromSeries(Operation):
    """Take one item out of its series (it stays in the catalog, in no series)."""

    series_id: uuid.UUID
    content_id: uuid.UUID
    action = "remove the item from the series"

    def run(self, session: Session, actor: str) -> SeriesDetail:
        series_service.move_content_to_series(session, actor, self.content_id, None)
        return get_series(session, self.series_id)

    def changes(self, result: SeriesDetail) -> Changes:
        return Changes.of(content_series=self.series_id, content=self.content_id)


@dataclass(frozen=True)
class SetFeatured(Operation):
    """Store the featured list, in order, if unchanged since ``version``."""

    version: int | None
    content_ids: tuple[uuid.UUID, ...]
    action = "save the featured content"

    def run(self, session: Session, actor: str) -> FeaturedState:
        return featured_service.set_featured_content(session, actor, self.version,
                                                     list(self.content_ids))

    def changes(self, result: FeaturedState) -> Changes:
        return Changes.of(platform_settings=None)
