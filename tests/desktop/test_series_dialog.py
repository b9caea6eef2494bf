"""The series dialog driven as a person would: pick a series, drag its items, save, reopen."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import text

from data.queries.series import get_series, series_inconsistencies
from data.services import series as series_service
from desktop.pages import series_dialog as series_dialog_module
from desktop.pages.series_dialog import SeriesDialog
from widgets import actions as actions_module

WAIT = 15_000


@pytest.fixture(autouse=True)
def discard_when_asked(monkeypatch):
    """The "discard unsaved changes?" question is a modal box; answer it as a user closing
    the dialog at the end of a test would. Removing an item asks through the actions'
    question (``widgets.actions.ask_to_confirm``): answered yes too."""
    monkeypatch.setattr(series_dialog_module, "confirm", lambda *a, **k: True)
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: True)


def _series_with_items(engine, minimum: int = 3) -> tuple[uuid.UUID, str, list[uuid.UUID]]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT id, title, content_order FROM content_series WHERE deleted_at IS NULL "
            "AND jsonb_array_length(content_order) >= :n ORDER BY lower(title), id LIMIT 1"),
            {"n": minimum}).one()
    return row.id, row.title, [uuid.UUID(i) for i in row.content_order]


def _stored_order(engine, series_id) -> list[uuid.UUID]:
    with engine.connect() as conn:
        order = conn.execute(text("SELECT content_order FROM content_series WHERE id = :id"),
                             {"id": series_id}).scalar_one()
    return [uuid.UUID(i) for i in order]


def _open(qtbot, database) -> SeriesDialog:
    d = SeriesDialog(database)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.model.rowCount() > 0 and not d.model.is_loading, timeout=WAIT)
    qtbot.waitUntil(lambda: d.creator.count() > 0, timeout=WAIT)
    return d


def _pick(qtbot, dialog: SeriesDialog, series_id: uuid.UUID) -> None:
    row = dialog.model.row_index(series_id)
    assert row is not None
    index = dialog.model.index(row, 0)
    dialog.view.scrollTo(index)
    qtbot.mouseClick(dialog.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=dialog.view.visualRect(index).center())
    qtbot.waitUntil(lambda: dialog.detail is not None and dialog.detail.id == series_id,
                    timeout=WAIT)


def _drag_row(dialog: SeriesDialog, source: int, before: int) -> None:
    """What a drop in the list does: the model's drag payload dropped between rows."""
    m = dialog.items.model
    mime = m.mimeData([m.index(source, 0)])
    assert m.dropMimeData(mime, Qt.DropAction.MoveAction, before, 0, QModelIndex())


def test_lists_series_and_shows_items_in_stored_order(qtbot, demo_database, demo_engine):
    series_id, title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    assert d.form.values()["title"] == title
    assert d.items.ids() == order
    assert not d.save_button.isEnabled()
    with demo_engine.connect() as conn:
        owner = conn.execute(text("SELECT u.id, u.full_name FROM content_series s JOIN users u "
                                  "ON u.id = s.creator_id WHERE s.id = :id"),
                             {"id": series_id}).one()
    assert d.creator_id() == owner.id
    assert d.creator.currentText().startswith(owner.full_name)
    assert d.creator.findData(str(owner.id)) == d.creator.currentIndex()  # from the list


def test_drag_and_drop_reorder_persists_and_survives_reopening(
        qtbot, demo_database, demo_engine):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    _drag_row(d, 0, len(order))  # first item to the end
    expected = [*order[1:], order[0]]
    assert d.items.ids() == expected
    assert d.save_button.isEnabled()
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert _stored_order(demo_engine, series_id) == expected
    d.close()

    again = _open(qtbot, demo_database)
    _pick(qtbot, again, series_id)
    assert again.items.ids() == expected
    with demo_engine.connect() as conn:
        audit = conn.execute(text(
            "SELECT new_values FROM admin.audit_log WHERE action = 'series.reorder' "
            "AND entity_id = :id"), {"id": str(series_id)}).scalar_one()
    assert audit == {"content_order": [str(i) for i in expected]}


