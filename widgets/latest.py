"""Latest request wins: an answer to a request that a newer one superseded is dropped.

A page asks a worker for something (a count, a record, the customers a filter matches), then
asks again before the first answer arrived (the user typed on, picked another row). The first
answer is then stale: shown, it would overwrite the newer one's (a bulk grant once went to a
filter's 26 customers instead of the one selected). :class:`LatestRequest` hands out the
callbacks; only those of the newest request of each key run. :class:`DebouncedRequest` adds
the pause for requests made while typing (check a slug, preview a category).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, QTimer

__all__ = ["DebouncedRequest", "LatestRequest", "OneInFlight"]

_ANY = object()


class LatestRequest:
    """``on_done = latest.wrap(self._on_loaded)`` before each request; when a newer ``wrap``
    (of the same ``key``) was made since, the older callbacks do nothing.

    ``key`` separates independent streams (one per customer, say). :meth:`supersede` makes
    every pending callback of ``key`` stale without starting a new request (the user chose
    something that needs no answer, or the plan was fixed and no answer may change it).
    """

    def __init__(self) -> None:
        self._generations: dict[Hashable, int] = {}

    def start(self, key: Hashable = _ANY) -> int:
        """A new request of ``key``: returns its generation (see :meth:`is_current`)."""
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        return generation

    def is_current(self, generation: int, key: Hashable = _ANY) -> bool:
        return self._generations.get(key, 0) == generation

    def supersede(self, key: Hashable = _ANY) -> None:
        self.start(key)

    def wrap(self, *callbacks: Callable[..., Any] | None, key: Hashable = _ANY):
        """Start a request; return ``callbacks`` guarded so only this request's run.

        With one callback, returns one guarded callable; with several, a tuple of them (for
        ``on_success`` and ``on_failure`` of the same request). None stays None.
        """
        generation = self.start(key)

        def guard(callback):
            if callback is None:
                return None

            def guarded(*args: Any, **kwargs: Any) -> Any:
                if self.is_current(generation, key):
                    return callback(*args, **kwargs)
                return None

            return guarded

        guarded = tuple(guard(cb) for cb in callbacks)
        return guarded[0] if len(guarded) == 1 else guarded


class OneInFlight:
    """Heavy reads: at most one in flight, and the latest request wins.

    ``request()`` starts the read (``start()``) when none is running; while one runs it only
    notes that a newer one is wanted. When the answer arrives, ``finished()`` says whether
    it is current (True: show it) or stale (False: a newer read has been started instead),
    so a burst of changes (a range typed day by day) costs two reads, not one per change.
    """

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self._busy = False
        self._pending = False

    @property
    def busy(self) -> bool:
        return self._busy

    def request(self) -> None:
        if self._busy:
            self._pending = True
            return
        self._busy, self._pending = True, False
        self._start()

    def finished(self) -> bool:
        self._busy = False
        if self._pending:
            self.request()
            return False
        return True


class DebouncedRequest:
    """A request made once typing pauses, whose answer counts only if nothing was typed since.

    Call :meth:`poke` on each edit: it drops the answer of a request in flight (that one is
    for the old text) and starts the pause again; ``delay_ms`` after the last poke,
    ``start()`` runs and sends the request with callbacks guarded by :meth:`wrap`.
    :meth:`cancel` drops the pending pause and any answer in flight (say, another record
    was loaded).
    """

    def __init__(self, start: Callable[[], Any], delay_ms: int, parent: QObject) -> None:
        self._latest = LatestRequest()
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(start)

    @property
    def is_waiting(self) -> bool:
        """The pause is running: ``start()`` is still to come."""
        return self._timer.isActive()

    def poke(self) -> None:
        self._latest.supersede()
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._latest.supersede()

    def wrap(self, *callbacks: Callable[..., Any] | None):
        """As :meth:`LatestRequest.wrap`: the callbacks of the request ``start()`` sends."""
        return self._latest.wrap(*callbacks)
