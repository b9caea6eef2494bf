"""Featured content service and queries, against PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, ValidationError
from data.queries.featured import get_featured, search_published_content
from data.services.featured import set_featured_content
from tests.data.series_factories import insert_content, insert_creator


@pytest.fixture
def items(engine):
    creator = insert_creator(engine)
    published = [insert_content(engine, creator, f"Flow {n}") for n in range(4)]
    return {
        "published": published,
        "draft": insert_content(engine, creator, "Draft Flow", status="draft"),
        "archived": insert_content(engine, creator, "Old Flow", status="archived"),
        "deleted": insert_content(engine, creator, "Gone Flow", deleted=True),
    }


@pytest.fixture
def settings_row(engine, items):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO platform_settings (featured_content_ids) "
                          "VALUES (CAST(:ids AS jsonb))"),
                     {"ids": f'["{items["published"][0]}", "{items["published"][1]}"]'})


def _stored(engine) -> list[uuid.UUID]:
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT featured_content_ids FROM platform_settings")).scalar()
    return [uuid.UUID(i) for i in ids or []]


def _audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one()


def test_reorder_and_add_persists_in_order_and_audits(engine, session_factory, items,
                                                     settings_row):
    p = items["published"]
    with session_factory() as s:
        loaded = get_featured(s)
    assert loaded.ids == [p[0], p[1]]
    with session_factory.begin() as s:
        saved = set_featured_content(s, "anna", loaded.version, [p[2], p[1], p[0]])
    assert saved.ids == [p[2], p[1], p[0]] == _stored(engine)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT actor, action, old_values, new_values "
                                "FROM admin.audit_log")).one()
    assert (row.actor, row.action) == ("postgres", "platform_settings.featured")
    assert row.old_values == {"featured_content_ids": [str(p[0]), str(p[1])]}
    assert row.new_values == {"featured_content_ids": [str(p[2]), str(p[1]), str(p[0])]}


@pytest.mark.parametrize("kind,words", [("draft", "is draft"), ("archived", "is archived"),
                                        ("deleted", "is deleted")])
def test_unpublished_items_are_refused_by_name(engine, session_factory, items, settings_row,
                                               kind, words):
    with session_factory() as s:
        loaded = get_featured(s)
    before = _stored(engine)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        set_featured_content(s, "anna", loaded.version, [*loaded.ids, items[kind]])
    message = err.value.field_errors["featured_content_ids"]
    assert words in message and "Flow'" in message
    assert _stored(engine) == before
    assert _audit_count(engine) == 0


def test_unknown_and_duplicate_items_are_refused(engine, session_factory, items, settings_row):
    p = items["published"]
    with session_factory() as s:
        loaded = get_featured(s)
    for ids, words in (([p[0], uuid.uuid4()], "no longer exists"),
                       ([p[0], p[1], p[0]], "listed twice")):
        with pytest.raises(ValidationError) as err, session_factory.begin() as s:
            set_featured_content(s, "anna", loaded.version, ids)
        assert words in err.value.field_errors["featured_content_ids"]
    assert _stored(engine) == [p[0], p[1]]


def test_concurrent_change_is_refused_not_overwritten(engine, session_factory, items,
                                                     settings_row):
    p = items["published"]
    with session_factory() as s:
        loaded = get_featured(s)
    with session_factory.begin() as s:
        set_featured_content(s, "bob", loaded.version, [p[3]])
    with pytest.raises(ConflictError) as err, session_factory.begin() as s:
        set_featured_content(s, "anna", loaded.version, [p[1], p[0]])
    assert err.value.current.ids == [p[3]]
    assert _stored(engine) == [p[3]]


def test_without_a_settings_row_one_is_created(engine, session_factory, items):
    with session_factory() as s:
        loaded = get_featured(s)
    assert loaded.settings_id is None and loaded.items == ()
    with session_factory.begin() as s:
        saved = set_featured_content(s, "anna", None, [items["published"][2]])
    assert saved.settings_id is not None and _stored(engine) == [items["published"][2]]


def test_stored_list_shows_items_that_lost_their_place(engine, session_factory, items):
    """An item unpublished on the platform after it was featured is shown as such."""
    gone = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO platform_settings (featured_content_ids) "
                          "VALUES (CAST(:ids AS jsonb))"),
                     {"ids": f'["{items["draft"]}", "{gone}", "not-an-id"]'})
    with session_factory() as s:
        state = get_featured(s)
    assert [(i.id, i.status, i.missing, i.featurable) for i in state.items] == [
        (items["draft"], "draft", False, False), (gone, "", True, False)]


def test_search_offers_published_items_only(session_factory, items):
    with session_factory() as s:
        found = search_published_content(s, "flow")
        by_id = search_published_content(s, str(items["published"][1]))
    assert {i.id for i in found} == set(items["published"])
    assert [i.id for i in by_id] == [items["published"][1]]


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.sampled_from(["published", "draft", "archived", "deleted", "unknown"]),
                      min_size=1, max_size=5))
def test_any_list_with_a_bad_item_changes_nothing(engine, session_factory, items,
                                                  settings_row, picks):
    assume(any(p != "published" for p in picks))
    ids = [items["published"][n % 4] if p == "published" else
           uuid.uuid4() if p == "unknown" else items[p] for n, p in enumerate(picks)]
    with session_factory() as s:
        loaded = get_featured(s)
    before = _stored(engine)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        set_featured_content(s, "anna", loaded.version, ids)
    assert set(err.value.field_errors) == {"featured_content_ids"}
    assert _stored(engine) == before
