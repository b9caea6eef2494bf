"""The Users list: keyset pages, search, filters, counts, and one user's detail."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from data.queries.users import (
    UserFilter,
    count_users,
    get_user_detail,
    iter_users,
    list_users_page,
)
from tests.data.factories import BASE_TIME, insert_user

NAMES = [
    ("maria.garcia@example.com", "Maria Garcia"),
    ("mark.stone@example.com", "Mark Stone"),
    ("olga.marek@example.com", "Olga Marek"),
    ("li.wei@example.com", "Li Wei"),
    ("anna_b@example.com", "Bea Bell"),
    ("anna%x@example.com", "Zed Percent"),
]


@pytest.fixture
def people(engine):
    ids = {}
    for i, (email, name) in enumerate(NAMES):
        ids[email] = insert_user(engine, email, name,
                                 created_at=BASE_TIME + dt.timedelta(days=i))
    for i in range(40):
        insert_user(engine, f"user{i:02d}@example.com", f"Filler Person {i}",
                    created_at=BASE_TIME - dt.timedelta(hours=i),
                    role="media_owner" if i % 10 == 0 else "customer",
                    verified=i % 4 != 0, deleted=i % 13 == 0)
    return ids


def _all_pages(session, flt, size):
    out, cursor = [], None
    while True:
        rows, cursor = list_users_page(session, flt, cursor, size)
        out.extend(rows)
        if cursor is None:
            return out


@pytest.mark.parametrize("sort", ["created", "email"])
def test_keyset_pages_cover_every_user_once_in_order(session_factory, people, sort):
    with session_factory() as s:
        rows = _all_pages(s, UserFilter(sort=sort), 7)
        total = s.execute(text("SELECT count(*) FROM users")).scalar()
    assert len(rows) == total == 46
    assert len({r.id for r in rows}) == 46
    if sort == "email":
        assert [r.email for r in rows] == sorted(r.email for r in rows)
    else:
        keys = [(r.created_at, r.id) for r in rows]
        assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("mar", {"maria.garcia@example.com", "mark.stone@example.com",
                 "olga.marek@example.com"}),  # email prefix, or a name word's prefix
        ("GARC", {"maria.garcia@example.com"}),
        ("maria gar", {"maria.garcia@example.com"}),
        ("wei", {"li.wei@example.com"}),
        ("anna_", {"anna_b@example.com"}),  # _ is not a wildcard
        ("anna%", {"anna%x@example.com"}),  # nor is %
        ("zzz", set()),
    ],
)
def test_search_by_email_or_name(session_factory, people, search, expected):
    with session_factory() as s:
        rows = _all_pages(s, UserFilter(search=search), 50)
    assert {r.email for r in rows} == expected


def test_search_by_exact_id(session_factory, people):
    user_id = people["li.wei@example.com"]
    with session_factory() as s:
        rows, _ = list_users_page(s, UserFilter(search=str(user_id)), None, 10)
    assert [r.id for r in rows] == [user_id]


def test_filters_by_role_and_status(session_factory, people):
    with session_factory() as s:
        media = _all_pages(s, UserFilter(role="media_owner"), 10)
        deleted = _all_pages(s, UserFilter(status="deleted"), 10)
        unverified = _all_pages(s, UserFilter(status="unverified"), 10)
        active = _all_pages(s, UserFilter(status="active"), 10)
    assert {r.role for r in media} == {"media_owner"} and len(media) == 4
    assert all(r.deleted_at is not None for r in deleted) and len(deleted) == 4
    assert all(not r.verified and r.deleted_at is None for r in unverified)
    assert len(unverified) == 9  # i % 4 == 0 among 40, less i == 0, 26 and 39... deleted
    assert len(active) == 46 - 4


def test_count_is_exact_for_filtered_sets(session_factory, people):
    with session_factory() as s:
        c = count_users(s, UserFilter(search="mar"))
        all_ = count_users(s, UserFilter())
    assert (c.value, c.exact) == (3, True)
    assert (all_.value, all_.exact) == (46, True)


def test_iter_users_yields_everything_for_export(session_factory, people):
    with session_factory() as s:
        batches = list(iter_users(s, UserFilter(sort="email"), batch=10))
    assert [len(b) for b in batches] == [10, 10, 10, 10, 6]


def test_detail_tells_the_users_whole_story(demo_session_factory):
    with demo_session_factory() as s:
        user_id = s.execute(text(
            "SELECT p.customer_id FROM purchases p "
            "JOIN credit_balances b ON b.customer_id = p.customer_id "
            "GROUP BY p.customer_id ORDER BY count(*) DESC, p.customer_id LIMIT 1"
        )).scalar_one()
        expected_purchases = s.execute(
            text("SELECT count(*) FROM purchases WHERE customer_id = :u"), {"u": user_id}
        ).scalar_one()
        expected_balance = s.execute(
            text("SELECT current_balance FROM credit_balances WHERE customer_id = :u"),
            {"u": user_id},
        ).scalar_one()
        detail = get_user_detail(s, user_id)
    assert detail.profile.id == user_id
    assert len(detail.purchases) == expected_purchases
    assert detail.balance is not None and detail.balance.current_balance == expected_balance
    assert detail.ledger and detail.ledger[0].balance_after == expected_balance
