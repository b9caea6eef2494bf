"""The Content catalog page driven as a person would: search, filter, edit, publish, delete,
bulk actions; every change checked in the database."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from decimal import Decimal

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from sqlalchemy import text

from data.queries.catalog import get_catalog_choices, get_content_detail
from desktop.pages import catalog as catalog_page_module
from desktop.pages.catalog import CatalogPage
from tests.data.catalog_factories import add_item
from widgets import actions as actions_module

WAIT = 15_000


@pytest.fixture
def page(qtbot, demo_database):
    p = CatalogPage(demo_database)
    qtbot.addWidget(p)
    p.resize(1500, 900)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    qtbot.waitUntil(lambda: bool(p.choices.creators), timeout=WAIT)
    return p


@pytest.fixture
def creator(demo_engine):
    with demo_engine.connect() as conn:
        return conn.execute(text(
            "SELECT id FROM users WHERE role = 'platform_owner' ORDER BY id LIMIT 1")).scalar()


def _rows(page):
    return [page.model.row_at(i) for i in range(page.model.rowCount())]


def _choose(page, name: str, value) -> None:
    """Pick ``value`` in the filter bar's choice ``name``, as a person would."""
    combo = page.filters.widget(name)
    combo.setCurrentIndex(combo.findData(value))


def _wait_list(qtbot, page):
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)


def _click_row(qtbot, page, index: int):
    model_index = page.model.index(index, 0)
    page.view.scrollTo(model_index)
    rect = page.view.visualRect(model_index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    row = page.model.row_at(index)
    qtbot.waitUntil(lambda: page.detail.record is not None and page.detail.record.id == row.id,
                    timeout=WAIT)
    return row


def _open_by_slug(qtbot, page, slug: str):
    """Search the item's slug as a person would and open the one row found."""
    page.search.clear()
    qtbot.keyClicks(page.search, slug)
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0
                    and all(r.slug.startswith(slug) or slug.split("-")[0] in r.title.lower()
                            for r in _rows(page)), timeout=WAIT)
    index = next(i for i, r in enumerate(_rows(page)) if r.slug == slug)
    return _click_row(qtbot, page, index)


def _db_item(engine, content_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT c.*, c.xmin::text AS v FROM content c WHERE id = :id"),
                            {"id": content_id}).one()


def _audit_actions(engine, content_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT action FROM admin.audit_log WHERE entity_id = :id ORDER BY id"),
            {"id": str(content_id)}).scalars().all()


def _replace_text(qtbot, line_edit, value: str):
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Delete)
    if value:
        qtbot.keyClicks(line_edit, value)


# -- list ------------------------------------------------------------------------------------

def test_first_page_lists_newest_published_and_hides_deleted(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        newest = conn.execute(text(
            "SELECT title FROM content WHERE deleted_at IS NULL ORDER BY "
            "coalesce(published_at, '-infinity') DESC, id DESC LIMIT 5")).scalars().all()
        live = conn.execute(text(
            "SELECT count(*) FROM content WHERE deleted_at IS NULL")).scalar()
    assert [r.title for r in _rows(page)[:5]] == newest
    qtbot.waitUntil(lambda: page.count_label.text() == f"{live:,} items", timeout=WAIT)
    assert page.view.model().headerData(5, Qt.Orientation.Horizontal) == "Price"
    free = next(i for i, r in enumerate(_rows(page)) if r.price is None)
    assert page.model.index(free, 5).data() == "Free"


def test_model_passes_qt_model_tester(qtmodeltester, page):
    qtmodeltester.check(page.model)


def test_typing_a_title_word_searches(qtbot, page):
    word = _rows(page)[0].title.split()[0][:4]
    qtbot.keyClicks(page.search, word)
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0
                    and page.search.text() == word
                    and all(any(w.lower().startswith(word.lower()) for w in r.title.split())
                            or r.slug.startswith(word.lower()) for r in _rows(page)),
                    timeout=WAIT)


