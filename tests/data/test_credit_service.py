"""Token adjustments and bulk grants: applied once, never lost, always matching the ledger.

Real PostgreSQL and real commits; the concurrency tests use one connection per thread.
"""

from __future__ import annotations

import threading
import time
import unicodedata
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from data.errors import ConflictError, NotFoundError, ValidationError
from data.ledger_health import check_ledger
from data.services import credits
from data.services.credits import (
    MAX_ADJUSTMENT,
    MAX_REASON,
    InsufficientBalanceError,
    adjust_balance,
    create_bulk_grant,
    customer_ids_matching,
    grant_key,
    preview_adjustment,
    run_bulk_grant,
    validate_adjustment,
)
from tests.data.factories import insert_user

ACTOR = "support_sam"
SESSION_USER = "postgres"  # the test login: audit rows name it, whatever actor is passed


@pytest.fixture
def carl(engine):
    return insert_user(engine, "carl@example.com", "Carl Customer")


def _adjust(session_factory, customer, amount, reason="Goodwill", request_id=None, **kw):
    with session_factory.begin() as s:
        return adjust_balance(s, ACTOR, customer, amount, reason, request_id or uuid.uuid4(),
                              **kw)


def _balance(engine, customer):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT current_balance, lifetime_earned, lifetime_spent FROM credit_balances "
            "WHERE customer_id = :c"), {"c": customer}).one_or_none()


def _ledger(engine, customer):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT id, type, amount, balance_after, description, created_at "
            "FROM credit_transactions WHERE customer_id = :c ORDER BY created_at, id"),
            {"c": customer}).all()


def _snapshot(engine):
    """Everything an adjustment could write, to prove a refused one wrote nothing."""
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all()
            for t in ("credit_balances", "credit_transactions", "admin.credit_adjustments",
                      "admin.audit_log")
        }


def _assert_consistent(engine, customer):
    """The balance equals the ledger's sum and balance_after is an unbroken running total."""
    rows = _ledger(engine, customer)
    running = 0
    for row in rows:
        running += row.amount
        assert row.balance_after == running, row
    times = [r.created_at for r in rows]
    assert times == sorted(set(times))  # strictly increasing: the order is unambiguous
    balance = _balance(engine, customer)
    assert balance is not None and balance[0] == running
    assert balance[1] == sum(r.amount for r in rows if r.amount > 0)
    assert balance[2] == -sum(r.amount for r in rows if r.amount < 0)


# -- one adjustment -----------------------------------------------------------------------

def test_first_adjustment_creates_the_balance_row(session_factory, engine, carl):
    assert _balance(engine, carl) is None
    request = uuid.uuid4()
    result = _adjust(session_factory, carl, 40, "Welcome tokens", request)
    assert (result.request_id, result.customer_id, result.amount) == (request, carl, 40)
    assert (result.balance_before, result.balance_after, result.replayed) == (0, 40, False)
    assert _balance(engine, carl) == (40, 40, 0)
    [row] = _ledger(engine, carl)
    assert (row.id, row.type, row.amount, row.balance_after, row.description) == (
        result.transaction_id, "adjustment", 40, 40, "Welcome tokens")


def test_adjustments_move_balance_and_lifetime_totals(session_factory, engine, carl):
    _adjust(session_factory, carl, 30)
    result = _adjust(session_factory, carl, -12, "  Clawback  ")
    assert (result.balance_before, result.balance_after) == (30, 18)
    assert _balance(engine, carl) == (18, 30, 12)
    assert _ledger(engine, carl)[-1].description == "Clawback"
    _assert_consistent(engine, carl)


