"""Editing users: audit in the same transaction, no lost update, clear validation."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, ValidationError
from data.queries.users import get_profile
from data.services import users as user_service
from tests.data.factories import insert_user

ACTOR = "support_anna"
SESSION_USER = "postgres"  # the test login: audit rows name it, whatever actor is passed


@pytest.fixture
def carl(engine):
    insert_user(engine, "taken@example.com", "Tina Taken")
    return insert_user(engine, "carl@example.com", "Carl Customer", verified=False)


def _audit(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT actor, action, entity_id, old_values, new_values FROM admin.audit_log "
            "ORDER BY id")).all()


def test_update_writes_change_and_audit_together(session_factory, engine, carl):
    with session_factory.begin() as s:
        version = get_profile(s, carl).version
    with session_factory.begin() as s:
        saved = user_service.update_profile(
            s, ACTOR, carl, version, {"full_name": "Carl C. Customer", "role": "media_owner",
                                      "email": "carl@example.com"})
    assert saved.full_name == "Carl C. Customer" and saved.version != version
    [(actor, action, entity, old, new)] = _audit(engine)
    assert (actor, action, entity) == (SESSION_USER, "user.update", str(carl))
    assert old == {"full_name": "Carl Customer", "role": "customer"}
    assert new == {"full_name": "Carl C. Customer", "role": "media_owner"}


def test_second_of_two_concurrent_saves_is_refused(session_factory, engine, carl):
    with session_factory() as s1, session_factory() as s2:
        v1 = get_profile(s1, carl).version
        v2 = get_profile(s2, carl).version
        s1.rollback()
        s2.rollback()
    with session_factory.begin() as s:
        user_service.update_profile(s, "first", carl, v1, {"full_name": "First Edit"})
    with pytest.raises(ConflictError) as exc, session_factory.begin() as s:
        user_service.update_profile(s, "second", carl, v2, {"full_name": "Second Edit"})
    assert exc.value.current.full_name == "First Edit"
    with session_factory() as s:
        assert get_profile(s, carl).full_name == "First Edit"
    assert [(a[0], a[4]) for a in _audit(engine)] == [(SESSION_USER, {"full_name": "First Edit"})]


def test_change_by_the_platform_is_not_overwritten(session_factory, engine, carl):
    with session_factory() as s:
        version = get_profile(s, carl).version
    with engine.begin() as conn:  # the platform's web app, writing directly
        conn.execute(text("UPDATE users SET bio = 'from web' WHERE id = :id"), {"id": carl})
    with pytest.raises(ConflictError) as exc, session_factory.begin() as s:
        user_service.update_profile(s, ACTOR, carl, version, {"bio": "from admin"})
    assert exc.value.current.bio == "from web"


def test_duplicate_email_is_refused_case_insensitively(session_factory, engine, carl):
    with session_factory() as s:
        version = get_profile(s, carl).version
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        user_service.update_profile(s, ACTOR, carl, version, {"email": "TAKEN@example.com"})
    assert "already used" in exc.value.field_errors["email"]
    assert _audit(engine) == []


def test_soft_delete_restore_and_verify_are_audited(session_factory, engine, carl):
    with session_factory.begin() as s:
        p = user_service.soft_delete_user(s, ACTOR, carl, get_profile(s, carl).version)
        assert p.deleted_at is not None
    with session_factory.begin() as s:
        p = user_service.restore_user(s, ACTOR, carl, p.version)
        assert p.deleted_at is None
    with session_factory.begin() as s:
        p = user_service.mark_email_verified(s, ACTOR, carl, p.version)
    audit = _audit(engine)
    assert [a[1] for a in audit] == ["user.soft_delete", "user.restore", "user.verify_email"]
    deleted_at = audit[0][4]["deleted_at"]
    assert audit[0][3] == {"deleted_at": None} and deleted_at.startswith("20")
    assert audit[1][3] == {"deleted_at": deleted_at} and audit[1][4] == {"deleted_at": None}
    assert audit[2][4]["email_verified_at"] == p.email_verified_at.isoformat()


bad_emails = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + ".", min_size=1, max_size=40),
    st.just("no-at-sign.example.com"),
    st.just("two@@example.com"),
    st.just("space in@example.com"),
    st.just("user@nodot"),
    st.builds(lambda n: "a" * n + "@example.com", st.integers(244, 400)),
)
bad_input = st.one_of(
    st.fixed_dictionaries({"email": bad_emails}),
    st.fixed_dictionaries({"role": st.text(max_size=20).filter(
        lambda r: r.strip() not in ("platform_creator", "platform_owner", "media_owner",
                                    "customer"))}),
    st.fixed_dictionaries({"full_name": st.one_of(
        st.just("   "), st.text(min_size=256, max_size=300).filter(lambda t: len(t.strip()) > 255))}),
    st.fixed_dictionaries({"profile_image_url": st.sampled_from(
        ["ftp://x.org/a.png", "not a url", "javascript:alert(1)"])}),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=bad_input)
def test_bad_input_names_the_field_and_changes_nothing(session_factory, engine, carl, changes):
    with engine.connect() as conn:
        before = conn.execute(text("SELECT u.*, u.xmin::text FROM users u ORDER BY id")).all()
    with session_factory() as s:
        version = get_profile(s, carl).version
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        user_service.update_profile(s, ACTOR, carl, version, changes)
    [field] = changes
    assert field in exc.value.field_errors and exc.value.field_errors[field]
    with engine.connect() as conn:
        after = conn.execute(text("SELECT u.*, u.xmin::text FROM users u ORDER BY id")).all()
    assert after == before
    assert _audit(engine) == []