def test_filters_and_sort(qtbot, page, demo_engine):
    _choose(page, "type", "audio")
    _choose(page, "status", "published")
    _choose(page, "sort", "price")
    _wait_list(qtbot, page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    rows = _rows(page)
    assert all(r.content_type == "audio" and r.status == "published" for r in rows)
    prices = [r.price or Decimal(0) for r in rows]
    assert prices == sorted(prices, reverse=True)


def test_deleted_items_only_when_asked(qtbot, page, demo_engine, creator):
    gone = add_item(demo_engine, creator, "Zzz Removed Lesson", slug="zzz-removed-lesson",
                    deleted=True)
    page.refresh()
    _wait_list(qtbot, page)
    qtbot.keyClicks(page.search, "zzz-removed")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    _wait_list(qtbot, page)
    assert page.model.rowCount() == 0
    _choose(page, "deleted", "deleted")
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    assert page.model.row_at(0).id == gone
    assert page.model.index(0, 2).data().startswith("deleted")


# -- editing ---------------------------------------------------------------------------------

def test_edit_and_save_updates_database_list_and_audit(qtbot, page, demo_engine):
    row = _click_row(qtbot, page, 0)
    editor = page.detail.editor
    _replace_text(qtbot, editor.title, "Renamed In The Catalog")
    assert editor.slug.text() == row.slug  # an existing item's slug is not re-proposed
    qtbot.keyClicks(editor.tags.entry, "fresh-tag")
    qtbot.keyClick(editor.tags.entry, Qt.Key.Key_Return)
    _replace_text(qtbot, editor.price, "7.5")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model.row_at(0).title == "Renamed In The Catalog",
                    timeout=WAIT)
    saved = _db_item(demo_engine, row.id)
    assert saved.title == "Renamed In The Catalog" and saved.price == Decimal("7.50")
    assert "fresh-tag" in saved.tags
    assert _audit_actions(demo_engine, row.id) == ["content.update"]
    assert not page.detail.save_button.isEnabled()


def test_slug_clash_is_shown_before_saving_and_nothing_is_written(qtbot, page, demo_engine):
    rows = _rows(page)
    taken = rows[1].slug
    row = _click_row(qtbot, page, 0)
    before = _db_item(demo_engine, row.id)
    editor = page.detail.editor
    _replace_text(qtbot, editor.slug, taken)
    qtbot.waitUntil(lambda: "already used" in editor.error_text("slug"), timeout=WAIT)
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.detail._busy, timeout=WAIT)
    assert "already used" in editor.error_text("slug")
    assert _db_item(demo_engine, row.id) == before


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("price", "-1", "negative"),
    ("price", "twelve", "not a number"),
    ("price", "1.999", "decimal places"),
    ("price", "100000000", "At most"),
    ("title", "T" * 501, "At most 500"),
    ("slug", "Not A Slug", "lowercase"),
])
def test_bad_input_is_named_under_the_field_and_nothing_is_written(qtbot, page, demo_engine,
                                                                    field, value, fragment):
    row = _click_row(qtbot, page, 0)
    before = _db_item(demo_engine, row.id)
    editor = page.detail.editor
    widget = {"price": editor.price, "title": editor.title, "slug": editor.slug}[field]
    if len(value) > 100:
        widget.setFocus()
        widget.selectAll()
        widget.insert(value)  # as a paste would
    else:
        _replace_text(qtbot, widget, value)
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.error_text(field) != "", timeout=WAIT)
    assert fragment in editor.error_text(field)
    assert _db_item(demo_engine, row.id) == before
    assert _audit_actions(demo_engine, row.id) == []


