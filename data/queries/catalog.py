"""Read-side queries of the Content catalog page: keyset pages, search, one item, its figures.

Every function takes a ``Session`` and returns frozen dataclasses: plain data that may cross
to the GUI thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from data.errors import NotFoundError
from data.models import Content, ContentSeries, User
from data.queries.bounded import AUTO, Bounds, ordered_after, search_page
from data.queries.users import contains_words
from data.queries.users import search_condition as user_search_condition
from data.services.text import clean_search

DeletedFilter = Literal["active", "deleted", "all"]
CatalogSort = Literal["published", "title", "price", "purchases"]
CATALOG_SORTS: tuple[CatalogSort, ...] = ("published", "title", "price", "purchases")
EXACT_COUNT_LIMIT = 10_000
MIN_WALK_MATCHES = 1_000
CREATOR_ROLES = ("platform_owner", "platform_creator", "media_owner")
CHOICE_LIMIT = 500

# A draft has no published date: it sorts after every published item (oldest end), and the
# keyset needs a non-null key, so the sort key is coalesce(published_at, '-infinity').
_NEVER = text("'-infinity'::timestamp")


@dataclass(frozen=True)
class CatalogFilter:
    """What the list shows. ``None`` in a field means "any"."""

    search: str = ""
    content_type: str | None = None
    status: str | None = None
    category: str | None = None
    visibility: str | None = None
    series_id: uuid.UUID | None = None
    deleted: DeletedFilter = "active"
    sort: CatalogSort = "published"
    creator_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CatalogRow:
    id: uuid.UUID
    title: str
    slug: str
    content_type: str
    status: str
    category: str | None
    visibility: str
    price: Decimal | None
    published_at: dt.datetime | None
    purchase_count: int
    view_count: int
    series_id: uuid.UUID | None
    deleted_at: dt.datetime | None


_LIST_COLUMNS = (
    Content.id, Content.title, Content.slug, Content.content_type, Content.status,
    Content.category, Content.visibility, Content.price, Content.published_at,
    Content.purchase_count, Content.view_count, Content.series_id, Content.deleted_at,
)

_WORD = re.compile(r"\w+", re.UNICODE)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def title_tsvector(column: Any) -> ColumnElement[Any]:
    """The expression the title's GIN index is built on (migration 0006)."""
    return func.to_tsvector(text("'simple'::regconfig"), column)


def search_condition(search: str) -> ColumnElement[bool] | None:
    """Match the start of the slug, the start of any word of the title, or an exact id.

    Core PostgreSQL only (no pg_trgm): ``slug LIKE 'q%'`` uses a ``text_pattern_ops``
    b-tree, the title words a GIN full-text index.
    """
    q = clean_search(search)
    if not q:
        return None
    conditions: list[ColumnElement[bool]] = []
    if " " not in q:
        conditions.append(Content.slug.like(_escape_like(q.lower()) + "%"))
    words = _WORD.findall(q.lower())
    if words:
        tsquery = " & ".join(f"{w}:*" for w in words)
        conditions.append(and_(*contains_words(Content.title, words),
                               title_tsvector(Content.title).op("@@")(
                                   func.to_tsquery(text("'simple'::regconfig"), tsquery))))
    with contextlib.suppress(ValueError):
        conditions.append(Content.id == uuid.UUID(q))
    if not conditions:
        return literal(False)
    return or_(*conditions)


def _filtered(flt: CatalogFilter, *, search: bool = True):
    stmt = select(*_LIST_COLUMNS)
    cond = search_condition(flt.search) if search else None
    if cond is not None:
        stmt = stmt.where(cond)
    for column, value in ((Content.content_type, flt.content_type), (Content.status, flt.status),
                          (Content.category, flt.category),
                          (Content.visibility, flt.visibility),
                          (Content.series_id, flt.series_id),
                          (Content.creator_id, flt.creator_id)):  # idx_content_creator_id
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.deleted == "active":
        stmt = stmt.where(Content.deleted_at.is_(None))
    elif flt.deleted == "deleted":
        stmt = stmt.where(Content.deleted_at.is_not(None))
    return stmt


