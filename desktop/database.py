"""The app's handle on the database: where it is, and operations that use it off the GUI thread.

:class:`Backend` is what start-up produces (engine, session factory, who we are, how to close).
:class:`Database` is what pages use: Anki's ``QueryOp``/``CollectionOp`` shape on top of the
widgets' :class:`OperationRunner`. Reads get a session of their own on a worker thread; writes
get a transaction (``session_factory.begin()``) on the single serial worker, so a person's own
changes stay in order; Stripe calls (:meth:`Database.run_payment`) have a serial queue of
their own, so a slow Stripe never holds up a save.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from data.db import ConnectionInfo, explain_connection_error, is_connection_error
from data.db_errors import translate_db_error
from data.embedded import EmbeddedPostgres
from data.errors import DomainError
from data.operations import (
    BatchOperation,
    Changes,
    ConnectionOperation,
    Operation,
    PaymentOperation,
    run_in_transaction,
)
from widgets.lazy_table import Page, PageFetcher
from widgets.operations import (
    PAYMENTS_QUEUE,
    OperationCancelled,
    OperationHandle,
    OperationRunner,
)
from widgets.rights import Rights

if TYPE_CHECKING:  # the Stripe library is imported when a payment is first needed
    from data.payments import LocalStripe, StripeGateway


@dataclass
class Backend:
    """A connected database: built by start-up, closed when the window closes."""

    engine: Engine
    session_factory: sessionmaker[Session]
    info: ConnectionInfo
    label: str
    embedded: EmbeddedPostgres | None = None
    notes: list[str] = field(default_factory=list)
    gateway: StripeGateway | None = None
    """None when no Stripe key is configured: refunds are then disabled."""
    local_stripe: LocalStripe | None = None
    """The demo's own localstripe process, stopped by :meth:`close`."""
    stripe_notes: list[str] = field(default_factory=list)
    """Why refunds are disabled, or what to know about the Stripe key (never the key)."""
    demo_data: Any = None
    """The demo's schema and data still to make behind the window (``desktop.startup.DemoData``);
    None once made, and for a real database. Nothing may query the database before."""
    demo_payments: Any = None
    """The demo's payments still to make behind the window (``desktop.startup.DemoPayments``);
    None once made, and for a real database."""

    @property
    def is_demo(self) -> bool:
        return self.embedded is not None

    def close(self) -> None:
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
        if self.local_stripe is not None:
            self.local_stripe.stop()
            self.local_stripe = None