def test_save_after_someone_else_changed_the_item_is_refused_and_my_edits_kept(
        qtbot, page, demo_engine):
    page.resize(1400, 900)  # the window's first-start size: the banner wraps to 4 lines
    row = _click_row(qtbot, page, 0)
    with demo_engine.begin() as conn:  # another staff member, a real commit
        conn.execute(text("UPDATE content SET title = 'Changed Elsewhere', "
                          "category = 'Their Category' WHERE id = :id"), {"id": row.id})
    editor = page.detail.editor
    _replace_text(qtbot, editor.title, "My Edit")
    _replace_text(qtbot, editor.thumbnail_url, "https://cdn.example.com/mine.png")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT)
    assert "Someone else changed this item" in page.detail.banner.text()
    assert "Your unsaved changes are kept" in page.detail.banner.text()
    qtbot.waitUntil(lambda: page.detail._db.runner.active_count == 0, timeout=WAIT)
    banner = page.detail.banner  # four lines, none of them cut off
    qtbot.waitUntil(lambda: banner.height() >= banner.heightForWidth(banner.width()),
                    timeout=WAIT)
    # Theirs where only they changed; mine where I did; the clash said under the field.
    assert editor.category.currentText() == "Their Category"
    assert editor.title.text() == "My Edit"
    assert editor.thumbnail_url.text() == "https://cdn.example.com/mine.png"
    assert "“Changed Elsewhere”" in editor.error_text("title")
    assert editor.error_text("thumbnail_url") == ""
    assert _db_item(demo_engine, row.id).title == "Changed Elsewhere"
    assert page.model.row_at(0).title == "Changed Elsewhere"
    # Saving again writes mine on top of theirs.
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not editor.is_dirty, timeout=WAIT)
    saved = _db_item(demo_engine, row.id)
    assert (saved.title, saved.category, saved.thumbnail_url) == (
        "My Edit", "Their Category", "https://cdn.example.com/mine.png")


def test_new_written_item_with_body_and_preview(qtbot, page, demo_engine):
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    editor = page.detail.editor
    editor.content_type.setCurrentIndex(editor.content_type.findData("written"))
    assert editor.field_row_visible("content_body")
    assert not editor.field_row_visible("media_url")
    qtbot.keyClicks(editor.title, "Unique Breathing: Guide!")
    assert editor.slug.text() == "unique-breathing-guide"
    qtbot.keyClicks(editor.body, "Breathe in slowly.")
    qtbot.waitUntil(lambda: "Breathe in slowly." in editor.preview.toPlainText(), timeout=WAIT)
    editor.category.setEditText("Brand New Category")
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record is not None
                    and page.detail.record.slug == "unique-breathing-guide", timeout=WAIT)
    saved = _db_item(demo_engine, page.detail.record.id)
    assert saved.status == "draft" and saved.content_type == "written"
    assert "Breathe in slowly." in saved.content_body and "<head" not in saved.content_body
    assert saved.category == "Brand New Category"
    assert _audit_actions(demo_engine, saved.id) == ["content.create"]
    qtbot.waitUntil(lambda: "Brand New Category" in page.choices.categories, timeout=WAIT)


# -- publishing ------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "missing", "field", "reason"), [
    ("video", {"media_url": None}, "media_url", "needs a media URL"),
    ("audio", {"duration": None}, "media_duration_seconds", "needs a duration"),
    ("written", {"body": None}, "content_body", "needs a body"),
    ("video", {"price": None}, "price", "needs a price"),
])
def test_publish_refused_with_the_reason_shown(qtbot, page, demo_engine, creator, kind,
                                               missing, field, reason):
    slug = f"incomplete-{uuid.uuid4().hex[:8]}"
    item = add_item(demo_engine, creator, "Incomplete item", slug=slug, content_type=kind,
                    **{"body": "<p>x</p>", **missing})
    _open_by_slug(qtbot, page, slug)
    before = _db_item(demo_engine, item)
    assert page.publish_button.isEnabled()
    qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.banner.isVisible(), timeout=WAIT)
    assert "cannot be published" in page.detail.banner.text()
    assert reason in page.detail.banner.text()
    assert reason in page.detail.editor.error_text(field)
    assert _db_item(demo_engine, item) == before


def test_publish_archive_and_back_to_draft(qtbot, page, demo_engine, creator):
    slug = f"complete-{uuid.uuid4().hex[:8]}"
    item = add_item(demo_engine, creator, "Complete item", slug=slug)
    _open_by_slug(qtbot, page, slug)
    for button, status in ((page.publish_button, "published"),
                           (page.archive_button, "archived"),
                           (page.draft_button, "draft")):
        qtbot.waitUntil(button.isEnabled, timeout=WAIT)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda s=status: page.detail.record.status == s, timeout=WAIT)
        assert _db_item(demo_engine, item).status == status
        # The list's row reloads from the operation's announcement (a read of its own).
        qtbot.waitUntil(lambda s=status: page.model.row_at(0).status == s, timeout=WAIT)
    assert _audit_actions(demo_engine, item) == ["content.publish", "content.archive",
                                                 "content.draft"]


