"""Referral program services: rewards, codes, qualify / void, grants exactly once."""

from __future__ import annotations

import datetime as dt
import random
import threading
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, ValidationError
from data.queries.referrals import (
    CodeFilter,
    ReferralFilter,
    get_referrer_summary,
    get_reward,
    list_codes_page,
    list_referrals_page,
)
from data.services import referral_grants, referrals
from tests.data.factories import insert_user
from tests.data.referral_factories import insert_code, insert_referral, insert_reward

ACTOR = "support_sam"
PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _audits(engine, action: str) -> int:
    return _count(engine, "SELECT count(*) FROM admin.audit_log WHERE action = :a", a=action)


@pytest.fixture
def program(engine):
    """Ann holds code ANNA1, referred Bob, Cid, Dee (qualified) and Eve (pending)."""
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    insert_code(engine, ann, "ANNA1")
    people = {"ann": ann}
    for name, status in (("bob", "qualified"), ("cid", "qualified"), ("dee", "qualified"),
                         ("eve", "pending")):
        people[name] = insert_user(engine, f"{name}@example.com", f"{name.title()} Friend")
        people[name + "_ref"] = insert_referral(engine, ann, people[name], "ANNA1",
                                                status=status)
    return people


# -- rewards ---------------------------------------------------------------------------------

def test_rewards_of_each_type_are_created_with_their_values(session_factory):
    with session_factory.begin() as s:
        days = referrals.create_reward(s, ACTOR, {"name": "Free month", "description": "30 d",
                                                  "type": "premium_days", "days": "30",
                                                  "required_referrals": 1, "is_active": True})
        pct = referrals.create_reward(s, ACTOR, {"name": "20%", "description": "d",
                                                 "type": "discount", "discount_kind": "percent",
                                                 "percent_off": 20, "required_referrals": 2})
        amount = referrals.create_reward(s, ACTOR, {
            "name": "Five off", "description": "d", "type": "discount",
            "discount_kind": "amount", "amount_off": Decimal("5.00"), "currency": "eur",
            "required_referrals": 3})
        badge = referrals.create_reward(s, ACTOR, {"name": "B", "description": "d",
                                                   "type": "badge", "badge": "ambassador",
                                                   "required_referrals": 5})
        tokens = referrals.create_reward(s, ACTOR, {"name": "T", "description": "d",
                                                    "type": "credits", "credits": 7,
                                                    "required_referrals": 2})
    assert days.value == {"days": 30}
    assert pct.value == {"percent_off": 20}
    assert amount.value == {"amount_off": "5.00", "currency": "eur"}
    assert badge.value == {"badge": "ambassador"}
    assert tokens.value == {"credits": 7}


def test_an_unknown_type_keeps_its_json_when_other_fields_are_saved(engine, session_factory):
    rid = insert_reward(engine, "Mystery", "merch", {"sku": "TSHIRT", "size": ["M", "L"]})
    with session_factory() as s:
        current = get_reward(s, rid)
    with session_factory.begin() as s:
        saved = referrals.update_reward(s, ACTOR, rid, current.version,
                                        {"name": "Mystery shirt", "required_referrals": 4})
    assert saved.type == "merch" and saved.value == {"sku": "TSHIRT", "size": ["M", "L"]}
    assert saved.name == "Mystery shirt" and saved.required_referrals == 4


def test_a_claimed_reward_is_refused_deletion_and_can_be_deactivated(engine, session_factory,
                                                                      program):
    rid = insert_reward(engine, "Badge", "badge", {"badge": "star"}, required=1)
    with session_factory.begin() as s:
        referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    with session_factory() as s:
        version = get_reward(s, rid).version
    with session_factory.begin() as s, pytest.raises(ConflictError, match="Deactivate"):
        referrals.delete_reward(s, ACTOR, rid, version)
    with session_factory.begin() as s:
        off = referrals.set_reward_active(s, ACTOR, rid, version, False)
    assert off.is_active is False
    assert _count(engine, "SELECT count(*) FROM referral_rewards WHERE id = :i", i=rid) == 1


