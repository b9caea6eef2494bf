"""Refunds as staff logins do them (``db roles``): support records, sends and finishes a refund
only through the definer functions of migration 0030, recorded as itself; it may no longer
write ``admin.refund_requests`` or ``purchases`` directly; a founder may not run the functions.
Real logins on the embedded PostgreSQL, Stripe calls to localstripe."""

from __future__ import annotations

import itertools
import os
import uuid
from decimal import Decimal

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from data.audit_chain import verify_chain
from data.db import make_engine, make_session_factory
from data.definer_functions import unsafe_definer_functions
from data.errors import ValidationError
from data.privileges import read_privileges
from data.roles import FOUNDER_GROUP, SUPPORT_GROUP
from data.services.refunds import (
    REFUND_FUNCTIONS,
    RefundInput,
    load_refundable,
    submit_refund,
    validate_refund,
)
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401

_clerks = itertools.count(1)


def _refund(factory, gateway, kind, target, amount, reason="requested_by_customer", note=None):
    with factory() as s:
        refundable = load_refundable(s, kind, target)
    clean = validate_refund(refundable, amount, reason, note)
    return submit_refund(factory, gateway, "someone_else", kind, target, clean, uuid.uuid4())


def _refund_audit(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT action, actor FROM admin.audit_log WHERE action LIKE 'refund.%' "
            "OR action = 'credits.adjust' ORDER BY id"))]


def test_support_refunds_a_purchase_through_the_functions_recorded_as_itself(
        engine, login, paid_purchase, stripe_gateway):  # noqa: F811
    name, support = login(SUPPORT_GROUP)
    purchase = paid_purchase("30.00")
    with support() as s:
        assert read_privileges(s).may("refund")
    outcome = _refund(support, stripe_gateway, "purchase", purchase, "30.00", "duplicate")
    assert (outcome.status, outcome.full_refund) == ("succeeded", True)
    assert outcome.message == "Refunded 30.00 USD (full refund)."
    with engine.connect() as conn:
        status, why = conn.execute(text("SELECT status, refund_reason FROM purchases "
                                        "WHERE id = :i"), {"i": purchase}).one()
        request = conn.execute(text("SELECT actor, attempts, status, stripe_refund_id "
                                    "FROM admin.refund_requests")).one()
        access = conn.execute(text("SELECT count(*) FROM content_access")).scalar_one()
        trigger_actors = set(conn.execute(text(
            "SELECT actor FROM admin.audit_log WHERE entity_type = 'admin.refund_requests'"
        )).scalars())
    assert (status, why, access) == ("refunded", "Duplicate", 0)
    assert (request.actor, request.attempts, request.status) == (name, 1, "succeeded")
    assert request.stripe_refund_id == outcome.stripe_refund_id
    assert _refund_audit(engine) == [("refund.request", name), ("refund.purchase", name),
                                     ("refund.revoke_access", name), ("refund.result", name)]
    assert trigger_actors == {name}
    with make_session_factory(engine)() as s:
        assert verify_chain(s).intact


def test_support_refunds_a_credits_booking_and_the_tokens_come_back_once(
        engine, login, credit_booking, stripe_gateway):  # noqa: F811
    name, support = login(SUPPORT_GROUP)
    booking = credit_booking(credits=30, balance=5)
    outcome = _refund(support, stripe_gateway, "booking", booking, "0")
    assert (outcome.status, outcome.credits_returned) == ("succeeded", 30)
    with engine.connect() as conn:
        status, balance, portal = conn.execute(text(
            "SELECT b.status, cb.current_balance, "
            "(SELECT count(*) FROM offering_portal_access WHERE booking_id = b.id) "
            "FROM offering_bookings b JOIN credit_balances cb ON cb.customer_id = b.customer_id"
        )).one()
    assert (status, balance, portal) == ("canceled", 35, 0)
    assert _refund_audit(engine) == [
        ("refund.request", name), ("refund.booking", name), ("refund.revoke_access", name),
        ("refund.result", name), ("credits.adjust", name)]
    with support() as s:
        assert load_refundable(s, "booking", booking).refusal  # nothing more to return


DIRECT_WRITES = {
    "insert request": "INSERT INTO admin.refund_requests (id, purchase_id, customer_id, "
                      "amount, currency, reason, actor, idempotency_key) SELECT "
                      "gen_random_uuid(), id, customer_id, 1, 'usd', 'duplicate', 'x', 'k' "
                      "FROM purchases",
    "update request": "UPDATE admin.refund_requests SET status = 'succeeded'",
    "delete request": "DELETE FROM admin.refund_requests",
    "update purchase": "UPDATE purchases SET status = 'refunded'",
    "lock purchase": "SELECT 1 FROM purchases FOR UPDATE",
}


def test_support_may_not_write_refund_requests_or_purchases_directly(
        engine, login, paid_purchase, stripe_gateway):  # noqa: F811
    _name, support = login(SUPPORT_GROUP)
    purchase = paid_purchase("30.00")
    _refund(support, stripe_gateway, "purchase", purchase, "10.00")
    for what, statement in DIRECT_WRITES.items():
        refused = _refused(_in_session(support, lambda s, q=statement: s.execute(text(q))))
        assert "may not" in str(refused), what
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM purchases")).scalar_one() == "completed"
        assert conn.execute(text("SELECT status, amount FROM admin.refund_requests")).one() \
            == ("succeeded", Decimal("10.00"))


