"""The Access panel and grant dialog driven as a person would, on the demo database."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from desktop.pages import content_access as access_module
from desktop.pages.content_access import ContentAccessPanel

WAIT = 15_000


@pytest.fixture
def purchased(demo_engine):
    """A published item with at least two purchased access rows, and one buyer."""
    with demo_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT c.id, c.title, count(*) AS n FROM content c JOIN content_access a "
            "ON a.content_id = c.id WHERE a.access_type = 'purchased' AND c.deleted_at IS NULL "
            "GROUP BY c.id, c.title HAVING count(*) >= 2 ORDER BY count(*) DESC, c.id LIMIT 1"
        )).one()
        buyer = conn.execute(text(
            "SELECT u.id, u.email FROM content_access a JOIN users u ON u.id = a.user_id "
            "WHERE a.content_id = :c AND a.access_type = 'purchased' AND u.deleted_at IS NULL "
            "ORDER BY u.email LIMIT 1"),
            {"c": row.id}).one()
    return row, buyer


@pytest.fixture
def outsider(demo_engine, purchased):
    """An active customer with no access row for the item."""
    item, _buyer = purchased
    with demo_engine.connect() as conn:
        return conn.execute(text(
            "SELECT id, email, full_name FROM users u WHERE role = 'customer' "
            "AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM content_access a "
            "WHERE a.user_id = u.id AND a.content_id = :c) ORDER BY email LIMIT 1"),
            {"c": item.id}).one()


@pytest.fixture
def panel(qtbot, demo_database, purchased):
    p = ContentAccessPanel(demo_database)
    qtbot.addWidget(p)
    p.resize(900, 500)
    p.show()
    item, _buyer = purchased
    p.show_content(item.id, item.title)
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading
                    and "with access" in p.summary.text(), timeout=WAIT)
    return p


def _rows(panel):
    return [panel.model.row_at(i) for i in range(panel.model.rowCount())]


def _access(engine, item_id, user_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT access_type, expires_at, expires_at IS NULL OR expires_at > localtimestamp "
            "AS active FROM content_access WHERE content_id = :c AND user_id = :u"),
            {"c": item_id, "u": user_id}).first()


def _select(qtbot, panel, user_id):
    row = next(i for i, r in enumerate(_rows(panel)) if r.user_id == user_id)
    index = panel.model.index(row, 0)
    panel.view.scrollTo(index)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.view.visualRect(index).center())
    assert panel.view.current_row().user_id == user_id


def _grant(qtbot, panel, search: str, *, days: int | None = None):
    dialog = panel.open_grant_dialog()
    qtbot.keyClicks(dialog.search, search)
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.count() > 0, timeout=WAIT)
    dialog.results.setFocus()
    dialog.results.setCurrentRow(0)
    if days is not None:
        dialog.expires.setChecked(True)
        dialog.expiry_date.setDate(dialog.expiry_date.date().addDays(days - 30))
    return dialog


def test_lists_who_has_access_and_why(panel, purchased, demo_engine):
    item, buyer = purchased
    with demo_engine.connect() as conn:
        expected = dict(conn.execute(text(
            "SELECT access_type, count(*) FROM content_access WHERE content_id = :c "
            "AND (expires_at IS NULL OR expires_at > localtimestamp) GROUP BY 1"),
            {"c": item.id}).all())
    rows = _rows(panel)
    assert buyer.id in {r.user_id for r in rows if r.access_type == "purchased"}
    assert f"{expected['purchased']:,} purchased" in panel.summary.text()
    assert rows == sorted(rows, key=lambda r: (r.granted_at, r.id), reverse=True)


def test_grant_with_expiry_then_revoke(qtbot, panel, purchased, outsider, demo_engine,
                                       monkeypatch):
    item, _buyer = purchased
    dialog = _grant(qtbot, panel, outsider.email, days=10)
    assert dialog.chosen_user.id == outsider.id
    with qtbot.waitSignal(panel.access_changed, timeout=WAIT):
        qtbot.mouseClick(dialog.grant_button, Qt.MouseButton.LeftButton)
    granted = _access(demo_engine, item.id, outsider.id)
    assert granted.access_type == "complimentary" and granted.active
    assert granted.expires_at.time().isoformat() == "23:59:59"
    qtbot.waitUntil(lambda: not panel.model.is_loading and outsider.id in
                    {r.user_id for r in _rows(panel)}, timeout=WAIT)
    qtbot.waitUntil(lambda: "1 complimentary" in panel.summary.text(), timeout=WAIT)

    _select(qtbot, panel, outsider.id)
    assert panel.revoke_button.isEnabled()
    monkeypatch.setattr(access_module, "confirm", lambda *a, **k: True)
    with qtbot.waitSignal(panel.access_changed, timeout=WAIT):
        qtbot.mouseClick(panel.revoke_button, Qt.MouseButton.LeftButton)
    assert not _access(demo_engine, item.id, outsider.id).active
    qtbot.waitUntil(lambda: not panel.model.is_loading and any(
        r.user_id == outsider.id and not r.active for r in _rows(panel)), timeout=WAIT)
    with demo_engine.connect() as conn:
        actions = conn.execute(text(
            "SELECT action FROM admin.audit_log WHERE entity_id = :c ORDER BY id"),
            {"c": str(item.id)}).scalars().all()
    assert actions == ["content_access.grant", "content_access.revoke"]


def test_declined_revoke_changes_nothing(qtbot, panel, purchased, outsider, demo_engine,
                                         monkeypatch):
    item, _buyer = purchased
    dialog = _grant(qtbot, panel, outsider.email)
    with qtbot.waitSignal(panel.access_changed, timeout=WAIT):
        qtbot.keyClick(dialog.results, Qt.Key.Key_Return)  # Enter grants (default button)
    qtbot.waitUntil(lambda: not panel.model.is_loading and outsider.id in
                    {r.user_id for r in _rows(panel)}, timeout=WAIT)
    _select(qtbot, panel, outsider.id)
    monkeypatch.setattr(access_module, "confirm", lambda *a, **k: False)
    qtbot.mouseClick(panel.revoke_button, Qt.MouseButton.LeftButton)
    assert _access(demo_engine, item.id, outsider.id).active


def test_buyer_cannot_be_revoked_or_granted_over(qtbot, panel, purchased, demo_engine):
    item, buyer = purchased
    _select(qtbot, panel, buyer.id)
    assert not panel.revoke_button.isEnabled()
    assert "refunded" in panel.revoke_button.toolTip()

    dialog = _grant(qtbot, panel, buyer.email)
    qtbot.mouseClick(dialog.grant_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.user_error.isVisible(), timeout=WAIT)
    assert f"{buyer.email} already bought it" in dialog.user_error.text()
    assert dialog.isVisible()
    assert _access(demo_engine, item.id, buyer.id).access_type == "purchased"
    dialog.reject()


def test_search_shows_matches_and_says_when_nobody_matches(qtbot, panel, outsider):
    dialog = panel.open_grant_dialog()
    assert not dialog.grant_button.isEnabled()  # nobody chosen yet
    qtbot.keyClicks(dialog.search, "zzzz-nobody")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results_note.text() == "Nobody matches.", timeout=WAIT)
    dialog.search.clear()
    qtbot.keyClicks(dialog.search, outsider.email)
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.count() == 1, timeout=WAIT)
    assert outsider.email in dialog.results.item(0).text()
    dialog.reject()


def test_no_item_means_no_grant(qtbot, demo_database):
    p = ContentAccessPanel(demo_database)
    qtbot.addWidget(p)
    assert not p.grant_button.isEnabled() and p.open_grant_dialog() is None
    assert "Select an item" in p.summary.text()


def test_choosing_someone_else_while_a_grant_is_in_flight_does_not_offer_a_second_grant(
        qtbot, panel, purchased, demo_engine):
    item, _buyer = purchased
    dialog = panel.open_grant_dialog()
    qtbot.keyClicks(dialog.search, "a")
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.results.count() > 1, timeout=WAIT)
    dialog.results.setCurrentRow(0)
    first = dialog.chosen_user
    # Another session inserts the same access row and keeps its transaction open: the
    # app's grant waits on it, a real write in flight.
    other = demo_engine.connect()
    other.execute(text(
        "INSERT INTO content_access (user_id, content_id, access_type) "
        "VALUES (:u, :c, 'complimentary') ON CONFLICT DO NOTHING"),
        {"u": first.id, "c": item.id})
    try:
        qtbot.mouseClick(dialog.grant_button, Qt.MouseButton.LeftButton)
        dialog.results.setCurrentRow(1)
        assert dialog.chosen_user.id != first.id
        assert not dialog.grant_button.isEnabled()
    finally:
        other.rollback()
        other.close()
    with qtbot.waitSignal(panel.access_changed, timeout=WAIT):
        pass
    with demo_engine.connect() as conn:
        granted = conn.execute(text(
            "SELECT user_id FROM content_access WHERE content_id = :c "
            "AND access_type = 'complimentary'"), {"c": item.id}).scalars().all()
    assert granted == [first.id]