def test_audit_record_is_written_in_the_same_transaction(session_factory, engine, carl):
    _adjust(session_factory, carl, 10)
    request = uuid.uuid4()
    with session_factory() as s:  # rolled back: neither the change nor its audit remain
        adjust_balance(s, ACTOR, carl, 5, "Not kept", request)
        s.rollback()
    assert _balance(engine, carl) == (10, 10, 0)
    result = _adjust(session_factory, carl, -4, "Double booking refund reversed", request)
    with engine.connect() as conn:
        audit = conn.execute(text(
            "SELECT actor, action, entity_type, entity_id, old_values, new_values, reason, "
            "xmin::text AS tx FROM admin.audit_log ORDER BY id DESC LIMIT 1")).one()
        writes = conn.execute(text(
            "SELECT (SELECT xmin::text FROM credit_transactions WHERE id = :t), "
            "(SELECT xmin::text FROM credit_balances WHERE customer_id = :c), "
            "(SELECT xmin::text FROM admin.credit_adjustments WHERE request_id = :r)"),
            {"t": result.transaction_id, "c": carl, "r": request}).one()
        n_audit = conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar()
    assert n_audit == 2
    assert (audit.actor, audit.action, audit.entity_type, audit.entity_id, audit.reason) == (
        SESSION_USER, "credits.adjust", "credit_balance", str(carl), "Double booking refund reversed")
    assert audit.old_values == {"current_balance": 10, "lifetime_earned": 10,
                                "lifetime_spent": 0}
    assert audit.new_values["current_balance"] == 6
    assert audit.new_values["lifetime_spent"] == 4
    assert audit.new_values["amount"] == -4
    assert audit.new_values["transaction_id"] == str(result.transaction_id)
    assert set(writes) == {audit.tx}  # one transaction wrote all four rows


def test_removal_below_zero_is_refused_with_the_numbers(session_factory, engine, carl):
    _adjust(session_factory, carl, 12)
    before = _snapshot(engine)
    request = uuid.uuid4()
    with pytest.raises(InsufficientBalanceError) as exc:
        _adjust(session_factory, carl, -20, "Clawback", request)
    assert "has 12 tokens; removing 20 would leave -8" in str(exc.value)
    assert (exc.value.current, exc.value.amount) == (12, -20)
    assert _snapshot(engine) == before
    # Nothing was stored under the request id: the dialog may correct the amount and retry.
    assert _adjust(session_factory, carl, -12, "Clawback", request).balance_after == 0


def test_unknown_customer_is_not_found_and_nothing_is_written(session_factory, engine):
    before = _snapshot(engine)
    with pytest.raises(NotFoundError):
        _adjust(session_factory, uuid.uuid4(), 5)
    assert _snapshot(engine) == before


def test_soft_deleted_customer_can_still_be_adjusted(session_factory, engine):
    gone = insert_user(engine, "gone@example.com", "Gone Customer", deleted=True)
    assert _adjust(session_factory, gone, 7).balance_after == 7


def test_same_request_submitted_100_times_applies_once(session_factory, engine, carl):
    _adjust(session_factory, carl, 50)
    request = uuid.uuid4()
    first = _adjust(session_factory, carl, -30, "Double click", request)
    _adjust(session_factory, carl, -15)  # the balance moved on: -30 would not fit any more
    repeats = [_adjust(session_factory, carl, -30, "Double click", request) for _ in range(99)]
    assert not first.replayed
    assert all(r.replayed for r in repeats)
    assert {r.__class__(**{**r.__dict__, "replayed": False}) for r in repeats} == {first}
    assert [r.amount for r in _ledger(engine, carl)] == [50, -30, -15]
    _assert_consistent(engine, carl)


def test_same_request_from_two_connections_at_once_applies_once(session_factory, engine, carl):
    _adjust(session_factory, carl, 100)
    request = uuid.uuid4()
    first_applied, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        with session_factory.begin() as s:
            results["first"] = adjust_balance(s, ACTOR, carl, -60, "Retry", request)
            first_applied.set()
            release.wait(10)  # hold the transaction open while the duplicate arrives

    def second() -> None:
        first_applied.wait(10)
        results["second"] = _adjust(session_factory, carl, -60, "Retry", request)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    _wait_for_lock_waiter(engine)  # the duplicate is blocked behind the first transaction
    release.set()
    for t in threads:
        t.join(20)
    a, b = results["first"], results["second"]
    assert not a.replayed and b.replayed
    assert (b.transaction_id, b.balance_before, b.balance_after, b.created_at) == (
        a.transaction_id, a.balance_before, a.balance_after, a.created_at)
    assert [r.amount for r in _ledger(engine, carl)] == [100, -60]
    _assert_consistent(engine, carl)


def _wait_for_lock_waiter(engine, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()")).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second submit never waited for the first")


