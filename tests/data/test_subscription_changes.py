"""Cancel at period end, resume and cancel now through Stripe's subscription API on a real
localstripe: the row follows Stripe's answer, exactly once under a double click, a retry and
two staff at once, and finished on the next start when the app died after Stripe answered."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import text

from data.errors import ConflictError, DomainError
from data.payments.subscriptions import create_subscription, retrieve_subscription
from data.services import subscriptions as service
from tests.data.factories import insert_user
from tests.data.tier_factories import add_subscription, add_tier

ACTOR = "support_sam"


@pytest.fixture
def real_subscription(engine, stripe_gateway):
    """A subscriptions row backed by a real localstripe subscription."""
    def make(status="active"):
        email = f"s{uuid.uuid4().hex[:8]}@example.com"
        customer = insert_user(engine, email, "Sub Scriber")
        tier = add_tier(engine, f"Tier {uuid.uuid4().hex[:6]}")
        stripe_sub = create_subscription(stripe_gateway, email, 1000, "month")
        return add_subscription(engine, customer, tier, status=status, stripe_id=stripe_sub.id)
    return make


def _row(engine, sub_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM subscriptions WHERE id = :id"),
                            {"id": sub_id}).one()


def _audits(engine, sub_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT action FROM admin.audit_log WHERE entity_id = :id"),
                            {"id": str(sub_id)}).scalars().all()


def test_cancel_at_period_end_then_resume_follow_stripe(engine, session_factory,
                                                        stripe_gateway, real_subscription):
    sub = real_subscription()
    stripe_id = _row(engine, sub).stripe_subscription_id
    result = service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(),
                                         sub, "cancel_at_period_end")
    assert result.status == "succeeded" and result.subscription.cancel_at_period_end
    assert retrieve_subscription(stripe_gateway, stripe_id).cancel_at_period_end
    row = _row(engine, sub)
    assert row.cancel_at_period_end and row.status == "active"
    # the period end is Stripe's (localstripe's), not the one the test inserted
    assert row.current_period_end == retrieve_subscription(stripe_gateway,
                                                           stripe_id).current_period_end
    service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                                "resume")
    assert not _row(engine, sub).cancel_at_period_end
    assert not retrieve_subscription(stripe_gateway, stripe_id).cancel_at_period_end
    assert _audits(engine, sub) == ["subscription.cancel_at_period_end", "subscription.resume"]


def test_cancel_now_and_refusals(engine, session_factory, stripe_gateway, real_subscription):
    sub = real_subscription()
    with pytest.raises(DomainError, match="nothing to resume"):
        service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                                    "resume")
    service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                                "cancel_now")
    row = _row(engine, sub)
    assert row.status == "canceled" and row.canceled_at is not None
    with pytest.raises(DomainError, match="already canceled"):
        service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                                    "cancel_at_period_end")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.subscription_requests "
                                 "WHERE status = 'succeeded'")).scalar_one() == 1


def test_double_click_and_retry_apply_once(engine, session_factory, stripe_gateway,
                                           real_subscription):
    sub = real_subscription()
    request_id = uuid.uuid4()
    first = service.change_subscription(session_factory, stripe_gateway, ACTOR, request_id,
                                        sub, "cancel_now")
    again = service.change_subscription(session_factory, stripe_gateway, ACTOR, request_id,
                                        sub, "cancel_now")
    assert not first.replayed and again.replayed and again.status == "succeeded"
    assert _audits(engine, sub) == ["subscription.cancel_now"]


def test_two_staff_at_once_one_change(engine, session_factory, stripe_gateway,
                                      real_subscription):
    sub = real_subscription()
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def staff():
        start.wait()
        try:
            outcomes.append(service.change_subscription(
                session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                "cancel_at_period_end"))
        except (ConflictError, DomainError) as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=staff) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(isinstance(o, service.ChangeResult) for o in outcomes) == 1
    assert sum(isinstance(o, DomainError) for o in outcomes) == 1
    assert _audits(engine, sub) == ["subscription.cancel_at_period_end"]


def test_app_killed_after_stripe_answered_a_cancel_is_finished_on_next_start(
        engine, session_factory, stripe_gateway, real_subscription):
    sub = real_subscription()
    request_id = uuid.uuid4()
    # The app's steps up to Stripe's answer, then it dies: nothing written after the call.
    with session_factory.begin() as s:
        req = service.open_request(s, ACTOR, request_id, sub, "cancel_now")
    answered = service.call_stripe(stripe_gateway, req)
    assert answered.status == "canceled"
    assert _row(engine, sub).status == "active"  # the database does not know yet

    done, still_open = service.recover_subscription_requests(session_factory, stripe_gateway,
                                                             ACTOR)
    assert [r.request_id for r in done] == [request_id] and still_open == []
    assert _row(engine, sub).status == "canceled"
    assert service.recover_subscription_requests(session_factory, stripe_gateway,
                                                 ACTOR) == ([], [])
    assert _audits(engine, sub) == ["subscription.cancel_now"]


def test_unknown_stripe_subscription_fails_the_request_and_changes_nothing(
        engine, session_factory, stripe_gateway):
    customer = insert_user(engine, "ghost@example.com", "Ghost")
    tier = add_tier(engine, "Ghost tier")
    sub = add_subscription(engine, customer, tier, stripe_id="sub_not_at_stripe")
    before = _row(engine, sub)
    with pytest.raises(DomainError):
        service.change_subscription(session_factory, stripe_gateway, ACTOR, uuid.uuid4(), sub,
                                    "cancel_now")
    assert _row(engine, sub) == before
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM admin.subscription_requests")
                            ).scalar_one() == "failed"