# -- delete and restore ----------------------------------------------------------------------

def test_soft_delete_after_confirmation_and_restore(qtbot, page, demo_engine, monkeypatch):
    asked = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: asked.append(k["confirm_label"]) or True)
    row = _click_row(qtbot, page, 0)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record.deleted_at is not None, timeout=WAIT)
    assert page.delete_button.text() == "Rest&ore…" and not page.publish_button.isEnabled()
    assert _db_item(demo_engine, row.id).deleted_at is not None
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record.deleted_at is None, timeout=WAIT)
    assert asked == ["Delete item", "Restore item"]
    assert _audit_actions(demo_engine, row.id) == ["content.soft_delete", "content.restore"]


def test_declined_confirmation_deletes_nothing(qtbot, page, demo_engine, monkeypatch):
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: False)
    row = _click_row(qtbot, page, 0)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert _db_item(demo_engine, row.id).deleted_at is None


def test_unsaved_edits_are_not_lost_when_the_selection_moves(qtbot, page, monkeypatch):
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: False)
    row = _click_row(qtbot, page, 0)
    _replace_text(qtbot, page.detail.editor.title, "Half-typed")
    page.view.selectRow(1)
    qtbot.wait(200)
    assert page.detail.record.id == row.id
    assert page.detail.editor.title.text() == "Half-typed"


# -- figures ---------------------------------------------------------------------------------

def test_figures_tab_shows_the_items_figures(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        content_id, n, gross, views = conn.execute(text(
            "SELECT c.id, count(p.id), sum(p.amount_paid), c.view_count FROM content c "
            "JOIN purchases p ON p.content_id = c.id AND p.status IN ('completed', 'refunded') "
            "WHERE c.deleted_at IS NULL GROUP BY c.id ORDER BY count(p.id) DESC, c.id "
            "LIMIT 1")).one()
    index = page.model.row_index(content_id)
    if index is None:
        _choose(page, "sort", "purchases")
        qtbot.waitUntil(lambda: page.model.row_index(content_id) is not None, timeout=WAIT)
        index = page.model.row_index(content_id)
    _click_row(qtbot, page, index)
    labels = page.detail.figure_labels
    qtbot.waitUntil(lambda: labels["purchases"].text() == f"{n:,}", timeout=WAIT)
    with demo_engine.connect() as conn:
        per_currency = conn.execute(text(
            "SELECT upper(currency), sum(amount_paid) FROM purchases WHERE content_id = :c "
            "AND status IN ('completed', 'refunded') GROUP BY 1 ORDER BY 2 DESC, 1"),
            {"c": content_id}).all()
    assert sum(amount for _c, amount in per_currency) == gross
    # One amount per currency, never added together (the demo has USD and EUR buyers).
    assert labels["gross"].text() == " · ".join(f"{a:,.2f} {c}" for c, a in per_currency)
    assert labels["views"].text() == f"{views:,}"


# -- bulk actions ----------------------------------------------------------------------------

def _select_ids(qtbot, page, ids):
    page.view.clearSelection()
    selection = page.view.selectionModel()
    for content_id in ids:
        selection.select(page.model.index(page.model.row_index(content_id), 0),
                         QItemSelectionModel.SelectionFlag.Select
                         | QItemSelectionModel.SelectionFlag.Rows)
    qtbot.waitUntil(page.bulk_button.isEnabled, timeout=WAIT)


def test_bulk_publish_with_one_incomplete_item_changes_nothing(qtbot, page, demo_engine,
                                                               creator):
    tag = uuid.uuid4().hex[:6]
    good = [add_item(demo_engine, creator, f"Bulk {tag} {i}", slug=f"bulk-{tag}-{i}")
            for i in range(2)]
    bad = add_item(demo_engine, creator, f"Bulk {tag} broken", slug=f"bulk-{tag}-x",
                   media_url=None)
    qtbot.keyClicks(page.search, f"bulk-{tag}")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3 and not page.model.is_loading,
                    timeout=WAIT)
    before = [_db_item(demo_engine, i) for i in (*good, bad)]
    _select_ids(qtbot, page, [*good, bad])
    qtbot.mouseClick(page.bulk_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(catalog_page_module.BulkActionsDialog)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT)
    assert "2 items will change" in dialog.summary.text()
    assert "1 cannot be changed" in dialog.summary.text()
    assert dialog.refused.rowCount() == 1
    assert dialog.refused.item(0, 0).text() == f"Bulk {tag} broken"
    assert "media URL" in dialog.refused.item(0, 1).text()
    assert not dialog.apply_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert [_db_item(demo_engine, i) for i in (*good, bad)] == before

    # Without the broken item, the same action applies to both, in one go.
    _select_ids(qtbot, page, good)
    qtbot.mouseClick(page.bulk_button, Qt.MouseButton.LeftButton)
    dialog = [d for d in page.findChildren(catalog_page_module.BulkActionsDialog)
              if d.isVisible()][0]
    dialog.action.setCurrentIndex(dialog.action.findData("set_category"))
    qtbot.keyClicks(dialog.category.lineEdit(), "Bulk Category")
    qtbot.waitUntil(lambda: dialog.preview is not None and dialog.apply_button.isEnabled()
                    and dialog.preview.value == "Bulk Category", timeout=WAIT)
    assert dialog.apply_button.text() == "&Set category of 2 items"
    with qtbot.waitSignal(dialog.bulk_applied, timeout=WAIT):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert {_db_item(demo_engine, i).category for i in good} == {"Bulk Category"}
    assert _db_item(demo_engine, bad).category is None
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() == 3,
                    timeout=WAIT)