def _sort_keys(sort: CatalogSort, c: Any) -> tuple[list[ColumnElement[Any]], bool]:
    """(key expressions ending with id, ascending?) for one sort; match 0006's indexes."""
    if sort == "title":
        return [func.lower(c.title), c.id], True
    if sort == "price":
        return [func.coalesce(c.price, literal_column("0")), c.id], False
    if sort == "purchases":
        return [c.purchase_count, c.id], False
    return [func.coalesce(c.published_at, _NEVER), c.id], False


def _cursor_of(sort: CatalogSort, row: CatalogRow) -> tuple:
    if sort == "title":
        return (row.title.lower(), row.id)
    if sort == "price":
        return (row.price or Decimal(0), row.id)
    if sort == "purchases":
        return (row.purchase_count, row.id)
    return (row.published_at, row.id)  # None: a draft, keyed as '-infinity'


def list_content_page(
    session: Session, flt: CatalogFilter, cursor: tuple | None, limit: int,
    *, bounds: Bounds = AUTO,
) -> tuple[list[CatalogRow], tuple | None]:
    """One keyset page of content after ``cursor``; returns the rows and the next cursor.

    Without a search the page walks a sort index. With one, :func:`bounded.search_page`
    finds it at a bounded cost whether the term matches a few items or most of them
    (the planner's estimate is not asked: it was 19,877 for "12345", which matches 11).
    """
    bound = None
    if cursor is not None:
        bound = (_NEVER if cursor[0] is None else literal(cursor[0]), literal(cursor[1]))
    cond = search_condition(flt.search)
    if cond is not None:
        raw = search_page(session, _filtered(flt, search=False), cond,
                          lambda c: _sort_keys(flt.sort, c), bound, limit, bounds)
    else:
        stmt = ordered_after(_filtered(flt), *_sort_keys(flt.sort, Content.__table__.c), bound)
        raw = list(session.execute(stmt.limit(limit + 1)))
    rows = [CatalogRow(*r) for r in raw]
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    return rows, _cursor_of(flt.sort, rows[-1])


@dataclass(frozen=True)
class CatalogCount:
    value: int
    exact: bool


def count_content(session: Session, flt: CatalogFilter) -> CatalogCount:
    """Exact for small filtered sets; the planner's estimate for the whole catalog."""
    if flt == CatalogFilter(sort=flt.sort):
        estimate = session.execute(
            text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'content'::regclass")
        ).scalar_one()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return CatalogCount(int(estimate), False)
    capped = _filtered(flt).limit(EXACT_COUNT_LIMIT + 1).subquery()
    n = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return CatalogCount(min(n, EXACT_COUNT_LIMIT), n <= EXACT_COUNT_LIMIT)


# -- one item ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContentRecord:
    """One item as the editor sees it, with ``version`` (the row's xmin) for safe saves."""

    id: uuid.UUID
    creator_id: uuid.UUID
    title: str
    slug: str
    description: str | None
    content_type: str
    media_url: str | None
    media_duration_seconds: int | None
    thumbnail_url: str | None
    content_body: str | None
    category: str | None
    tags: tuple[str, ...]
    series_id: uuid.UUID | None
    visibility: str
    price: Decimal | None
    status: str
    published_at: dt.datetime | None
    view_count: int
    purchase_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None
    version: int

    def list_row(self) -> CatalogRow:
        """The list's row for this item (to refresh the list after a change)."""
        return CatalogRow(
            self.id, self.title, self.slug, self.content_type, self.status, self.category,
            self.visibility, self.price, self.published_at, self.purchase_count,
            self.view_count, self.series_id, self.deleted_at)


RECORD_COLUMNS = (
    Content.id, Content.creator_id, Content.title, Content.slug, Content.description,
    Content.content_type, Content.media_url, Content.media_duration_seconds,
    Content.thumbnail_url, Content.content_body, Content.category, Content.tags,
    Content.series_id, Content.visibility, Content.price, Content.status, Content.published_at,
    Content.view_count, Content.purchase_count, Content.created_at, Content.updated_at,
    Content.deleted_at, text("content.xmin::text::bigint AS version"),
)

EDITABLE_FIELDS = (
    "title", "slug", "description", "content_type", "media_url", "media_duration_seconds",
    "thumbnail_url", "content_body", "category", "tags", "series_id", "visibility", "price",
    "creator_id",
)