def test_request_id_reused_for_another_amount_is_a_conflict(session_factory, engine, carl):
    request = uuid.uuid4()
    first = _adjust(session_factory, carl, 10, "First", request)
    other = insert_user(engine, "other@example.com", "Other Customer")
    with pytest.raises(ConflictError) as exc:
        _adjust(session_factory, carl, 11, "First", request)
    assert exc.value.current.transaction_id == first.transaction_id
    with pytest.raises(ConflictError):
        _adjust(session_factory, other, 10, "First", request)
    assert [r.amount for r in _ledger(engine, carl)] == [10]
    assert _balance(engine, other) is None


def test_eight_connections_adjusting_one_balance_lose_no_update(session_factory, engine, carl):
    """8 threads x 500 adjustments of mixed signs on one balance, each committed."""
    threads_n, per_thread = 8, 500
    _adjust(session_factory, carl, 5_000, "Opening balance")
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_n)

    def work(seed: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                amount = (seed % 3 + 1) if i % 2 == 0 else -(i % 4 + 1)
                _adjust(session_factory, carl, amount, f"thread {seed}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    expected_sum = 5_000 + sum(
        (seed % 3 + 1) if i % 2 == 0 else -(i % 4 + 1)
        for seed in range(threads_n) for i in range(per_thread))
    rows = _ledger(engine, carl)
    assert len(rows) == threads_n * per_thread + 1
    assert sum(r.amount for r in rows) == expected_sum == _balance(engine, carl)[0]
    _assert_consistent(engine, carl)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.credit_adjustments")).scalar() == (
            threads_n * per_thread + 1)
    with session_factory() as s:
        assert check_ledger(s) == []


def test_connection_killed_before_commit_leaves_nothing(session_factory, engine, carl):
    _adjust(session_factory, carl, 20)
    before = _snapshot(engine)
    request = uuid.uuid4()
    session = session_factory()
    try:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        adjust_balance(session, ACTOR, carl, 5, "Killed", request)  # written, not committed
        with engine.connect() as killer:
            assert killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        with pytest.raises(DBAPIError):
            session.commit()
    finally:
        session.close()
    assert _snapshot(engine) == before
    _assert_consistent(engine, carl)
    # The dialog's retry with the same request id now applies it, once.
    assert _adjust(session_factory, carl, 5, "Killed", request).balance_after == 25
    assert _adjust(session_factory, carl, 5, "Killed", request).replayed
    _assert_consistent(engine, carl)


# -- bad input ----------------------------------------------------------------------------

BAD_AMOUNTS = st.one_of(
    st.just(0),
    st.integers(min_value=MAX_ADJUSTMENT + 1),
    st.integers(max_value=-MAX_ADJUSTMENT - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).filter(
        lambda d: d != d.to_integral()),
    st.sampled_from(["1.5", "", " ", "ten", "1e3", "0x10", "--5", "0", "5 tokens"]),
    st.text().filter(lambda s: not s.strip().lstrip("+-").isdigit()),
    st.lists(st.integers(), max_size=2),
)
BAD_REASONS = st.one_of(
    st.none(),
    st.just(""),
    st.text(alphabet=" \t\n", max_size=5),
    st.text(min_size=MAX_REASON + 1, max_size=MAX_REASON + 20).filter(
        lambda s: len(s.strip()) > MAX_REASON),
    st.integers(),
    st.text(min_size=1, max_size=5).map(lambda s: "ok" + s + "\x00"),
)


@pytest.fixture
def funded(engine, session_factory):
    """A customer with 100 tokens. Hypothesis runs every example on the same database: each
    example must leave it unchanged, which is what these tests assert."""
    customer = insert_user(engine, "hypo@example.com", "Hypo Customer")
    _adjust(session_factory, customer, 100)
    return customer


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=BAD_AMOUNTS, reason=st.one_of(st.just("Goodwill"), BAD_REASONS))
def test_bad_amount_is_refused_naming_the_field_and_nothing_changes(
        session_factory, engine, funded, amount, reason):
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc:
        _adjust(session_factory, funded, amount, reason)
    assert "amount" in exc.value.field_errors
    assert exc.value.field_errors["amount"]
    assert _snapshot(engine) == before


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=st.integers(min_value=1, max_value=MAX_ADJUSTMENT), reason=BAD_REASONS)
def test_bad_reason_is_refused_naming_the_field_and_nothing_changes(
        session_factory, engine, funded, amount, reason):
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc:
        _adjust(session_factory, funded, amount, reason)
    assert set(exc.value.field_errors) == {"reason"}
    assert _snapshot(engine) == before


