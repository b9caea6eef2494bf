"""OperationRunner: work off the GUI thread, outcomes back on it."""

from __future__ import annotations

import random
import threading
import time

import pytest
import shiboken6
from PySide6.QtWidgets import QWidget

from widgets.operations import OperationCancelled, OperationContext, OperationRunner

WAIT_MS = 5_000


def _is_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def test_result_is_delivered_on_gui_thread_while_work_runs_elsewhere(qtbot, runner):
    worker_threads: list[threading.Thread] = []
    deliveries: list[tuple[object, bool]] = []

    def fetch_total():
        worker_threads.append(threading.current_thread())
        return 42

    handle = runner.run(
        fetch_total, on_success=lambda value: deliveries.append((value, _is_gui_thread()))
    )
    assert handle.is_running
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass

    assert worker_threads and worker_threads[0] is not threading.main_thread()
    assert deliveries == [(42, True)]
    assert not handle.is_running


def test_failure_is_delivered_to_on_failure_on_gui_thread(qtbot, runner):
    failures: list[tuple[BaseException, bool]] = []
    successes: list[object] = []
    unhandled: list[object] = []
    runner.unhandled_error.connect(unhandled.append)

    def broken():
        raise ValueError("invoice 17 not found")

    handle = runner.run(
        broken,
        on_success=successes.append,
        on_failure=lambda exc: failures.append((exc, _is_gui_thread())),
    )
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass

    assert successes == []
    assert unhandled == []
    [(exc, on_gui_thread)] = failures
    assert isinstance(exc, ValueError)
    assert str(exc) == "invoice 17 not found"
    assert on_gui_thread


def test_failure_without_on_failure_is_reported_as_unhandled_error(qtbot, runner):
    def broken():
        raise RuntimeError("connection reset")

    with qtbot.waitSignal(runner.unhandled_error, timeout=WAIT_MS) as blocker:
        runner.run(broken)

    [exc] = blocker.args
    assert isinstance(exc, RuntimeError)
    assert str(exc) == "connection reset"


def test_cancel_stops_a_cancellable_loop_and_fires_no_success(qtbot, runner):
    started = threading.Event()
    iterations = 0
    successes: list[object] = []
    cancellations: list[bool] = []

    def refund_many(ctx: OperationContext):
        nonlocal iterations
        for _ in range(10_000):
            ctx.check_cancelled()
            started.set()
            iterations += 1
            time.sleep(0.001)
        return "all refunded"

    handle = runner.run(
        refund_many,
        cancellable=True,
        on_success=successes.append,
        on_cancelled=lambda: cancellations.append(_is_gui_thread()),
    )
    assert started.wait(WAIT_MS / 1000)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        handle.cancel()

    assert successes == []
    assert cancellations == [True]
    assert handle.was_cancelled
    assert 0 < iterations < 10_000


def test_cancel_before_start_skips_the_work(qtbot, runner):
    gate = threading.Event()
    calls: list[str] = []
    cancellations: list[str] = []

    first = runner.run(lambda: gate.wait(WAIT_MS / 1000), serial=True)
    second = runner.run(
        lambda: calls.append("ran"),
        serial=True,
        on_cancelled=lambda: cancellations.append("cancelled"),
    )
    second.cancel()
    gate.set()
    with qtbot.waitSignal(second.finished, timeout=WAIT_MS):
        pass

    assert not first.was_cancelled
    assert calls == []
    assert cancellations == ["cancelled"]


def test_serial_work_runs_one_at_a_time_in_submission_order(qtbot, runner):
    executed: list[int] = []
    delivered: list[int] = []
    running = 0
    most_running = 0
    lock = threading.Lock()
    rng = random.Random(7)
    # Shuffled sleeps would reorder the tasks on a parallel pool.
    sleeps = [rng.uniform(0.001, 0.01) for _ in range(20)]

    def make_write(number: int):
        def write():
            nonlocal running, most_running
            with lock:
                running += 1
                most_running = max(most_running, running)
            time.sleep(sleeps[number])
            executed.append(number)
            with lock:
                running -= 1
            return number

        return write

    handles = [
        runner.run(make_write(number), serial=True, on_success=delivered.append)
        for number in range(20)
    ]
    with qtbot.waitSignal(handles[-1].finished, timeout=WAIT_MS):
        pass

    assert executed == list(range(20))
    assert delivered == list(range(20))
    assert most_running == 1


def test_callbacks_are_skipped_when_context_was_destroyed(qtbot, runner):
    gate = threading.Event()
    page = QWidget()
    calls: list[str] = []

    def show_result(value):
        # Touching a deleted widget would raise; the callback must not run at all.
        page.setWindowTitle(str(value))
        calls.append("success")

    handle = runner.run(
        lambda: gate.wait(WAIT_MS / 1000) and "loaded",
        on_success=show_result,
        on_failure=lambda exc: calls.append("failure"),
        context=page,
    )
    shiboken6.delete(page)
    assert not shiboken6.isValid(page)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        gate.set()

    assert calls == []


def test_callbacks_run_when_context_is_alive(qtbot, runner):
    page = QWidget()
    qtbot.addWidget(page)
    handle = runner.run(lambda: "Invoices", on_success=page.setWindowTitle, context=page)
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert page.windowTitle() == "Invoices"


def test_busy_changed_toggles_once_around_overlapping_work(qtbot, runner):
    gate = threading.Event()
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)

    runner.run(lambda: gate.wait(WAIT_MS / 1000))
    runner.run(lambda: gate.wait(WAIT_MS / 1000))
    assert busy == [True]
    assert runner.active_count == 2

    with qtbot.waitSignal(runner.busy_changed, timeout=WAIT_MS) as blocker:
        gate.set()
    assert blocker.args == [False]
    assert busy == [True, False]
    assert runner.active_count == 0


