"""The referral program as staff logins do it (``db roles``): support settles disputes and
grants (tokens through the money functions), owners define rewards, founders change nothing."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from data.db import make_engine, make_session_factory
from data.errors import ConflictError
from data.roles import FOUNDER_GROUP, OWNER_GROUP, SUPPORT_GROUP
from data.services import referral_fraud, referral_grants, referrals
from tests.data.factories import insert_user
from tests.data.referral_factories import insert_code, insert_referral, insert_reward
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401


def test_support_moves_referrals_and_grants_tokens_recorded_as_itself(engine, login):  # noqa: F811
    name, factory = login(SUPPORT_GROUP)
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    bob = insert_user(engine, "bob@example.com", "Bob Friend")
    cid = insert_user(engine, "cid@example.com", "Cid Friend")
    insert_code(engine, ann, "ANNA1")
    insert_referral(engine, ann, bob, "ANNA1", status="qualified")
    pending = insert_referral(engine, ann, cid, "ANNA1", status="pending")
    reward = insert_reward(engine, "Tokens", "credits", {"credits": 4}, required=2)
    dee = insert_user(engine, "dee@example.com", "Dee Holder")
    with factory.begin() as s:
        referrals.create_code(s, name, dee)
        referrals.qualify_referral(s, name, pending, "Paid by invoice")
        referral_fraud.scan(s, name)
        referrals.review_referral(s, name, pending, "cleared", "Checked the invoice")
        referrals.review_referral(s, name, next(iter(
            s.execute(text("SELECT referral_id FROM admin.referral_flags "
                           "WHERE reviewed_at IS NULL")).scalars())), "cleared", "Paid")
        referral_grants.grant_reward(s, name, ann, reward, uuid.uuid4())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_balance FROM credit_balances "
                                 "WHERE customer_id = :u"), {"u": ann}).scalar_one() == 4
        actors = set(conn.execute(text(
            "SELECT actor FROM admin.audit_log WHERE action LIKE 'referrals.%' "
            "OR action = 'credits.adjust'")).scalars())
    assert actors == {name}


def test_owner_defines_rewards_and_founder_changes_nothing(engine, login):  # noqa: F811
    owner, owner_factory = login(OWNER_GROUP)
    founder, founder_factory = login(FOUNDER_GROUP)
    values = {"name": "Badge", "description": "d", "type": "badge", "badge": "star",
              "required_referrals": 1}
    with owner_factory.begin() as s:
        created = referrals.create_reward(s, owner, values)
        referrals.set_reward_active(s, owner, created.id, created.version, False)
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    refused = _refused(_in_session(founder_factory,
                                   lambda s: referrals.create_code(s, founder, ann)))
    assert "referral_codes" in str(refused) or refused.table
    _refused(_in_session(founder_factory,
                         lambda s: referrals.create_reward(s, founder, values)))


def test_support_corrects_the_referral_counters(engine, login):  # noqa: F811
    name, factory = login(SUPPORT_GROUP)
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    bob = insert_user(engine, "bob@example.com", "Bob Friend")
    insert_code(engine, ann, "ANNA1")
    insert_referral(engine, ann, bob, "ANNA1", keep_counts=False)
    with factory.begin() as s:
        assert referral_fraud.correct_counts(s, name) == 2
        assert referral_fraud.count_mismatches(s) == []


def test_a_grant_is_recorded_only_through_its_function(engine, login):  # noqa: F811
    """Support grants through ``admin.record_referral_grant``; its direct INSERTs into the
    claims and the grants are refused by PostgreSQL, and a founder may not run it."""
    name, support = login(SUPPORT_GROUP)
    _founder, founder = login(FOUNDER_GROUP)
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    bob = insert_user(engine, "bob@example.com", "Bob Friend")
    insert_code(engine, ann, "ANNA1")
    counted = insert_referral(engine, ann, bob, "ANNA1", status="qualified")
    reward = insert_reward(engine, "Star", "badge", {"badge": "star"}, required=1)
    call = text("SELECT * FROM admin.record_referral_grant(:q, :u, :w, CAST(:ids AS integer[]))")
    params = {"q": uuid.uuid4(), "u": ann, "w": reward, "ids": [counted]}
    refused = _refused(_in_session(founder, lambda s: s.execute(call, params)))
    assert "may not run" in str(refused)
    for statement in (
            "INSERT INTO user_referral_rewards (user_id, reward_id, claimed_at) "
            "SELECT id, :w, now() FROM users WHERE email = 'ann@example.com'",
            "INSERT INTO admin.referral_grants (request_id, referrer_id, reward_id, threshold, "
            "user_reward_id, referral_ids) SELECT gen_random_uuid(), id, :w, 1, 1, '{1}' "
            "FROM users WHERE email = 'ann@example.com'"):
        _refused(_in_session(support, lambda s, q=statement: s.execute(text(q), {"w": reward})))
    with support.begin() as s:  # as psql would: the threshold is checked by the database
        with pytest.raises(DBAPIError) as too_few, s.begin_nested():
            s.execute(call, {**params, "ids": []})
        assert too_few.value.orig.sqlstate == "22023"
    with support.begin() as s:
        result = referral_grants.grant_reward(s, "someone_else", ann, reward, uuid.uuid4())
    assert result.referral_ids == (counted,) and result.tokens is None
    with engine.connect() as conn:
        grant_actor = conn.execute(text("SELECT actor FROM admin.referral_grants")).scalar_one()
        audit = conn.execute(text("SELECT actor, new_values FROM admin.audit_log "
                                  "WHERE action = 'referrals.grant'")).one()
        status = conn.execute(text("SELECT status FROM referrals WHERE id = :i"),
                              {"i": counted}).scalar_one()
        claims = conn.execute(text("SELECT count(*) FROM user_referral_rewards")).scalar_one()
    assert (grant_actor, audit.actor, status, claims) == (name, name, "rewarded", 1)
    assert audit.new_values["referral_ids"] == [counted]
    with support.begin() as s, pytest.raises(ConflictError):
        referral_grants.grant_reward(s, "x", ann, reward, uuid.uuid4())


def test_a_login_with_table_rights_and_no_function_grants_with_its_own_rights(
        pg_server, db_url, engine):
    """No staff roles: a login granted the tables by hand takes the plain path, audited as
    itself, tokens through the ledger."""
    role = f"pa_granter_{os.getpid()}"
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public, admin TO {role}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA admin TO {role}")
        conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, admin TO {role}")
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    bob = insert_user(engine, "bob@example.com", "Bob Friend")
    insert_code(engine, ann, "ANNA1")
    insert_referral(engine, ann, bob, "ANNA1", status="qualified")
    reward = insert_reward(engine, "Tokens", "credits", {"credits": 4}, required=1)
    clerk = make_engine(db_url.set(username=role))
    try:
        with make_session_factory(clerk).begin() as s:
            assert s.execute(text("SELECT has_function_privilege(:f, 'EXECUTE')"),
                             {"f": referral_grants.GRANT_FUNCTIONS[0]}).scalar() is False
            assert referral_grants.grant_reward(s, "x", ann, reward, uuid.uuid4()).tokens == 4
    finally:
        clerk.dispose()
    with engine.connect() as conn:
        actors = set(conn.execute(text(
            "SELECT actor FROM admin.audit_log WHERE action IN ('referrals.grant', "
            "'credits.adjust')")).scalars())
        assert conn.execute(text("SELECT current_balance FROM credit_balances "
                                 "WHERE customer_id = :u"), {"u": ann}).scalar_one() == 4
    assert actors == {role}
    with psycopg.connect(pg_server.libpq_dsn(db_url.database), autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")
