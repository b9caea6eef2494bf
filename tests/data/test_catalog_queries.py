"""Catalog list queries: keyset pages in every sort order, search, filters, deleted items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text

from data.queries.catalog import (
    CATALOG_SORTS,
    CatalogFilter,
    count_content,
    get_catalog_choices,
    list_content_page,
)
from tests.data.catalog_factories import add_item
from tests.data.factories import BASE_TIME, insert_user


@pytest.fixture
def catalog(engine):
    """Twelve items with ties, drafts (no published date) and free items (no price)."""
    creator = insert_user(engine, "cora@example.com", "Cora Creator", role="platform_owner")
    items = {}
    for i in range(12):
        status = "draft" if i % 4 == 0 else "published"
        items[f"item{i}"] = add_item(
            engine, creator, f"Lesson {i % 5} about {'yoga' if i % 2 else 'cooking'}",
            slug=f"lesson-{i:02d}", status=status,
            published_at=BASE_TIME + dt.timedelta(days=i % 3) if status != "draft" else None,
            price=None if i % 3 == 0 else Decimal(i % 4),
            purchase_count=i % 3, category="Yoga" if i % 2 else "Cooking",
            content_type=("video", "audio", "written")[i % 3], body="<p>x</p>",
            visibility="public" if i % 3 == 0 else "purchased_only")
    items["deleted"] = add_item(engine, creator, "Deleted yoga", slug="deleted-yoga",
                                deleted=True, category="Yoga")
    return items


def _all(session, flt, page_size=5):
    rows, cursor, pages = [], None, 0
    while True:
        page, cursor = list_content_page(session, flt, cursor, page_size)
        rows += page
        pages += 1
        assert pages < 50
        if cursor is None:
            return rows


def _expected_key(sort):
    never = dt.datetime.min
    return {
        "published": lambda r: (r.published_at or never, r.id),
        "title": lambda r: (r.title.lower(), r.id),
        "price": lambda r: (r.price or Decimal(0), r.id),
        "purchases": lambda r: (r.purchase_count, r.id),
    }[sort]


@pytest.mark.parametrize("sort", CATALOG_SORTS)
def test_pages_walk_every_item_once_in_order(session_factory, catalog, sort):
    with session_factory() as s:
        rows = _all(s, CatalogFilter(sort=sort), page_size=4)
    assert len(rows) == 12 and len({r.id for r in rows}) == 12
    assert catalog["deleted"] not in {r.id for r in rows}
    key = _expected_key(sort)
    assert rows == sorted(rows, key=key, reverse=sort != "title")


def test_drafts_come_after_published_items(session_factory, catalog):
    with session_factory() as s:
        rows = _all(s, CatalogFilter())
    statuses = [r.status for r in rows]
    assert statuses == sorted(statuses, key=lambda st: st == "draft")


def test_search_matches_title_words_and_slug_prefix(session_factory, catalog):
    with session_factory() as s:
        yoga = _all(s, CatalogFilter(search="YOG"))
        slug = _all(s, CatalogFilter(search="lesson-1"))
        slug_only = _all(s, CatalogFilter(search="lesson-10"))
        words = _all(s, CatalogFilter(search="lesson 3 yoga"))
        nothing = _all(s, CatalogFilter(search="%"))
        by_id = _all(s, CatalogFilter(search=str(catalog["item7"])))
    assert len(yoga) == 6 and all("yoga" in r.title for r in yoga)
    # "lesson-1": slugs starting so, and titles with the words "lesson" and "1…"
    assert sorted(r.slug for r in slug) == ["lesson-01", "lesson-06", "lesson-10", "lesson-11"]
    assert [r.slug for r in slug_only] == ["lesson-10"]
    assert [r.title for r in words] == ["Lesson 3 about yoga"]
    assert nothing == []
    assert [r.id for r in by_id] == [catalog["item7"]]


def test_filters_combine(session_factory, catalog):
    with session_factory() as s:
        rows = _all(s, CatalogFilter(category="Yoga", status="published",
                                     content_type="audio", visibility="purchased_only",
                                     sort="title"))
        deleted = _all(s, CatalogFilter(deleted="deleted"))
        everything = _all(s, CatalogFilter(deleted="all", search="yoga"))
    assert rows and all((r.category, r.status, r.content_type, r.visibility)
                        == ("Yoga", "published", "audio", "purchased_only") for r in rows)
    assert [r.id for r in deleted] == [catalog["deleted"]]
    assert catalog["deleted"] in {r.id for r in everything} and len(everything) == 7


def test_series_filter(session_factory, engine, catalog):
    with engine.begin() as conn:
        series_id = conn.execute(text(
            "INSERT INTO content_series (creator_id, title, slug) SELECT creator_id, 'S', 's' "
            "FROM content LIMIT 1 RETURNING id")).scalar_one()
        conn.execute(text("UPDATE content SET series_id = :s WHERE slug IN "
                          "('lesson-01', 'lesson-02')"), {"s": series_id})
    with session_factory() as s:
        rows = _all(s, CatalogFilter(series_id=series_id))
        choices = get_catalog_choices(s)
    assert sorted(r.slug for r in rows) == ["lesson-01", "lesson-02"]
    assert [c.label for c in choices.series] == ["S"]
    assert choices.categories == ("Cooking", "Yoga")
    assert [c.label.split(" <")[0] for c in choices.creators] == ["Cora Creator"]


def test_counts_are_exact_for_small_sets(session_factory, catalog):
    with session_factory() as s:
        all_count = count_content(s, CatalogFilter())
        yoga = count_content(s, CatalogFilter(category="Yoga"))
    assert (all_count.value, all_count.exact) == (12, True)
    assert (yoga.value, yoga.exact) == (6, True)