def test_keyboard_reorder_and_field_edit_save_together(qtbot, demo_database, demo_engine):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    d.items.view.setFocus()
    d.items.select_row(0)
    qtbot.keyClick(d.items.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    title = d.form.field_widget("title")
    title.selectAll()
    qtbot.keyClicks(title, "Renamed series")
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.keyClick(title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _stored_order(demo_engine, series_id) == [order[1], order[0], *order[2:]]
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT title FROM content_series WHERE id = :id"),
                            {"id": series_id}).scalar_one() == "Renamed series"
    qtbot.waitUntil(lambda: d.model.row_at(d.model.row_index(series_id)).title
                    == "Renamed series", timeout=WAIT)


def test_create_series_with_proposed_slug(qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    qtbot.mouseClick(d.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(d.form.field_widget("title"), "Sun & Moon Flow")
    assert d.form.field_widget("slug").text() == "sun-and-moon-flow"
    d.creator.setCurrentIndex(0)
    qtbot.keyClicks(d.form.field_widget("price"), "24.50")
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    with demo_engine.connect() as conn:
        row = conn.execute(text("SELECT id, price, status, content_order, creator_id "
                                "FROM content_series WHERE slug = 'sun-and-moon-flow'")).one()
    assert str(row.price) == "24.50" and row.status == "draft" and row.content_order == []
    assert str(row.creator_id) == d.creator.itemData(0)
    assert d.detail is not None and d.detail.id == row.id
    qtbot.waitUntil(lambda: d.view.current_row() is not None
                    and d.view.current_row().id == row.id, timeout=WAIT)


def test_create_without_owner_or_with_bad_price_names_the_field(
        qtbot, demo_database, demo_engine):
    d = _open(qtbot, demo_database)
    with demo_engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM content_series")).scalar_one()
    qtbot.mouseClick(d.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(d.form.field_widget("title"), "Ownerless")
    qtbot.keyClicks(d.form.field_widget("price"), "-3")
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.form.error_text("price") != "", timeout=WAIT)
    assert "below zero" in d.form.error_text("price")
    price = d.form.field_widget("price")
    price.selectAll()
    qtbot.keyClicks(price, "3")
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.creator_error.isVisible(), timeout=WAIT)
    assert "owns" in d.creator_error.text()
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM content_series")).scalar_one() == before


def test_reorder_after_someone_added_an_item_is_refused(
        qtbot, demo_database, demo_engine, demo_session_factory):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    with demo_engine.connect() as conn:
        loose = conn.execute(text("SELECT id FROM content WHERE series_id IS NULL "
                                  "ORDER BY id LIMIT 1")).scalar_one()
    with demo_session_factory.begin() as s:  # another staff member, meanwhile
        series_service.move_content_to_series(s, "bob", loose, series_id)
    _drag_row(d, 0, len(order))
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert d.banner.isVisible() and "changed" in d.banner.text()
    assert _stored_order(demo_engine, series_id) == [*order, loose]
    assert d.items.ids() == [*order, loose]  # the current state is shown
    with demo_session_factory() as s:
        assert series_inconsistencies(s) == []
        assert get_series(s, series_id).item_ids == [*order, loose]


def test_field_edits_survive_someone_else_saving_the_series_first(
        qtbot, demo_database, demo_engine):
    series_id, title, _order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    with demo_engine.begin() as conn:  # another staff member renames it meanwhile
        conn.execute(text("UPDATE content_series SET title = 'Renamed Elsewhere' "
                          "WHERE id = :id"), {"id": series_id})
    description = d.form.field_widget("description")
    description.clear()
    qtbot.keyClicks(description, "Five evenings of breathing.")
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    assert "Your unsaved changes are kept" in d.banner.text()
    assert d.form.values()["title"] == "Renamed Elsewhere"
    assert d.form.values()["description"] == "Five evenings of breathing."
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT title, description FROM content_series "
                                 "WHERE id = :id"), {"id": series_id}).one() == (
            "Renamed Elsewhere", "Five evenings of breathing.")


