"""Ledger health: clean on consistent demo data; each kind of planted mismatch is found, by
the function and by ``platform-admin ledger check`` (exit 1)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from data import ledger_health as lh
from data.ledger_health import check_ledger
from desktop.cli import main as cli_main
from tests.data.factories import insert_user


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_demo_data_is_clean(demo_db_url, demo_session_factory, capsys):
    with demo_session_factory() as s:
        assert check_ledger(s) == []
    assert cli_main(["ledger", "check", "--database-url", _libpq(demo_db_url)]) == 0
    assert "Every balance agrees with its ledger." in capsys.readouterr().out


def _customers_with_ledgers(engine, n: int) -> list[tuple[uuid.UUID, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT u.id, u.email FROM users u JOIN credit_balances b ON b.customer_id = u.id "
            "WHERE (SELECT count(*) FROM credit_transactions t WHERE t.customer_id = u.id) >= 3 "
            "AND b.lifetime_spent > 0 ORDER BY u.email LIMIT :n"), {"n": n})]


@pytest.fixture
def planted(demo_engine):
    """One customer per kind of mismatch, planted with plain SQL as the platform might."""
    (bal, bal_email), (earned, _), (spent, _), (broken, _), (orphan, _) = (
        _customers_with_ledgers(demo_engine, 5))
    with demo_engine.begin() as conn:
        def one(sql: str, c: uuid.UUID):
            return conn.execute(text(sql), {"c": c}).one()

        ledger_sum = one("SELECT sum(amount) FROM credit_transactions WHERE customer_id = :c",
                         bal)[0]
        conn.execute(text("UPDATE credit_balances SET current_balance = current_balance + 1 "
                          "WHERE customer_id = :c"), {"c": bal})
        true_earned = one("SELECT lifetime_earned FROM credit_balances WHERE customer_id = :c",
                          earned)[0]
        conn.execute(text("UPDATE credit_balances SET lifetime_earned = lifetime_earned + 2 "
                          "WHERE customer_id = :c"), {"c": earned})
        true_spent = one("SELECT lifetime_spent FROM credit_balances WHERE customer_id = :c",
                         spent)[0]
        conn.execute(text("UPDATE credit_balances SET lifetime_spent = lifetime_spent + 3 "
                          "WHERE customer_id = :c"), {"c": spent})
        # A row in the middle of the ledger whose balance_after is off by 5.
        middle = one("SELECT id, balance_after FROM credit_transactions WHERE customer_id = :c "
                     "ORDER BY created_at, id OFFSET 1 LIMIT 1", broken)
        conn.execute(text("UPDATE credit_transactions SET balance_after = balance_after + 5 "
                          "WHERE id = :t"), {"t": middle.id})
        orphan_sum = one("SELECT sum(amount) FROM credit_transactions WHERE customer_id = :c",
                         orphan)[0]
        conn.execute(text("DELETE FROM credit_balances WHERE customer_id = :c"), {"c": orphan})
    return {
        (bal, lh.BALANCE_VS_LEDGER_SUM): (ledger_sum, ledger_sum + 1),
        (bal, lh.BALANCE_VS_LAST_BALANCE_AFTER): (ledger_sum, ledger_sum + 1),
        (earned, lh.LIFETIME_EARNED_VS_LEDGER): (true_earned, true_earned + 2),
        (spent, lh.LIFETIME_SPENT_VS_LEDGER): (true_spent, true_spent + 3),
        (broken, lh.RUNNING_TOTAL_BREAK): (middle.balance_after, middle.balance_after + 5),
        (orphan, lh.LEDGER_WITHOUT_BALANCE): (orphan_sum, None),
        "email": bal_email,
        "break_id": middle.id,
    }


def test_each_kind_of_mismatch_is_found(demo_session_factory, planted):
    with demo_session_factory() as s:
        found = check_ledger(s)
    got = {(m.customer_id, m.kind): (m.expected, m.actual) for m in found}
    expected = {k: v for k, v in planted.items() if isinstance(k, tuple)}
    assert got == expected
    [brk] = [m for m in found if m.kind == lh.RUNNING_TOTAL_BREAK]
    assert str(planted["break_id"]) in brk.detail and "2 break(s)" in brk.detail
    assert all(m.email for m in found)


def test_cli_lists_each_mismatch_and_exits_1(demo_db_url, planted, capsys):
    assert cli_main(["ledger", "check", "--database-url", _libpq(demo_db_url)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 7  # six mismatches, one per line, and the summary
    for kind in lh.KIND_LABELS:
        assert sum(line.startswith(f"[{kind}]") for line in out) == 1, kind
    assert any(planted["email"] in line and "expected" in line for line in out)
    assert out[-1].startswith("6 mismatch(es) in 5 customer(s)")


def test_running_total_break_reports_the_first_breaking_row(engine, session_factory):
    """A platform row written with a stale balance_after (a lost update on its side)."""
    c = insert_user(engine, "dora@example.com", "Dora")
    with engine.begin() as conn:
        for i, (amount, after) in enumerate([(10, 10), (-3, 7), (5, 15), (2, 17)]):
            conn.execute(text(
                "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
                "created_at) VALUES (:c, 'adjustment', :a, :b, "
                "timestamp '2025-03-01' + :i * interval '1 hour')"),
                {"c": c, "a": amount, "b": after, "i": i})
        conn.execute(text("INSERT INTO credit_balances (customer_id, current_balance, "
                          "lifetime_earned, lifetime_spent) VALUES (:c, 14, 17, 3)"), {"c": c})
    with session_factory() as s:
        last, m = sorted(check_ledger(s), key=lambda m: m.kind)
    assert (m.kind, m.expected, m.actual, m.email) == (lh.RUNNING_TOTAL_BREAK, 12, 15,
                                                       "dora@example.com")
    # The sum is right (14) but the stale row carried on into the last balance_after (17).
    assert (last.kind, last.expected, last.actual) == (lh.BALANCE_VS_LAST_BALANCE_AFTER, 17, 14)
    assert "2025-03-01 02:00:00" in m.detail and "1 break(s)" in m.detail


def _ledger(engine, customer, rows, balance):
    """Ledger rows (amount, balance_after, hour of created_at) and a balance row."""
    with engine.begin() as conn:
        for amount, after, hour in rows:
            conn.execute(text(
                "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
                "created_at) VALUES (:c, 'adjustment', :a, :b, "
                "timestamp '2025-03-01' + :h * interval '1 hour')"),
                {"c": customer, "a": amount, "b": after, "h": hour})
        earned = sum(a for a, _, _ in rows if a > 0)
        spent = -sum(a for a, _, _ in rows if a < 0)
        conn.execute(text("INSERT INTO credit_balances (customer_id, current_balance, "
                          "lifetime_earned, lifetime_spent) VALUES (:c, :b, :e, :s)"),
                     {"c": customer, "b": balance, "e": earned, "s": spent})


def test_rows_whose_created_at_cross_are_no_break(engine, session_factory):
    """What NOW() gives two concurrent platform transactions: the one that started first
    (earlier created_at) committed last, so its row comes first in time but second in the
    chain (100 -> 110 by the later-stamped row, then 110 -> 105)."""
    c = insert_user(engine, "eve@example.com", "Eve")
    _ledger(engine, c, [(100, 100, 0), (-5, 105, 1), (10, 110, 2)], balance=105)
    with session_factory() as s:
        assert check_ledger(s) == []


def test_a_deleted_row_still_breaks_the_chain(engine, session_factory):
    c = insert_user(engine, "frank@example.com", "Frank")
    _ledger(engine, c, [(10, 10, 0), (5, 15, 1), (-3, 12, 2)], balance=12)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM credit_transactions WHERE customer_id = :c AND amount = 5"),
                     {"c": c})
        conn.execute(text("UPDATE credit_balances SET current_balance = 7, lifetime_earned = 10 "
                          "WHERE customer_id = :c"), {"c": c})  # sums agree with what is left
    with session_factory() as s:
        found = {m.kind: m for m in check_ledger(s)}
    brk = found[lh.RUNNING_TOTAL_BREAK]
    assert (brk.expected, brk.actual) == (7, 12)  # 10 (the row before) - 3, but it says 12
    assert "1 break(s)" in brk.detail


def test_a_balance_that_disagrees_with_the_chains_end_is_found(engine, session_factory):
    c = insert_user(engine, "gina@example.com", "Gina")
    # Crossed created_at (the chain ends at 105, the newest row in time says 110), and the
    # balance says 110 while the sums say 105.
    _ledger(engine, c, [(100, 100, 0), (-5, 105, 1), (10, 110, 2)], balance=110)
    with session_factory() as s:
        found = {m.kind: (m.expected, m.actual) for m in check_ledger(s)
                 if m.customer_id == c}
    assert found[lh.BALANCE_VS_LAST_BALANCE_AFTER] == (105, 110)
    assert lh.RUNNING_TOTAL_BREAK not in found
