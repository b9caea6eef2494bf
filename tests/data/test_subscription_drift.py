"""``subscriptions check`` against a real localstripe: each difference listed (status,
current period end, cancel at period end, unknown to Stripe, a status the schema cannot
store), nothing written, exit 1 on any and 0 when all agree."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from data.payments.subscriptions import create_subscription, set_cancel_at_period_end
from data.services.subscriptions import check_drift
from desktop.cli import main as cli_main
from tests.data.factories import insert_user
from tests.data.test_migrations import _libpq
from tests.data.tier_factories import add_subscription, add_tier


def _backed(engine, gateway, tier, **kw):
    email = f"d{uuid.uuid4().hex[:8]}@example.com"
    real = create_subscription(gateway, email, 1000, "month")
    sub = add_subscription(engine, insert_user(engine, email, "D"), tier, stripe_id=real.id,
                           **kw)
    with engine.begin() as conn:  # in step with Stripe's period
        conn.execute(text("UPDATE subscriptions SET current_period_end = :e WHERE id = :id"),
                     {"e": real.current_period_end, "id": sub})
    return sub, real


def _all_rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM subscriptions ORDER BY id")).all()


def test_check_lists_each_difference_and_writes_nothing(engine, db_url, session_factory,
                                                        stripe_gateway, localstripe,
                                                        monkeypatch, capsys):
    tier = add_tier(engine, "Gold")
    _backed(engine, stripe_gateway, tier)  # in step
    monkeypatch.setenv("PLATFORM_ADMIN_STRIPE_SECRET_KEY", localstripe.config().api_key)
    args = ["subscriptions", "check", "--database-url", _libpq(db_url),
            "--stripe-api-base", localstripe.api_base]
    assert cli_main(args) == 0
    assert "agrees with Stripe" in capsys.readouterr().out

    _, cape = _backed(engine, stripe_gateway, tier)
    set_cancel_at_period_end(stripe_gateway, cape.id, True, idempotency_key=str(uuid.uuid4()))
    past_due, _ = _backed(engine, stripe_gateway, tier, status="past_due")  # Stripe: active
    add_subscription(engine, insert_user(engine, "ghost@example.com", "G"), tier,
                     stripe_id="sub_unknown_to_stripe")
    email = f"t{uuid.uuid4().hex[:8]}@example.com"
    trial = stripe_gateway._client.v1.subscriptions.create(params={  # localstripe: incomplete
        "customer": stripe_gateway._client.v1.customers.create(params={"email": email}).id,
        "items": [{"plan": stripe_gateway._client.v1.plans.create(params={
            "amount": 500, "currency": "usd", "interval": "month",
            "product": stripe_gateway._client.v1.products.create(params={"name": "T"}).id}).id}],
        "trial_period_days": 14})
    add_subscription(engine, insert_user(engine, email, "T"), tier, status="trialing",
                     stripe_id=trial.id)
    before = _all_rows(engine)

    with session_factory() as s:
        drifts = check_drift(s, stripe_gateway)
    found = {(d.stripe_subscription_id, d.field): d for d in drifts}
    assert (cape.id, "cancel_at_period_end") in found
    assert found[("sub_unknown_to_stripe", "missing")]
    assert any(d.subscription_id == past_due and d.field == "status"
               and (d.ours, d.stripes) == ("past_due", "active") for d in drifts)
    unstorable = found[(trial.id, "status")]
    assert unstorable.stripes == "incomplete" and "cannot store" in unstorable.note
    assert _all_rows(engine) == before  # shown, never written

    assert cli_main(args) == 1
    out = capsys.readouterr().out
    assert "Stripe does not know this subscription" in out and "incomplete" in out
    assert _all_rows(engine) == before