def _record(row: Any) -> ContentRecord:
    values = list(row)
    tags = values[11]
    values[11] = tuple(str(t) for t in tags) if isinstance(tags, list) else ()
    return ContentRecord(*values)


def get_content(
    session: Session, content_id: uuid.UUID, *, for_update: bool = False
) -> ContentRecord:
    stmt = select(*RECORD_COLUMNS).select_from(Content).where(Content.id == content_id)
    if for_update:
        stmt = stmt.with_for_update(of=Content)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFoundError("This content item no longer exists.")
    return _record(row)


def get_contents_for_update(
    session: Session, content_ids: list[uuid.UUID]
) -> list[ContentRecord]:
    """Several items, row-locked in id order (a stable order: two bulk actions never
    deadlock on each other)."""
    stmt = (select(*RECORD_COLUMNS).select_from(Content)
            .where(Content.id.in_(sorted(set(content_ids))))
            .order_by(Content.id).with_for_update(of=Content))
    return [_record(r) for r in session.execute(stmt)]


def get_contents(session: Session, content_ids: list[uuid.UUID]) -> list[ContentRecord]:
    stmt = (select(*RECORD_COLUMNS).select_from(Content)
            .where(Content.id.in_(sorted(set(content_ids)))).order_by(Content.id))
    return [_record(r) for r in session.execute(stmt)]


def record_values(record: ContentRecord) -> dict[str, Any]:
    """The editable fields, as the editor and the audit record see them."""
    return {name: getattr(record, name) for name in EDITABLE_FIELDS}


@dataclass(frozen=True)
class ContentMoney:
    """One currency's money for an item: never added to another currency's."""

    currency: str
    gross_revenue: Decimal
    refunds: Decimal

    @property
    def net_revenue(self) -> Decimal:
        return self.gross_revenue - self.refunds


@dataclass(frozen=True)
class ContentFigures:
    """Per-item figures. ``purchases`` counts purchases that were paid (completed or later
    refunded) from ``purchases``; ``money`` holds, per currency (the largest first), what
    they brought in and what went back; ``purchase_count``/``view_count`` are the platform's
    own counters."""

    purchases: int
    money: tuple[ContentMoney, ...]
    purchase_count: int
    view_count: int
    refunds_from_requests: bool
    """Whether ``admin.refund_requests`` existed and was used for the refunds figure."""

    def _main(self, name: str) -> Decimal:
        return getattr(self.money[0], name) if self.money else Decimal("0")

    @property
    def gross_revenue(self) -> Decimal:
        """The main currency's (the first of :attr:`money`)."""
        return self._main("gross_revenue")

    @property
    def refunds(self) -> Decimal:
        return self._main("refunds")

    @property
    def net_revenue(self) -> Decimal:
        return self._main("net_revenue")


# Per currency: a refund request is in the currency of the purchase it refunds.
_FIGURES = text("""
    SELECT lower(p.currency) AS currency,
      count(*) FILTER (WHERE p.status IN ('completed', 'refunded')) AS n,
      coalesce(sum(p.amount_paid) FILTER (WHERE p.status IN ('completed', 'refunded')), 0)
        AS gross,
      coalesce(sum(p.amount_paid) FILTER (WHERE p.status = 'refunded'), 0) AS refunded
    FROM purchases p WHERE p.content_id = :cid
    GROUP BY lower(p.currency)
""")

_REFUNDS_WITH_REQUESTS = text("""
    SELECT currency, sum(amount) FROM (
      SELECT lower(p.currency) AS currency, p.amount_paid AS amount
      FROM purchases p
      WHERE p.content_id = :cid AND p.status = 'refunded' AND NOT EXISTS (
        SELECT 1 FROM admin.refund_requests r
        WHERE r.purchase_id = p.id AND r.status = 'succeeded')
      UNION ALL
      SELECT lower(p.currency), r.amount
      FROM admin.refund_requests r JOIN purchases p ON p.id = r.purchase_id
      WHERE p.content_id = :cid AND r.status = 'succeeded'
    ) refunds GROUP BY currency
""")