def test_an_unclaimed_reward_may_be_deleted(engine, session_factory):
    rid = insert_reward(engine, "Temp", "badge", {"badge": "x"})
    with session_factory() as s:
        version = get_reward(s, rid).version
    with session_factory.begin() as s:
        referrals.delete_reward(s, ACTOR, rid, version)
    assert _count(engine, "SELECT count(*) FROM referral_rewards") == 0
    assert _audits(engine, "referrals.reward_delete") == 1


def test_a_stale_save_is_a_conflict(engine, session_factory):
    rid = insert_reward(engine, "Old", "badge", {"badge": "x"})
    with session_factory() as s:
        version = get_reward(s, rid).version
    with session_factory.begin() as s:
        referrals.update_reward(s, ACTOR, rid, version, {"name": "New"})
    with session_factory.begin() as s, pytest.raises(ConflictError):
        referrals.update_reward(s, ACTOR, rid, version, {"name": "Mine"})


NASTY = st.one_of(
    st.none(), st.just(""), st.just("   "), st.just("=1+1"), st.just("a\x00b"),
    st.just("\ud800"), st.just("x\u200by"), st.just("\u202eevil"), st.just("1e999"),
    st.just("-5"), st.just("0"), st.just("0.001"), st.just(10**30), st.just(-1),
    st.floats(), st.booleans(), st.text(max_size=8),
)
BAD_VALUE_CASES = st.one_of(
    st.tuples(st.just("premium_days"), st.just("days"),
              st.one_of(NASTY, st.integers(max_value=0), st.integers(min_value=3651))),
    st.tuples(st.just("credits"), st.just("credits"),
              st.one_of(NASTY, st.integers(max_value=0), st.integers(min_value=1_000_001))),
    st.tuples(st.just("discount"), st.just("percent_off"),
              st.one_of(NASTY, st.integers(max_value=0), st.integers(min_value=101))),
    st.tuples(st.just("discount"), st.just("amount_off"),
              st.one_of(st.just("0"), st.just("-1.00"), st.just("1.005"), st.just("1e30"),
                        st.just("abc"), st.floats(), st.none())),
    st.tuples(st.just("discount"), st.just("currency"),
              st.one_of(st.just("US"), st.just("usdd"), st.just("u\x00d"), st.just("USD"),
                        st.none(), st.just("ü$d"))),
    st.tuples(st.just("badge"), st.just("badge"),
              st.one_of(st.none(), st.just(""), st.just("a\x00"), st.just("\u202e"),
                        st.just("x" * 101), st.just("\ud800"))),
)


def _values(kind: str, field: str, bad) -> dict:
    values = {"name": "Reward", "description": "Nice", "type": kind, "required_referrals": 1,
              "is_active": True, "days": 30, "credits": 5, "percent_off": 10, "badge": "b",
              "discount_kind": "amount" if field in ("amount_off", "currency") else "percent",
              "amount_off": Decimal("5.00"), "currency": "usd"}
    values[field] = bad
    return values


@PROPERTY
@given(case=BAD_VALUE_CASES)
def test_bad_reward_values_name_the_field_and_write_nothing(engine, session_factory, case):
    kind, field, bad = case
    with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
        referrals.create_reward(s, ACTOR, _values(kind, field, bad))
    assert field in caught.value.field_errors
    assert _count(engine, "SELECT count(*) FROM referral_rewards") == 0


BAD_TEXT = st.sampled_from([None, "", "   ", "a\x00b", "\ud800", "x\u202ey", "\u200b",
                            "\u2066a", "x" * 2001, 7, 1.5])
BAD_REQUIRED = st.one_of(st.sampled_from([None, "", "0", "-1", "1.5", "1e3", "ten", 1.0,
                                          True, "\x00"]),
                         st.integers(max_value=0), st.integers(min_value=100_001))


@PROPERTY
@given(case=st.one_of(st.tuples(st.sampled_from(["name", "description"]), BAD_TEXT),
                      st.tuples(st.just("required_referrals"), BAD_REQUIRED)))
def test_bad_names_and_thresholds_name_the_field(engine, session_factory, case):
    field, bad = case
    values = _values("badge", "badge", "b")
    values[field] = bad
    with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
        referrals.create_reward(s, ACTOR, values)
    assert field in caught.value.field_errors
    assert _count(engine, "SELECT count(*) FROM referral_rewards") == 0


