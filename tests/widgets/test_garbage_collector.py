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


def test_young_garbage_is_collected_often_and_a_full_collection_rarely(qtbot):
    """The oldest generation, whose scan is the long pause, waits for ``full_interval_s``."""
    collector = GarbageCollector(interval_ms=10, full_interval_s=3600)
    generations: list[int] = []

    def record(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        kept = []
        for _ in range(300):  # young survivors past every threshold, many times over
            kept.append([[i] for i in range(1_000)])
            collector.check()
        cycle = QObject()
        cycle.myself = cycle
        ref = weakref.ref(cycle)
        del cycle
        kept.append([[i] for i in range(2_000)])  # past the youngest threshold
        qtbot.waitUntil(lambda: ref() is None, timeout=5_000)  # young garbage still goes
        assert generations and 2 not in generations
    finally:
        gc.callbacks.remove(record)
        collector.stop()
        gc.disable()


def test_objects_frozen_after_start_up_are_not_scanned_and_new_garbage_still_goes(qtbot):
    collector = GarbageCollector(interval_ms=10)
    try:
        long_lived = [[i] for i in range(10_000)]
        kept = []
        collector.freeze()
        assert gc.get_freeze_count() >= len(long_lived)
        cycle = QObject()
        cycle.myself = cycle
        ref = weakref.ref(cycle)
        del cycle
        kept.append([[i] for i in range(2_000)])  # past the youngest threshold
        qtbot.waitUntil(lambda: ref() is None, timeout=5_000)
    finally:
        collector.stop()
        gc.disable()
    assert gc.get_freeze_count() == 0  # stop() gives every object back to the collector
