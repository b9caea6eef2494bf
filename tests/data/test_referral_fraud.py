"""Fraud signals: each found on a planted case, none on a clean referral; and the
referral counters' consistency check and correction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from data.services import referral_fraud
from data.services.referral_fraud import count_mismatches, find_signals, normalised_email
from tests.data.factories import BASE_TIME, insert_user
from tests.data.referral_factories import (
    insert_code,
    insert_paid_purchase_row,
    insert_referral,
)

ACTOR = "support_sam"


@pytest.fixture
def clean(engine):
    """Ann (code ANNA1, made 2025-01-01) referred Bob, who signed up after it and paid."""
    creator = insert_user(engine, "cora@example.com", "Cora Creator", role="platform_creator")
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    insert_code(engine, ann, "ANNA1")
    bob = insert_user(engine, "bob@example.com", "Bob Friend",
                      created_at=BASE_TIME + dt.timedelta(days=2))
    ref = insert_referral(engine, ann, bob, "ANNA1", status="qualified",
                          at=BASE_TIME + dt.timedelta(days=2))
    insert_paid_purchase_row(engine, bob, creator)
    return {"creator": creator, "ann": ann, "bob": bob, "ref": ref}


def _signals(session_factory, **kw) -> dict[int, set[str]]:
    with session_factory() as s:
        found: dict[int, set[str]] = {}
        for sig in find_signals(s, **kw):
            found.setdefault(sig.referral_id, set()).add(sig.signal)
        return found


def _later(days: float) -> dt.datetime:
    return BASE_TIME + dt.timedelta(days=days)


def test_email_normalisation():
    assert normalised_email("J.Doe+promo@GoogleMail.com") == "jdoe@gmail.com"
    assert normalised_email("j.doe+x@example.com") == "j.doe@example.com"
    assert normalised_email(" Ann@Example.com ") == "ann@example.com"


def test_a_clean_referral_raises_no_signal(session_factory, clean):
    assert _signals(session_factory) == {}


def test_each_planted_signal_is_found_with_its_reason(engine, session_factory, clean):
    paid = clean["creator"]

    def user(email, name, days=3.0, pays=True):
        u = insert_user(engine, email, name, created_at=_later(days))
        if pays:
            insert_paid_purchase_row(engine, u, paid)
        return u

    # self-referral by the same user
    sam = user("sam@example.com", "Sam Self")
    insert_code(engine, sam, "SAM01")
    self_user = insert_referral(engine, sam, sam, "SAM01", at=_later(4))
    # the same email once normalised (Gmail dots and +tag)
    gia = user("gia.rossi@gmail.com", "Gia Rossi")
    insert_code(engine, gia, "GIA01")
    self_email = insert_referral(engine, gia, user("giarossi+2@googlemail.com", "Other Person"),
                                 "GIA01", at=_later(4))
    # the same full name
    self_name = insert_referral(engine, gia, user("x1@example.com", "gia  ROSSI"), "GIA01",
                                at=_later(4.1))
    # the referred account is older than the code
    kai = user("kai@example.com", "Kai Holder")
    insert_code(engine, kai, "KAI01", created_at=_later(10))
    older = insert_referral(engine, kai, user("old@example.com", "Old Account", days=1),
                            "KAI01", at=_later(11))
    # a ring: A refers B, B refers A
    ring_a, ring_b = user("ra@example.com", "Ring A"), user("rb@example.com", "Ring B")
    insert_code(engine, ring_a, "RINGA")
    insert_code(engine, ring_b, "RINGB")
    ring1 = insert_referral(engine, ring_a, ring_b, "RINGA", at=_later(5))
    ring2 = insert_referral(engine, ring_b, ring_a, "RINGB", at=_later(5.5))
    # a burst: 4 referrals on one code within 24 hours (limit 3), one more a week later
    bea = user("bea@example.com", "Bea Burst")
    insert_code(engine, bea, "BEA01")
    burst = [insert_referral(engine, bea, user(f"b{i}@example.com", f"Burst {i}"), "BEA01",
                             at=_later(6 + i / 10)) for i in range(4)]
    calm = insert_referral(engine, bea, user("calm@example.com", "Calm One"), "BEA01",
                           at=_later(14))
    # a qualified referral whose referred user never paid
    never = insert_referral(engine, clean["ann"], user("np@example.com", "Never Paid",
                                                       pays=False), "ANNA1", at=_later(7))
    pending = insert_referral(engine, clean["ann"], user("pe@example.com", "Pending Newbie",
                                                         pays=False), "ANNA1", at=_later(7),
                              status="pending")

    found = _signals(session_factory, burst_limit=3)
    assert "self_user" in found[self_user]
    assert found[self_email] == {"self_email"}
    assert found[self_name] == {"self_name"}
    assert found[older] == {"older_account"}
    assert found[ring1] == found[ring2] == {"ring"}
    assert all(found[r] == {"burst"} for r in burst)
    assert found[never] == {"never_paid"}
    for quiet in (clean["ref"], calm, pending):
        assert quiet not in found

    with session_factory.begin() as s:
        added = referral_fraud.scan(s, ACTOR, burst_limit=3)
    assert added["burst"] == 4 and added["ring"] == 2
    with session_factory.begin() as s:
        assert referral_fraud.scan(s, ACTOR, burst_limit=3) == {}  # nothing new
    with engine.connect() as conn:
        reason = conn.execute(text("SELECT reason FROM admin.referral_flags WHERE "
                                   "referral_id = :r"), {"r": self_email}).scalar_one()
    assert "gia.rossi@gmail.com" in reason and "giarossi+2@googlemail.com" in reason


def test_a_voided_referral_is_not_flagged(engine, session_factory, clean):
    from data.services import referrals

    sam = insert_user(engine, "sam@example.com", "Sam Self")
    insert_code(engine, sam, "SAM01")
    ref = insert_referral(engine, sam, sam, "SAM01")
    with session_factory.begin() as s:
        referrals.void_referral(s, ACTOR, ref, "Fraud")
    assert ref not in _signals(session_factory)


# -- consistency -----------------------------------------------------------------------------

def test_counts_that_agree_have_no_mismatch(session_factory, clean):
    with session_factory() as s:
        assert count_mismatches(s) == []


def test_a_planted_mismatch_is_named_by_email_and_corrected_with_an_audit(engine,
                                                                         session_factory,
                                                                         clean):
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET referral_count = 5 WHERE id = :u"),
                     {"u": clean["ann"]})
        conn.execute(text("UPDATE users SET was_referred = false, referred_by = NULL "
                          "WHERE id = :u"), {"u": clean["bob"]})
    with session_factory() as s:
        found = count_mismatches(s)
    assert [m.email for m in found] == ["ann@example.com", "bob@example.com"]
    assert "referral_count 5 but 1" in found[0].describe()
    with session_factory.begin() as s:
        assert referral_fraud.correct_counts(s, ACTOR) == 2
    with session_factory() as s:
        assert count_mismatches(s) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log WHERE action = "
                                 "'referrals.correct_counts'")).scalar_one() == 2


def test_the_demo_data_plants_every_signal_and_keeps_the_counters_right(demo_session_factory):
    with demo_session_factory() as s:
        signals = {sig.signal for sig in find_signals(s)}
        assert count_mismatches(s) == []
    assert signals == {"self_user", "self_email", "self_name", "older_account", "ring",
                       "burst", "never_paid"}