def test_workflow_waits_while_there_are_unsaved_edits(qtbot, page):
    _click_row(qtbot, page, 0)
    assert page.delete_button.isEnabled()
    qtbot.keyClicks(page.detail.editor.title, " (edited)")
    assert not page.delete_button.isEnabled() and not page.archive_button.isEnabled()
    assert "Save or revert" in page.delete_button.toolTip()
    qtbot.mouseClick(page.detail.revert_button, Qt.MouseButton.LeftButton)
    assert page.delete_button.isEnabled()


def test_moving_an_item_into_a_series_keeps_the_series_order(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        series_id, title = conn.execute(text(
            "SELECT id, title FROM content_series WHERE deleted_at IS NULL "
            "ORDER BY lower(title), id LIMIT 1")).one()
    index = next(i for i, r in enumerate(_rows(page)) if r.series_id is None)
    row = _click_row(qtbot, page, index)
    combo = page.detail.editor.series
    combo.setCurrentIndex(combo.findData(str(series_id)))
    assert combo.currentText() == title
    qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.record.series_id == series_id, timeout=WAIT)
    with demo_engine.connect() as conn:
        order = conn.execute(text("SELECT content_order FROM content_series WHERE id = :id"),
                             {"id": series_id}).scalar()
    assert order[-1] == str(row.id) and order.count(str(row.id)) == 1
    assert _db_item(demo_engine, row.id).series_id == series_id


def test_series_button_opens_the_series_dialog_and_changes_refresh_choices(qtbot, page):
    from desktop.pages.series_dialog import SeriesDialog

    qtbot.mouseClick(page.series_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(SeriesDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0 and not dialog.model.is_loading,
                    timeout=WAIT)
    before = page.choices
    dialog.series_changed.emit()  # as after a save in the dialog
    qtbot.waitUntil(lambda: page.choices is not before, timeout=WAIT)
    dialog.reject()


def test_access_tab_lists_who_has_the_selected_item(qtbot, page, demo_engine):
    with demo_engine.connect() as conn:
        content_id, holders = conn.execute(text(
            "SELECT a.content_id, count(*) FROM content_access a JOIN content c "
            "ON c.id = a.content_id WHERE c.deleted_at IS NULL GROUP BY a.content_id "
            "ORDER BY count(*) DESC, a.content_id LIMIT 1")).one()
    _choose(page, "sort", "purchases")
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() > 0,
                    timeout=WAIT)
    index = page.model.row_index(content_id)
    assert index is not None
    _click_row(qtbot, page, index)
    panel = page.detail.access_panel
    page.detail.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.content_id == content_id and not panel.model.is_loading
                    and panel.model.rowCount() == holders, timeout=WAIT)
    assert panel.grant_button.isEnabled()


