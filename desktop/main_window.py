"""The main window: one tab per area, the status bar, and the keys that move between them."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from desktop.admin.list_page import Page
from desktop.database import Database
from desktop.formatting import set_time_zone, time_zone_name
from desktop.pages.audit import AuditPage
from desktop.pages.catalog import CatalogPage
from desktop.pages.offerings import OfferingsPage
from desktop.pages.referrals import ReferralsPage
from desktop.pages.refunds import RefundsPage
from desktop.pages.revenue import RevenuePage
from desktop.pages.tiers import TiersPage
from desktop.pages.token_balances import TokenBalancesPage
from desktop.pages.users import UsersPage
from desktop.refund_recovery import RefundRecovery
from desktop.role_ui import apply_privileges, ask_privileges


class MainWindow(QMainWindow):
    """Composes the pages and wires their signals in one place (``_connect_signals``)."""

    def __init__(self, database: Database, settings: QSettings, parent: QWidget | None = None,
                 *, refund_recovery: RefundRecovery | None = None):
        super().__init__(parent)
        self.database = database
        self._settings = settings
        self.refund_recovery = refund_recovery
        backend = database.backend
        self.setWindowTitle(f"Platform Admin — {backend.label}")
        set_time_zone(backend.info.time_zone)  # before any page formats a time
        self.users_page = UsersPage(database)
        self.refunds_page = RefundsPage(database)
        self.tiers_page = TiersPage(database)
        self.pages: list[Page] = [
            self.users_page,
            CatalogPage(database),
            self.tiers_page,
            OfferingsPage(database),
            TokenBalancesPage(database),
            ReferralsPage(database),
            RevenuePage(database),
            self.refunds_page,
            AuditPage(database),
        ]
        self.tabs = QTabWidget()
        for page in self.pages:
            self.tabs.addTab(page, page.title)
        self.setCentralWidget(self.tabs)

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
        ask_privileges(database, self, self._on_privileges_read, self._on_privileges_failed)

    def _connect_signals(self) -> None:
        self.database.state_changed.connect(self._on_database_state_changed)
        if self.refund_recovery is not None:
            self.refund_recovery.status_reported.connect(self._on_refund_recovery_status_reported)
        self.tiers_page.user_requested.connect(self._on_tiers_page_user_requested)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self._on_find_shortcut)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, activated=self._on_refresh_shortcut)
        for i, page in enumerate(self.pages):
            QShortcut(QKeySequence(page.shortcut), self,
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
        apply_privileges(self, privileges)

    def _on_privileges_failed(self, message: str) -> None:
        self.role_label.setText("Role unknown")
        self.role_label.setToolTip(message)

    def _on_refund_recovery_status_reported(self, message: str) -> None:
        self.statusBar().showMessage(message, 15_000)

    def _current_page(self) -> Page:
        return self.pages[self.tabs.currentIndex()]

    def _on_tiers_page_user_requested(self, user_id) -> None:
        """A tier's subscriber: their record on the Users page."""
        self.users_page.detail.show(user_id)
        self.tabs.setCurrentWidget(self.users_page)

    def _on_find_shortcut(self) -> None:
        self._current_page().focus_search()

    def _on_refresh_shortcut(self) -> None:
        self._current_page().refresh()

    def _restore_settings(self) -> None:
        geometry = self._settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        self.tabs.setCurrentIndex(int(self._settings.value("window/tab", 0)))

    def save_settings(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/tab", self.tabs.currentIndex())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        super().closeEvent(event)
