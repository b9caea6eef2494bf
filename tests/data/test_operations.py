"""Named operations say what they changed; driver errors are translated once, at the
boundary, into errors a page can show (a field error, a sentence)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from data.db_errors import translate_db_error
from data.errors import ConflictError, ValidationError
from data.operations import Changes, run_in_transaction
from data.operations.credits import AdjustBalance
from data.operations.users import UpdateProfile
from data.queries.users import get_profile
from data.services.credits import InsufficientBalanceError
from tests.data.factories import insert_user


def test_changes_say_which_rows_of_which_tables():
    changes = Changes.of(credit_balances="anna", credit_transactions=None)
    assert changes.touches("credit_balances", ["anna", "bob"])
    assert not changes.touches("credit_balances", ["bob"])
    assert changes.touches("credit_transactions", ["any id"])  # rows not known: all
    assert not changes.touches("users")
    merged = changes | Changes.of(credit_balances=["bob"], users=["u1"])
    assert merged.ids("credit_balances") == {"anna", "bob"}
    assert merged.ids("users") == {"u1"} and merged.ids("content") == frozenset()
    assert not Changes() and merged


def test_an_adjustment_announces_the_customers_balance_and_its_ledger_line(session_factory,
                                                                          engine):
    customer = insert_user(engine, "nina@example.com", "Nina")
    op = AdjustBalance(customer, 25, "Goodwill", uuid.uuid4())
    result = run_in_transaction(op, session_factory, "anna")
    changes = op.changes(result)
    assert changes.touches("credit_balances", [customer])
    assert changes.touches("credit_transactions", [result.transaction_id])
    assert op.name == "AdjustBalance"


def test_an_adjustment_on_a_core_connection_commits_once_with_its_ledger_and_audit(
        session_factory, engine):
    """AdjustBalance runs on a Core connection of the factory's engine (no ORM Session): the
    balance, its ledger line, the request and the audit row commit together; the same request
    again answers the first result and writes nothing more."""
    customer = insert_user(engine, "omar@example.com", "Omar")
    op = AdjustBalance(customer, 40, "Goodwill", uuid.uuid4())
    first = run_in_transaction(op, session_factory, "anna")
    again = run_in_transaction(op, session_factory, "anna")
    assert (first.balance_before, first.balance_after, first.replayed) == (0, 40, False)
    assert again.replayed and again.transaction_id == first.transaction_id
    with engine.connect() as conn:
        balance = conn.execute(text("SELECT current_balance FROM credit_balances "
                                    "WHERE customer_id = :c"), {"c": customer}).scalar_one()
        ledger = conn.execute(text("SELECT count(*), sum(amount) FROM credit_transactions "
                                   "WHERE customer_id = :c"), {"c": customer}).one()
        audited = conn.execute(text(
            "SELECT actor, new_values ->> 'amount' FROM admin.audit_log "
            "WHERE action = 'credits.adjust' AND entity_id = :c"), {"c": str(customer)}).all()
        me = conn.execute(text("SELECT session_user")).scalar_one()
    assert balance == 40 and tuple(ledger) == (1, 40)
    assert audited == [(me, "40")]


def test_an_adjustment_that_fails_on_a_core_connection_writes_nothing(session_factory, engine):
    customer = insert_user(engine, "pia@example.com", "Pia")
    with pytest.raises(InsufficientBalanceError):
        run_in_transaction(AdjustBalance(customer, -5, "Oops", uuid.uuid4()),
                           session_factory, "anna")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM credit_transactions "
                                 "WHERE customer_id = :c"), {"c": customer}).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM admin.credit_adjustments "
                                 "WHERE customer_id = :c"), {"c": customer}).scalar_one() == 0


def test_a_stale_profile_save_is_a_conflict_carrying_the_current_values(session_factory,
                                                                        engine):
    user = insert_user(engine, "olga@example.com", "Olga")
    with session_factory() as s:
        loaded = get_profile(s, user)
    with session_factory.begin() as s:
        UpdateProfile(user, loaded.version, {"full_name": "Olga P."}).run(s, "anna")
    with pytest.raises(ConflictError) as refused, session_factory.begin() as s:
        UpdateProfile(user, loaded.version, {"bio": "Hi"}).run(s, "bob")
    assert refused.value.current.full_name == "Olga P."


def _failure(engine, sql: str, params: dict) -> BaseException:
    with engine.begin() as conn, pytest.raises(Exception) as failed:
        conn.execute(text(sql), params)
    return translate_db_error(failed.value)


def test_a_unique_violation_becomes_an_error_under_its_column(engine):
    insert_user(engine, "dup@example.com", "First")
    translated = _failure(engine, "INSERT INTO users (email, password_hash, full_name, role) "
                                  "VALUES (:e, 'x', 'Second', 'customer')", {"e": "dup@example.com"})
    assert isinstance(translated, ValidationError)
    assert translated.field_errors == {"email": "Another record already has this email."}


def test_a_nul_byte_becomes_an_error_for_the_form_and_nothing_is_written(engine):
    user = insert_user(engine, "nul@example.com", "Nul")
    translated = _failure(engine, "UPDATE users SET bio = :b WHERE id = :i",
                          {"b": "a\x00b", "i": user})
    assert isinstance(translated, ValidationError)
    assert list(translated.field_errors) == [None]
    assert "cannot store" in translated.field_errors[None]
    assert str(translated) == translated.field_errors[None]  # no "None:" in the sentence
    with engine.connect() as conn:
        assert conn.execute(text("SELECT bio FROM users WHERE id = :i"),
                            {"i": user}).scalar() is None


def test_a_value_longer_than_its_column_is_refused_for_the_form(engine):
    user = insert_user(engine, "long@example.com", "Long")
    translated = _failure(engine, "UPDATE users SET full_name = :n WHERE id = :i",
                          {"n": "x" * 300, "i": user})
    assert isinstance(translated, ValidationError)
    assert "longer than the database allows" in translated.field_errors[None]


def test_a_bug_is_left_as_it_is_for_the_crash_dialog():
    bug = KeyError("no such thing")
    assert translate_db_error(bug) is bug
