"""Cyclic garbage holding a QObject is collected on the GUI thread, never on a worker."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from widgets.garbage_collector import GarbageCollector


def test_a_worker_allocating_a_lot_never_collects_a_qobject(qtbot):
    collector = GarbageCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        destroyed_on: list[str] = []
        obj = QObject()
        obj.myself = obj  # a reference cycle: only the cyclic collector can free it
        # The callback runs on whichever thread frees the object.
        ref = weakref.ref(obj, lambda _: destroyed_on.append(threading.current_thread().name))
        del obj

        kept: list = []

        def allocate():  # far beyond every threshold: CPython would collect right here
            kept.append([[i] for i in range(200_000)])

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert destroyed_on == []  # still there: the worker did not collect it

        qtbot.waitUntil(lambda: destroyed_on != [], timeout=5_000)  # the timer did
        assert destroyed_on == ["MainThread"] and ref() is None
    finally:
        collector.stop()
        gc.disable()  # the session's collector (tests/qt_support.py) is still in charge
