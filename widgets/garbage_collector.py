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
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["GarbageCollector"]

CHECK_INTERVAL_MS = 500


class GarbageCollector(QObject):
    """Turns off automatic collection and collects from the GUI thread instead.

    ``check()`` does what CPython would have done at the thresholds; the timer calls it
    while the event loop runs, and anything without an event loop (tests between cases)
    may call it directly. ``stop()`` gives collection back to CPython.
    """

    def __init__(self, parent: QObject | None = None,
                 interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> int:
        """Collect the generations whose thresholds were crossed; returns objects found."""
        t0, t1, t2 = self._thresholds
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return 0
        generation = 2 if c1 > t1 and c2 > t2 else 1 if c1 > t1 else 0
        return gc.collect(generation)

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
