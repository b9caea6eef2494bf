"""This period's subscription credits by hand (migration 0017's ``admin.grant_period_credits``):
one ``earned_subscription`` row per (subscription, period), whatever the clicks, retries or
staff; refused over the platform's own grant; balance and ledger agree; audited; support may
run it through the function, a founder may not."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import text

from data.audit_chain import verify_chain
from data.definer_functions import unsafe_definer_functions
from data.errors import ConflictError, DomainError
from data.ledger_health import check_ledger
from data.roles import FOUNDER_GROUP, SUPPORT_GROUP
from data.services.period_credits import (
    PeriodAlreadyGrantedError,
    get_period_credit_state,
    grant_period_credits,
)
from tests.data.factories import BASE_TIME, insert_user
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401
from tests.data.tier_factories import add_subscription, add_tier

PERIOD_END = BASE_TIME + dt.timedelta(days=30)


@pytest.fixture
def subscription(engine):
    """An active monthly subscription to a 50-credit tier without rollover: (id, customer)."""
    customer = insert_user(engine, f"sub-{uuid.uuid4().hex[:8]}@example.com", "Sam Subscriber")
    tier = add_tier(engine, f"Gold {uuid.uuid4().hex[:6]}", credits=50)
    return add_subscription(engine, customer, tier), customer


def _grant(factory, sub_id, request_id=None, start=BASE_TIME):
    with factory.begin() as session:
        return grant_period_credits(session, request_id or uuid.uuid4(), sub_id, start)


def _ledger(engine, customer):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT type, amount, balance_after, subscription_id, expires_at, description "
            "FROM credit_transactions WHERE customer_id = :c ORDER BY created_at"),
            {"c": customer}).all()


def _balance(engine, customer):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT current_balance, lifetime_earned FROM credit_balances "
            "WHERE customer_id = :c"), {"c": customer}).first()


def _platform_grant(engine, customer, sub_id, at, amount=50):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO credit_balances (customer_id, current_balance, lifetime_earned, "
            "updated_at) VALUES (:c, :a, :a, :at) ON CONFLICT (customer_id) DO UPDATE SET "
            "current_balance = credit_balances.current_balance + :a, "
            "lifetime_earned = credit_balances.lifetime_earned + :a, updated_at = :at"),
            {"c": customer, "a": amount, "at": at})
        conn.execute(text(
            "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
            "subscription_id, description, created_at) SELECT :c, 'earned_subscription', :a, "
            "current_balance, :s, 'monthly credits', :at FROM credit_balances "
            "WHERE customer_id = :c"), {"c": customer, "a": amount, "s": sub_id, "at": at})


def test_grant_writes_one_earned_subscription_row_the_balance_and_the_audit(
        engine, session_factory, subscription):
    sub_id, customer = subscription
    with session_factory() as s:
        before = get_period_credit_state(s, sub_id)
    assert before.refusal is None and before.monthly_credits == 50
    result = _grant(session_factory, sub_id)
    assert (result.amount, result.balance_before, result.balance_after) == (50, 0, 50)
    [row] = _ledger(engine, customer)
    assert row.type == "earned_subscription" and row.subscription_id == sub_id
    assert (row.amount, row.balance_after) == (50, 50)
    assert row.expires_at == PERIOD_END  # no rollover: they expire with the period
    assert "granted by hand" in row.description
    assert tuple(_balance(engine, customer)) == (50, 50)
    with session_factory() as s:
        assert check_ledger(s) == []
        after = get_period_credit_state(s, sub_id)
        audit = s.execute(text(
            "SELECT action, new_values FROM admin.audit_log WHERE entity_id = :c"),
            {"c": str(customer)}).one()
        assert verify_chain(s).intact
    assert "already granted by hand (50 tokens" in after.refusal
    assert audit.action == "credits.period_grant"
    assert audit.new_values["subscription_id"] == str(sub_id)
    assert audit.new_values["current_balance"] == 50


def test_a_double_click_applies_once_and_answers_the_first_result(
        engine, session_factory, subscription):
    sub_id, customer = subscription
    request = uuid.uuid4()
    first = _grant(session_factory, sub_id, request)
    again = _grant(session_factory, sub_id, request)
    assert again.replayed and not first.replayed
    assert again.transaction_id == first.transaction_id and again.balance_after == 50
    assert len(_ledger(engine, customer)) == 1
    assert tuple(_balance(engine, customer)) == (50, 50)


def test_a_second_dialog_is_refused_naming_who_granted(engine, session_factory, subscription):
    sub_id, customer = subscription
    _grant(session_factory, sub_id)
    with pytest.raises(PeriodAlreadyGrantedError, match="already granted by hand"):
        _grant(session_factory, sub_id)
    assert len(_ledger(engine, customer)) == 1


def test_two_staff_at_once_write_exactly_one_row(engine, session_factory, subscription):
    sub_id, customer = subscription
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def work():
        barrier.wait()
        try:
            outcomes.append(_grant(session_factory, sub_id))
        except PeriodAlreadyGrantedError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1
    assert len(outcomes) == 4
    assert len(_ledger(engine, customer)) == 1
    assert tuple(_balance(engine, customer)) == (50, 50)
    with session_factory() as s:
        assert check_ledger(s) == []


def test_refused_when_the_platform_already_granted_this_period(
        engine, session_factory, subscription):
    sub_id, customer = subscription
    _platform_grant(engine, customer, sub_id, BASE_TIME - dt.timedelta(days=30))  # last period
    with session_factory() as s:
        assert get_period_credit_state(s, sub_id).refusal is None
    _platform_grant(engine, customer, sub_id, BASE_TIME + dt.timedelta(hours=1))
    with session_factory() as s:
        refusal = get_period_credit_state(s, sub_id).refusal
    assert refusal.startswith("The platform already granted this period's credits (50 tokens")
    with pytest.raises(PeriodAlreadyGrantedError, match="The platform already granted"):
        _grant(session_factory, sub_id)
    assert len(_ledger(engine, customer)) == 2
    assert tuple(_balance(engine, customer)) == (100, 100)


def test_refused_for_a_canceled_subscription_a_tier_without_credits_and_a_stale_period(
        engine, session_factory):
    customer = insert_user(engine, "c@example.com", "Cora")
    rich, poor = add_tier(engine, "Rich", credits=10), add_tier(engine, "Poor", credits=0)
    canceled = add_subscription(engine, customer, rich, status="canceled")
    no_credits = add_subscription(engine, customer, poor)
    current = add_subscription(engine, customer, rich)
    with pytest.raises(DomainError, match="This subscription is canceled"):
        _grant(session_factory, canceled)
    with pytest.raises(DomainError, match="grants no monthly credits"):
        _grant(session_factory, no_credits)
    with pytest.raises(ConflictError, match="period changed"):
        _grant(session_factory, current, start=BASE_TIME - dt.timedelta(days=30))
    assert _ledger(engine, customer) == []


def test_support_grants_through_the_function_and_a_founder_is_refused(
        engine, login, subscription):  # noqa: F811
    sub_id, customer = subscription
    founder_name, founder = login(FOUNDER_GROUP)
    refused = _refused(_in_session(founder, lambda s: grant_period_credits(
        s, uuid.uuid4(), sub_id, BASE_TIME)))
    assert refused.args
    assert _ledger(engine, customer) == []
    support_name, support = login(SUPPORT_GROUP)
    result = _grant(support, sub_id)
    assert result.balance_after == 50
    with engine.connect() as conn:
        assert conn.execute(text(
            "SELECT actor FROM admin.period_credit_grants WHERE subscription_id = :s"),
            {"s": sub_id}).scalar() == support_name
        assert conn.execute(text(
            "SELECT actor FROM admin.audit_log WHERE action = 'credits.period_grant'")
        ).scalar() == support_name
        # support has no write right on the ledger itself: only the function moves money
        assert not conn.execute(text(
            "SELECT has_table_privilege(:r, 'credit_transactions', 'INSERT')"),
            {"r": support_name}).scalar()
        assert unsafe_definer_functions(conn) == []
