"""The catalog's named operations change what their services change, and announce it: the
items by id (``content``), the series, who has access, the featured list."""

from __future__ import annotations

from sqlalchemy import text

from data.operations.catalog import (
    ApplyBulk,
    ArchiveContent,
    CreateContent,
    DeleteContent,
    PublishContent,
    RestoreContent,
    ReturnToDraft,
    UpdateContent,
)
from data.operations.content_access import GrantAccess, RevokeAccess
from data.operations.series import (
    AddToSeries,
    CreateSeries,
    RemoveFromSeries,
    SaveSeries,
    SetFeatured,
)
from data.queries.catalog import get_content
from data.queries.featured import get_featured
from tests.data.factories import insert_user

ACTOR = "tester"


def _run(session_factory, operation):
    with session_factory.begin() as s:
        result = operation.run(s, ACTOR)
    return result, operation.changes(result)


def _complete_video(creator) -> dict:
    return {"title": "Morning Flow", "content_type": "video", "creator_id": creator,
            "media_url": "https://media.example.com/flow.mp4",
            "media_duration_seconds": "600", "price": "9.99"}


def test_the_content_workflow_announces_the_item(engine, session_factory):
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    item, changes = _run(session_factory, CreateContent(_complete_video(creator)))
    assert changes.ids("content") == {item.id} and changes.touches("content_series")
    for make, status in ((PublishContent, "published"), (ArchiveContent, "archived"),
                         (ReturnToDraft, "draft")):
        item, changes = _run(session_factory, make(item.id, item.version))
        assert item.status == status and changes.ids("content") == {item.id}
    item, changes = _run(session_factory, UpdateContent(item.id, item.version,
                                                        {"title": "Evening Flow"}))
    assert item.title == "Evening Flow" and not changes.touches("content_series")
    item, _ = _run(session_factory, DeleteContent(item.id, item.version))
    assert item.deleted_at is not None
    item, changes = _run(session_factory, RestoreContent(item.id, item.version))
    assert item.deleted_at is None and changes.ids("content") == {item.id}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log WHERE entity_id = :i"),
                            {"i": str(item.id)}).scalar() == 7


def test_a_bulk_change_announces_only_the_items_it_changed(engine, session_factory):
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    first, _ = _run(session_factory, CreateContent(_complete_video(creator)))
    second, _ = _run(session_factory, CreateContent({**_complete_video(creator),
                                                     "title": "Second", "category": "yoga"}))
    plan, changes = _run(session_factory, ApplyBulk((first.id, second.id), "set_category",
                                                    "yoga"))
    assert [c.id for c in plan.changes] == [first.id]
    assert changes.ids("content") == {first.id}


def test_series_and_access_and_featured_operations_announce_their_tables(
        engine, session_factory):
    creator = insert_user(engine, "cleo@example.com", "Cleo", role="platform_creator")
    person = insert_user(engine, "nina@example.com", "Nina")
    item, _ = _run(session_factory, CreateContent(_complete_video(creator)))
    series, changes = _run(session_factory, CreateSeries({"title": "Flows", "slug": "flows",
                                                          "creator_id": creator}))
    assert changes.ids("content_series") == {series.id}
    series, changes = _run(session_factory, AddToSeries(series.id, (item.id,)))
    assert series.item_ids == [item.id] and changes.ids("content") == {item.id}
    series, changes = _run(session_factory, SaveSeries(series.id, series.version,
                                                       {"title": "All Flows"}))
    assert series.title == "All Flows" and changes.ids("content_series") == {series.id}
    series, changes = _run(session_factory, RemoveFromSeries(series.id, item.id))
    assert series.item_ids == [] and changes.ids("content") == {item.id}

    _, changes = _run(session_factory, GrantAccess(item.id, person, None))
    assert changes.ids("content_access") == {item.id}
    row, changes = _run(session_factory, RevokeAccess(item.id, person))
    assert not row.active and changes.ids("content_access") == {item.id}

    with session_factory() as s:  # the item changed when it joined and left the series
        item = get_content(s, item.id)
        version = get_featured(s).version
    published, _ = _run(session_factory, PublishContent(item.id, item.version))
    state, changes = _run(session_factory, SetFeatured(version, (published.id,)))
    assert state.ids == [published.id] and changes.touches("platform_settings")