class Database(QObject):
    """Runs data work off the GUI thread and tracks whether the connection is healthy.

    Signals:
        state_changed(str): "connected", or a plain-words reason the connection failed.
        changed(object): an operation committed; the :class:`Changes` it announced. Pages
            subscribe and reload what shows those rows (emitted before the operation's own
            ``on_success``).
    """

    state_changed = Signal(str)
    changed = Signal(object)

    def __init__(self, backend: Backend, runner: OperationRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.backend = backend
        self.runner = runner
        self._state = "connected"
        self._closed = threading.Event()
        self.rights = Rights(self)
        """What this login may not do (read at start: :mod:`desktop.role_ui`); everything
        that builds a control needing a right asks it (:meth:`Rights.guard`)."""

    def close(self) -> None:
        """Stop using the database: cancel and wait for work in flight, then close the backend.

        Work asked for afterwards (a table's answer arriving late asks for its next page; a
        timer fires) is cancelled on its worker before it connects, so a closed engine never
        opens a new connection.
        """
        self._closed.set()
        self.runner.cancel_all()
        self.runner.wait_for_done(30_000)
        self.backend.close()

    @property
    def is_closed(self) -> bool:
        return self._closed.is_set()

    def sessions(self) -> sessionmaker[Session]:
        """The session factory, for work on a worker thread; cancels the work once closed."""
        if self._closed.is_set():
            raise OperationCancelled()
        return self.backend.session_factory

    @property
    def actor(self) -> str:
        """Who changes are recorded as: the database user the app is connected as."""
        return self.backend.info.database_user

    @property
    def state(self) -> str:
        return self._state

    def read(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
    ) -> OperationHandle:
        """Run the named query ``fn(session, *args)`` on a worker in a session of its own."""

        def work():
            with self.sessions()() as session:
                return fn(session, *args)

        return self._submit(work, on_success, on_failure, context, serial=False)

    def write(
        self,
        fn: Callable[[Session, str], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
        on_committed: Callable[[Any], None] | None = None,
    ) -> OperationHandle:
        """Run ``fn(session, actor)`` in one transaction on the serial worker."""
        actor = self.actor

        def work():
            with self.sessions().begin() as session:
                return fn(session, actor)

        return self._submit(work, on_success, on_failure, context, serial=True,
                            on_committed=on_committed)

    def perform(
        self,
        operation: Operation | ConnectionOperation,
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
    ) -> OperationHandle:
        """Run the named ``operation`` in one transaction on the serial worker (in a Session,
        or on a Core connection for a :class:`ConnectionOperation`:
        :func:`data.operations.run_in_transaction`); after the commit, announce its changes
        (:attr:`changed`, even if ``context`` is gone), then call ``on_success``."""
        actor = self.actor

        def work():
            return run_in_transaction(operation, self.sessions(), actor)

        return self._submit(work, on_success, on_failure, context, serial=True,
                            on_committed=self._announcer(operation))

    def pay(
        self,
        operation: PaymentOperation,
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
    ) -> OperationHandle:
        """Run the named Stripe ``operation`` on the payments queue (:meth:`run_payment`);
        announce its changes, then call ``on_success``."""
        return self.run_payment(operation.run, on_success=on_success, on_failure=on_failure,
                                context=context, on_committed=self._announcer(operation))

    def perform_in_batches(
        self,
        operation: BatchOperation,
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
        payments: bool = False,
    ) -> OperationHandle:
        """Run a long named write on the serial worker with progress; its handle's cancel
        asks it to stop after the batch in hand (it answers how far it got, announced).
        ``payments=True``: a bulk that calls Stripe between its batches runs on the payments
        queue instead, so the writes never wait behind Stripe."""
        actor = self.actor

        def work(ctx):
            return operation.run(self.sessions(), actor,
                                 lambda done, total: ctx.report_progress(done, total, ""),
                                 lambda: ctx.cancelled)

        return self.runner.run(work, cancellable=True,
                               serial=PAYMENTS_QUEUE if payments else True,
                               on_success=self._wrap_success(on_success),
                               on_failure=self._wrap_failure(on_failure), context=context,
                               on_committed=self._announcer(operation))

    def announce(self, changes: Changes) -> None:
        """Tell every page that ``changes`` were committed (work not run by :meth:`perform`,
        e.g. a bulk grant's batches)."""
        if changes:
            self.changed.emit(changes)

    def _announcer(self, operation):
        # Announced even when the requester (a dialog) is gone by the time of the answer.
        return lambda result: self.announce(operation.changes(result))

    @property
    def gateway(self) -> StripeGateway | None:
        """The Stripe gateway, or None when refunds are disabled (no key configured)."""
        return self.backend.gateway

    def run_payment(
        self,
        fn: Callable[[sessionmaker[Session], StripeGateway, str], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        context: QObject | None = None,
        on_committed: Callable[[Any], None] | None = None,
    ) -> OperationHandle:
        """Run ``fn(session_factory, gateway, actor)`` on the payments queue: refunds stay
        in order among themselves, and a slow Stripe never holds up :meth:`write` (which has
        its own serial worker). ``fn`` owns its transactions (the refund flow commits before
        calling Stripe). Fails with a :class:`DomainError` when Stripe is not configured."""
        gateway, actor = self.backend.gateway, self.actor

        def work():
            factory = self.sessions()
            if gateway is None:
                raise DomainError(
                    "Stripe is not configured: refunds are disabled. Set "
                    "$PLATFORM_ADMIN_STRIPE_SECRET_KEY (or store the key in the OS keyring) "
                    "and restart.")
            return fn(factory, gateway, actor)

        return self._submit(work, on_success, on_failure, context, serial=PAYMENTS_QUEUE,
                            on_committed=on_committed)

    def read_with_progress(
        self,
        fn: Callable[[Session, Any], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int | None, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        context: QObject | None = None,
    ) -> OperationHandle:
        """Long reads (exports): ``fn(session, ctx)`` reports progress and may be cancelled."""

        def work(ctx):
            with self.sessions()() as session:
                return fn(session, ctx)

        return self.runner.run(
            work,
            cancellable=True,
            on_success=self._wrap_success(on_success),
            on_failure=self._wrap_failure(on_failure),
            on_progress=on_progress,
            on_cancelled=on_cancelled,
            context=context,
        )

    def page_fetcher(self, query: Callable[..., tuple[list, Any]], *args: Any,
                     **kwargs: Any) -> PageFetcher:
        """A :class:`LazyTableModel` fetcher for a keyset query.

        ``query(session, *args, cursor=…, limit=…, **kwargs)`` returns ``(rows, next_cursor)``;
        the fetcher runs it on the model's worker in a session of its own.
        """

        def fetch(cursor: Any, limit: int) -> Page:
            try:
                with self.sessions()() as session:
                    return Page(*query(session, *args, cursor=cursor, limit=limit, **kwargs))
            except Exception as exc:
                translated = translate_db_error(exc)
                if translated is exc:
                    raise
                raise translated from exc

        return fetch

    def _submit(self, work, on_success, on_failure, context, *,
                serial: bool | str, on_committed=None) -> OperationHandle:
        return self.runner.run(
            work,
            on_success=self._wrap_success(on_success),
            on_failure=self._wrap_failure(on_failure),
            serial=serial,
            context=context,
            on_committed=on_committed,
        )

    def _wrap_success(self, cb):
        def done(result):
            self._set_state("connected")
            if cb is not None:
                cb(result)

        return done

    def _wrap_failure(self, cb):
        def failed(exc: BaseException):
            if is_connection_error(exc):
                self._set_state(explain_connection_error(exc))
            # Translated once, here: pages see a DomainError with a sentence (a refused
            # privilege names the action), never the driver's exception.
            exc = translate_db_error(exc)
            if cb is not None:
                cb(exc)
            else:
                self.runner.unhandled_error.emit(exc)

        return failed

    def report_failure(self, exc: BaseException) -> None:
        """A failure of work not run through :meth:`read`/:meth:`write` (a lazy table's page):
        a connection error shows as the connection's state, like theirs."""
        if is_connection_error(exc):
            self._set_state(explain_connection_error(exc))

    def report_success(self) -> None:
        """Work not run through :meth:`read`/:meth:`write` reached the database."""
        self._set_state("connected")

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)


def is_gui_thread() -> bool:
    """The GUI thread is the main thread: the engine refuses SQL there."""
    return threading.current_thread() is threading.main_thread()
