"""The start dialog: open the demo or connect to a database, with errors in plain words."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import URL

from data.db import database_url_problem
from data.embedded import EmbeddedPostgres
from data.errors import DomainError, IncompatibleSchemaError, ValidationError
from desktop.database import Backend
from desktop.startup import open_demo, open_url
from widgets.operations import OperationCancelled, OperationRunner

DEMO_USERS = 2_000


class StartDialog(QDialog):
    """Chooses and opens a database; ``backend`` is set when it is accepted.

    Opening runs on a worker: the dialog stays responsive and shows progress.
    """

    def __init__(self, runner: OperationRunner, settings: QSettings, *,
                 demo_users: int = DEMO_USERS, stripe_api_base: str | None = None,
                 demo_server: Future[EmbeddedPostgres] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Platform Admin — open a database")
        self.setMinimumWidth(520)
        self._runner = runner
        self._settings = settings
        self._demo_users = demo_users
        self._stripe_api_base = stripe_api_base
        self._demo_server = demo_server  # started early by the command line; taken once
        self._claim = threading.Lock()  # who takes it: the opening work, or discard()
        self.backend: Backend | None = None

        intro = QLabel(
            "<b>Platform Admin</b><br>Open the demo (a throwaway database with made-up "
            "data, removed when you quit) or connect to the platform's database."
        )
        intro.setWordWrap(True)
        self.demo_button = QPushButton("Open the &demo")
        self.demo_button.clicked.connect(self._on_demo_clicked)

        box = QGroupBox("Connect to a database")
        form = QFormLayout(box)
        self.host = QLineEdit(settings.value("connection/host", "localhost"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(int(settings.value("connection/port", 5432)))
        self.database = QLineEdit(settings.value("connection/database", ""))
        self.user = QLineEdit(settings.value("connection/user", ""))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember this connection (not the password)")
        self.remember.setChecked(True)
        form.addRow("&Host", self.host)
        form.addRow("&Port", self.port)
        form.addRow("Data&base", self.database)
        form.addRow("&User", self.user)
        form.addRow("Pass&word", self.password)
        form.addRow("", self.remember)
        self.connect_button = QPushButton("&Connect")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self._on_connect_clicked)
        form.addRow("", self.connect_button)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.findings = QPlainTextEdit()
        self.findings.setReadOnly(True)
        self.findings.setVisible(False)
        self.findings.setMaximumHeight(140)

        row = QHBoxLayout()
        row.addWidget(self.demo_button)
        row.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(box)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.findings)

    # Public entry points (also used when the command line already says what to open).
    def open_demo(self) -> None:
        users, api_base = self._demo_users, self._stripe_api_base

        def work(ctx):
            server = None
            starting = self._take_demo_server()
            if starting is not None:
                ctx.report_progress(0, None, "Starting the embedded PostgreSQL…")
                server = starting.result()
                if ctx.cancelled:  # closed meanwhile (Ctrl+C): nobody will take it
                    server.stop()
                    raise OperationCancelled()
            backend = open_demo(users, ctx.report_progress, stripe_api_base=api_base,
                                server=server)
            if ctx.cancelled:
                backend.close()
                raise OperationCancelled()
            return backend

        self._start(work)

    def _take_demo_server(self) -> Future[EmbeddedPostgres] | None:
        with self._claim:
            starting, self._demo_server = self._demo_server, None
        return starting

    def discard(self) -> None:
        """After the dialog was closed without opening (its work done): stop what it
        opened or was handed and nobody took — the demo's server (its temp dir removed)."""
        if self.backend is not None:
            self.backend.close()
            self.backend = None
        starting = self._take_demo_server()
        if starting is not None:
            try:
                server = starting.result(timeout=120)
            except BaseException:  # noqa: BLE001 - it never started: nothing to stop
                return
            server.stop()

    def open_url(self, url: str | URL) -> None:
        problem = database_url_problem(url)  # the words the command line uses too
        if problem:
            self._show_error(problem)
            return
        api_base = self._stripe_api_base
        self._start(lambda ctx: open_url(url, ctx.report_progress, stripe_api_base=api_base))

    def _on_demo_clicked(self) -> None:
        self.open_demo()

    def _on_connect_clicked(self) -> None:
        if not self.database.text().strip():
            self._show_error("Database: enter the name of the database.")
            self.database.setFocus()
            return
        url = URL.create(
            "postgresql+psycopg",
            username=self.user.text().strip() or None,
            password=self.password.text() or None,
            host=self.host.text().strip() or None,
            port=self.port.value(),
            database=self.database.text().strip(),
        )
        if self.remember.isChecked():
            for key, value in (("host", self.host.text()), ("port", self.port.value()),
                               ("database", self.database.text()), ("user", self.user.text())):
                self._settings.setValue(f"connection/{key}", value)
        self.open_url(url)

    def _start(self, work) -> None:
        self._set_busy(True)
        self.status.setText("Opening…")
        self.findings.setVisible(False)
        self._runner.run(
            work,
            cancellable=True,
            on_success=self._on_open_succeeded,
            on_failure=self._on_open_failed,
            on_progress=self._on_open_progress,
            context=self,
        )

    def _on_open_progress(self, done: int, total: int | None, message: str) -> None:
        self.status.setText(message)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        else:
            self.progress.setRange(0, 0)

    def _on_open_succeeded(self, backend: Backend) -> None:
        self._set_busy(False)
        self.backend = backend
        self.accept()

    def _on_open_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, IncompatibleSchemaError):
            self._show_error(str(exc))
            self.findings.setPlainText("\n".join(exc.findings))
            self.findings.setVisible(True)
        elif isinstance(exc, ValidationError):
            self._show_error(" ".join(exc.field_errors.values()))
        elif isinstance(exc, DomainError):
            self._show_error(str(exc))
        else:
            self._show_error(f"Could not open the database: {exc}")

    def _show_error(self, text: str) -> None:
        self.status.setText(f"<span style='color:#b00020'>{text}</span>")
        self.status.setTextFormat(Qt.TextFormat.RichText)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)
        for w in (self.demo_button, self.connect_button):
            w.setEnabled(not busy)
