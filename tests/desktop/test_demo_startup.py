"""The demo's start: the main window first, its Stripe payments behind it, and page modules
imported only when their tab is first shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from data.services.refunds import load_refundable
from desktop.database import Database
from desktop.demo_preparation import DemoPreparation
from desktop.main_window import MainWindow
from desktop.startup import open_demo, open_filled_demo

WAIT = 60_000
ROOT = Path(__file__).parents[2]


def _real_intents(backend) -> int:
    with psycopg.connect(backend.embedded.libpq_dsn()) as conn:  # not the GUI-guarded engine
        return conn.execute("SELECT count(*) FROM purchases WHERE stripe_payment_intent_id"
                            " NOT LIKE 'pi_demo_%'").fetchone()[0]


@pytest.fixture
def demo_backend():
    backend = open_filled_demo(120, real_payments=3, real_bookings=2)
    yield backend
    backend.close()


@pytest.fixture
def filled_demo(demo_backend, runner):
    """The filled demo's Database, closed as the app closes it: work in flight (the window's
    rights question) cancelled and waited for before the engine goes, so no worker hands a
    connection back to a disposed pool."""
    database = Database(demo_backend, runner)
    yield database
    database.close()


def _has_users_table(backend) -> bool:
    with psycopg.connect(backend.embedded.libpq_dsn()) as conn:
        return conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone()[0]


@pytest.fixture
def bare_demo(runner):
    """The demo's database as the main window first gets it: the server up, no schema, no
    data. Closed as the app closes it (work in flight cancelled and waited for first)."""
    database = Database(open_demo(120, lambda *a: None, real_payments=3, real_bookings=2),
                        runner)
    yield database
    database.close()


def test_the_window_shows_before_the_demo_data_and_every_page_says_so_until_it_loads(
        qtbot, settings, bare_demo):
    database = bare_demo
    backend = database.backend
    preparation = DemoPreparation(database)
    window = MainWindow(database, settings, demo_preparation=preparation)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert not _has_users_table(backend)  # the window is up on an empty server

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_7, Qt.Key.Key_9):  # any page
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
        assert window.demo_banner.isVisible()
        assert window.demo_banner.text() == "Preparing demo data…"
        shown = window.tabs.currentWidget()
        assert type(shown).__name__ == "QWidget"  # no page built, nothing queried
        assert shown.findChild(QLabel, "preparing").text().startswith("Preparing demo data…")
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # Users

    with qtbot.waitSignal(preparation.data_prepared, timeout=WAIT) as blocker:
        preparation.start()
    assert blocker.args == [""]
    users = window.tabs.currentWidget()
    assert users is window.users_page  # built once the data is there
    qtbot.waitUntil(lambda: users.model.rowCount() > 0 and not users.model.is_loading,
                    timeout=WAIT)
    assert window.demo_banner.text().startswith("Preparing demo payments…")  # Users: next
    assert window.role_label.text() != "Role: asking the database…"  # asked once ready
    window.activateWindow()  # offscreen, the window loses activation when a page is built
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # Catalog
    assert not window.demo_banner.isVisible()
    catalog = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: catalog.model.rowCount() > 0, timeout=WAIT)
    with qtbot.waitSignal(preparation.finished, timeout=WAIT):
        pass
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert not window.demo_banner.isVisible()


def test_demo_data_that_cannot_be_made_is_said_on_every_page_and_nothing_loads(
        qtbot, settings, bare_demo):
    """The fill refuses fewer than 20 users: a real refusal of the real fill."""
    backend = bare_demo.backend
    backend.demo_data = type(backend.demo_data)(backend.embedded, 5)
    preparation = DemoPreparation(bare_demo)
    window = MainWindow(bare_demo, settings, demo_preparation=preparation)
    qtbot.addWidget(window)
    window.show()
    finished = []
    preparation.finished.connect(finished.append)
    with qtbot.waitSignal(preparation.data_prepared, timeout=WAIT) as blocker:
        preparation.start()
    [failure] = blocker.args
    assert failure.startswith("The demo's data could not be made (users must be at least 20")
    assert failure.endswith("Quit and start the demo again.")
    for index in (0, 4, 8):
        window.tabs.setCurrentIndex(index)
        assert window.demo_banner.isVisible() and window.demo_banner.text() == failure
        assert window.tabs.currentWidget().findChild(QLabel, "preparing").text() == failure
    qtbot.wait(50)
    assert finished == [] and bare_demo.gateway is None  # no payments made after it


def test_closing_the_window_while_the_demo_data_is_made_stops_it_and_the_server(
        qtbot, runner, settings):
    """What ``run_app`` does once the window is closed: ``Database.close`` cancels the
    preparation (it stops between migrations or fill stages; its transaction rolls back),
    waits for it, and stops the server, whose temp directory goes."""
    backend = open_demo(2_000, lambda *a: None)
    directory = backend.embedded.directory
    database = Database(backend, runner)
    preparation = DemoPreparation(database)
    window = MainWindow(database, settings, demo_preparation=preparation)
    qtbot.addWidget(window)
    window.show()
    outcomes = []
    preparation.data_prepared.connect(outcomes.append)
    with qtbot.waitSignal(preparation.progressed, timeout=WAIT):
        preparation.start()
    window.close()
    database.close()
    assert not directory.exists() and backend.embedded is None
    qtbot.wait(50)  # the cancelled outcome is delivered: nothing said, nothing built
    assert outcomes == [] and backend.demo_data is not None
    assert type(window.tabs.currentWidget()).__name__ == "QWidget"


def test_the_window_shows_before_demo_payments_and_payment_pages_say_so(
        qtbot, settings, filled_demo):
    database = filled_demo
    demo_backend = database.backend
    preparation = DemoPreparation(database)
    window = MainWindow(database, settings, demo_preparation=preparation)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert _real_intents(demo_backend) == 0 and database.gateway is None

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(window, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)  # Refunds
    assert window.tabs.currentWidget() is window.refunds_page
    assert window.demo_banner.isVisible()
    assert window.demo_banner.text().startswith("Preparing demo payments…")
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # no payments
    assert not window.demo_banner.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # purchases
    assert window.demo_banner.isVisible()

    with qtbot.waitSignal(preparation.finished, timeout=WAIT) as blocker:
        preparation.start()
    assert blocker.args == [""]
    assert not window.demo_banner.isVisible()
    assert window.statusBar().currentMessage() == "Demo payments are ready."
    assert _real_intents(demo_backend) == 3 and database.gateway is not None

    refusals = {}

    def newest_purchase_refusal():  # the engine refuses SQL on the GUI thread
        with demo_backend.session_factory() as s:
            from sqlalchemy import text
            newest = s.execute(text(
                "SELECT id FROM purchases WHERE stripe_payment_intent_id NOT LIKE 'pi_demo_%'"
                " LIMIT 1")).scalar_one()
            refusals["newest"] = load_refundable(s, "purchase", newest).refusal

    thread = threading.Thread(target=newest_purchase_refusal)
    thread.start()
    thread.join(60)
    assert refusals == {"newest": None}  # refundable through the demo's Stripe now


def test_a_failed_preparation_is_said_in_a_sentence_on_the_payment_pages(
        qtbot, settings, filled_demo):
    """The demo's Stripe cannot be made to fail its PaymentIntents on demand: the demo is
    pointed at a Stripe address where nothing listens (a real refused connection)."""
    database = filled_demo
    demo_backend = database.backend
    demo_backend.demo_payments = type(demo_backend.demo_payments)(
        demo_backend.demo_payments.server, "http://127.0.0.1:9", 3, 2)
    preparation = DemoPreparation(database)
    window = MainWindow(database, settings, demo_preparation=preparation)
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentIndex(7)  # Refunds
    with qtbot.waitSignal(preparation.finished, timeout=WAIT) as blocker:
        preparation.start()
    [failure] = blocker.args
    assert failure.startswith("The demo's payments could not be prepared")
    assert failure.endswith("refunds are disabled in this demo.")
    assert window.demo_banner.isVisible() and window.demo_banner.text() == failure
    assert "Traceback" not in failure and database.gateway is None


def test_pages_are_built_when_their_tab_is_first_shown(qtbot, demo_database, settings):
    window = MainWindow(demo_database, settings)
    qtbot.addWidget(window)
    window.show()
    assert type(window.tabs.widget(6)).__name__ == "QWidget"  # Revenue: not built yet
    window.tabs.setCurrentIndex(6)
    assert type(window.tabs.widget(6)).__name__ == "RevenuePage"
    assert window.tabs.currentIndex() == 6 and window.tabs.tabText(6) == "Revenue"


def test_the_demo_window_shows_without_the_chart_library_and_quits_cleanly(tmp_path):
    """The real app, offscreen: by the time its window is first shown, pyqtgraph (only the
    chart pages need it) and alembic (the demo's schema is made behind the window) are not
    imported; it quits there, while its data is being made, and its server's temp directory
    is gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path), PLATFORM_ADMIN_REPORT_SHOWN="1")
    done = subprocess.run([sys.executable, "-m", "desktop.cli", "--demo", "--demo-users", "20"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert "window_shown" in lines, done.stdout + done.stderr
    assert not {"pyqtgraph", "alembic"} & set(lines["loaded_at_shown"].split(","))
    log = (tmp_path / "platform-admin" / "platform-admin.log").read_text()
    [directory] = set(re.findall(r"/\S*platform-admin-pg-[A-Za-z0-9_]+", log))
    assert not Path(directory).exists()
