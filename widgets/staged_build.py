"""Building a widget in steps, one step per turn of the event loop.

Constructing a whole page at once held the GUI thread for 50–60 ms (the Users page: its
detail's eight tabs). A :class:`StagedBuild` runs its steps one per turn instead, so the
timers, painting and input in between keep going; :meth:`StagedBuild.finish` runs the steps
left at once, for code (or a test) that needs the whole widget now.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["StagedBuild"]


class StagedBuild(QObject):
    """Runs ``steps`` in order, the first on the next turn of the event loop.

    Signals:
        built(): every step has run (emitted once).
    """

    built = Signal()

    def __init__(self, steps: Iterable[Callable[[], object]], parent: QObject | None = None):
        super().__init__(parent)
        self._steps = deque(steps)
        self._announced = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._run_next)
        self._timer.start()

    @property
    def done(self) -> bool:
        """Every step has run."""
        return not self._steps

    def finish(self) -> None:
        """Run the steps left now (a step may call this too: the rest runs in order)."""
        self._timer.stop()
        while self._steps:
            self._steps.popleft()()
        self._announce()

    def _run_next(self) -> None:
        if self._steps:
            self._steps.popleft()()
        if self._steps:
            self._timer.start()
        else:
            self._announce()

    def _announce(self) -> None:
        if not self._announced:
            self._announced = True
            self.built.emit()
