"""The referral program as staff logins do it (``db roles``): support settles disputes and
grants (tokens through the money functions), owners define rewards, founders change nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import text

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