def test_featured_button_opens_the_featured_dialog(qtbot, page):
    from desktop.pages.featured_dialog import FeaturedContentDialog

    qtbot.mouseClick(page.featured_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(FeaturedContentDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()


# -- what the screen shows ----------------------------------------------------------------------

def test_several_selected_rows_show_the_count_and_the_bulk_actions_not_one_editor(
        qtbot, page):
    _click_row(qtbot, page, 0)
    assert page.detail.isVisible() and not page.many.isVisible()
    last = page.model.index(5, 0)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, page.view.visualRect(last).center())
    qtbot.waitUntil(lambda: page.many.isVisible(), timeout=WAIT)
    assert not page.detail.isVisible()  # no editor pretending the last row is the only one
    assert "6 selected" in page.many_title.text()
    assert page.many_bulk_button.isVisible() and page.many_bulk_button.isEnabled()
    for button in (page.publish_button, page.archive_button, page.draft_button,
                   page.delete_button):
        assert not button.isEnabled()
    dialog = None
    try:
        qtbot.mouseClick(page.many_bulk_button, Qt.MouseButton.LeftButton)
        dialog = page.findChild(catalog_page_module.BulkActionsDialog)
        assert dialog is not None and len(dialog.content_ids) == 6
    finally:
        if dialog is not None:
            dialog.reject()
    _click_row(qtbot, page, 2)  # back to one: the editor for that one
    assert page.detail.isVisible() and not page.many.isVisible()


def test_catalog_columns_fit_their_titles_and_values_at_a_normal_window_size(qtbot, page):
    page.resize(1400, 900)
    page.refresh()
    _wait_list(qtbot, page)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
    header = page.view.horizontalHeader()
    metrics = page.view.fontMetrics()
    for i, column in enumerate(page.model.columns):
        assert page.view.columnWidth(i) >= header.sectionSizeHint(i), column.title
        if column.title in ("Published", "Type", "Status", "Price", "Purchases", "Views"):
            longest = max(metrics.horizontalAdvance(column.text_for(page.model.row_at(r)))
                          for r in range(page.model.rowCount()))
            assert page.view.columnWidth(i) >= longest, column.title
    # Every column, "Published" included, is in sight beside the editor.
    assert header.length() <= page.view.viewport().width()


# -- writes in flight ---------------------------------------------------------------------------

def _hold_content_lock(demo_engine, content_id):
    """Another session locks the item's row: the app's write waits until it is released."""
    conn = demo_engine.connect()
    conn.execute(text("SELECT 1 FROM content WHERE id = :i FOR UPDATE"), {"i": content_id})
    return conn


def test_a_second_workflow_click_while_one_is_in_flight_writes_once_without_a_conflict(
        qtbot, page, demo_engine):
    row = next(i for i, r in enumerate(_rows(page))
               if r.status == "published" and r.deleted_at is None)
    item = _click_row(qtbot, page, row)
    lock = _hold_content_lock(demo_engine, item.id)
    try:
        qtbot.mouseClick(page.archive_button, Qt.MouseButton.LeftButton)
        for button in (page.archive_button, page.draft_button, page.delete_button,
                       page.detail.save_button):
            assert not button.isEnabled()
        qtbot.mouseClick(page.draft_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(page.archive_button, Qt.MouseButton.LeftButton)
    finally:
        lock.rollback()
        lock.close()
    qtbot.waitUntil(lambda: page.detail.record.status == "archived"
                    and page._db.runner.active_count == 0, timeout=WAIT)
    assert page.detail.banner.isHidden()
    assert page.draft_button.isEnabled()
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM content WHERE id = :i"),
                            {"i": item.id}).scalar() == "archived"
        assert conn.execute(text("SELECT count(*) FROM admin.audit_log WHERE entity_id = :i"),
                            {"i": str(item.id)}).scalar() == 1


def test_a_save_answered_after_another_item_was_selected_does_not_replace_it(
        qtbot, page, demo_engine, monkeypatch):
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: True)
    first = _click_row(qtbot, page, 0)
    page.detail.editor.title.clear()
    qtbot.keyClicks(page.detail.editor.title, "Saved Late")
    lock = _hold_content_lock(demo_engine, first.id)
    try:
        qtbot.mouseClick(page.detail.save_button, Qt.MouseButton.LeftButton)
        second = _click_row(qtbot, page, 1)
    finally:
        lock.rollback()
        lock.close()
    qtbot.waitUntil(lambda: page.model.row_at(0).title == "Saved Late", timeout=WAIT)
    qtbot.waitUntil(lambda: page._db.runner.active_count == 0, timeout=WAIT)
    assert page.detail.record.id == second.id
    assert page.detail.editor.title.text() == second.title
    assert page.view.current_row().id == second.id

