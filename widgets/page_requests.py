"""Which page a lazy table awaits from its worker, so that a late answer to an old request
is dropped.

Every request carries the generation it was made for (a new listing, or a refresh, starts a
new one) and a serial number; an answer is accepted only while its request is the one
awaited. At most one request is in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QObject

from widgets.operations import OperationHandle, OperationRunner

__all__ = ["PageRequest", "PageRequests"]


class PageRequest(NamedTuple):
    generation: int
    serial: int
    refill: int | None
    """The dropped page asked for again, or None for the next page of the listing."""


class PageRequests:
    """The awaited request of one model, and the worker handle running it."""

    def __init__(self, runner: OperationRunner) -> None:
        self._runner = runner
        self.generation = 0
        self._serial = 0
        self.awaited: PageRequest | None = None
        self._pending: OperationHandle | None = None

    def new_generation(self) -> None:
        """Forget the awaited request; answers to anything asked before are dropped."""
        self.generation += 1
        stale, self._pending = self._pending, None
        self.awaited = None
        if stale is not None:
            # Skips the old query if it has not started yet; if it has, its answer is
            # dropped because it no longer matches the awaited request.
            stale.cancel()

    def send(self, work: Callable[[], Any], refill: int | None,
             on_success: Callable[[PageRequest, Any], None],
             on_failure: Callable[[PageRequest, BaseException], None],
             context: QObject) -> None:
        """Run ``work`` on a worker; the callbacks run on the GUI thread with the request."""
        self._serial += 1
        request = PageRequest(self.generation, self._serial, refill)
        self.awaited = request
        self._pending = self._runner.run(
            work,
            on_success=lambda answer: on_success(request, answer),
            on_failure=lambda exc: on_failure(request, exc),
            context=context,
        )

    def is_awaited(self, request: PageRequest) -> bool:
        return request == self.awaited

    def settle(self) -> None:
        """The awaited answer arrived: nothing is in flight."""
        self.awaited = None
        self._pending = None
