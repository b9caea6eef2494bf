"""Series services against PostgreSQL: moving items, creating, editing, reordering."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, NotFoundError, ValidationError
from data.queries.series import get_series, list_series_page, series_inconsistencies
from data.services import series as series_service
from data.services.series import attach_to_series, validate_series_values
from data.services.slugs import slug_problem
from tests.data.series_factories import (
    content_series_id,
    insert_content,
    insert_creator,
    insert_series,
    series_order,
)


@pytest.fixture
def catalog(engine):
    """Two series of three items each, and one standalone item."""
    creator = insert_creator(engine)
    a = insert_series(engine, creator, "Morning Yoga")
    b = insert_series(engine, creator, "Evening Calm")
    a_items = [insert_content(engine, creator, f"Yoga {n}", series_id=a) for n in range(3)]
    b_items = [insert_content(engine, creator, f"Calm {n}", series_id=b) for n in range(3)]
    loose = insert_content(engine, creator, "Standalone")
    return {"creator": creator, "a": a, "b": b, "a_items": a_items, "b_items": b_items,
            "loose": loose}


def _consistent(session_factory) -> list:
    with session_factory() as s:
        return series_inconsistencies(s)


def _audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one()


# -- attach_to_series (the contract with the content editor) --------------------------------

def test_attach_moves_item_between_series_keeping_both_consistent(
        engine, session_factory, catalog):
    moved = catalog["a_items"][1]
    with session_factory.begin() as s:
        attach_to_series(s, moved, catalog["b"])
    assert series_order(engine, catalog["a"]) == [catalog["a_items"][0], catalog["a_items"][2]]
    assert series_order(engine, catalog["b"]) == [*catalog["b_items"], moved]
    assert content_series_id(engine, moved) == catalog["b"]
    assert _consistent(session_factory) == []


def test_attach_standalone_item_appends_and_detach_removes(engine, session_factory, catalog):
    loose = catalog["loose"]
    with session_factory.begin() as s:
        attach_to_series(s, loose, catalog["a"])
    assert series_order(engine, catalog["a"]) == [*catalog["a_items"], loose]
    with session_factory.begin() as s:
        attach_to_series(s, catalog["a_items"][0], None)
    assert series_order(engine, catalog["a"]) == [*catalog["a_items"][1:], loose]
    assert content_series_id(engine, catalog["a_items"][0]) is None
    assert _consistent(session_factory) == []


def test_attach_to_same_series_keeps_place(engine, session_factory, catalog):
    with session_factory.begin() as s:
        attach_to_series(s, catalog["a_items"][0], catalog["a"])
    assert series_order(engine, catalog["a"]) == catalog["a_items"]


def test_attach_repairs_stale_entries_left_in_other_series(engine, session_factory, catalog):
    """Another writer left the item listed in a series it no longer belongs to."""
    item = catalog["b_items"][0]
    with engine.begin() as conn:
        conn.execute(text("UPDATE content_series SET content_order = content_order || "
                          "to_jsonb(CAST(:i AS text)) WHERE id = :a"),
                     {"i": str(item), "a": catalog["a"]})
    assert _consistent(session_factory) != []
    with session_factory.begin() as s:
        attach_to_series(s, item, None)
    assert _consistent(session_factory) == []


def test_attach_to_missing_series_changes_nothing(engine, session_factory, catalog):
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        attach_to_series(s, catalog["a_items"][0], uuid.uuid4())
    assert "series_id" in err.value.field_errors
    assert series_order(engine, catalog["a"]) == catalog["a_items"]
    assert content_series_id(engine, catalog["a_items"][0]) == catalog["a"]


def test_attach_unknown_item_is_not_found(session_factory, catalog):
    with pytest.raises(NotFoundError), session_factory.begin() as s:
        attach_to_series(s, uuid.uuid4(), catalog["a"])


def test_concurrent_moves_between_two_series_stay_consistent(engine, session_factory, catalog):
    """Real concurrent transactions moving items in opposite directions: both finish (no
    deadlock, series locked in a stable order) and the catalog stays consistent."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def move(items, target):
        try:
            barrier.wait(5)
            for item in items:
                with session_factory.begin() as s:
                    attach_to_series(s, item, target)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=move, args=(catalog["a_items"], catalog["b"])),
               threading.Thread(target=move, args=(catalog["b_items"], catalog["a"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert set(series_order(engine, catalog["a"])) == set(catalog["b_items"])
    assert set(series_order(engine, catalog["b"])) == set(catalog["a_items"])
    assert _consistent(session_factory) == []


def test_move_content_to_series_writes_audit(engine, session_factory, catalog):
    with session_factory.begin() as s:
        series_service.move_content_to_series(s, "anna", catalog["loose"], catalog["b"])
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT actor, action, old_values, new_values FROM admin.audit_log")).one()
    assert row.actor == "postgres" and row.action == "content.move_series"
    assert row.old_values == {"series_id": None}
    assert row.new_values == {"series_id": str(catalog["b"])}


def test_demo_catalog_is_consistent(demo_session_factory):
    """The invariant the services keep holds for the demo data they start from."""
    with demo_session_factory() as s:
        assert series_inconsistencies(s) == []


# -- create, edit, reorder ------------------------------------------------------------------

def test_create_series_proposes_slug_and_audits(engine, session_factory, catalog):
    with session_factory.begin() as s:
        created = series_service.create_series(s, "anna", {
            "title": "Breath Work Basics", "creator_id": catalog["creator"],
            "price": "19.90", "description": "Five sessions"})
    assert created.slug == "breath-work-basics"
    assert created.price == Decimal("19.90") and created.status == "draft"
    assert created.items == ()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT action, old_values, new_values FROM admin.audit_log "
                                "WHERE entity_id = :id"), {"id": str(created.id)}).one()
    assert row.action == "series.create" and row.old_values is None
    assert row.new_values["title"] == "Breath Work Basics"
    assert row.new_values["price"] == "19.90"


def test_create_series_slug_clash_names_slug_and_writes_nothing(engine, session_factory,
                                                               catalog):
    with session_factory() as s:
        taken = get_series(s, catalog["a"]).slug
    before = _audit_count(engine)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        series_service.create_series(s, "anna", {"title": "Other", "slug": taken,
                                                 "creator_id": catalog["creator"]})
    assert "already used" in err.value.field_errors["slug"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_series")).scalar_one() == 2
    assert _audit_count(engine) == before


def test_create_series_refuses_customer_as_creator(engine, session_factory):
    from tests.data.factories import insert_user

    customer = insert_user(engine, "c@example.com", "Carl Customer")
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        series_service.create_series(s, "anna", {"title": "X", "creator_id": customer})
    assert set(err.value.field_errors) == {"creator_id"}


def test_update_series_changes_fields_and_publishes(engine, session_factory, catalog):
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    with session_factory.begin() as s:
        saved = series_service.update_series(s, "anna", catalog["a"], loaded.version, {
            "title": "Morning Yoga II", "slug": "morning-yoga-ii", "price": "",
            "status": "archived"})
    assert (saved.title, saved.slug, saved.price, saved.status) == (
        "Morning Yoga II", "morning-yoga-ii", None, "archived")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT old_values, new_values FROM admin.audit_log "
                                "WHERE action = 'series.update'")).one()
    assert row.old_values["title"] == "Morning Yoga" and row.new_values["title"] == (
        "Morning Yoga II")


