"""The featured content dialog driven as a person would, on the demo database."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import text

from data.queries.featured import get_featured
from data.services.featured import set_featured_content
from desktop.pages import featured_dialog as featured_module
from desktop.pages.featured_dialog import FeaturedContentDialog

WAIT = 15_000


@pytest.fixture(autouse=True)
def discard_when_asked(monkeypatch):
    """The "discard unsaved changes?" question is a modal box; answer it as a user closing
    the dialog at the end of a test would."""
    monkeypatch.setattr(featured_module, "confirm", lambda *a, **k: True)


def _stored(engine) -> list[uuid.UUID]:
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT featured_content_ids FROM platform_settings")).scalar()
    return [uuid.UUID(i) for i in ids]


def _open(qtbot, database) -> FeaturedContentDialog:
    d = FeaturedContentDialog(database)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.state is not None and d.results.count() > 0, timeout=WAIT)
    return d


def _search(qtbot, d, words: str) -> None:
    d.search.clear()
    qtbot.keyClicks(d.search, words)
    qtbot.keyClick(d.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: d.results_note.text() != "Searching…", timeout=WAIT)


def _unfeatured_published(engine, exclude) -> tuple[uuid.UUID, str]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, title FROM content WHERE status = 'published' AND deleted_at IS NULL "
            "ORDER BY published_at DESC, id DESC")).all()
    return next((r.id, r.title) for r in rows if r.id not in exclude)


def test_shows_stored_featured_list_in_order(qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    stored = _stored(demo_engine)
    assert len(stored) == 6
    assert d.featured.ids() == stored
    assert not d.save_button.isEnabled()


def test_drag_reorder_and_add_persist_and_survive_reopening(qtbot, demo_database,
                                                            demo_engine):
    d = _open(qtbot, demo_database)
    stored = _stored(demo_engine)
    m = d.featured.model
    assert m.dropMimeData(m.mimeData([m.index(5, 0)]), Qt.DropAction.MoveAction, 0, 0,
                          QModelIndex())
    new_id, title = _unfeatured_published(demo_engine, set(stored))
    _search(qtbot, d, title)
    row = next(i for i in range(d.results.count())
               if d.results.item(i).data(Qt.ItemDataRole.UserRole).id == new_id)
    d.results.setFocus()
    d.results.setCurrentRow(row)
    qtbot.keyClick(d.results, Qt.Key.Key_Return)  # activating a result adds it
    expected = [stored[5], *stored[:5], new_id]
    assert d.featured.ids() == expected
    with qtbot.waitSignal(d.featured_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert _stored(demo_engine) == expected
    d.close()
    again = _open(qtbot, demo_database)
    assert again.featured.ids() == expected


def test_remove_and_keyboard_reorder(qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    stored = _stored(demo_engine)
    d.featured.view.setFocus()
    d.featured.select_row(0)
    qtbot.keyClick(d.featured.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    d.featured.select_row(5)
    qtbot.mouseClick(d.featured.remove_button, Qt.MouseButton.LeftButton)
    expected = [stored[1], stored[0], *stored[2:5]]
    assert d.featured.ids() == expected
    with qtbot.waitSignal(d.featured_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert _stored(demo_engine) == expected


def test_search_offers_published_items_only(qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    with demo_engine.connect() as conn:
        draft_title = conn.execute(text(
            "SELECT title FROM content WHERE status = 'draft' AND title NOT IN (SELECT title "
            "FROM content WHERE status = 'published') LIMIT 1")).scalar_one()
    _search(qtbot, d, draft_title)
    assert d.results.count() == 0 and d.results_note.text() == "No published item matches."
    assert not d.add_button.isEnabled()


def test_item_unpublished_meanwhile_is_refused_and_named(qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    stored = _stored(demo_engine)
    d.featured.select_row(0)
    qtbot.mouseClick(d.featured.down_button, Qt.MouseButton.LeftButton)
    with demo_engine.begin() as conn:  # the platform archives a featured item meanwhile
        title = conn.execute(text("UPDATE content SET status = 'archived' WHERE id = :id "
                                  "RETURNING title"), {"id": stored[2]}).scalar_one()
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.banner.isVisible(), timeout=WAIT)
    assert f"'{title}' is archived" in d.banner.text()
    assert _stored(demo_engine) == stored
    assert d.is_dirty  # the edit is kept so the person can fix it


def test_concurrent_change_is_refused_and_current_list_shown(
        qtbot, demo_database, demo_engine, demo_session_factory):
    d = _open(qtbot, demo_database)
    stored = _stored(demo_engine)
    with demo_session_factory.begin() as s:  # another staff member saves first
        set_featured_content(s, "bob", get_featured(s).version, stored[:2])
    d.featured.select_row(0)
    qtbot.mouseClick(d.featured.down_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.banner.isVisible(), timeout=WAIT)
    assert "Someone else changed" in d.banner.text()
    assert d.featured.ids() == stored[:2] == _stored(demo_engine)


def test_closing_with_unsaved_changes_asks_first(qtbot, demo_database, monkeypatch):
    d = _open(qtbot, demo_database)
    d.featured.select_row(0)
    d.featured.model.remove_at(0)
    asked = []
    monkeypatch.setattr(featured_module, "confirm",
                        lambda *a, **k: asked.append(k["title"]) or False)
    qtbot.keyClick(d, Qt.Key.Key_Escape)
    assert asked == ["Unsaved changes"] and d.isVisible()
