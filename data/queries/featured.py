"""Featured content: the ordered ``platform_settings.featured_content_ids`` and the published
items that may be added to it.

``platform_settings`` holds one row; ``featured_content_ids`` is a JSONB array of content id
strings, shown on the platform's home page in that order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Text, and_, cast, func, or_, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from data.models import Content, PlatformSettings
from data.queries.bounded import AUTO, Bounds, ordered_after, search_page
from data.queries.series import parse_order
from data.services.text import clean_search


@dataclass(frozen=True)
class FeaturedItem:
    """One item as the featured list shows it; ``missing`` if the id names no content."""

    id: uuid.UUID
    title: str
    content_type: str
    status: str
    deleted: bool
    published_at: dt.datetime | None
    missing: bool = False

    @property
    def featurable(self) -> bool:
        return not self.missing and not self.deleted and self.status == "published"

    @property
    def label(self) -> str:
        if self.missing:
            return f"(missing item {self.id})"
        marks = [self.content_type]
        if self.deleted:
            marks.append("deleted")
        elif self.status != "published":
            marks.append(self.status)
        return f"{self.title}  ({', '.join(marks)})"


@dataclass(frozen=True)
class FeaturedState:
    """The featured list now; ``version`` is the settings row's xmin (None: no row yet)."""

    settings_id: uuid.UUID | None
    version: int | None
    items: tuple[FeaturedItem, ...]

    @property
    def ids(self) -> list[uuid.UUID]:
        return [i.id for i in self.items]


_ITEM_COLUMNS = (Content.id, Content.title, Content.content_type, Content.status,
                 Content.deleted_at.is_not(None), Content.published_at)


def content_items(session: Session, ids: list[uuid.UUID], *, lock: bool = False
                  ) -> list[FeaturedItem]:
    """``ids`` in the given order, each as a FeaturedItem (``missing`` when not found).
    With ``lock`` the rows are share-locked so nobody unpublishes them meanwhile."""
    stmt = select(*_ITEM_COLUMNS).where(Content.id.in_(ids))
    if lock:
        stmt = stmt.order_by(Content.id).with_for_update(read=True)
    found = {r[0]: FeaturedItem(*r) for r in session.execute(stmt)} if ids else {}
    return [found.get(i) or FeaturedItem(i, "", "", "", False, None, missing=True)
            for i in ids]


def get_featured(session: Session, *, for_update: bool = False) -> FeaturedState:
    stmt = (select(PlatformSettings.id, text("platform_settings.xmin::text::bigint"),
                   PlatformSettings.featured_content_ids)
            .order_by(PlatformSettings.created_at, PlatformSettings.id).limit(1))
    if for_update:
        stmt = stmt.with_for_update()
    row = session.execute(stmt).first()
    if row is None:
        return FeaturedState(None, None, ())
    ids = list(dict.fromkeys(parse_order(row[2])))
    return FeaturedState(row[0], row[1], tuple(content_items(session, ids)))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


TRIGRAM_INDEX = "ix_admin_content_title_trgm"  # migration 0019, where pg_trgm exists
GRAMS_INDEX = "ix_admin_content_title_grams"  # migration 0024, where it does not


def _featurable_keys(c: Any) -> tuple[list[ColumnElement[Any]], bool]:
    """Newest published first (0006's status index serves it; no date: last)."""
    return [func.coalesce(c.published_at, text("'-infinity'::timestamp")), c.id], False


def title_pieces(q: str) -> list[str]:
    """What ``admin.title_grams`` holds of every title containing ``q`` (lower-cased): its
    pieces of three characters; a shorter ``q`` has none."""
    return sorted({q[i:i + 3] for i in range(len(q) - 2)})


def title_contains(session: Session, q: str) -> ColumnElement[bool]:
    """``lower(title)`` contains ``q``, in a form an index answers: as it is where the
    server has pg_trgm (0019's trigram index), else beside 0024's pieces (the LIKE first,
    so that a walk never computes the pieces of a title that does not match)."""
    lowered = session.execute(select(func.lower(q))).scalar_one()
    contains = func.lower(Content.title).like(f"%{_escape_like(lowered)}%")
    has: dict[str, bool] = dict(session.execute(
        text("SELECT 'trgm', to_regclass(:t) IS NOT NULL UNION ALL "
             "SELECT 'grams', to_regclass(:g) IS NOT NULL"),
        {"t": TRIGRAM_INDEX, "g": GRAMS_INDEX}).all())
    if has["trgm"] or not has["grams"] or len(lowered) < 3:
        return contains
    pieces = func.admin.title_grams(Content.title).op("@>")(
        cast(array(title_pieces(lowered)), ARRAY(Text)))
    return and_(contains, pieces)


def search_published_content(session: Session, search: str = "", limit: int = 50,
                             *, bounds: Bounds = AUTO) -> list[FeaturedItem]:
    """Published, not deleted items whose title contains ``search`` (or whose slug starts
    with it, or whose id it is), newest first; the newest when ``search`` is blank.

    Bounded for any term (:func:`bounded.search_page`): the newest-published index is
    walked, testing each item (one page for the empty box, a few for a common term); a
    term the first rows do not answer is collected through the titles' trigram index
    (pg_trgm) or, without pg_trgm, 0024's index of title pieces.
    """
    base = select(*_ITEM_COLUMNS).where(Content.status == "published",
                                        Content.deleted_at.is_(None))
    q = clean_search(search)
    if not q:
        stmt = ordered_after(base, *_featurable_keys(Content.__table__.c), None)
        return [FeaturedItem(*r) for r in session.execute(stmt.limit(limit))]
    conditions: list[ColumnElement[bool]] = [
        title_contains(session, q),
        Content.slug.like(_escape_like(q.lower()) + "%")]
    with contextlib.suppress(ValueError):
        conditions.append(Content.id == uuid.UUID(q))
    rows = search_page(session, base, or_(*conditions), _featurable_keys, None, limit, bounds)
    return [FeaturedItem(*r) for r in rows[:limit]]