@given(amount=st.integers(min_value=-MAX_ADJUSTMENT, max_value=MAX_ADJUSTMENT).filter(bool),
       reason=st.text(min_size=1, max_size=MAX_REASON).filter(
           lambda s: s.strip() and s.isprintable()))
def test_valid_input_is_accepted_as_is(amount, reason):
    # As typed, in NFC (data/services/text.py): a CJK compatibility ideograph such as
    # U+2F800 is stored as its canonical equivalent U+4E3D, which looks the same.
    assert validate_adjustment(amount, reason) == (amount,
                                                   unicodedata.normalize("NFC", reason).strip())
    assert validate_adjustment(str(amount), reason)[0] == amount
    assert validate_adjustment(Decimal(amount), reason)[0] == amount


def test_validation_reports_both_fields_at_once():
    with pytest.raises(ValidationError) as exc:
        validate_adjustment("1.5", "   ")
    assert set(exc.value.field_errors) == {"amount", "reason"}
    assert "whole number" in exc.value.field_errors["amount"]
    assert "required" in exc.value.field_errors["reason"]


def test_balance_cannot_overflow_its_column(session_factory, engine, carl):
    _adjust(session_factory, carl, 10)
    with engine.begin() as conn:
        conn.execute(text("UPDATE credit_balances SET current_balance = 2147483000, "
                          "lifetime_earned = 10 WHERE customer_id = :c"), {"c": carl})
    with pytest.raises(ValidationError) as exc:
        _adjust(session_factory, carl, MAX_ADJUSTMENT)
    assert "largest balance" in exc.value.field_errors["amount"]


# -- preview ------------------------------------------------------------------------------

def test_preview_shows_current_and_after_without_writing(session_factory, engine, carl):
    with session_factory() as s:
        none_yet = preview_adjustment(s, carl, 0)
    assert (none_yet.current, none_yet.after, none_yet.allowed) == (0, 0, False)
    _adjust(session_factory, carl, 12)
    before = _snapshot(engine)
    with session_factory() as s:
        ok = preview_adjustment(s, carl, -5)
        too_much = preview_adjustment(s, carl, -20)
        bad = preview_adjustment(s, carl, "1.5")
        with pytest.raises(NotFoundError):
            preview_adjustment(s, uuid.uuid4(), 5)
    assert (ok.current, ok.after, ok.allowed) == (12, 7, True)
    assert (too_much.after, too_much.allowed) == (-8, False)
    assert "has 12 tokens; removing 20 would leave -8" in too_much.message
    assert not bad.allowed and "whole number" in bad.message
    assert _snapshot(engine) == before


# -- bulk grants --------------------------------------------------------------------------

@pytest.fixture
def customers(engine, session_factory):
    ids = [insert_user(engine, f"bulk{i}@example.com", f"Bulk Customer {i}") for i in range(7)]
    _adjust(session_factory, ids[0], 5)  # one already has a balance; the others none
    return ids


def _bulk_rows(engine, bulk_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT t.customer_id, t.amount FROM credit_transactions t "
            "JOIN admin.credit_adjustments a ON a.transaction_id = t.id "
            "WHERE a.bulk_id = :b"), {"b": bulk_id}).all()


