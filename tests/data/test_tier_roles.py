"""Staff roles on the tiers and subscriptions (``db roles``), with real logins: an owner
edits tiers, changes prices (history rows) and deletes an unused tier; support changes a
subscription through Stripe but not a tier; each record names the login."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from data.payments.subscriptions import create_subscription
from data.queries.tiers import get_tier
from data.roles import OWNER_GROUP, SUPPORT_GROUP
from data.services import subscriptions as subscription_service
from data.services import tiers as tier_service
from tests.data.factories import insert_user
from tests.data.test_roles import _in_session, _refused, login, staffed_db  # noqa: F401
from tests.data.tier_factories import add_subscription, add_tier

# What the services record; rows on the app's own tables (``admin.…``, written by their
# triggers, tests/data/test_audit_table_triggers.py) are left out.
SERVICE_AUDIT = ("SELECT actor, action FROM admin.audit_log "
                 "WHERE entity_type NOT LIKE 'admin.%'")


def test_owner_manages_tiers_and_their_price_history(engine, login):  # noqa: F811
    name, owner = login(OWNER_GROUP)
    with owner.begin() as s:
        tier = tier_service.create_tier(s, "x", {"name": "Gold", "price_monthly": "10"})
    with owner.begin() as s:
        tier_service.update_tier(s, "x", tier.id, get_tier(s, tier.id).version,
                                 {"price_monthly": "12"})
    with owner.begin() as s:
        tier_service.delete_tier(s, "x", tier.id, get_tier(s, tier.id).version)
    with engine.connect() as conn:
        assert conn.execute(text(SERVICE_AUDIT + " ORDER BY id")).all() == [(name, "subscription_tier.create"),
                                        (name, "subscription_tier.update"),
                                        (name, "subscription_tier.delete")]


def test_support_changes_a_subscription_but_not_a_tier(engine, login, stripe_gateway):  # noqa: F811
    name, support = login(SUPPORT_GROUP)
    email = f"r{uuid.uuid4().hex[:8]}@example.com"
    real = create_subscription(stripe_gateway, email, 900, "month")
    tier = add_tier(engine, "Gold")
    sub = add_subscription(engine, insert_user(engine, email, "R"), tier, stripe_id=real.id)
    result = subscription_service.change_subscription(support, stripe_gateway, "x",
                                                      uuid.uuid4(), sub, "cancel_now")
    assert result.subscription.status == "canceled"
    _refused(_in_session(support, lambda s: tier_service.update_tier(
        s, "x", tier, get_tier(s, tier).version, {"price_monthly": "1"})))
    with engine.connect() as conn:
        assert conn.execute(text(SERVICE_AUDIT)).one() == (
            name, "subscription.cancel_now")
        assert conn.execute(text("SELECT actor FROM admin.subscription_requests")
                            ).scalar_one() == name