def test_update_series_refuses_stale_version(engine, session_factory, catalog):
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    with session_factory.begin() as s:
        series_service.update_series(s, "bob", catalog["a"], loaded.version,
                                     {"title": "Bob's title"})
    with pytest.raises(ConflictError) as err, session_factory.begin() as s:
        series_service.update_series(s, "anna", catalog["a"], loaded.version,
                                     {"title": "Anna's title"})
    assert err.value.current.title == "Bob's title"
    with session_factory() as s:
        assert get_series(s, catalog["a"]).title == "Bob's title"


def test_reorder_series_persists_and_audits(engine, session_factory, catalog):
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    new_order = list(reversed(catalog["a_items"]))
    with session_factory.begin() as s:
        saved = series_service.reorder_series(s, "anna", catalog["a"], loaded.version,
                                              new_order)
    assert saved.item_ids == new_order
    assert series_order(engine, catalog["a"]) == new_order
    with engine.connect() as conn:
        row = conn.execute(text("SELECT old_values, new_values FROM admin.audit_log "
                                "WHERE action = 'series.reorder'")).one()
    assert row.old_values == {"content_order": [str(i) for i in catalog["a_items"]]}
    assert row.new_values == {"content_order": [str(i) for i in new_order]}
    assert _consistent(session_factory) == []


def test_reorder_refused_when_an_item_was_added_meanwhile(engine, session_factory, catalog):
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    with session_factory.begin() as s:
        attach_to_series(s, catalog["loose"], catalog["a"])
    with pytest.raises(ConflictError) as err, session_factory.begin() as s:
        series_service.reorder_series(s, "anna", catalog["a"], loaded.version,
                                      list(reversed(catalog["a_items"])))
    assert catalog["loose"] in err.value.current.item_ids
    assert series_order(engine, catalog["a"]) == [*catalog["a_items"], catalog["loose"]]