def test_required_referrals_below_one_is_refused():
    with pytest.raises(ValidationError) as caught:
        referrals.validate_reward(_values("badge", "required_referrals", 0))
    assert "required_referrals" in caught.value.field_errors


# -- codes -----------------------------------------------------------------------------------

def test_a_made_up_code_is_readable_and_searchable(engine, session_factory):
    zoe = insert_user(engine, "zoe@example.com", "Zoe Holder")
    with session_factory.begin() as s:
        row = referrals.create_code(s, ACTOR, zoe)
    assert row.code.startswith("ZOE") and len(row.code) == 8
    assert not set(row.code[3:]) & set("01OI")
    with session_factory() as s:
        by_code, _ = list_codes_page(s, CodeFilter(search=row.code[:4].lower()), None, 10)
        by_user, _ = list_codes_page(s, CodeFilter(search="zoe@"), None, 10)
    assert [r.id for r in by_code] == [row.id] == [r.id for r in by_user]
    assert _audits(engine, "referrals.code_create") == 1


def test_a_collision_is_drawn_again(engine, session_factory):
    taken = insert_user(engine, "t@example.com", "Max Taken")
    zoe = insert_user(engine, "zoe@example.com", "Max Second")
    rng = random.Random(1)
    first = referrals.readable_code("Max", random.Random(1))
    insert_code(engine, taken, first)
    with session_factory.begin() as s:
        row = referrals.create_code(s, ACTOR, zoe, rng=rng)
    assert row.code != first and row.code.startswith("MAX")


def test_a_typed_code_taken_or_malformed_names_the_code_field(engine, session_factory):
    a = insert_user(engine, "a@example.com", "A A")
    b = insert_user(engine, "b@example.com", "B B")
    insert_code(engine, a, "TAKEN1")
    for bad in ("TAKEN1", "lower", "AB", "=CMD", "A\u200bB12", "A B C D"):
        with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
            referrals.create_code(s, ACTOR, b, bad)
        assert "code" in caught.value.field_errors, bad
    assert _count(engine, "SELECT count(*) FROM referral_codes") == 1


def test_two_codes_for_one_user_at_once_give_one_code(engine, session_factory):
    zoe = insert_user(engine, "zoe@example.com", "Zoe Holder")
    results: list = []
    barrier = threading.Barrier(2)

    def make() -> None:
        barrier.wait()
        try:
            with session_factory.begin() as s:
                results.append(referrals.create_code(s, ACTOR, zoe))
        except ValidationError as exc:
            results.append(exc)

    threads = [threading.Thread(target=make) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, ValidationError) for r in results) == 1
    assert _count(engine, "SELECT count(*) FROM referral_codes") == 1


def test_deactivate_reactivate_and_expiry(engine, session_factory):
    import datetime as dt

    zoe = insert_user(engine, "zoe@example.com", "Zoe Holder")
    code_id = insert_code(engine, zoe, "ZOE22")
    with session_factory.begin() as s:
        assert referrals.set_code_active(s, ACTOR, code_id, False).is_active is False
        assert referrals.set_code_active(s, ACTOR, code_id, True).is_active is True
        when = dt.datetime(2030, 1, 1, 12, 0)
        assert referrals.set_code_expiry(s, ACTOR, code_id, when).expires_at == when
        assert referrals.set_code_expiry(s, ACTOR, code_id, None).expires_at is None
    with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
        referrals.set_code_expiry(s, ACTOR, code_id, "tomorrow")
    assert "expires_at" in caught.value.field_errors
    assert _audits(engine, "referrals.code_expiry") == 2


# -- qualify, void ---------------------------------------------------------------------------

def test_qualify_by_hand_moves_pending_on_with_the_reason_audited(engine, session_factory,
                                                                   program):
    with session_factory.begin() as s:
        referrals.qualify_referral(s, ACTOR, program["eve_ref"], "Paid by bank transfer")
    assert _count(engine, "SELECT count(*) FROM referrals WHERE status = 'qualified'") == 4
    assert _count(engine, "SELECT count(*) FROM admin.audit_log WHERE action = "
                          "'referrals.qualify' AND reason = 'Paid by bank transfer'") == 1
    with session_factory.begin() as s, pytest.raises(ConflictError, match="qualified already"):
        referrals.qualify_referral(s, ACTOR, program["eve_ref"], "again")


