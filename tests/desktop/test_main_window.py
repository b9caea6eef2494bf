"""The shell: tabs, status bar, keys, remembered geometry and tab, connection state."""

from __future__ import annotations

from PySide6.QtCore import Qt

from data.db import make_engine, make_session_factory
from desktop.database import Backend
from desktop.main_window import MainWindow

WAIT = 15_000
TABS = ["Users", "Content catalog", "Subscription tiers", "Offerings", "Token balances",
        "Referral rewards", "Revenue", "Refunds", "Audit"]


def _window(qtbot, database, settings):
    w = MainWindow(database, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_one_tab_per_area_and_status_bar(qtbot, demo_database, settings):
    w = _window(qtbot, demo_database, settings)
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == TABS
    assert w.user_label.text() == "Signed in as postgres"
    assert w.database_label.text() == "Database: test database"
    assert w.state_label.text() == "Connected"


def test_keys_switch_tabs_focus_search_and_refresh(qtbot, demo_database, settings):
    w = _window(qtbot, demo_database, settings)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(w, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert w.tabs.currentIndex() == 2
    qtbot.keyClick(w, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert w.tabs.currentIndex() == 0
    qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.users_page.search.hasFocus()


def test_the_window_fits_a_laptop_screen(qtbot, demo_database, settings):
    """No page forces the window wider than a 1280-pixel screen (a long heading wraps)."""
    w = _window(qtbot, demo_database, settings)
    for i, page in enumerate(w.pages):  # every page built, as each would be when shown
        assert w.tabs.widget(i) is page
        assert page.minimumSizeHint().width() <= 1200, w.tabs.tabText(i)
    assert w.minimumSizeHint().width() <= 1280


def test_geometry_and_last_tab_are_remembered(qtbot, demo_database, settings):
    # Pages are built when first shown: not starting on Users, whose minimum width (about
    # 1080) exceeds the offscreen screen's 800, so the size below is one the screen can hold.
    settings.setValue("window/tab", 4)
    w = _window(qtbot, demo_database, settings)
    settings.setValue("window/tab", 0)  # what w2 opens on can only come from w's closing
    w.resize(760, 650)  # the offscreen screen is 800x800: restoring clamps to it
    w.tabs.setCurrentIndex(4)
    size = (w.width(), w.height())
    assert size != (1400, 860)  # not the first-start default
    w.close()
    w2 = _window(qtbot, demo_database, settings)
    assert w2.tabs.currentIndex() == 4
    assert (w2.width(), w2.height()) == size


def test_lost_connection_shows_in_status_bar(qtbot, demo_database, settings, runner):
    w = _window(qtbot, demo_database, settings)
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=WAIT)  # the pages' first loads
    real = demo_database.backend
    dead = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")
    demo_database.backend = Backend(dead, make_session_factory(dead), real.info, real.label)
    try:
        with qtbot.waitSignal(demo_database.state_changed, timeout=WAIT):
            demo_database.read(lambda s: s.execute(__import__("sqlalchemy").text("SELECT 1")),
                               on_failure=lambda e: None)
        assert "cannot be reached" in w.state_label.text()
    finally:
        demo_database.backend = real
        dead.dispose()


def test_schema_warnings_from_db_check_show_in_the_status_bar(qtbot, demo_database, settings):
    demo_database.backend.notes = ["WARNING users: index idx_users_role on (role) is missing"]
    w = _window(qtbot, demo_database, settings)
    assert w.database_label.text().endswith("1 schema warning(s)")
    assert "idx_users_role" in w.database_label.toolTip()


def test_times_are_shown_in_the_platform_time_zone_named_once(qtbot, demo_database, settings,
                                                              demo_engine):
    """The platform's timestamps are naive UTC; the ledger shows them in the platform's zone
    (Asia/Tokyo is UTC+9 all year), and the status bar names that zone."""
    import dataclasses
    import datetime as dt

    from sqlalchemy import text

    from data.db import connection_info

    with demo_engine.begin() as conn:
        old = conn.execute(text("SELECT timezone FROM platform_settings")).scalar()
        conn.execute(text("UPDATE platform_settings SET timezone = 'Asia/Tokyo'"))
    try:
        assert connection_info(demo_engine).time_zone == "Asia/Tokyo"
    finally:
        with demo_engine.begin() as conn:
            conn.execute(text("UPDATE platform_settings SET timezone = :tz"), {"tz": old})
    backend = demo_database.backend
    backend.info = dataclasses.replace(backend.info, time_zone="Asia/Tokyo")
    w = _window(qtbot, demo_database, settings)
    assert w.time_zone_label.text() == "Times in Asia/Tokyo"
    w.tabs.setCurrentIndex(TABS.index("Token balances"))
    page = w.tabs.currentWidget()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    page.view.selectRow(0)
    qtbot.waitUntil(lambda: page.ledger_model.rowCount() > 0
                    and not page.ledger_model.is_loading, timeout=WAIT)
    entry = page.ledger_model.row_at(0)
    column = next(i for i in range(page.ledger_model.columnCount())
                  if page.ledger_model.headerData(i, Qt.Orientation.Horizontal) == "Date")
    shown = page.ledger_model.index(0, column).data()
    assert shown == (entry.created_at + dt.timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