def test_bulk_visibility_preview_names_the_change_and_enter_does_not_apply(
        qtbot, page, demo_engine, creator):
    tag = uuid.uuid4().hex[:6]
    ids = [add_item(demo_engine, creator, f"Vis {tag} {i}", slug=f"vis-{tag}-{i}")
           for i in range(2)]
    qtbot.keyClicks(page.search, f"vis-{tag}")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.rowCount() == 2 and not page.model.is_loading,
                    timeout=WAIT)
    _select_ids(qtbot, page, ids)
    qtbot.mouseClick(page.bulk_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(catalog_page_module.BulkActionsDialog)
    dialog.action.setCurrentIndex(dialog.action.findData("set_visibility"))
    dialog.visibility.setCurrentIndex(dialog.visibility.findData("public"))
    qtbot.waitUntil(lambda: dialog.preview is not None and dialog.apply_button.isEnabled()
                    and dialog.preview.value == "public", timeout=WAIT)
    summary = dialog.summary.text()
    assert "2 items: Purchased only (buyers) → Public (anyone): anyone can watch them free" \
        in summary
    assert dialog.visibility.currentText() == "Public (anyone)"
    assert not dialog.apply_button.isDefault()
    qtbot.keyClick(dialog.visibility, Qt.Key.Key_Return)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    page._db.runner.wait_for_done(WAIT)
    assert {_db_item(demo_engine, i).visibility for i in ids} == {"purchased_only"}
    dialog.reject()


# -- the machinery: confirmations, announcements, late answers ------------------------------

def test_an_action_asks_its_question_first_and_declined_writes_nothing(
        qtbot, page, demo_engine, monkeypatch):
    asked = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: asked.append(k) or False)
    row = _click_row(qtbot, page, 0)
    before = _db_item(demo_engine, row.id)
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    [question] = asked
    assert question["title"] == "Delete content" and question["destructive"]
    assert row.title in question["text"] and "restore it later" in question["informative"]
    page._db.runner.wait_for_done(WAIT)
    assert _db_item(demo_engine, row.id) == before
    assert _audit_actions(demo_engine, row.id) == []
    assert page.detail.record.deleted_at is None and page.delete_button.isEnabled()


def test_a_catalog_write_made_elsewhere_updates_the_list_row_and_the_detail_without_f5(
        qtbot, page, demo_engine):
    """Another part of the app (a dialog, another page) performs catalog operations: the
    announcement reloads the row in the list and the item in the detail; nobody refreshes."""
    from data.operations.catalog import ArchiveContent, UpdateContent

    rows = _rows(page)
    shown = _click_row(qtbot, page, 0)
    other = next(r for r in rows[1:] if r.status == "published" and r.deleted_at is None)
    fetches = []
    page.model.rows_loaded.connect(fetches.append)  # a whole-list reload would load rows
    version = int(_db_item(demo_engine, other.id).v)
    page._db.perform(ArchiveContent(other.id, version))
    qtbot.waitUntil(lambda: page.model.row_at(page.model.row_index(other.id)).status
                    == "archived", timeout=WAIT)
    page._db.perform(UpdateContent(shown.id, page.detail.record.version,
                                   {"title": "Renamed Elsewhere"}))
    qtbot.waitUntil(lambda: page.detail.editor.title.text() == "Renamed Elsewhere"
                    and page.model.row_at(0).title == "Renamed Elsewhere", timeout=WAIT)
    assert _db_item(demo_engine, other.id).status == "archived"
    assert fetches == []  # only the changed rows were read again, not the list
    assert page.detail.record.id == shown.id and not page.detail.banner.isVisible()