def test_interrupted_bulk_grant_run_again_grants_everyone_exactly_once(
        session_factory, engine, customers):
    with session_factory.begin() as s:
        bulk = create_bulk_grant(s, ACTOR, 3, "Outage compensation", customers)
    seen: list[tuple[int, int]] = []

    def stop_after_first_batch() -> bool:
        return len(seen) >= 2  # progress(0, total), then the first batch

    first = run_bulk_grant(session_factory, ACTOR, bulk, customers, batch_size=3,
                           progress=lambda d, t: seen.append((d, t)),
                           should_stop=stop_after_first_batch)
    assert (first.granted, first.already_granted, first.total, first.stopped) == (3, 0, 7, True)
    assert seen == [(0, 7), (3, 7)]
    assert len(_bulk_rows(engine, bulk)) == 3
    seen.clear()
    second = run_bulk_grant(session_factory, ACTOR, bulk, list(reversed(customers)),
                            batch_size=3, progress=lambda d, t: seen.append((d, t)))
    assert (second.granted, second.already_granted, second.stopped) == (4, 3, False)
    assert seen == [(0, 7), (3, 7), (6, 7), (7, 7)]
    third = run_bulk_grant(session_factory, ACTOR, bulk, customers)
    assert (third.granted, third.already_granted) == (0, 7)
    rows = _bulk_rows(engine, bulk)
    assert sorted(r.customer_id for r in rows) == sorted(customers)
    assert {r.amount for r in rows} == {3}
    assert _balance(engine, customers[0]) == (8, 8, 0)
    for c in customers:
        _assert_consistent(engine, c)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT finished_at IS NOT NULL FROM admin.bulk_grants "
                                 "WHERE bulk_id = :b"), {"b": bulk}).scalar()


def test_two_runs_of_one_bulk_at_once_grant_nobody_twice(session_factory, engine, customers):
    with session_factory.begin() as s:
        bulk = create_bulk_grant(s, ACTOR, 2, "Launch", customers)
    results = []

    def run() -> None:
        results.append(run_bulk_grant(session_factory, ACTOR, bulk, customers, batch_size=2))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(r.granted for r in results) == len(customers)
    assert sorted(r.customer_id for r in _bulk_rows(engine, bulk)) == sorted(customers)


def test_bulk_grant_refuses_bad_plans(session_factory, engine, customers):
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        create_bulk_grant(s, ACTOR, -3, "", [])
    assert set(exc.value.field_errors) == {"amount", "reason", "customers"}
    with pytest.raises(ValidationError), session_factory.begin() as s:
        create_bulk_grant(s, ACTOR, -3, "Negative", customers)
    key = uuid.uuid4()
    with session_factory.begin() as s:
        bulk = create_bulk_grant(s, ACTOR, 4, "Once", customers, bulk_id=key)
    with session_factory.begin() as s:  # a retry of the create: the same bulk
        assert create_bulk_grant(s, ACTOR, 4, "Once", customers, bulk_id=key) == bulk == key
    with pytest.raises(ConflictError), session_factory.begin() as s:
        create_bulk_grant(s, ACTOR, 5, "Once", customers, bulk_id=key)
    with pytest.raises(ConflictError):  # a different list than the one planned
        run_bulk_grant(session_factory, ACTOR, bulk, customers[:-1])
    with pytest.raises(NotFoundError):
        run_bulk_grant(session_factory, ACTOR, uuid.uuid4(), customers)
    assert _bulk_rows(engine, bulk) == []


def test_bulk_grant_skips_a_customer_deleted_since_planning(session_factory, engine, customers):
    ghost = uuid.uuid4()
    with session_factory.begin() as s:
        bulk = create_bulk_grant(s, ACTOR, 1, "Ghost", [*customers, ghost])
    result = run_bulk_grant(session_factory, ACTOR, bulk, [*customers, ghost])
    assert (result.granted, result.missing, result.total) == (7, 1, 8)


def test_grant_key_is_stable_per_bulk_and_customer():
    bulk, customer = uuid.uuid4(), uuid.uuid4()
    assert grant_key(bulk, customer) == grant_key(bulk, customer)
    assert grant_key(bulk, customer) != grant_key(uuid.uuid4(), customer)
    assert grant_key(bulk, customer) != grant_key(bulk, uuid.uuid4())


def test_customer_ids_matching_leaves_out_deleted_and_customers_without_balance(
        session_factory, engine, customers):
    gone = insert_user(engine, "bulkgone@example.com", "Bulk Gone", deleted=True)
    _adjust(session_factory, gone, 1)
    _adjust(session_factory, customers[1], 1)
    with session_factory() as s:
        everyone = customer_ids_matching(s, "")
        searched = customer_ids_matching(s, "bulk1")
        none = customer_ids_matching(s, credits.BalanceFilter(search="nobody"))
    assert set(everyone) == {customers[0], customers[1]}
    assert searched == [customers[1]]
    assert none == []
