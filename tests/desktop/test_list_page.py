"""The page machinery, part by part, on the demo database: a declared list, its filters,
count, actions and announced changes; a declared detail's late answers."""

from __future__ import annotations

import dataclasses
import threading

from sqlalchemy import text

from data.operations.users import DeleteUser
from data.queries import users as user_queries
from desktop.admin.list_page import ListPage
from desktop.admin.record_detail import RecordDetail
from desktop.pages.users import PROFILE, USERS
from widgets import actions as actions_module
from widgets.actions import Action, Confirmation

WAIT = 20_000


def _page(qtbot, database, spec=USERS):
    page = ListPage(spec, database)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    return page


def test_a_choice_filter_builds_the_querys_filter_and_the_exact_count(qtbot, demo_database,
                                                                      demo_engine, qtmodeltester):
    page = _page(qtbot, demo_database)
    role = page.filters.widget("role")
    role.setCurrentIndex(role.findData("platform_owner"))
    with demo_engine.connect() as conn:
        owners = conn.execute(text(
            "SELECT count(*) FROM users WHERE role = 'platform_owner'")).scalar()
    qtbot.waitUntil(lambda: page.count_label.text() == f"{owners:,} users"
                    or page.count_label.text() == f"{owners:,} user", timeout=WAIT)
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    assert page.current_filter() == user_queries.UserFilter(role="platform_owner")
    assert {page.model.row_at(i).role for i in range(page.model.rowCount())} == \
        {"platform_owner"}
    qtmodeltester.check(page.model)


def test_a_late_count_for_an_older_filter_is_dropped(qtbot, demo_database):
    release = threading.Event()

    def slow_for_old(session, flt):
        if flt.search == "zzzz-old":
            release.wait(10)
        return user_queries.count_users(session, flt)

    page = _page(qtbot, demo_database, dataclasses.replace(USERS, count=slow_for_old))
    page.search.setText("zzzz-old")
    page.refresh()
    page.search.setText("")
    page.refresh()
    qtbot.waitUntil(lambda: page.count_label.text() not in ("", "Counting…"), timeout=WAIT)
    shown = page.count_label.text()
    release.set()
    demo_database.runner.wait_for_done(WAIT)
    qtbot.wait(100)
    assert page.count_label.text() == shown != "0 users"


def _delete_spec():
    return dataclasses.replace(USERS, actions=[Action(
        "&Delete…", operation=lambda r: DeleteUser(r.id, _version(r)),
        confirm=lambda r: Confirmation("Delete user", f"Delete {r.email}?", "Delete user",
                                       destructive=True))])


_versions: dict = {}


def _version(row):
    return _versions[row.id]


def _deleted_at(engine, user_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT deleted_at FROM users WHERE id = :i"),
                            {"i": user_id}).scalar()


def test_an_action_asks_first_and_declined_writes_nothing(qtbot, demo_database, demo_engine,
                                                          monkeypatch):
    page = _page(qtbot, demo_database, _delete_spec())
    row = page.model.row_at(2)
    with demo_engine.connect() as conn:
        _versions[row.id] = conn.execute(text("SELECT xmin::text::bigint FROM users "
                                              "WHERE id = :i"), {"i": row.id}).scalar()
    asked = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: asked.append(k["text"]) or False)
    page.view.select_row_by_key(row.id)
    page.actions.run(page.spec.actions[0])
    demo_database.runner.wait_for_done(WAIT)
    assert asked == [f"Delete {row.email}?"]
    assert _deleted_at(demo_engine, row.id) is None


def test_an_announced_change_reads_the_changed_row_again_without_f5(qtbot, demo_database,
                                                                    demo_engine):
    page = _page(qtbot, demo_database)
    detail = RecordDetail(PROFILE, demo_database)
    qtbot.addWidget(detail)
    row = page.model.row_at(1)
    detail.show(row.id)
    qtbot.waitUntil(lambda: detail.record is not None, timeout=WAIT)
    generation = page.model.generation
    demo_database.perform(DeleteUser(row.id, detail.record.version))
    qtbot.waitUntil(lambda: page.model.row_at(1).deleted_at is not None, timeout=WAIT)
    assert page.model.generation == generation  # the row was replaced, the list not reloaded
    # The detail showing that user follows as well (it reloads on the announcement).
    qtbot.waitUntil(lambda: detail.record.deleted_at is not None, timeout=WAIT)


def test_a_late_detail_answer_for_the_previous_selection_is_dropped(qtbot, demo_database):
    release = threading.Event()
    first, second = None, None

    def slow_for_first(session, user_id):
        if user_id == first:
            release.wait(10)
        return user_queries.get_user_detail(session, user_id)

    page = _page(qtbot, demo_database)
    first, second = page.model.row_at(0).id, page.model.row_at(1).id
    detail = RecordDetail(dataclasses.replace(PROFILE, load=slow_for_first), demo_database)
    qtbot.addWidget(detail)
    detail.show(first)
    detail.show(second)
    qtbot.waitUntil(lambda: detail.record is not None and detail.record.id == second,
                    timeout=WAIT)
    release.set()
    demo_database.runner.wait_for_done(WAIT)
    qtbot.wait(100)
    assert detail.record.id == second


def test_a_related_record_filter_finds_the_creator_and_lists_only_their_items(
        qtbot, demo_database, demo_engine):
    """Typed as staff would: part of a creator's email, pick them from the answers; the
    catalog then lists exactly that creator's items."""
    from PySide6.QtCore import Qt

    from desktop.pages.catalog import CatalogPage

    with demo_engine.connect() as conn:
        creator, email = conn.execute(text(
            "SELECT u.id, u.email FROM users u JOIN content c ON c.creator_id = u.id "
            "WHERE c.deleted_at IS NULL GROUP BY u.id ORDER BY count(*) DESC LIMIT 1")).one()
        theirs = {r[0] for r in conn.execute(text(
            "SELECT id FROM content WHERE creator_id = :c AND deleted_at IS NULL"),
            {"c": creator})}
    page = CatalogPage(demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 800)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    picker = page.filters.widget("creator")
    qtbot.keyClicks(picker.search_box, email.split("@")[0])
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.results.count() > 0, timeout=WAIT)
    match = next(picker.results.item(i) for i in range(picker.results.count())
                 if email in picker.results.item(i).text())
    qtbot.mouseClick(picker.results.viewport(), Qt.MouseButton.LeftButton,
                     pos=picker.results.visualItemRect(match).center())
    assert page.current_filter().creator_id == creator
    qtbot.waitUntil(lambda: not page.model.is_loading and {
        page.model.row_at(i).id for i in range(page.model.rowCount())} == theirs, timeout=WAIT)