def test_add_content_finds_items_and_appends_them_in_one_go(
        qtbot, demo_database, demo_engine, demo_session_factory, monkeypatch):
    from desktop.pages import series_add_dialog
    from desktop.pages.series_add_dialog import AddToSeriesDialog

    series_id, _title, order = _series_with_items(demo_engine)
    with demo_engine.begin() as conn:  # two items sharing a word: one loose, one elsewhere
        loose = conn.execute(text(
            "UPDATE content SET title = 'Zephyr Stretch' WHERE id = (SELECT id FROM content "
            "WHERE series_id IS NULL AND deleted_at IS NULL LIMIT 1) RETURNING id")).scalar()
        elsewhere, other_series = conn.execute(text(
            "UPDATE content SET title = 'Zephyr Breath' WHERE id = (SELECT id FROM content "
            "WHERE deleted_at IS NULL AND series_id IS NOT NULL AND series_id <> :s LIMIT 1) "
            "RETURNING id, series_id"), {"s": series_id}).one()
    asked = []
    monkeypatch.setattr(series_add_dialog, "confirm",
                        lambda *a, **k: asked.append(k["text"]) or True)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    qtbot.mouseClick(d.add_items_button, Qt.MouseButton.LeftButton)
    add = d.findChild(AddToSeriesDialog)
    assert add is not None and add.isVisible()
    qtbot.waitUntil(lambda: add.results.count() > 0, timeout=WAIT)
    listed = {add.results.item(r).data(Qt.ItemDataRole.UserRole).id
              for r in range(add.results.count())}
    assert not listed & set(order)  # what is already in the series is not offered
    assert not add.add_button.isEnabled()

    qtbot.keyClicks(add.search, "zephyr")
    qtbot.waitUntil(lambda: add.results.count() == 2, timeout=WAIT)
    assert "now in" in add.results.item(0).text() or "now in" in add.results.item(1).text()
    add.results.selectAll()
    assert add.add_button.text() == "&Add 2 to series"
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(add.add_button, Qt.MouseButton.LeftButton)
    assert asked and "1 of the 2 item(s) will leave" in asked[0]
    assert not add.isVisible()
    assert d.items.ids()[:len(order)] == order
    assert set(d.items.ids()[len(order):]) == {loose, elsewhere}
    with demo_session_factory() as s:
        assert series_inconsistencies(s) == []
        assert get_series(s, series_id).item_ids == d.items.ids()
        assert elsewhere not in get_series(s, other_series).item_ids


def test_closing_with_unsaved_order_asks_first(qtbot, demo_database, demo_engine, monkeypatch):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    _drag_row(d, 0, len(order))
    asked = []
    monkeypatch.setattr(series_dialog_module, "confirm",
                        lambda *a, **k: asked.append(k["title"]) or False)
    qtbot.keyClick(d, Qt.Key.Key_Escape)
    assert asked == ["Unsaved changes"] and d.isVisible()
    monkeypatch.setattr(series_dialog_module, "confirm", lambda *a, **k: True)
    qtbot.keyClick(d, Qt.Key.Key_Escape)
    assert not d.isVisible()
    assert _stored_order(demo_engine, series_id) == order


@pytest.mark.parametrize("slug", ["Bad Slug", "-dash"])
def test_bad_slug_is_reported_under_the_field(qtbot, demo_database, demo_engine, slug):
    series_id, _title, _order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    field = d.form.field_widget("slug")
    field.selectAll()
    qtbot.keyClicks(field, slug)
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.form.error_text("slug") != "", timeout=WAIT)
    with demo_engine.connect() as conn:
        stored = conn.execute(text("SELECT slug FROM content_series WHERE id = :id"),
                              {"id": series_id}).scalar_one()
    assert stored == d.detail.slug != slug


def test_remove_item_from_series_keeps_catalog_consistent(
        qtbot, demo_database, demo_engine, demo_session_factory):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    assert not d.remove_item_button.isEnabled()  # nothing selected
    d.items.select_row(1)
    assert d.remove_item_button.isEnabled()
    with qtbot.waitSignal(d.series_changed, timeout=WAIT):
        qtbot.mouseClick(d.remove_item_button, Qt.MouseButton.LeftButton)
    assert d.items.ids() == [order[0], *order[2:]]
    assert _stored_order(demo_engine, series_id) == [order[0], *order[2:]]
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT series_id FROM content WHERE id = :id"),
                            {"id": order[1]}).scalar_one() is None
        action = conn.execute(text("SELECT action FROM admin.audit_log WHERE entity_id = :id"),
                              {"id": str(order[1])}).scalar_one()
    assert action == "content.move_series"
    with demo_session_factory() as s:
        assert series_inconsistencies(s) == []


def test_remove_item_waits_for_unsaved_changes(qtbot, demo_database, demo_engine):
    series_id, _title, order = _series_with_items(demo_engine)
    d = _open(qtbot, demo_database)
    _pick(qtbot, d, series_id)
    _drag_row(d, 0, len(order))
    d.items.select_row(0)
    assert not d.remove_item_button.isEnabled()
    assert "Save or revert" in d.remove_item_button.toolTip()