def test_qualify_without_a_reason_names_the_reason(session_factory, program):
    for bad in (None, "", "  ", "\u200b", "a\x00"):
        with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
            referrals.qualify_referral(s, ACTOR, program["eve_ref"], bad)
        assert "reason" in caught.value.field_errors


def test_void_is_recorded_in_admin_never_in_the_platform_status(engine, session_factory,
                                                                program):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO admin.referral_flags (referral_id, signal, reason) "
                          "VALUES (:r, 'ring', 'a ring')"), {"r": program["bob_ref"]})
    with session_factory.begin() as s:
        referrals.void_referral(s, ACTOR, program["bob_ref"], "Refunded purchase")
    assert _count(engine, "SELECT count(*) FROM referrals WHERE status NOT IN "
                          "('pending', 'qualified', 'rewarded')") == 0
    with session_factory() as s:
        voided, _ = list_referrals_page(s, ReferralFilter(status="voided"), None, 10)
        summary = get_referrer_summary(s, program["ann"])
    assert [r.id for r in voided] == [program["bob_ref"]]
    assert voided[0].state == "voided" and voided[0].void_reason == "Refunded purchase"
    assert summary.countable == 2  # Cid and Dee; Bob is out of every threshold
    assert _count(engine, "SELECT count(*) FROM admin.referral_flags WHERE outcome = 'voided' "
                          "AND review_note = 'Refunded purchase'") == 1  # out of the queue
    with session_factory.begin() as s, pytest.raises(ConflictError):
        referrals.qualify_referral(s, ACTOR, program["bob_ref"], "x")


# -- grants ----------------------------------------------------------------------------------

def test_grant_writes_the_claim_marks_the_counted_referrals_and_audits(engine, session_factory,
                                                                      program):
    rid = insert_reward(engine, "Free month", "premium_days", {"days": 30}, required=2)
    with session_factory.begin() as s:
        result = referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    assert set(result.referral_ids) == {program["bob_ref"], program["cid_ref"]}
    assert _count(engine, "SELECT count(*) FROM referrals WHERE status = 'rewarded' "
                          "AND reward_claimed") == 2
    assert _count(engine, "SELECT count(*) FROM user_referral_rewards WHERE applied_at IS "
                          "NULL") == 1  # premium days recorded, not applied
    assert _audits(engine, "referrals.grant") == 1
    with session_factory() as s:
        progress = {p.reward_id: p for p in get_referrer_summary(s, program["ann"]).progress}
    assert progress[rid].granted and progress[rid].note == "granted"


def test_grant_below_the_threshold_is_refused(engine, session_factory, program):
    rid = insert_reward(engine, "Big", "badge", {"badge": "x"}, required=4)
    with session_factory.begin() as s, pytest.raises(ConflictError, match="has 3 countable"):
        referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    assert _count(engine, "SELECT count(*) FROM user_referral_rewards") == 0


def test_a_flagged_referral_cannot_count_until_reviewed(engine, session_factory, program):
    rid = insert_reward(engine, "Three", "badge", {"badge": "x"}, required=3)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO admin.referral_flags (referral_id, signal, reason) "
                          "VALUES (:r, 'never_paid', 'never paid')"), {"r": program["dee_ref"]})
    with session_factory.begin() as s, pytest.raises(ConflictError, match="1 flagged"):
        referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    with session_factory.begin() as s:
        referrals.review_referral(s, ACTOR, program["dee_ref"], "cleared", "Paid in cash")
    with session_factory.begin() as s:
        referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    assert _count(engine, "SELECT count(*) FROM admin.referral_flags WHERE outcome = "
                          "'cleared' AND review_note = 'Paid in cash'") == 1


def test_the_same_request_twice_replays_and_another_is_refused(engine, session_factory,
                                                               program):
    rid = insert_reward(engine, "One", "badge", {"badge": "x"}, required=1)
    request = uuid.uuid4()
    with session_factory.begin() as s:
        first = referral_grants.grant_reward(s, ACTOR, program["ann"], rid, request)
    with session_factory.begin() as s:
        again = referral_grants.grant_reward(s, ACTOR, program["ann"], rid, request)
    assert again.replayed and again.grant_id == first.grant_id
    with session_factory.begin() as s, pytest.raises(ConflictError, match="already granted"):
        referral_grants.grant_reward(s, ACTOR, program["ann"], rid, uuid.uuid4())
    assert _count(engine, "SELECT count(*) FROM user_referral_rewards") == 1


