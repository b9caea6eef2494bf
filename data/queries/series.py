"""Read-side queries for content series: the list, one series with its items in order, the
creators a series may belong to, and a consistency check of series membership.

``content_series.content_order`` is a JSONB array of content ids as text (the platform's
format, see :mod:`data.demo.catalog`); ``content.series_id`` says the same thing from the item's
side. :func:`series_inconsistencies` lists every place where the two disagree.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from data.errors import NotFoundError
from data.models import Content, ContentSeries, User
from data.queries.bounded import ordered_after, search_page
from data.queries.catalog import search_condition
from data.services.text import clean_search


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class SeriesRow:
    """One line of the series list."""

    id: uuid.UUID
    title: str
    slug: str
    status: str
    price: Decimal | None
    item_count: int
    updated_at: dt.datetime


def list_series_page(
    session: Session, search: str = "", *, cursor: tuple | None, limit: int
) -> tuple[list[SeriesRow], tuple | None]:
    """One keyset page of series (not deleted) by title A–Z, optionally matching ``search``
    (a part of the title or slug)."""
    count = func.jsonb_array_length(func.coalesce(ContentSeries.content_order,
                                                  text("'[]'::jsonb")))
    sort_key = func.lower(ContentSeries.title)
    stmt = select(
        ContentSeries.id, ContentSeries.title, ContentSeries.slug, ContentSeries.status,
        ContentSeries.price, count, ContentSeries.updated_at, sort_key,
    ).where(ContentSeries.deleted_at.is_(None))
    q = clean_search(search)
    if q:
        pattern = f"%{_escape_like(q.lower())}%"
        stmt = stmt.where(or_(func.lower(ContentSeries.title).like(pattern),
                              ContentSeries.slug.like(pattern)))
    if cursor is not None:
        stmt = stmt.where(tuple_(sort_key, ContentSeries.id) > tuple_(*cursor))
    stmt = stmt.order_by(sort_key, ContentSeries.id).limit(limit + 1)
    raw = session.execute(stmt).all()
    more = len(raw) > limit
    raw = raw[:limit]
    rows = [SeriesRow(*r[:7]) for r in raw]
    next_cursor = (raw[-1][7], raw[-1][0]) if more and raw else None
    return rows, next_cursor


@dataclass(frozen=True)
class SeriesItem:
    """One item of a series, as the ordering list shows it."""

    id: uuid.UUID
    title: str
    content_type: str
    status: str
    deleted: bool


@dataclass(frozen=True)
class SeriesDetail:
    """One series with its items in order; ``version`` is the row's xmin (for conflict-safe
    saves)."""

    id: uuid.UUID
    creator_id: uuid.UUID
    creator_label: str
    title: str
    slug: str
    description: str | None
    thumbnail_url: str | None
    price: Decimal | None
    status: str
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    version: int
    items: tuple[SeriesItem, ...]

    @property
    def item_ids(self) -> list[uuid.UUID]:
        return [i.id for i in self.items]


SERIES_FIELDS = ("title", "slug", "description", "thumbnail_url", "price", "status",
                 "creator_id")


def series_values(detail: SeriesDetail) -> dict[str, Any]:
    """The editable fields, as the form and the audit record see them."""
    return {name: getattr(detail, name) for name in SERIES_FIELDS}


def parse_order(value: Any) -> list[uuid.UUID]:
    """``content_order`` as ids; entries that are not ids are dropped (the web app owns the
    column and we never want a malformed entry to break the page)."""
    ids: list[uuid.UUID] = []
    for entry in value or []:
        try:
            ids.append(uuid.UUID(str(entry)))
        except ValueError:
            continue
    return ids


def dump_order(ids: list[uuid.UUID]) -> list[str]:
    """Ids as ``content_order`` stores them: a JSON array of canonical id strings."""
    return [str(i) for i in ids]


def get_series(session: Session, series_id: uuid.UUID, *, for_update: bool = False
               ) -> SeriesDetail:
    """One series and its items: first those in ``content_order`` (in that order), then any
    item that names the series but is missing from the order (oldest first)."""
    stmt = (
        select(ContentSeries.id, ContentSeries.creator_id,
               (User.full_name + " <" + User.email + ">"), ContentSeries.title,
               ContentSeries.slug, ContentSeries.description, ContentSeries.thumbnail_url,
               ContentSeries.price, ContentSeries.status, ContentSeries.published_at,
               ContentSeries.created_at, ContentSeries.updated_at, ContentSeries.deleted_at,
               text("content_series.xmin::text::bigint"), ContentSeries.content_order)
        .join(User, User.id == ContentSeries.creator_id)
        .where(ContentSeries.id == series_id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=ContentSeries)
    # SQLAlchemy's types for a select stop at ten columns (an open tail from the tenth on), so
    # mypy cannot match this to the dataclass: the row is read untyped, fields in column order.
    row: Row[*tuple[Any, ...]] | None = session.execute(stmt).first()
    if row is None:
        raise NotFoundError("This series no longer exists.")
    order = parse_order(row[-1])
    members = {
        r.id: r for r in session.execute(
            select(Content.id, Content.title, Content.content_type, Content.status,
                   Content.deleted_at.is_not(None).label("deleted"), Content.created_at)
            .where(Content.series_id == series_id)
        )
    }
    items = [members[i] for i in dict.fromkeys(order) if i in members]
    listed = {i.id for i in items}
    items += sorted((m for m in members.values() if m.id not in listed),
                    key=lambda m: (m.created_at, m.id))
    # mypy cannot count an untyped row, so it assumes the values could reach ``items`` too.
    return SeriesDetail(  # type: ignore[misc]
        *row[:-1],
        items=tuple(SeriesItem(m.id, m.title, m.content_type, m.status, m.deleted)
                    for m in items),
    )


@dataclass(frozen=True)
class CreatorChoice:
    id: uuid.UUID
    label: str


CREATOR_ROLES = ("platform_creator", "platform_owner", "media_owner")


def list_creators(session: Session, limit: int = 500) -> list[CreatorChoice]:
    """People who may own a series (not customers, not deleted), by name."""
    return [
        CreatorChoice(r.id, f"{r.full_name} <{r.email}>")
        for r in session.execute(
            select(User.id, User.full_name, User.email)
            .where(User.role.in_(CREATOR_ROLES), User.deleted_at.is_(None))
            .order_by(func.lower(User.full_name), User.id)
            .limit(limit)
        )
    ]


@dataclass(frozen=True)
class SeriesChoice:
    id: uuid.UUID
    title: str


def series_choices(session: Session, limit: int = 1000) -> list[SeriesChoice]:
    """Series an item may be put in (not deleted), by title: for a series picker."""
    return [
        SeriesChoice(r.id, r.title)
        for r in session.execute(
            select(ContentSeries.id, ContentSeries.title)
            .where(ContentSeries.deleted_at.is_(None))
            .order_by(func.lower(ContentSeries.title), ContentSeries.id)
            .limit(limit)
        )
    ]


_INCONSISTENCIES = text("""
WITH listed AS (
    SELECT s.id AS series_id, e.value AS entry, count(*) AS times
    FROM content_series s
    CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(s.content_order, '[]'::jsonb))
        AS e(value)
    GROUP BY s.id, e.value
)
SELECT 'listed twice' AS problem, l.series_id, l.entry AS content_id
FROM listed l WHERE l.times > 1
UNION ALL
SELECT 'listed but not a member', l.series_id, l.entry
FROM listed l
WHERE NOT EXISTS (SELECT 1 FROM content c
                  WHERE c.id::text = l.entry AND c.series_id = l.series_id)
