"""The audit trail's read side (Audit page, History tab) on the embedded PostgreSQL, with
rows written through the app's own path (``record_change`` → the chaining trigger)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from data.queries.audit import (
    REDACTED,
    AuditFilter,
    audit_choices,
    count_audit,
    field_changes,
    iter_audit,
    list_audit_page,
    list_record_history,
)
from data.services.audit import record_change


def _write(session_factory, *rows):
    for action, entity_type, entity_id, old, new, reason in rows:
        with session_factory.begin() as s:
            record_change(s, actor="ignored", action=action, entity_type=entity_type,
                          entity_id=entity_id, old_values=old, new_values=new, reason=reason)


ROWS = (
    ("user.update", "user", "u1", {"full_name": "Ann", "email": "a@x.io"},
     {"full_name": "Anna", "email": "a@x.io"}, None),
    ("credits.adjust", "credit_balance", "u1", {"current_balance": 0},
     {"current_balance": 25, "request_id": "r1"}, "Goodwill after outage"),
    ("content.update", "content", "c1", {"title": "Old"}, {"title": "New title"}, None),
    ("user.update", "user", "u2", {"password_hash": "abc"}, {"password_hash": "def"}, None),
    ("user.update", "user", "u1", {"bio": None}, {"bio": "Hello 100% _real_"}, None),
)


def test_newest_first_keyset_pages_walk_the_whole_trail_once(session_factory):
    _write(session_factory, *ROWS)
    with session_factory() as s:
        first, cursor = list_audit_page(s, AuditFilter(), None, 2)
        second, cursor2 = list_audit_page(s, AuditFilter(), cursor, 2)
        third, end = list_audit_page(s, AuditFilter(), cursor2, 2)
        every = [r for batch in iter_audit(s, AuditFilter(), batch=2) for r in batch]
    ids = [r.id for r in first + second + third]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 5 and end is None
    assert [r.id for r in every] == ids
    assert first[0].action == "user.update" and first[0].new_values == {"bio": "Hello 100% _real_"}
    assert first[0].actor == "postgres"  # the session user, not what the caller said


def test_each_filter_narrows_the_list_and_the_count_is_exact(session_factory):
    _write(session_factory, *ROWS)

    def shown(**f):
        with session_factory() as s:
            rows, _ = list_audit_page(s, AuditFilter(**f), None, 50)
            count = count_audit(s, AuditFilter(**f))
        assert count.exact and count.value == len(rows)
        return [(r.action, r.entity_id) for r in rows]

    assert shown(entity_type="content") == [("content.update", "c1")]
    assert shown(record="u1") == [("user.update", "u1"), ("credits.adjust", "u1"),
                                  ("user.update", "u1")]
    assert shown(record="u1", entity_type="user") == [("user.update", "u1")] * 2
    assert shown(action="credits.adjust") == [("credits.adjust", "u1")]
    assert shown(actor="postgres") == shown()
    assert shown(actor="somebody_else") == []
    assert shown(search="goodwill") == [("credits.adjust", "u1")]
    assert shown(search="new TITLE") == [("content.update", "c1")]
    # LIKE's wildcards are the person's text, not patterns.
    assert shown(search="100%") == [("user.update", "u1")]
    assert shown(search="%") == [("user.update", "u1")]
    assert shown(search="\x00\u200b") == shown()  # nothing searchable left: no filter
    today = dt.date.today()
    assert len(shown(date_from=today - dt.timedelta(days=1), date_to=today)) == 5
    assert shown(date_from=today + dt.timedelta(days=2)) == []
    assert shown(date_to=today - dt.timedelta(days=2)) == []


def test_a_row_that_happened_before_the_range_stays_out(session_factory, engine):
    _write(session_factory, *ROWS[:2])
    with engine.begin() as conn:  # as a superuser could (audit verify would catch it)
        conn.execute(text("ALTER TABLE admin.audit_log DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE admin.audit_log SET occurred_at = now() - interval '40 days' "
                          "WHERE action = 'user.update'"))
        conn.execute(text("ALTER TABLE admin.audit_log ENABLE TRIGGER USER"))
    with session_factory() as s:
        rows, _ = list_audit_page(s, AuditFilter(date_from=dt.date.today()
                                                 - dt.timedelta(days=30)), None, 50)
    assert [r.action for r in rows] == ["credits.adjust"]


def test_old_to_new_per_field_shows_only_what_changed_and_hides_secrets():
    assert field_changes({"full_name": "Ann", "email": "a@x.io"},
                         {"full_name": "Anna", "email": "a@x.io"}) == (
        field_changes({"full_name": "Ann"}, {"full_name": "Anna"}))
    [change] = field_changes({"full_name": "Ann", "email": "a"}, {"full_name": "Anna",
                                                                  "email": "a"})
    assert (change.field, change.old, change.new) == ("full_name", "Ann", "Anna")
    created = field_changes(None, {"title": "T", "price": "9.00"})
    assert [(c.field, c.old, c.new) for c in created] == [("title", None, "T"),
                                                          ("price", None, "9.00")]
    [secret] = field_changes({"password_hash": "abc"}, {"password_hash": "def"})
    assert (secret.old, secret.new, secret.redacted) == (REDACTED, REDACTED, True)
    [key] = field_changes(None, {"stripe_api_key": "sk_live_1"})
    assert key.new == REDACTED


def test_a_records_history_holds_its_own_rows_only_newest_first(session_factory):
    _write(session_factory, *ROWS)
    with session_factory() as s:
        rows, cursor = list_record_history(s, ("user", "credit_balance"), "u1", None, 2)
        rest, end = list_record_history(s, ("user", "credit_balance"), "u1", cursor, 2)
        only_user, _ = list_record_history(s, ("user",), "u1", None, 10)
    assert [r.action for r in rows + rest] == ["user.update", "credits.adjust", "user.update"]
    assert end is None
    assert len(only_user) == 2 and {r.entity_id for r in only_user} == {"u1"}
    assert rows[0].summary == "bio: — → Hello 100% _real_"


def test_the_filters_offer_every_staff_member_table_and_action(session_factory):
    _write(session_factory, *ROWS)
    with session_factory() as s:
        choices = audit_choices(s)
    assert choices.actors == ("postgres",)
    assert choices.entity_types == ("content", "credit_balance", "user")
    assert choices.actions == ("content.update", "credits.adjust", "user.update")