def test_reorder_refused_when_ids_differ_from_items(engine, session_factory, catalog):
    """Even with the right version: the new order must list exactly the series' items."""
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    with pytest.raises(ConflictError), session_factory.begin() as s:
        series_service.reorder_series(s, "anna", catalog["a"], loaded.version,
                                      [*catalog["a_items"][:2], catalog["loose"]])
    with pytest.raises(ValidationError), session_factory.begin() as s:
        series_service.reorder_series(s, "anna", catalog["a"], loaded.version,
                                      [*catalog["a_items"], catalog["a_items"][0]])
    assert series_order(engine, catalog["a"]) == catalog["a_items"]


def test_series_list_pages_by_title(session_factory, catalog):
    with session_factory() as s:
        first, cursor = list_series_page(s, cursor=None, limit=1)
        second, end = list_series_page(s, cursor=cursor, limit=1)
        found, _ = list_series_page(s, "yoga", cursor=None, limit=10)
    assert [r.title for r in first + second] == ["Evening Calm", "Morning Yoga"]
    assert end is None
    assert [(r.title, r.item_count) for r in found] == [("Morning Yoga", 3)]


# -- validators (property tests) -------------------------------------------------------------

@given(st.text(max_size=30).filter(lambda t: t.strip() != ""))
def test_non_numeric_price_names_the_price_field(value):
    try:
        Decimal(value.strip())
    except ArithmeticError:
        with pytest.raises(ValidationError) as err:
            validate_series_values({"price": value})
        assert set(err.value.field_errors) == {"price"}


@given(st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False,
                   places=2))
def test_negative_price_names_the_price_field(value):
    with pytest.raises(ValidationError) as err:
        validate_series_values({"price": str(value)})
    assert "below zero" in err.value.field_errors["price"]


@given(st.text(min_size=501, max_size=600).filter(lambda t: len(t.strip()) > 500))
def test_overlong_title_names_the_title_field(value):
    with pytest.raises(ValidationError) as err:
        validate_series_values({"title": value})
    assert "At most 500" in err.value.field_errors["title"]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slug=st.text(min_size=1, max_size=40).filter(
    lambda t: slug_problem(t.strip()) is not None))
def test_bad_slug_changes_nothing(engine, session_factory, catalog, slug):
    with session_factory() as s:
        loaded = get_series(s, catalog["a"])
    before = _audit_count(engine)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        series_service.update_series(s, "anna", catalog["a"], loaded.version, {"slug": slug})
    assert set(err.value.field_errors) == {"slug"}
    with session_factory() as s:
        assert get_series(s, catalog["a"]).slug == loaded.slug
    assert _audit_count(engine) == before


def test_add_items_appends_in_order_moves_from_another_series_and_audits(
        engine, session_factory, catalog):
    from data.queries.series import search_series_candidates

    a, b = catalog["a"], catalog["b"]
    loose = insert_content(engine, catalog["creator"], "Loose Breathing Item")
    moving = catalog["b_items"][0]
    with session_factory() as s:
        candidates = {c.id: c for c in search_series_candidates(s, a, "")}
        assert loose in candidates and candidates[loose].series_title is None
        assert candidates[moving].series_title is not None  # it would leave its series
        assert not set(catalog["a_items"]) & set(candidates)  # already in: not offered
        assert [c.id for c in search_series_candidates(s, a, "loose breath")] == [loose]
    with session_factory.begin() as s:
        detail = series_service.add_items_to_series(s, "anna", a, [loose, moving])
    assert detail.item_ids == [*catalog["a_items"], loose, moving]
    with session_factory() as s:
        assert series_inconsistencies(s) == []
        assert moving not in get_series(s, b).item_ids
        actions = s.execute(text("SELECT action FROM admin.audit_log ORDER BY id")).scalars()
        assert list(actions) == ["content.move_series", "content.move_series"]


def test_adding_a_deleted_item_adds_nothing_and_names_the_field(engine, session_factory,
                                                                 catalog):
    loose = insert_content(engine, catalog["creator"], "Soon Deleted")
    with engine.begin() as conn:
        conn.execute(text("UPDATE content SET deleted_at = now() WHERE id = :id"), {"id": loose})
    keep = insert_content(engine, catalog["creator"], "Fine Item")
    with pytest.raises(ValidationError) as info, session_factory.begin() as s:
        series_service.add_items_to_series(s, "anna", catalog["a"], [keep, loose])
    assert "content_ids" in info.value.field_errors
    with session_factory() as s:
        assert get_series(s, catalog["a"]).item_ids == catalog["a_items"]