class _HeldLoad:
    """The detail's load, held back for one item until released: its answer comes late."""

    def __init__(self, held):
        self.held = held
        self.release = threading.Event()

    def load(self, session, content_id):
        if content_id == self.held:
            self.release.wait(WAIT / 1000)
        return get_content_detail(session, content_id)


def test_a_late_detail_answer_for_an_item_no_longer_selected_is_dropped(
        qtbot, demo_database, demo_engine):
    from desktop.admin.record_detail import RecordDetail
    from desktop.pages.catalog import CONTENT

    with demo_engine.connect() as conn:
        first, second = conn.execute(text(
            "SELECT id, title FROM content WHERE deleted_at IS NULL ORDER BY id LIMIT 2")).all()
    held = _HeldLoad(first.id)
    detail = RecordDetail(dataclasses.replace(CONTENT, load=held.load), demo_database)
    qtbot.addWidget(detail)
    detail.show(first.id)
    detail.show(second.id)  # the user moved on before the first answer came
    qtbot.waitUntil(lambda: detail.record is not None and detail.record.id == second.id,
                    timeout=WAIT)
    held.release.set()
    qtbot.waitUntil(lambda: demo_database.runner.active_count == 0, timeout=WAIT)
    assert detail.record.id == second.id
    assert detail.form.title.text() == second.title
    assert second.title in detail.title.text().replace("&amp;", "&")


# -- built over several turns ----------------------------------------------------------------

def _tab_titles(detail) -> list[str]:
    return [detail.tabs.tabText(i) for i in range(detail.tabs.count())]


def test_the_page_is_built_over_several_turns_with_the_same_tabs_as_built_at_once(
        qtbot, demo_database):
    stepped = CatalogPage(demo_database)
    qtbot.addWidget(stepped)
    stepped.resize(1500, 900)
    stepped.show()
    # The list and the toolbar at once; the editor and the detail's tabs on later turns.
    assert not stepped.built
    assert stepped.new_button.isVisible() and stepped.publish_button.isVisible()
    qtbot.waitUntil(lambda: stepped.built, timeout=WAIT)
    at_once = CatalogPage(demo_database)
    qtbot.addWidget(at_once)
    assert _tab_titles(at_once.detail) == _tab_titles(stepped.detail)  # read: built now
    assert at_once.built
    assert _tab_titles(stepped.detail) == ["Editor", "History", "Access", "Figures"]
    # Built in steps, it shows an item as one built at once does.
    qtbot.waitUntil(lambda: stepped.model.rowCount() > 0 and not stepped.model.is_loading,
                    timeout=WAIT)
    first = stepped.model.row_at(0)
    stepped.view.selectRow(0)
    qtbot.waitUntil(lambda: stepped.detail.record is not None
                    and stepped.detail.record.id == first.id, timeout=WAIT)
    assert stepped.detail.editor.title.text() == first.title
    assert stepped.detail.figure_labels["views"].text() == f"{first.view_count:,}"


def test_choices_read_before_the_editor_is_built_are_offered_in_it(
        qtbot, demo_database, demo_session_factory):
    with demo_session_factory() as session:
        choices = get_catalog_choices(session)
    assert choices.categories
    detail = catalog_page_module.ContentDetailPane(demo_database)
    qtbot.addWidget(detail)
    detail.set_choices(choices)  # as the page does when its filters' choices arrive
    assert not detail.built
    qtbot.waitUntil(lambda: detail.built, timeout=WAIT)
    category = detail.editor.category
    assert [category.itemText(i) for i in range(category.count())] == list(choices.categories)
