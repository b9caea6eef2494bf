"""Balances and ledger pages: keyset pages cover everything once, in order; search; activity."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from data.queries.credits import (
    BalanceFilter,
    count_balances,
    get_balance,
    list_balances_page,
    list_ledger_page,
)
from data.services.credits import adjust_balance
from tests.data.factories import insert_user

DAY = dt.datetime(2025, 6, 1, 9, 0)

# email, name, balance, updated (days after DAY), ledger days (after DAY); ties on purpose.
PEOPLE = [
    ("alice.anders@example.com", "Alice Anders", 50, 3, [0, 3]),
    ("bob.brown@example.com", "Bob Brown", 50, 3, [1, 3]),
    ("carol.anders@example.com", "Carol Anders", 10, 5, [5]),
    ("dan.dunn@example.com", "Dan Dunn", 0, 1, [1]),
    ("erin.east@example.com", "Erin East", 75, 9, [2, 9]),
    ("frank.fox@example.com", "Frank Fox", 10, 9, [9]),
    ("gina.gold@example.com", "Gina Gold", 5, 0, [0]),
]


@pytest.fixture
def balances(engine):
    """Customers with balances and ledgers written as the platform writes them."""
    ids = {}
    for email, name, balance, updated, days in PEOPLE:
        cid = insert_user(engine, email, name)
        ids[email] = cid
        with engine.begin() as conn:
            running = 0
            for i, d in enumerate(days):
                amount = balance - running if i == len(days) - 1 else 1
                running += amount
                conn.execute(text(
                    "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
                    "description, created_at) VALUES (:c, 'earned_purchase', :a, :b, 'pack', "
                    ":t)"), {"c": cid, "a": amount, "b": running,
                             "t": DAY + dt.timedelta(days=d, minutes=i)})
            conn.execute(text(
                "INSERT INTO credit_balances (customer_id, current_balance, lifetime_earned, "
                "updated_at) VALUES (:c, :b, :b, :u)"),
                {"c": cid, "b": balance, "u": DAY + dt.timedelta(days=updated)})
    insert_user(engine, "no.balance@example.com", "Anders Nobalance")  # never listed
    return ids


def _all_pages(session_factory, flt, limit):
    rows, cursor, pages = [], None, 0
    while True:
        with session_factory() as s:
            page, cursor = list_balances_page(s, flt, cursor, limit)
        rows += page
        pages += 1
        assert len(page) <= limit
        if cursor is None:
            return rows, pages


def _expected(engine, sort: str, where: str = "true", params=None):
    key = "b.current_balance" if sort == "balance" else "b.updated_at"
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            f"SELECT u.email FROM credit_balances b JOIN users u ON u.id = b.customer_id "
            f"WHERE {where} ORDER BY {key} DESC, b.id DESC"), params or {})]


@pytest.mark.parametrize("sort", ["balance", "last_change"])
@pytest.mark.parametrize("limit", [1, 3, 100])
def test_balance_pages_cover_everything_once_in_order(session_factory, engine, balances,
                                                      sort, limit):
    rows, pages = _all_pages(session_factory, BalanceFilter(sort=sort), limit)
    assert [r.email for r in rows] == _expected(engine, sort)
    assert len(rows) == len(PEOPLE)
    assert pages == -(-len(PEOPLE) // limit)  # no empty last page
    keys = [(r.current_balance if sort == "balance" else r.updated_at, r.balance_id)
            for r in rows]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("sort", ["balance", "last_change"])
def test_search_by_email_prefix_and_name_word_pages_in_order(session_factory, engine, balances,
                                                             sort):
    rows, _ = _all_pages(session_factory, BalanceFilter(search="Anders", sort=sort), 1)
    assert [r.email for r in rows] == _expected(
        engine, sort, "u.full_name LIKE '%Anders%'")
    assert {r.email for r in rows} == {"alice.anders@example.com", "carol.anders@example.com"}
    rows, _ = _all_pages(session_factory, BalanceFilter(search="bob.b", sort=sort), 2)
    assert [r.email for r in rows] == ["bob.brown@example.com"]
    rows, _ = _all_pages(session_factory, BalanceFilter(search="zzz", sort=sort), 2)
    assert rows == []


def test_activity_filter_keeps_customers_with_a_ledger_row_in_the_range(
        session_factory, engine, balances):
    start = DAY.date()

    def active(d_from, d_to):
        flt = BalanceFilter(active_from=d_from, active_to=d_to)
        return {r.email.split(".")[0] for r in _all_pages(session_factory, flt, 2)[0]}

    assert active(start + dt.timedelta(days=1), start + dt.timedelta(days=2)) == {
        "bob", "dan", "erin"}
    assert active(start + dt.timedelta(days=9), None) == {"erin", "frank"}
    assert active(None, start) == {"alice", "gina"}
    assert active(start + dt.timedelta(days=6), start + dt.timedelta(days=8)) == set()
    with session_factory() as s:
        assert count_balances(s, BalanceFilter(active_from=start + dt.timedelta(days=9))) \
            .value == 2
    flt = BalanceFilter(search="anders", active_from=start + dt.timedelta(days=4))
    assert [r.email for r in _all_pages(session_factory, flt, 1)[0]] == [
        "carol.anders@example.com"]


def test_count_and_get_balance(session_factory, engine, balances):
    with session_factory() as s:
        total = count_balances(s, BalanceFilter())
        anders = count_balances(s, BalanceFilter(search="anders"))
        row = get_balance(s, balances["erin.east@example.com"])
        missing = get_balance(s, uuid.uuid4())
    assert (total.value, total.exact) == (len(PEOPLE), True)
    assert (anders.value, anders.exact) == (2, True)
    assert (row.email, row.full_name, row.current_balance, row.lifetime_earned,
            row.lifetime_spent) == ("erin.east@example.com", "Erin East", 75, 75, 0)
    assert missing is None


def test_ledger_pages_newest_first_cover_everything_with_actor(session_factory, engine,
                                                              balances):
    cid = balances["alice.anders@example.com"]
    with engine.begin() as conn:  # two platform rows at the very same instant: the id decides
        for _ in range(2):
            conn.execute(text(
                "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
                "created_at) VALUES (:c, 'earned_purchase', 0, 50, :t)"),
                {"c": cid, "t": DAY + dt.timedelta(days=4)})
    with session_factory.begin() as s:
        adjust_balance(s, "support_sam", cid, 5, "Goodwill", uuid.uuid4())
    lines, cursor = [], None
    while True:
        with session_factory() as s:
            page, cursor = list_ledger_page(s, cid, cursor, 2)
        lines += page
        if cursor is None:
            break
    with engine.connect() as conn:
        expected = [r[0] for r in conn.execute(text(
            "SELECT id FROM credit_transactions WHERE customer_id = :c "
            "ORDER BY created_at DESC, id DESC"), {"c": cid})]
    assert [line.id for line in lines] == expected and len(expected) == 5
    top = lines[0]
    assert (top.type, top.amount, top.balance_after, top.description, top.actor) == (
        "adjustment", 5, 55, "Goodwill", "postgres")  # the session user, not the caller's name
    assert all(line.actor is None for line in lines[1:])
    with session_factory() as s:
        assert list_ledger_page(s, uuid.uuid4(), None, 10) == ([], None)


def test_demo_balances_page_through_every_balance_once(demo_session_factory, demo_engine):
    for sort in ("balance", "last_change"):
        rows, pages = _all_pages(demo_session_factory, BalanceFilter(sort=sort), 10)
        with demo_engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM credit_balances")).scalar()
        assert len(rows) == n > 10 and pages == -(-n // 10)
        assert len({r.balance_id for r in rows}) == n