def get_content_figures(session: Session, content_id: uuid.UUID) -> ContentFigures:
    counters = session.execute(
        select(Content.purchase_count, Content.view_count).where(Content.id == content_id)
    ).first()
    if counters is None:
        raise NotFoundError("This content item no longer exists.")
    rows = session.execute(_FIGURES, {"cid": content_id}).all()
    has_requests = session.execute(
        text("SELECT to_regclass('admin.refund_requests') IS NOT NULL")
    ).scalar_one()
    if has_requests:
        refunds = dict(session.execute(_REFUNDS_WITH_REQUESTS, {"cid": content_id}).all())
    else:
        refunds = {r.currency: r.refunded for r in rows}
    money = sorted(
        (ContentMoney(r.currency or "usd", Decimal(r.gross), Decimal(refunds.get(r.currency, 0)))
         for r in rows if r.gross or refunds.get(r.currency)),
        key=lambda m: (-m.gross_revenue, m.currency))
    return ContentFigures(
        purchases=sum(int(r.n) for r in rows), money=tuple(money),
        purchase_count=counters.purchase_count, view_count=counters.view_count,
        refunds_from_requests=bool(has_requests),
    )


# -- choices for the editor and filters -----------------------------------------------------

@dataclass(frozen=True)
class Choice:
    value: Any
    label: str


@dataclass(frozen=True)
class CatalogChoices:
    """What the filters and the editor offer: categories in use, series, creators."""

    categories: tuple[str, ...]
    series: tuple[Choice, ...]
    creators: tuple[Choice, ...]


def list_categories(session: Session) -> tuple[str, ...]:
    rows = session.execute(
        select(Content.category).where(Content.category.is_not(None))
        .group_by(Content.category).order_by(Content.category).limit(CHOICE_LIMIT)
    ).scalars()
    return tuple(r for r in rows if r)


def list_series_choices(session: Session) -> tuple[Choice, ...]:
    return tuple(
        Choice(r.id, r.title) for r in session.execute(
            select(ContentSeries.id, ContentSeries.title)
            .where(ContentSeries.deleted_at.is_(None))
            .order_by(func.lower(ContentSeries.title), ContentSeries.id).limit(CHOICE_LIMIT))
    )


def list_creator_choices(session: Session) -> tuple[Choice, ...]:
    return tuple(
        Choice(r.id, f"{r.full_name} <{r.email}> ({r.role})") for r in session.execute(
            select(User.id, User.full_name, User.email, User.role)
            .where(User.role.in_(CREATOR_ROLES), User.deleted_at.is_(None))
            .order_by(func.lower(User.full_name), User.id).limit(CHOICE_LIMIT))
    )


def get_catalog_choices(session: Session) -> CatalogChoices:
    return CatalogChoices(list_categories(session), list_series_choices(session),
                          list_creator_choices(session))


def slug_taken(session: Session, slug: str, except_id: uuid.UUID | None = None) -> bool:
    """Whether another content item already uses ``slug`` (deleted items too: the column
    is unique)."""
    cond = [Content.slug == slug]
    if except_id is not None:
        cond.append(Content.id != except_id)
    return session.execute(select(Content.id).where(and_(*cond)).limit(1)).first() is not None


def get_catalog_row(session: Session, content_id: uuid.UUID) -> CatalogRow | None:
    """One item's list row (after a change), or None when there is no such item."""
    row = session.execute(select(*_LIST_COLUMNS).where(Content.id == content_id)).first()
    return CatalogRow(*tuple(row)) if row is not None else None


@dataclass(frozen=True)
class ContentDetail:
    """What the catalog's detail shows: the editable record and its figures."""

    record: ContentRecord
    figures: ContentFigures


def get_content_detail(session: Session, content_id: uuid.UUID) -> ContentDetail:
    """One item with its figures, in one read (the detail shows both)."""
    return ContentDetail(get_content(session, content_id),
                         get_content_figures(session, content_id))


def search_creators(session: Session, text: str, limit: int = 20) -> list[tuple[uuid.UUID, str]]:
    """Creators matching ``text`` (the start of the email or of a name word), for the
    catalog's creator filter: (id, "Name <email>") pairs, by name; none for a blank text."""
    cond = user_search_condition(text)
    if cond is None:
        return []
    rows = session.execute(
        select(User.id, User.full_name, User.email)
        .where(cond, User.role.in_(CREATOR_ROLES), User.deleted_at.is_(None))
        .order_by(func.lower(User.full_name), User.id).limit(limit))
    return [(r.id, f"{r.full_name} <{r.email}>") for r in rows]