UNION ALL
SELECT 'member but not listed', c.series_id, c.id::text
FROM content c
WHERE c.series_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM listed l
                  WHERE l.series_id = c.series_id AND l.entry = c.id::text)
ORDER BY 1, 2, 3
""")


def series_inconsistencies(session: Session) -> list[tuple[str, uuid.UUID, str]]:
    """Every disagreement between ``content.series_id`` and ``content_order`` in the whole
    database: (problem, series id, content id). Empty when all agree."""
    return [(r[0], r[1], r[2]) for r in session.execute(_INCONSISTENCIES)]


@dataclass(frozen=True)
class SeriesCandidate:
    """An item that could join a series; ``series_title`` names the series it would leave."""

    id: uuid.UUID
    title: str
    content_type: str
    status: str
    series_title: str | None


def _newest_created(c: Any) -> tuple[list[Any], bool]:
    """Newest created first: migration 0018's ``ix_admin_content_created_id``."""
    return [c.created_at, c.id], False


def search_series_candidates(session: Session, series_id: uuid.UUID, search: str = "",
                             limit: int = 50) -> list[SeriesCandidate]:
    """Items (not deleted, not already in ``series_id``) matching ``search`` the way the
    catalog's search does (start of a title word or of the slug, or the id), newest first;
    the newest when ``search`` is blank. Bounded for any term (:func:`bounded.search_page`):
    the empty box reads one page of the creation index."""
    other = ContentSeries.__table__.alias("other")
    base = (select(Content.id, Content.title, Content.content_type, Content.status,
                   other.c.title.label("series_title"), Content.created_at)
            .outerjoin(other, other.c.id == Content.series_id)
            .where(Content.deleted_at.is_(None),
                   or_(Content.series_id.is_(None), Content.series_id != series_id)))
    condition = search_condition(search)
    if condition is None:
        stmt = ordered_after(base, *_newest_created(Content.__table__.c), None).limit(limit)
        rows = [tuple(r) for r in session.execute(stmt)]
    else:
        rows = search_page(session, base, condition, _newest_created, None, limit)
    return [SeriesCandidate(*r[:5]) for r in rows[:limit]]