def test_two_threads_grant_the_same_credit_reward_at_once_one_grant_one_ledger_row(
        engine, session_factory, program):
    rid = insert_reward(engine, "Tokens", "credits", {"credits": 5}, required=2)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def grant() -> None:
        barrier.wait()
        try:
            with session_factory.begin() as s:
                outcomes.append(referral_grants.grant_reward(s, ACTOR, program["ann"], rid,
                                                             uuid.uuid4()))
        except ConflictError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=grant) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["ConflictError", "GrantResult"]
    assert _count(engine, "SELECT count(*) FROM admin.referral_grants") == 1
    assert _count(engine, "SELECT count(*) FROM user_referral_rewards") == 1
    assert _count(engine, "SELECT count(*) FROM credit_transactions WHERE customer_id = :u",
                  u=program["ann"]) == 1
    assert _count(engine, "SELECT current_balance FROM credit_balances WHERE customer_id = :u",
                  u=program["ann"]) == 5


def test_the_database_refuses_a_second_grant_row_for_the_same_key(engine, program):
    """The once-only rule holds without the service: the unique index refuses the row."""
    rid = insert_reward(engine, "One", "badge", {"badge": "x"})
    with engine.begin() as conn:
        claim = conn.execute(text("INSERT INTO user_referral_rewards (user_id, reward_id) "
                                  "VALUES (:u, :w) RETURNING id"),
                             {"u": program["ann"], "w": rid}).scalar_one()
        row = {"u": program["ann"], "w": rid, "c": claim}
        conn.execute(text("INSERT INTO admin.referral_grants (request_id, referrer_id, "
                          "reward_id, threshold, user_reward_id, referral_ids) VALUES "
                          "(gen_random_uuid(), :u, :w, 1, :c, '{}')"), row)
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="ix_referral_grants_once"), engine.begin() as conn:
        conn.execute(text("INSERT INTO admin.referral_grants (request_id, referrer_id, "
                          "reward_id, threshold, user_reward_id, referral_ids) VALUES "
                          "(gen_random_uuid(), :u, :w, 1, :c, '{}')"), row)


BAD_CODES = st.one_of(
    st.sampled_from(["ab12", "A B1", "=CMD1", "AB\x00CD", "AB\u200bCD", "\u202eABCD", "ABC",
                     "-ABCD", "ABCD-", "A" * 33, "ÄBCD", "1.5e3", "\ud800ABC"]),
    st.text(min_size=1, max_size=40).filter(
        lambda t: t.strip() and not referrals.CODE_PATTERN.fullmatch(t.strip())),
    st.integers(), st.floats(), st.booleans(),
)


@PROPERTY
@given(code=BAD_CODES)
def test_bad_codes_name_the_code_field_and_write_nothing(engine, session_factory, code):
    holder = _count(engine, "SELECT count(*) FROM users")
    if holder == 0:
        insert_user(engine, "zoe@example.com", "Zoe Holder")
    with engine.connect() as conn:
        zoe = conn.execute(text("SELECT id FROM users LIMIT 1")).scalar_one()
    with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
        referrals.create_code(s, ACTOR, zoe, code)
    assert "code" in caught.value.field_errors
    assert _count(engine, "SELECT count(*) FROM referral_codes") == 0


@PROPERTY
@given(user=st.one_of(st.none(), st.text(max_size=10), st.integers(), st.just(uuid.uuid4())),
       expires=st.one_of(st.just("tomorrow"), st.integers(), st.dates(),
                         st.just(dt.datetime(1900, 1, 1))))
def test_bad_holders_and_expiries_name_their_field(engine, session_factory, user, expires):
    with session_factory.begin() as s, pytest.raises(ValidationError) as caught:
        referrals.create_code(s, ACTOR, user, None, expires)
    assert {"user_id", "expires_at"} & set(caught.value.field_errors)
    assert _count(engine, "SELECT count(*) FROM referral_codes") == 0
