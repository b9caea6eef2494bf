"""Bounded search: every strategy (walk the sort index, collect the matches and sort them,
and the capped mix the pages use) gives the same pages and the same keyset next pages, for
terms matching few and many rows, with ties in the sort key; and the pickers find the
right items from an index, the empty box too."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from data.queries.bounded import AUTO, COLLECT, WALK, Bounds
from data.queries.catalog import CATALOG_SORTS, CatalogFilter, list_content_page
from data.queries.featured import search_published_content, title_pieces
from data.queries.series import search_series_candidates
from data.queries.users import UserFilter, list_users_page

STRATEGIES = {
    "auto": AUTO,
    "walk": WALK,
    "collect": COLLECT,
    # Small caps, so that each of the mix's three steps is taken on this small table:
    "walk_first": Bounds(walk_rows=100, collect_max=10_000),
    "collect_then_walk": Bounds(walk_rows=3, collect_max=15, walk_more=None),
    "collect_walk_collect": Bounds(walk_rows=3, collect_max=15, walk_more=30),
    "collect_sorted": Bounds(walk_rows=3, collect_max=10_000),
    # The first rows show the term common: walk on, capped (then collect as above).
    "sampled_walk": Bounds(walk_rows=20, collect_max=15, sample_hits=1, sampled_walk=40),
    "sampled_walk_then_sort": Bounds(walk_rows=20, collect_max=15, walk_more=30,
                                     sample_hits=1, sampled_walk=25),
}
# "common" is in 4 names of 5, "rare" in 3, "mid" in 1 in 6; "zz" in none; "1" starts
# many numbers; created_at repeats (a tie every 7 users), so the id breaks ties.
USERS_SQL = """
INSERT INTO users (email, password_hash, full_name, role, created_at)
SELECT 'u' || i || '@example.com', 'x',
       CASE WHEN i IN (17, 160, 301) THEN 'Rare Person ' || i
            WHEN i % 5 = 0 THEN 'Other Mid ' || i
            WHEN i % 6 = 0 THEN 'Common Mid ' || i
            ELSE 'Common Name ' || i END,
       'customer', TIMESTAMP '2024-01-01' + (i / 7) * INTERVAL '1 hour'
FROM generate_series(1, 400) AS i
"""
TERMS = ["common", "rare", "mid", "zz", "1", "u3", "c"]


def _all_users(session, flt, bounds, size):
    pages, cursor = [], None
    while True:
        rows, cursor = list_users_page(session, flt, cursor, size, bounds=bounds)
        pages.append(([r.id for r in rows], cursor))
        if cursor is None:
            return pages


@pytest.fixture
def many_users(engine):
    with engine.begin() as conn:
        conn.execute(text(USERS_SQL))


@pytest.mark.parametrize("sort", ["created", "email"])
@pytest.mark.parametrize("term", TERMS)
def test_user_search_pages_are_the_same_whichever_strategy(session_factory, many_users,
                                                           term, sort):
    flt = UserFilter(search=term, sort=sort)
    with session_factory() as s:
        expected = _all_users(s, flt, WALK, 40)
        for name, bounds in STRATEGIES.items():
            assert _all_users(s, flt, bounds, 40) == expected, name
        everyone = s.execute(text(
            "SELECT id, email, full_name, created_at FROM users")).all()
    matching = [u for u in everyone
                if u.email.startswith(term) or any(w.lower().startswith(term)
                                                   for w in u.full_name.split())]
    key = ((lambda u: u.email) if sort == "email"
           else (lambda u: (u.created_at, u.id)))
    want = [u.id for u in sorted(matching, key=key, reverse=sort != "email")]
    assert [i for ids, _ in expected for i in ids] == want


def test_rare_and_common_user_terms_find_what_a_person_expects(session_factory, many_users):
    with session_factory() as s:
        rare, _ = list_users_page(s, UserFilter(search="rare"), None, 50)
        common, cursor = list_users_page(s, UserFilter(search="common"), None, 50)
    assert [r.full_name for r in rare] == ["Rare Person 301", "Rare Person 160",
                                           "Rare Person 17"]
    assert len(common) == 50 and cursor is not None
    assert all(r.full_name.startswith("Common") for r in common)


CONTENT_SQL = """
INSERT INTO content (creator_id, title, slug, content_type, status, price, purchase_count,
                     published_at, created_at, deleted_at)
SELECT CAST(:creator AS uuid),
       CASE WHEN i IN (5, 99, 250) THEN 'Lonely Otter ' || i
            WHEN i % 3 = 0 THEN 'Yoga Flow ' || i ELSE 'Deep Yoga Breath ' || i END,
       'item-' || i, 'video',
       (ARRAY['published', 'published', 'draft', 'archived'])[1 + i % 4],
       CASE WHEN i % 4 <> 0 THEN 5 + i % 3 END, i % 5,
       CASE WHEN i % 4 <> 2 THEN TIMESTAMP '2024-01-01' + (i / 6) * INTERVAL '1 day' END,
       TIMESTAMP '2023-01-01' + (i / 4) * INTERVAL '1 hour',
       CASE WHEN i % 23 = 0 THEN TIMESTAMP '2024-06-01' END
