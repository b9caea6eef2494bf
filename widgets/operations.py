"""Background operations for the GUI, modelled after Anki's QueryOp.

The rules this module enforces:

* the GUI thread never waits: ``fn`` runs on a worker thread and its outcome comes back
  through the event loop;
* only plain data crosses threads: ``fn`` gets no widgets, and its return value or exception
  is handed to callbacks that run on the GUI thread;
* work that must stay ordered (money writes) goes to a single-thread pool with ``serial=True``;
  ``serial="<queue name>"`` gives a queue of its own (Stripe calls), ordered among itself,
  so a slow outside service never holds up the other writes.

Typical use::

    runner.run(
        lambda: service.load_invoice(invoice_id),
        on_success=self._on_invoice_loaded,
        on_failure=self._on_invoice_load_failed,
        context=self,  # if this page is closed first, the callbacks are skipped
    )
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, Signal, Slot

__all__ = [
    "PAYMENTS_QUEUE",
    "OperationCancelled",
    "OperationContext",
    "OperationHandle",
    "OperationRunner",
]

PAYMENTS_QUEUE = "payments"
"""The serial queue of calls to an outside payment service (Stripe): they may wait long, so
they never sit in front of the database writes of ``serial=True``."""

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]
ProgressCallback = Callable[[int, "int | None", str], None]


class OperationCancelled(Exception):
    """Raised inside cancellable work to stop it; the runner treats it as a clean cancel."""


class OperationContext:
    """Passed to cancellable work as its only argument.

    Both methods are safe to call from the worker thread. Progress reports are coalesced:
    a tight loop may report thousands of times per second, but the GUI thread only ever sees
    the latest report, so the event queue cannot flood.

    It can be built without a runner, which lets tests call ``fn(OperationContext())``
    synchronously.
    """

    def __init__(self, *, on_progress_posted: Callable[[], None] | None = None) -> None:
        self._cancel_requested = threading.Event()
        self._progress_lock = threading.Lock()
        self._latest_progress: tuple[int, int | None, str] | None = None
        self._progress_pending = False
        self._on_progress_posted = on_progress_posted

    @property
    def cancelled(self) -> bool:
        """True once cancellation has been requested."""
        return self._cancel_requested.is_set()

    def cancel(self) -> None:
        """Request cancellation; the work notices at its next ``check_cancelled()``."""
        self._cancel_requested.set()

    def check_cancelled(self) -> None:
        """Raise OperationCancelled if cancellation has been requested."""
        if self._cancel_requested.is_set():
            raise OperationCancelled()

    def report_progress(self, done: int, total: int | None, message: str = "") -> None:
        """Record progress; ``total=None`` means the amount of work is unknown."""
        with self._progress_lock:
            self._latest_progress = (done, total, message)
            # Only the first report since the GUI last looked needs a wake-up; later ones just
            # overwrite the pending value.
            should_post = not self._progress_pending
            self._progress_pending = True
        if should_post and self._on_progress_posted is not None:
            self._on_progress_posted()

    @property
    def latest_progress(self) -> tuple[int, int | None, str] | None:
        """The most recent ``(done, total, message)`` report, or None."""
        with self._progress_lock:
            return self._latest_progress

    def _take_progress(self) -> tuple[int, int | None, str] | None:
        with self._progress_lock:
            self._progress_pending = False
            return self._latest_progress


class OperationHandle(QObject):
    """The caller's grip on one operation started by OperationRunner.run().

    Signals:
        progress_reported(object done, object total, str message): progress from cancellable
            work, on the GUI thread (``total`` is None when unknown). Emitted even if the
            operation's context object is gone, so progress dialogs keep working.
        finished(): the operation is over - succeeded, failed or cancelled - and its callbacks
            (if any) have run.
    """

    progress_reported = Signal(object, object, str)
    finished = Signal()

    def __init__(self, context: OperationContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._running = True
        self._was_cancelled = False
        self._owner_destroyed = False

    def cancel(self) -> None:
        """Ask the operation to stop.

        Work that has not started yet is skipped. Cancellable work stops at its next
        ``check_cancelled()``. Work that completes anyway still reports its result: a cancel
        request never hides a write that actually happened.
        """
        self._context.cancel()

    @property
    def is_running(self) -> bool:
        """True until the outcome has been delivered on the GUI thread."""
        return self._running

    @property
    def was_cancelled(self) -> bool:
        """True if the operation ended by being cancelled (valid after ``finished``)."""
        return self._was_cancelled

    @Slot()
    def _on_owner_destroyed(self) -> None:
        self._owner_destroyed = True


@dataclass(eq=False)
class _Operation:
    """GUI-thread bookkeeping for one in-flight operation."""

    handle: OperationHandle
    context: OperationContext
    runnable: QRunnable
    on_success: SuccessCallback | None
    on_failure: FailureCallback | None
    on_progress: ProgressCallback | None
    on_cancelled: Callable[[], None] | None
    owner: QObject | None
    on_committed: SuccessCallback | None = None


# Outcome kinds sent from the worker thread to the GUI thread.
_SUCCEEDED = "succeeded"
_FAILED = "failed"
_CANCELLED = "cancelled"


class _WorkerBridge(QObject):
    """Carries outcomes from worker threads to the GUI thread.

    It lives on the GUI thread and is emitted from workers, so Qt queues the emission.
    Only operation ids travel through the signals, never QObjects. An outcome is handed over
    with :meth:`store` before its id is signalled, so the worker holds no reference to it
    by then: whatever it holds (an exception's traceback may reach a page) is freed on the
    GUI thread, never on a worker, where freeing a QObject is unsafe.
    """

    outcome_ready = Signal(int)
    progress_posted = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._outcomes: dict[int, tuple[str, object]] = {}

    def store(self, operation_id: int, kind: str, payload: object) -> None:
        with self._lock:
            self._outcomes[operation_id] = (kind, payload)

    def take(self, operation_id: int) -> tuple[str, object]:
        with self._lock:
            return self._outcomes.pop(operation_id)


class _OperationRunnable(QRunnable):
    def __init__(
        self,
        operation_id: int,
        fn: Callable[..., Any],
        context: OperationContext,
        cancellable: bool,
        bridge: _WorkerBridge,
    ) -> None:
        super().__init__()
        # The pool deletes the C++ side after run(); the runner keeps the Python side alive
        # until the outcome has been delivered.
        self.setAutoDelete(True)
        self._operation_id = operation_id
        self._fn = fn
        self._context = context
        self._cancellable = cancellable
        self._bridge = bridge

    def run(self) -> None:
        # Stored first, signalled after: once store() returns, this thread holds nothing
        # of the outcome (see _WorkerBridge). Nor is the work dropped here: a closure may
        # hold the last reference to a page; the runner drops it on the GUI thread.
        self._bridge.store(self._operation_id, *self._outcome())
        self._bridge.outcome_ready.emit(self._operation_id)

    def _outcome(self) -> tuple[str, object]:
        try:
            if self._context.cancelled:
                return _CANCELLED, None
            return _SUCCEEDED, self._fn(self._context) if self._cancellable else self._fn()
        except OperationCancelled:
            return _CANCELLED, None
        except BaseException as exc:
            # BaseException too: anything escaping here would leave the operation running
            # forever in the GUI's eyes.
            return _FAILED, exc


class OperationRunner(QObject):
    """Runs functions on worker threads and delivers their outcome on the GUI thread.

    Reads go to a pool of ``max_threads`` threads; ``serial=True`` work goes to a separate
    single-thread pool so it runs one at a time in submission order. ``serial="name"`` work
    goes to the single-thread pool of that name (one per ``serial_queues``; by default
    :data:`PAYMENTS_QUEUE`): ordered among itself, independent of the other queues.

    Signals:
        busy_changed(bool): True when the first operation starts, False when the last ends.
        unhandled_error(object): an operation failed and had no ``on_failure`` callback;
            the argument is the exception.
    """

    busy_changed = Signal(bool)
    unhandled_error = Signal(object)

    def __init__(self, parent: QObject | None = None, max_threads: int = 4,
                 serial_queues: Sequence[str] = (PAYMENTS_QUEUE,)) -> None:
        super().__init__(parent)
        # The pools are children created before the bridge: QObject deletes children in
        # creation order, so on destruction the pools wait for their workers while the
        # bridge the workers emit on still exists.
        self._read_pool = QThreadPool(self)
        self._read_pool.setMaxThreadCount(max(1, max_threads))
        self._serial_pool = QThreadPool(self)
        self._serial_pool.setMaxThreadCount(1)
        self._named_pools: dict[str, QThreadPool] = {}
        for name in serial_queues:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(1)
            self._named_pools[name] = pool
        self._bridge = _WorkerBridge(self)
        self._bridge.outcome_ready.connect(
            self._on_bridge_outcome_ready, Qt.ConnectionType.QueuedConnection
        )
        self._bridge.progress_posted.connect(
            self._on_bridge_progress_posted, Qt.ConnectionType.QueuedConnection
        )
        self._operations: dict[int, _Operation] = {}
        self._ids = itertools.count(1)

    @property
    def active_count(self) -> int:
        """Operations started and not yet delivered."""
        return len(self._operations)

    def run(
        self,
        fn: Callable[..., Any],
        *,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
        on_progress: ProgressCallback | None = None,
        on_cancelled: Callable[[], None] | None = None,
        serial: bool | str = False,
        context: QObject | None = None,
        cancellable: bool = False,
        on_committed: SuccessCallback | None = None,
    ) -> OperationHandle:
        """Start ``fn`` on a worker thread; must be called on the GUI thread.

        ``fn()`` is called with no arguments, or ``fn(ctx)`` with an OperationContext when
        ``cancellable`` is true. Exactly one of ``on_success(result)``, ``on_failure(exc)``
        or ``on_cancelled()`` is then called on the GUI thread, unless ``context`` has been
        destroyed by then, in which case none is. Raising OperationCancelled from ``fn``
        counts as cancelled. A failure with no ``on_failure`` is emitted as
        ``unhandled_error`` instead (even when ``context`` is gone: errors are never silent).
        ``on_progress(done, total, message)`` receives ``ctx.report_progress()`` calls.
        ``on_committed(result)`` runs on success before ``on_success``, even when ``context``
        is gone (what a write changed is news to every page, not only to its requester).
        """
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("OperationRunner.run() must be called on the runner's thread")
        pool = self._pool(serial)
        operation_id = next(self._ids)
        bridge = self._bridge
        operation_context = OperationContext(
            on_progress_posted=lambda: bridge.progress_posted.emit(operation_id)
        )
        handle = OperationHandle(operation_context)
        runnable = _OperationRunnable(operation_id, fn, operation_context, cancellable, bridge)
        operation = _Operation(
            handle=handle,
            context=operation_context,
            runnable=runnable,
            on_success=on_success,
            on_failure=on_failure,
            on_progress=on_progress,
            on_cancelled=on_cancelled,
            owner=context,
            on_committed=on_committed,
        )
        if context is not None:
            # Belt and braces next to shiboken6.isValid(): wrappers of objects Qt created
            # itself are not always invalidated when the C++ object dies.
            context.destroyed.connect(handle._on_owner_destroyed)
        self._operations[operation_id] = operation
        if len(self._operations) == 1:
            self.busy_changed.emit(True)
        pool.start(runnable)
        return handle

    def _pool(self, serial: bool | str) -> QThreadPool:
        if isinstance(serial, str):
            try:
                return self._named_pools[serial]
            except KeyError:
                raise ValueError(f"no serial queue named {serial!r} (known: "
                                 f"{sorted(self._named_pools)})") from None
        return self._serial_pool if serial else self._read_pool

    def cancel_all(self) -> None:
        """Request cancellation of every in-flight operation (e.g. before shutdown)."""
        for operation in list(self._operations.values()):
            operation.context.cancel()

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until every pool is idle; True if they are. For shutdown and tests.

        Outcomes are still delivered through the event loop afterwards, not by this call.
        """
        pools = [self._read_pool, self._serial_pool, *self._named_pools.values()]
        if msecs < 0:
            for pool in pools:
                pool.waitForDone(-1)
            return True
        deadline = time.monotonic() + msecs / 1000
        for pool in pools:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            if not pool.waitForDone(remaining_ms):
                return False
        return True

    @Slot(int)
    def _on_bridge_outcome_ready(self, operation_id: int) -> None:
        kind, payload = self._bridge.take(operation_id)
        operation = self._operations.get(operation_id)
        if operation is None:
            return
        handle = operation.handle
        handle._running = False
        handle._was_cancelled = kind == _CANCELLED
        owner_alive = _owner_alive(operation)
        try:
            if kind == _SUCCEEDED:
                if operation.on_committed is not None:
                    operation.on_committed(payload)
                if owner_alive and operation.on_success is not None:
                    operation.on_success(payload)
            elif kind == _FAILED:
                if operation.on_failure is None:
                    # Errors are never silent, even when the requester is gone.
                    self.unhandled_error.emit(payload)
                elif owner_alive:
                    operation.on_failure(payload)
            elif owner_alive and operation.on_cancelled is not None:
                operation.on_cancelled()
        finally:
            # Bookkeeping happens after the callbacks so that a callback starting follow-up
            # work keeps the runner busy instead of flickering busy_changed False/True.
            # The work (and whatever it captured) is freed here, on the GUI thread: the
            # runnable itself may yet be deleted by its pool, on the worker.
            operation.runnable._fn = None
            del self._operations[operation_id]
            handle.finished.emit()
            if not self._operations:
                self.busy_changed.emit(False)

    @Slot(int)
    def _on_bridge_progress_posted(self, operation_id: int) -> None:
        operation = self._operations.get(operation_id)
        if operation is None:
            return
        progress = operation.context._take_progress()
        if progress is None:
            return
        operation.handle.progress_reported.emit(*progress)
        # The handle's listeners (e.g. a modal progress dialog) may spin the event loop and
        # let the outcome be delivered meanwhile; only report to a still-running operation.
        if (
            operation_id in self._operations
            and operation.on_progress is not None
            and _owner_alive(operation)
        ):
            operation.on_progress(*progress)


def _owner_alive(operation: _Operation) -> bool:
    owner = operation.owner
    if owner is None:
        return True
    return not operation.handle._owner_destroyed and shiboken6.isValid(owner)