def test_the_databases_refusals_still_name_their_constraint_through_the_function(
        engine, login, paid_purchase, stripe_gateway):  # noqa: F811
    """What the service maps to messages on the amount field arrives through the function:
    more than was paid (the trigger), a second open request (the partial unique index)."""
    _name, support = login(SUPPORT_GROUP)
    purchase = paid_purchase("30.00")
    call = text("SELECT admin.record_refund_request(:id, 'purchase', :p, :amount, "
                "'duplicate', NULL)")
    with pytest.raises(IntegrityError) as too_much, support.begin() as s:
        s.execute(call, {"id": uuid.uuid4(), "p": purchase, "amount": Decimal("30.01")})
    assert too_much.value.orig.diag.constraint_name == "refund_requests_within_paid"
    with support.begin() as s:  # as psql would: recorded, never sent
        assert s.execute(call, {"id": uuid.uuid4(), "p": purchase,
                                "amount": Decimal("5.00")}).scalar_one() == "recorded"
    with pytest.raises(IntegrityError) as second, support.begin() as s:
        s.execute(call, {"id": uuid.uuid4(), "p": purchase, "amount": Decimal("5.00")})
    assert second.value.orig.diag.constraint_name == "ix_refund_requests_open_purchase"
    with pytest.raises(ValidationError) as open_one:
        submit_refund(support, stripe_gateway, "x", "purchase", purchase,
                      RefundInput(Decimal("5.00"), "duplicate", None), uuid.uuid4())
    assert "in progress" in open_one.value.field_errors["amount"]
    with pytest.raises(DBAPIError) as bad, support.begin() as s:
        s.execute(text("SELECT admin.record_refund_answer(:id, 'refunded', NULL, NULL, NULL)"),
                  {"id": uuid.uuid4()})
    assert bad.value.orig.sqlstate == "22023"


def test_a_founder_may_not_run_the_refund_functions(engine, login, paid_purchase):  # noqa: F811
    _name, founder = login(FOUNDER_GROUP)
    purchase = paid_purchase("30.00")
    with founder() as s:
        assert not read_privileges(s).may("refund")
    calls = {
        REFUND_FUNCTIONS[0]: "SELECT admin.record_refund_request(:id, 'purchase', :p, 1, "
                             "'duplicate', NULL)",
        REFUND_FUNCTIONS[1]: "SELECT admin.count_refund_attempt(:id)",
        REFUND_FUNCTIONS[2]: "SELECT admin.record_refund_answer(:id, 'failed', NULL, NULL, "
                             "'x')",
    }
    assert set(calls) == set(REFUND_FUNCTIONS)
    for statement in calls.values():
        refused = _refused(_in_session(founder, lambda s, q=statement: s.execute(
            text(q), {"id": uuid.uuid4(), "p": purchase})))
        assert "may not run" in str(refused)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.refund_requests")).scalar() == 0


def test_the_refund_functions_are_safe_definer_functions(engine, staffed_db):  # noqa: F811
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.oid::regprocedure::text, p.prosecdef FROM pg_proc p "
            "WHERE p.oid = ANY(CAST(:f AS regprocedure[]))"), {"f": list(REFUND_FUNCTIONS)}).all()
        unsafe = {u.signature for u in unsafe_definer_functions(conn)}
    assert len(rows) == 3 and all(definer for _sig, definer in rows)
    assert unsafe.isdisjoint(sig for sig, _definer in rows)


def test_a_login_with_table_rights_and_no_functions_refunds_with_its_own_rights(
        pg_server, db_url, engine, paid_purchase, stripe_gateway):
    """No staff roles: a login granted the tables by hand (not the refund functions) takes
    the plain path, and the request and audit rows still name it."""
    role = f"pa_refunder_{os.getpid()}_{next(_clerks)}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA admin TO {role}")
        conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, admin TO {role}")
        for signature in REFUND_FUNCTIONS:
            conn.execute(f"REVOKE ALL ON FUNCTION {signature} FROM {role}")
    purchase = paid_purchase("30.00")
    clerk = make_engine(db_url.set(username=role))
    try:
        factory = make_session_factory(clerk)
        with factory() as s:
            assert s.execute(text("SELECT has_function_privilege(:f, 'EXECUTE')"),
                             {"f": REFUND_FUNCTIONS[0]}).scalar() is False
            assert read_privileges(s).may("refund")
        outcome = _refund(factory, stripe_gateway, "purchase", purchase, "30.00")
        assert (outcome.status, outcome.full_refund) == ("succeeded", True)
    finally:
        clerk.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM admin.refund_requests")).scalar() == role
        assert conn.execute(text("SELECT status FROM purchases")).scalar() == "refunded"
    assert {actor for _a, actor in _refund_audit(engine)} == {role}
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")