FROM generate_series(1, 300) AS i
"""


@pytest.fixture
def many_items(engine):
    with engine.begin() as conn:
        creator = conn.execute(text(
            "INSERT INTO users (email, password_hash, full_name, role) VALUES "
            "('c@example.com', 'x', 'Creator', 'platform_owner') RETURNING id")).scalar_one()
        conn.execute(text(CONTENT_SQL), {"creator": creator})
        series = conn.execute(text(
            "INSERT INTO content_series (creator_id, title, slug) VALUES "
            "(:c, 'Mine', 'mine') RETURNING id"), {"c": creator}).scalar_one()
        conn.execute(text("UPDATE content SET series_id = :s WHERE slug IN "
                          "('item-3', 'item-6', 'item-9')"), {"s": series})
    return series


def _all_items(session, flt, bounds, size):
    pages, cursor = [], None
    while True:
        rows, cursor = list_content_page(session, flt, cursor, size, bounds=bounds)
        pages.append(([r.id for r in rows], cursor))
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", CATALOG_SORTS)
@pytest.mark.parametrize("term", ["yoga", "lonely", "flow", "nothing", "item-1", "2"])
def test_catalog_search_pages_are_the_same_whichever_strategy(session_factory, many_items,
                                                              term, sort):
    flt = CatalogFilter(search=term, sort=sort)
    with session_factory() as s:
        expected = _all_items(s, flt, WALK, 30)
        for name, bounds in STRATEGIES.items():
            assert _all_items(s, flt, bounds, 30) == expected, name
        n = s.execute(text(
            "SELECT count(*) FROM content WHERE deleted_at IS NULL AND (slug LIKE :p "
            "OR to_tsvector('simple', title) @@ to_tsquery('simple', :q))"),
            {"p": term + "%", "q": term.replace("-", " & ") + ":*"}).scalar_one()
    found = [i for ids, _ in expected for i in ids]
    assert len(found) == len(set(found)) == n


def test_featured_picker_finds_published_titles_containing_the_text(session_factory,
                                                                    many_items):
    with session_factory() as s:
        newest = search_published_content(s, "", 5)
        otter = search_published_content(s, "tter", 50)
        flows = search_published_content(s, "oga fl", 500)
        nothing = search_published_content(s, "zzz", 50)
        want_newest = s.execute(text(
            "SELECT id FROM content WHERE status = 'published' AND deleted_at IS NULL "
            "ORDER BY published_at DESC NULLS LAST, id DESC LIMIT 5")).scalars().all()
    assert [i.id for i in newest] == want_newest
    # Of "Lonely Otter 5/99/250" only 5 is published (99 is archived, 250 a draft).
    assert [i.title for i in otter] == ["Lonely Otter 5"]
    assert flows and all("oga fl" in i.title.lower() and i.status == "published"
                         for i in flows)
    assert len(flows) == len({i.id for i in flows})
    assert nothing == []


@pytest.mark.parametrize("term", ["tter", "oga fl", "o", "ly", "yog", "item-2", "30", "zzz",
                                  "%", "_"])
def test_featured_picker_pages_are_the_same_whichever_strategy(session_factory, many_items,
                                                               term):
    """Whatever index answers "title contains" (pg_trgm's, 0024's pieces or none), each
    strategy gives the items a plain scan gives, newest published first."""
    with session_factory() as s:
        want = s.execute(text(
            "SELECT id FROM content WHERE status = 'published' AND deleted_at IS NULL "
            "AND (strpos(lower(title), lower(:q)) > 0 OR starts_with(slug, lower(:q))) "
            "ORDER BY coalesce(published_at, '-infinity') DESC, id DESC"),
            {"q": term}).scalars().all()
        for name, bounds in STRATEGIES.items():
            found = search_published_content(s, term, 1000, bounds=bounds)
            assert [i.id for i in found] == want, name


def test_without_pg_trgm_title_pieces_index_the_titles(session_factory, many_items):
    """On the embedded server (no pg_trgm) 0024's index of title pieces exists and holds
    every piece of three characters, so a text of three or more finds its titles there."""
    with session_factory() as s:
        has_trgm = s.execute(text(
            "SELECT to_regclass('ix_admin_content_title_trgm') IS NOT NULL")).scalar_one()
        if has_trgm:
            pytest.skip("this server has pg_trgm: 0019's trigram index is used instead")
        assert s.execute(text(
            "SELECT to_regclass('ix_admin_content_title_grams') IS NOT NULL")).scalar_one()
        pieces = s.execute(text("SELECT admin.title_grams('Otter')")).scalar_one()
    assert sorted(set(pieces)) == ["ott", "ter", "tte"]
    assert title_pieces("otter") == ["ott", "ter", "tte"]
    assert title_pieces("ot") == []


def test_series_picker_offers_items_outside_the_series_newest_first(session_factory,
                                                                    many_items):
    series = many_items
    with session_factory() as s:
        first = search_series_candidates(s, series, "", 10)
        lonely = search_series_candidates(s, series, "lonely", 50)
        flows = search_series_candidates(s, series, "flow", 500)
        want = s.execute(text(
            "SELECT id FROM content WHERE deleted_at IS NULL AND series_id IS NULL "
            "ORDER BY created_at DESC, id DESC LIMIT 10")).scalars().all()
        all_flows = s.execute(text(
            "SELECT id FROM content WHERE deleted_at IS NULL AND title LIKE 'Yoga Flow%' "
            "AND series_id IS NULL ORDER BY created_at DESC, id DESC")).scalars().all()
    assert [c.id for c in first] == want
    assert [c.title for c in lonely] == ["Lonely Otter 250", "Lonely Otter 99",
                                         "Lonely Otter 5"]
    assert [c.id for c in flows] == all_flows  # items 3, 6, 9 (in the series) left out
