"""Secrets never reach the audit table: the audit trigger redacts them before it stores and
hashes the row, whatever wrote it (the app, a definer function, psql as a superuser). The key
stays, so who changed a password and when is still on record. Real embedded PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text

from data.audit_chain import verify_chain
from data.queries.audit import REDACTED, field_changes, is_redacted
from data.services.audit import record_change

CHANGED = "(hidden, changed)"
SECRETS = ("s3cret-hash", "tok-123", "sk_live_9", "whsec_1", "hunter2")


def _stored(engine) -> list[tuple[dict | None, dict | None]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT old_values, new_values FROM admin.audit_log ORDER BY id"))]


def _nowhere(engine) -> bool:
    """No secret appears anywhere in the audit table's text."""
    with engine.connect() as conn:
        dump = conn.execute(text(
            "SELECT string_agg(a::text, ' ') FROM admin.audit_log a")).scalar() or ""
    return not any(s in dump for s in SECRETS)


def test_a_change_with_secret_fields_leaves_no_secret_in_the_audit_table(
        engine, session_factory):
    with session_factory.begin() as s:
        record_change(s, actor="x", action="users.update", entity_type="user",
                      entity_id="u1",
                      old_values={"full_name": "Ann", "password_hash": "s3cret-hash"},
                      new_values={"full_name": "Anna", "password_hash": "hunter2",
                                  "reset_token": "tok-123", "tokens": 5,
                                  "settings": {"stripe_api_key": "sk_live_9",
                                               "hooks": [{"webhook_secret": "whsec_1"}]}},
                      reason="Reset")
    [(old, new)] = _stored(engine)
    assert _nowhere(engine)
    assert old == {"full_name": "Ann", "password_hash": REDACTED}
    assert new == {"full_name": "Anna", "password_hash": CHANGED, "reset_token": CHANGED,
                   "tokens": 5, "settings": {"stripe_api_key": CHANGED,
                                             "hooks": [{"webhook_secret": CHANGED}]}}
    changed = {c.field: (c.old, c.new) for c in field_changes(old, new)}
    assert changed["password_hash"] == (REDACTED, REDACTED)  # shown as changed, not what to
    assert changed["reset_token"] == (None, REDACTED)
    with session_factory() as s:
        assert verify_chain(s).intact  # hashed as stored, after redaction


def test_an_unchanged_secret_is_not_shown_as_changed(engine):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values, "
            "new_values) VALUES ('x', 'users.update', 'user', 'u3', "
            "'{\"full_name\": \"A\", \"password_hash\": \"hunter2\"}', "
            "'{\"full_name\": \"B\", \"password_hash\": \"hunter2\"}')"))
    [(old, new)] = _stored(engine)
    assert old["password_hash"] == new["password_hash"] == REDACTED and _nowhere(engine)
    assert [c.field for c in field_changes(old, new)] == ["full_name"]


def test_a_direct_insert_by_a_superuser_is_redacted_too(engine, session_factory):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, new_values) "
            "VALUES ('x', 'users.update', 'user', 'u2', "
            "'{\"password\": \"hunter2\", \"client_secret\": \"whsec_1\"}')"))
    [(_old, new)] = _stored(engine)
    assert new == {"password": CHANGED, "client_secret": CHANGED} and _nowhere(engine)
    with session_factory() as s:
        assert verify_chain(s).intact


def test_the_database_and_the_audit_views_hide_the_same_fields(engine):
    names = ["password_hash", "Password", "token", "api_key", "secret", "client_secret",
             "refresh_token", "stripe_webhook_secret", "signing_key", "tokens", "full_name",
             "email", "key_count", "hashtag", "token_count", "monthly_credits"]
    with engine.connect() as conn:
        hidden = conn.execute(text("SELECT admin.audit_redact(CAST(:v AS jsonb))"),
                              {"v": "{" + ", ".join(f'"{n}": 1' for n in names) + "}"}
                              ).scalar()
    assert {n for n in names if hidden[n] == REDACTED} == {n for n in names if is_redacted(n)}
