"""Translating a refused privilege into a sentence naming the action (no Qt: the command
line uses it too), against a real read-only role on the embedded server."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from data.db import make_engine, make_session_factory
from data.db_errors import permission_sentence, translate_db_error
from data.errors import PermissionDeniedError, ValidationError


@pytest.fixture
def reader_session_factory(pg_server, db_url):
    role = f"pa_dbreader_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public, admin TO {role}")
    engine = make_engine(db_url.set(username=role))
    yield make_session_factory(engine)
    engine.dispose()
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def test_a_refused_update_names_the_action_and_the_table(reader_session_factory):
    with pytest.raises(ProgrammingError) as err, reader_session_factory.begin() as s:
        s.execute(text("UPDATE users SET full_name = 'x' WHERE false"))
    translated = translate_db_error(err.value)
    assert isinstance(translated, PermissionDeniedError)
    assert str(translated) == \
        "Your database login may not change users (permission denied on users)."
    assert (translated.table, translated.action) == ("users", "change users")
    assert translated.__cause__ is err.value


def test_a_lock_for_update_is_a_change(reader_session_factory):
    with pytest.raises(ProgrammingError) as err, reader_session_factory.begin() as s:
        s.execute(text("SELECT 1 FROM credit_balances FOR UPDATE"))
    assert str(translate_db_error(err.value)) == ("Your database login may not change token "
                                                  "balances (permission denied on "
                                                  "credit_balances).")


def test_other_errors_pass_through_unchanged():
    other = ValueError("a bug")
    domain = ValidationError({"amount": "Enter an amount."})
    assert translate_db_error(other) is other
    assert translate_db_error(domain) is domain


@pytest.mark.parametrize(("message", "statement", "sentence"), [
    ("permission denied for schema admin", "SELECT 1", "may not use the admin schema "
     "(permission denied on admin)."),
    ("permission denied for table refund_requests", "INSERT INTO admin.refund_requests",
     "may not change refund requests (permission denied on refund_requests)."),
    ("permission denied for table some_new_table", "DELETE FROM some_new_table",
     "may not change some_new_table (permission denied on some_new_table)."),
])
def test_sentences(message, statement, sentence):
    assert permission_sentence(message, statement)[0] == "Your database login " + sentence
