"""Python's cyclic garbage collector, run on the GUI thread only.

CPython runs a collection in whichever thread happens to allocate when a threshold is
crossed, often a worker running a query. If the garbage holds a Python-owned QObject (a page
or handle caught in a reference cycle), the worker then runs ``QObject::~QObject`` for an
object that lives on the GUI thread. That is unsafe in Qt, and it deadlocks with PySide:
the destructor takes Qt's signal-slot lock and then waits for the GIL, while the GUI thread
holds the GIL and waits for that lock (seen in a test run: the window froze for good while
building a combo box).

So automatic collection is switched off and the same generational thresholds are checked on
a timer on the GUI thread, as calibre and Anki do.

Pauses stay short: ``freeze()`` (called once the main window is built) moves everything alive
after start-up - modules, pages, widgets - out of the collector's sight (``gc.freeze()``), the
timer collects the young generations between events, and a full collection, whose cost
grows with every object alive, runs at most once per ``full_interval_s``.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer

__all__ = ["GarbageCollector"]

CHECK_INTERVAL_MS = 500
FULL_COLLECTION_INTERVAL_S = 300.0


class GarbageCollector(QObject):
    """Turns off automatic collection and collects from the GUI thread instead.

    ``check()`` does what CPython would have done at the thresholds; the timer calls it
    while the event loop runs, and anything without an event loop (tests between cases)
    may call it directly. ``stop()`` gives collection back to CPython.
    """

    def __init__(self, parent: QObject | None = None,
                 interval_ms: int = CHECK_INTERVAL_MS,
                 full_interval_s: float = FULL_COLLECTION_INTERVAL_S) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._full_interval_s = full_interval_s
        self._last_full = time.monotonic()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Collect the generations whose thresholds were crossed (the oldest one at most once
        per ``full_interval_s``); returns objects found."""
        t0, t1, t2 = self._thresholds
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return 0
        generation = 1 if c1 > t1 else 0
        if generation and c2 > t2:
            now = time.monotonic()
            if now - self._last_full >= self._full_interval_s:
                self._last_full = now
                generation = 2
        return gc.collect(generation)

    def freeze(self) -> None:
        """Keep every object alive now out of all later collections (call after start-up:
        what exists then lives as long as the app, and scanning it is most of a pause)."""
        gc.freeze()

    def stop(self) -> None:
        self.timer.stop()
        gc.unfreeze()
        gc.enable()