def test_progress_is_delivered_on_gui_thread_and_ends_with_the_last_report(qtbot, runner):
    reports: list[tuple[int, int | None, str, bool]] = []

    def import_rows(ctx: OperationContext):
        for done in range(1, 501):
            ctx.report_progress(done, 500, f"row {done}")
        return "imported"

    handle = runner.run(
        import_rows,
        cancellable=True,
        on_progress=lambda done, total, message: reports.append(
            (done, total, message, _is_gui_thread())
        ),
    )
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass

    assert reports, "no progress reached the GUI"
    assert reports[-1] == (500, 500, "row 500", True)
    assert all(on_gui_thread for *_, on_gui_thread in reports)
    done_values = [done for done, *_ in reports]
    assert done_values == sorted(done_values)


def test_raising_operation_cancelled_without_cancel_counts_as_cancelled(qtbot, runner):
    outcomes: list[str] = []

    def give_up(ctx: OperationContext):
        raise OperationCancelled()

    handle = runner.run(
        give_up,
        cancellable=True,
        on_success=lambda _: outcomes.append("success"),
        on_failure=lambda _: outcomes.append("failure"),
        on_cancelled=lambda: outcomes.append("cancelled"),
    )
    with qtbot.waitSignal(handle.finished, timeout=WAIT_MS):
        pass
    assert outcomes == ["cancelled"]


def test_operation_context_can_drive_work_synchronously():
    context = OperationContext()
    context.report_progress(3, None, "counting")
    assert context.latest_progress == (3, None, "counting")
    assert not context.cancelled
    context.cancel()
    with pytest.raises(OperationCancelled):
        context.check_cancelled()


def test_run_must_be_called_from_the_gui_thread(qtbot, runner):
    errors: list[BaseException] = []

    def start_from_worker():
        try:
            runner.run(lambda: None)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=start_from_worker)
    thread.start()
    thread.join(WAIT_MS / 1000)
    assert len(errors) == 1
    assert runner.active_count == 0


def test_wait_for_done_returns_false_while_work_is_still_running(qtbot):
    gate = threading.Event()
    runner = OperationRunner()
    runner.run(lambda: gate.wait(WAIT_MS / 1000))
    try:
        assert runner.wait_for_done(50) is False
    finally:
        gate.set()
    assert runner.wait_for_done(WAIT_MS) is True
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=WAIT_MS)


def test_what_the_work_captured_is_freed_on_the_gui_thread(qtbot, runner):
    """A closure may hold the last reference to a QObject; freeing a QObject on a worker is
    unsafe (PySide can deadlock there), so the runner lets go of the work on delivery."""
    import weakref

    from PySide6.QtCore import QObject

    freed_on: list[str] = []
    page = QObject()
    page.setObjectName("page")
    watch = weakref.ref(page, lambda _: freed_on.append(threading.current_thread().name))

    def work_for(obj):
        return lambda: obj.objectName()

    work = work_for(page)
    del page  # from now on only the work holds the page
    handle = runner.run(work)
    del work
    qtbot.waitUntil(lambda: not handle.is_running, timeout=5_000)
    assert watch() is None
    assert freed_on == ["MainThread"]


def test_a_failure_and_what_its_traceback_holds_are_freed_on_the_gui_thread(qtbot, runner):
    """An exception's traceback keeps the failing frames' locals alive, a page among them
    perhaps: the worker lets go of the outcome before the GUI thread can see it."""
    import gc
    import weakref

    from PySide6.QtCore import QObject

    freed_on: list[str] = []
    failures: list[BaseException] = []

    def fail_with(obj):
        def work():
            held = obj  # noqa: F841 - a local of the failing frame, kept by the traceback
            raise ValueError("no")
        return work

    page = QObject()
    watch = weakref.ref(page, lambda _: freed_on.append(threading.current_thread().name))
    work = fail_with(page)
    del page
    handle = runner.run(work, on_failure=failures.append)
    del work
    qtbot.waitUntil(lambda: not handle.is_running, timeout=5_000)
    assert isinstance(failures[0], ValueError)
    failures.clear()  # the last reference to the exception, and through it to the page
    gc.collect()  # a traceback is often a cycle: collected here, on the GUI thread
    assert watch() is None and freed_on == ["MainThread"]


def test_a_named_serial_queue_waits_apart_from_the_serial_writes(qtbot, runner):
    """A payment call that waits does not hold up the serial writes; each queue keeps its
    own order."""
    from widgets.operations import PAYMENTS_QUEUE

    gate = threading.Event()
    order: list[str] = []
    slow = runner.run(lambda: (gate.wait(WAIT_MS / 1000), order.append("payment 1")),
                      serial=PAYMENTS_QUEUE)
    runner.run(lambda: order.append("payment 2"), serial=PAYMENTS_QUEUE)
    write = runner.run(lambda: order.append("write"), serial=True)
    with qtbot.waitSignal(write.finished, timeout=WAIT_MS):
        pass
    assert order == ["write"] and slow.is_running
    gate.set()
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=WAIT_MS)
    assert order == ["write", "payment 1", "payment 2"]


def test_an_unknown_queue_name_is_refused(runner):
    with pytest.raises(ValueError, match="no serial queue named 'mail'"):
        runner.run(lambda: None, serial="mail")
    assert runner.active_count == 0
