"""Complimentary access services and the access list, against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import DomainError, NotFoundError, ValidationError
from data.queries.content_access import access_summary, get_access, list_access_page
from data.services.content_access import grant_complimentary_access, revoke_access
from tests.data.factories import insert_user
from tests.data.series_factories import insert_content, insert_creator


@pytest.fixture
def item(engine):
    creator = insert_creator(engine)
    return insert_content(engine, creator, "Deep Rest")


@pytest.fixture
def customer(engine):
    return insert_user(engine, "cleo@example.com", "Cleo Customer")


def _insert_access(engine, user_id, content_id, access_type, *, expires=None, granted=None):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO content_access (user_id, content_id, access_type, granted_at, "
            "expires_at) VALUES (:u, :c, :t, coalesce(:g, localtimestamp), :e)"),
            {"u": user_id, "c": content_id, "t": access_type, "e": expires, "g": granted})


def _rows(engine, content_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT user_id, access_type, granted_at, expires_at FROM content_access "
            "WHERE content_id = :c ORDER BY user_id"), {"c": content_id}).all()


def _audit(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT actor, action, entity_id, old_values, new_values FROM admin.audit_log "
            "ORDER BY id")).all()


def _future(days=30):
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=days)


def test_grant_permanent_access_lists_it_and_audits(engine, session_factory, item, customer):
    with session_factory.begin() as s:
        row = grant_complimentary_access(s, "anna", item, customer, None)
    assert (row.access_type, row.expires_at, row.active) == ("complimentary", None, True)
    with session_factory() as s:
        rows, cursor = list_access_page(s, item, cursor=None, limit=10)
        summary = access_summary(s, item)
    assert [(r.email, r.access_type) for r in rows] == [("cleo@example.com", "complimentary")]
    assert cursor is None
    assert dict(summary.by_type)["complimentary"] == 1 and summary.active == 1
    [audit] = _audit(engine)
    assert (audit.actor, audit.action, audit.entity_id) == ("postgres", "content_access.grant",
                                                            str(item))
    assert audit.old_values is None
    assert audit.new_values["access_type"] == "complimentary"
    assert audit.new_values["user_id"] == str(customer)


def test_grant_with_expiry_then_revoke_ends_it(engine, session_factory, item, customer):
    until = _future(7).replace(microsecond=0)
    with session_factory.begin() as s:
        granted = grant_complimentary_access(s, "anna", item, customer, until)
    assert granted.expires_at == until
    with session_factory.begin() as s:
        revoked = revoke_access(s, "anna", item, customer)
    assert not revoked.active and revoked.expires_at < until
    with session_factory() as s:
        assert access_summary(s, item).active == 0
        assert access_summary(s, item).expired == 1
    assert [a.action for a in _audit(engine)] == ["content_access.grant",
                                                 "content_access.revoke"]
    # Revoking again says so, and changes nothing.
    with pytest.raises(DomainError, match="already ended"), session_factory.begin() as s:
        revoke_access(s, "anna", item, customer)


def test_expired_complimentary_access_may_be_renewed(engine, session_factory, item, customer):
    _insert_access(engine, customer, item, "complimentary",
                   expires=dt.datetime(2024, 1, 1), granted=dt.datetime(2023, 1, 1))
    with session_factory.begin() as s:
        renewed = grant_complimentary_access(s, "anna", item, customer, None)
    assert renewed.active and renewed.expires_at is None
    assert renewed.granted_at > dt.datetime(2023, 1, 1)
    [audit] = _audit(engine)
    assert audit.old_values["expires_at"] == "2024-01-01T00:00:00"
    assert audit.new_values["expires_at"] is None


@pytest.mark.parametrize("access_type,expires", [
    ("purchased", None),
    ("purchased", dt.datetime(2024, 1, 1)),
    ("subscription", None),
])
def test_existing_paid_access_is_not_overwritten(engine, session_factory, item, customer,
                                                 access_type, expires):
    _insert_access(engine, customer, item, access_type, expires=expires)
    before = _rows(engine, item)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        grant_complimentary_access(s, "anna", item, customer, None)
    assert "cleo@example.com already" in err.value.field_errors["user_id"]
    assert _rows(engine, item) == before
    assert _audit(engine) == []


def test_expired_subscription_access_becomes_complimentary(engine, session_factory, item,
                                                          customer):
    _insert_access(engine, customer, item, "subscription", expires=dt.datetime(2024, 1, 1))
    with session_factory.begin() as s:
        row = grant_complimentary_access(s, "anna", item, customer, None)
    assert row.access_type == "complimentary" and row.active


@pytest.mark.parametrize("access_type", ["purchased", "subscription", "preview"])
def test_only_complimentary_access_can_be_revoked(engine, session_factory, item, customer,
                                                  access_type):
    _insert_access(engine, customer, item, access_type)
    before = _rows(engine, item)
    with pytest.raises(DomainError) as err, session_factory.begin() as s:
        revoke_access(s, "anna", item, customer)
    if access_type == "purchased":
        assert "refunded" in str(err.value)
    assert _rows(engine, item) == before


def test_revoke_without_access_is_not_found(session_factory, item, customer):
    with pytest.raises(NotFoundError), session_factory.begin() as s:
        revoke_access(s, "anna", item, customer)


def test_grant_to_deleted_or_unknown_user_names_the_user_field(engine, session_factory, item):
    gone = insert_user(engine, "gone@example.com", "Gone Person", deleted=True)
    for user_id in (gone, uuid.uuid4(), None):
        with pytest.raises(ValidationError) as err, session_factory.begin() as s:
            grant_complimentary_access(s, "anna", item, user_id, None)
        assert set(err.value.field_errors) == {"user_id"}
    assert _rows(engine, item) == []


def test_grant_on_deleted_content_is_refused(engine, session_factory, customer):
    creator = insert_creator(engine)
    deleted = insert_content(engine, creator, "Old", deleted=True)
    with pytest.raises(DomainError, match="deleted"), session_factory.begin() as s:
        grant_complimentary_access(s, "anna", deleted, customer, None)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ago=st.timedeltas(min_value=dt.timedelta(seconds=1),
                        max_value=dt.timedelta(days=3650)),
       aware=st.booleans())
def test_expiry_in_the_past_names_expires_at_and_writes_nothing(
        engine, session_factory, item, customer, ago, aware):
    now = dt.datetime.now(dt.UTC)
    when = now - ago if aware else (now - ago).replace(tzinfo=None)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        grant_complimentary_access(s, "anna", item, customer, when)
    assert set(err.value.field_errors) == {"expires_at"}
    assert _rows(engine, item) == []
    assert _audit(engine) == []


def test_access_list_pages_newest_grant_first(engine, session_factory, item):
    people = [insert_user(engine, f"p{n}@example.com", f"Person {n}") for n in range(5)]
    for n, person in enumerate(people):
        _insert_access(engine, person, item, "purchased",
                       granted=dt.datetime(2025, 1, 1) + dt.timedelta(days=n))
    seen = []
    cursor = None
    with session_factory() as s:
        while True:
            rows, cursor = list_access_page(s, item, cursor=cursor, limit=2)
            seen += [r.email for r in rows]
            if cursor is None:
                break
        assert get_access(s, item, people[0]).access_type == "purchased"
    assert seen == [f"p{n}@example.com" for n in reversed(range(5))]


def test_access_pages_walk_an_index_instead_of_sorting_every_grant(engine, session_factory,
                                                                   item):
    """A popular item has a million grants: a page must read 50 of them in order, not sort
    all of them (``ix_admin_content_access_content_granted``, migration 0007)."""
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with session_factory() as s:
        event.listen(engine, "before_cursor_execute", capture)
        try:
            list_access_page(s, item, cursor=(dt.datetime(2025, 1, 1), uuid.uuid4()),
                             limit=50)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        statement, parameters = statements[-1]
        conn = s.connection().connection.driver_connection
        with conn.cursor() as cur:
            cur.execute("SET LOCAL enable_sort = off")  # only an index can give the order
            cur.execute("EXPLAIN " + statement, parameters)
            plan = "\n".join(r[0] for r in cur.fetchall())
    assert "ix_admin_content_access_content_granted" in plan, plan
    assert "Sort" not in plan, plan
