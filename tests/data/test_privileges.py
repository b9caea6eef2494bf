"""What each login may do, as PostgreSQL answers it (``data.privileges``), with a real login
in each staff group on the embedded server, and a full-rights login before ``db roles``."""

from __future__ import annotations

from data.privileges import CAPABILITIES, read_privileges
from data.roles import FOUNDER_GROUP, OWNER_GROUP, SUPPORT_GROUP
from tests.data import test_roles

login, staffed_db = test_roles.login, test_roles.staffed_db  # the same fixtures

EVERYTHING = {c.name for c in CAPABILITIES}


def _privileges(factory):
    with factory() as s:
        return read_privileges(s)


def test_without_db_roles_a_full_rights_login_may_do_everything(session_factory):
    p = _privileges(session_factory)
    assert p.allowed == EVERYTHING and p.refusals() == {}
    assert not p.roles_set_up
    assert p.role_text == "No staff roles are set up (run “platform-admin db roles --apply”)"


def test_support_may_fix_profiles_adjust_tokens_and_refund_not_edit_the_catalog(login):
    name, support = login(SUPPORT_GROUP)
    p = _privileges(support)
    assert (p.login, p.groups, p.roles_set_up) == (name, (SUPPORT_GROUP,), True)
    assert p.allowed == {"edit_profile", "adjust_tokens", "period_credits", "subscriptions",
                         "refund", "content_access", "bookings", "referral_codes",
                         "referrals"}
    assert p.refusal("edit_catalog") == ("Your database login may not change the content "
                                         "catalog: members of platform_admin_owner may.")
    assert p.role_text == "Role: support"


def test_owner_may_edit_the_catalog_not_move_tokens(login):
    _name, owner = login(OWNER_GROUP)
    p = _privileges(owner)
    assert p.allowed == {"edit_catalog", "featured", "edit_tiers", "edit_offerings",
                         "edit_rewards", "referral_codes"}
    assert p.refusal("adjust_tokens") == ("Your database login may not adjust token "
                                          "balances: members of platform_admin_support may.")


def test_a_founder_may_only_read(login):
    _name, founder = login(FOUNDER_GROUP)
    p = _privileges(founder)
    assert p.allowed == frozenset() and set(p.refusals()) == EVERYTHING
    assert p.role_text == "Role: founder"
    assert "no staff group may" in p.refusal("manage_users")


def test_the_superuser_after_db_roles_is_in_no_group_and_may_everything(staffed_db):
    from data.db import make_engine, make_session_factory
    engine = make_engine(staffed_db)
    try:
        p = _privileges(make_session_factory(engine))
    finally:
        engine.dispose()
    assert p.roles_set_up and p.groups == () and p.allowed == EVERYTHING
    assert p.role_text == "Role: none of the staff groups"
