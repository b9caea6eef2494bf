"""The main window: one tab per area, the status bar, and the keys that move between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from desktop.admin.list_page import Page
from desktop.database import Database
from desktop.demo_preparation import PREPARING, PREPARING_DATA, DemoPreparation
from desktop.formatting import set_time_zone, time_zone_name
from desktop.page_tabs import REFUNDS, TABS, TIERS, USERS
from desktop.role_ui import ask_privileges, follow_privileges
from widgets.banner import Banner

if TYPE_CHECKING:
    from desktop.refund_recovery import RefundRecovery


class MainWindow(QMainWindow):
    """Composes the pages and wires their signals in one place (``_connect_signals``).

    A page is built (and its module imported) when its tab is first shown. The demo's window
    opens on an empty server: until its data is made, every tab says so instead of building
    its page (nothing queries the database before); while its payments are prepared, the pages
    that show payments say so above the tabs."""

    def __init__(self, database: Database, settings: QSettings, parent: QWidget | None = None,
                 *, refund_recovery: RefundRecovery | None = None,
                 demo_preparation: DemoPreparation | None = None):
        super().__init__(parent)
        self.database = database
        self._settings = settings
        self.refund_recovery = refund_recovery
        backend = database.backend
        self.setWindowTitle(f"Platform Admin — {backend.label}")
        set_time_zone(backend.info.time_zone)  # before any page formats a time
        self._pages: dict[int, Page] = {}  # built when first shown (page_tabs)
        self.demo_preparation = demo_preparation
        self.tabs = QTabWidget()
        for tab in TABS:
            self.tabs.addTab(self._placeholder(), tab.title)
        self.demo_banner = Banner()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

        self.database_label = QLabel(
            "Demo database (throwaway)" if backend.is_demo
            else f"Database: {backend.label}")
        if backend.notes:  # db check warnings: the app works, less well (e.g. a missing index)
            self.database_label.setText(
                f"{self.database_label.text()} · {len(backend.notes)} schema warning(s)")
            self.database_label.setToolTip("\n".join(backend.notes))
        self.state_label = QLabel("Connected")
        self.user_label = QLabel(f"Signed in as {backend.info.database_user}")
        self.privileges = None
        self.role_label = QLabel("Role: asking the database…")
        self.time_zone_label = QLabel(f"Times in {time_zone_name()}")
        self.time_zone_label.setToolTip("Every date and time in the app is shown in the "
                                        "platform's time zone (its settings).")
        bar = self.statusBar()
        bar.addWidget(self.database_label)
        bar.addWidget(self.state_label)
        bar.addPermanentWidget(self.time_zone_label)
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.role_label)

        self._connect_signals()
        self._restore_settings()
        if self._data_ready:
            ask_privileges(database, self, self._on_privileges_read, self._on_privileges_failed)

    def _placeholder(self) -> QWidget:
        """A tab's content before its page is built: empty, or, while the demo's data is
        made, a line saying so (the page is built once the data is there)."""
        widget = QWidget()
        if not self._data_ready:
            label = QLabel(PREPARING_DATA)
            label.setObjectName("preparing")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            QVBoxLayout(widget).addWidget(label)
        return widget

    @property
    def _data_ready(self) -> bool:
        return self.demo_preparation is None or self.demo_preparation.data_ready

    def _connect_signals(self) -> None:
        self.database.state_changed.connect(self._on_database_state_changed)
        if self.refund_recovery is not None:
            self.refund_recovery.status_reported.connect(self._on_refund_recovery_status_reported)
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        if self.demo_preparation is not None:
            self.demo_preparation.progressed.connect(self._on_demo_preparation_progressed)
            self.demo_preparation.data_prepared.connect(self._on_demo_preparation_data_prepared)
            self.demo_preparation.finished.connect(self._on_demo_preparation_finished)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._on_find_shortcut)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, activated=self._on_refresh_shortcut)
        for i, tab in enumerate(TABS):
            QShortcut(QKeySequence(tab.shortcut), self,
                      activated=lambda i=i: self.tabs.setCurrentIndex(i))

    def _on_database_state_changed(self, state: str) -> None:
        if state == "connected":
            self.state_label.setText("Connected")
            self.state_label.setStyleSheet("")
        else:
            self.state_label.setText(f"Connection problem: {state}")
            self.state_label.setStyleSheet("color: #b00020; font-weight: bold")

    def _on_privileges_read(self, privileges) -> None:
        self.privileges = privileges
        self.role_label.setText(privileges.role_text)
        refusals = privileges.refusals()
        self.role_label.setToolTip(
            "\n".join(refusals.values()) if refusals else "This login may do everything here.")
        follow_privileges(self.database, privileges)

    def _on_privileges_failed(self, message: str) -> None:
        self.role_label.setText("Role unknown")
        self.role_label.setToolTip(message)

    def _on_refund_recovery_status_reported(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    def page(self, index: int) -> Page:
        """The page of tab ``index``, built (and put in its tab) if it was not yet shown."""
        page = self._pages.get(index)
        if page is not None:
            return page
        page = TABS[index].build(self.database)
        self._pages[index] = page
        placeholder = self.tabs.widget(index)
        current = self.tabs.currentIndex()
        blocked = self.tabs.blockSignals(True)  # swapping the tab is not the user moving
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, page, TABS[index].title)
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(blocked)
        placeholder.deleteLater()
        if index == TIERS:
            page.user_requested.connect(self._on_tiers_page_user_requested)
        return page

    @property
    def pages(self) -> list[Page]:
        """Every page, building those not yet shown (for whole-window checks and tests)."""
        return [self.page(i) for i in range(len(TABS))]

    @property
    def users_page(self) -> Page:
        return self.page(USERS)

    @property
    def refunds_page(self) -> Page:
        return self.page(REFUNDS)

    @property
    def tiers_page(self) -> Page:
        return self.page(TIERS)

    def _current_page(self) -> Page:
        return self.page(self.tabs.currentIndex())

    def _on_tabs_current_changed(self, index: int) -> None:
        if index < 0:
            return
        if self._data_ready:
            self.page(index)
        self._show_demo_banner()

    def _show_demo_banner(self) -> None:
        prep = self.demo_preparation
        tab = TABS[self.tabs.currentIndex()]
        if prep is not None and (prep.preparing_data or prep.data_failure):
            self.demo_banner.show_message(prep.data_failure or PREPARING_DATA)
        elif prep is not None and tab.reads_payments and (prep.preparing or prep.failure):
            self.demo_banner.show_message(prep.failure or PREPARING)
        else:
            self.demo_banner.setVisible(False)

    def _on_demo_preparation_progressed(self, text: str) -> None:
        self.statusBar().showMessage(text, 5_000)
        if not self._data_ready:
            self._set_placeholder_text(text)

    def _set_placeholder_text(self, text: str) -> None:
        label = self.tabs.currentWidget().findChild(QLabel, "preparing")
        if label is not None:
            label.setText(text)

    def _on_demo_preparation_data_prepared(self, failure: str) -> None:
        """The demo's data is there: the current page is built (and its first rows asked
        for), and what start-up asked the database for is asked now."""
        self._show_demo_banner()
        if failure:
            self.statusBar().showMessage(failure)
            for index in range(self.tabs.count()):
                label = self.tabs.widget(index).findChild(QLabel, "preparing")
                if label is not None:
                    label.setText(failure)
            return
        info = self.database.backend.info
        set_time_zone(info.time_zone)  # the demo's platform settings are there now
        self.time_zone_label.setText(f"Times in {time_zone_name()}")
        self.statusBar().showMessage("Demo data is ready.", 5_000)
        ask_privileges(self.database, self, self._on_privileges_read,
                       self._on_privileges_failed)
        self._on_tabs_current_changed(self.tabs.currentIndex())

    def _on_demo_preparation_finished(self, failure: str) -> None:
        self.statusBar().showMessage(failure or "Demo payments are ready.", 15_000)
        self._show_demo_banner()
        for index, page in self._pages.items():
            if TABS[index].reads_payments:
                page.refresh()

    def _on_tiers_page_user_requested(self, user_id) -> None:
        """A tier's subscriber: their record on the Users page."""
        self.users_page.detail.show(user_id)
        self.tabs.setCurrentWidget(self.users_page)

    def _on_find_shortcut(self) -> None:
        self._current_page().focus_search()

    def _on_refresh_shortcut(self) -> None:
        self._current_page().refresh()

    def _restore_settings(self) -> None:
        # The last tab first: its page is built before the geometry is restored, so the
        # window is restored within the page's minimum size, as when every page was built.
        self.tabs.setCurrentIndex(int(self._settings.value("window/tab", 0)))
        self._on_tabs_current_changed(self.tabs.currentIndex())
        geometry = self._settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)

    def save_settings(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/tab", self.tabs.currentIndex())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)
