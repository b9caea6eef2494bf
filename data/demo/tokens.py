"""Credits (tokens): a customer's ledger with its running balance, and its timeline."""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from data.demo.clock import ts_or_none
from data.demo.draws import new_uuid

if TYPE_CHECKING:
    from data.demo.clock import Clock


LEDGER_COLUMNS = (
    "id", "customer_id", "type", "amount", "balance_after", "subscription_id",
    "offering_booking_id", "description", "expires_at", "created_at",
)

BALANCE_COLUMNS = (
    "id", "customer_id", "current_balance", "lifetime_earned", "lifetime_spent", "updated_at",
    "created_at",
)


# kinds of timeline events, in the order they sort when they fall on the same second
GRANT, EXPIRE, PACK, ADJUST, BOOK, REFUND = range(6)

EventData = int | tuple[str, int] | None
"""What an event carries: the credits of a PACK or an ADJUST, the (booking id, credits) of a
REFUND, nothing for the others."""


class Timeline:
    """A customer's credit and booking events, popped in time order; events may be added
    while popping (a canceled booking schedules its refund)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, EventData]] = []
        self._seq = 0

    def __bool__(self) -> bool:
        return bool(self._heap)

    def add(self, t: int, kind: int, data: EventData = None) -> None:
        """Schedule an event of ``kind`` (:data:`GRANT`, :data:`BOOK`, ...) at ``t``."""
        self._seq += 1  # keeps ties in insertion order, and data out of comparisons
        heapq.heappush(self._heap, (t, kind, self._seq, data))

    def __iter__(self) -> Iterator[tuple[int, int, EventData]]:
        while self._heap:
            t, kind, _, data = heapq.heappop(self._heap)
            yield t, kind, data


class Ledger:
    """One customer's credit transactions with their running balance.

    ``expiring`` is how much of the balance is subscription credit that will expire; spending
    and expiry use it first."""

    def __init__(self, rng: random.Random, clock: Clock, uid: str, rows: list[tuple]) -> None:
        self._rng, self._clock, self._uid, self._rows = rng, clock, uid, rows
        self.balance = self.expiring = self.earned = self.spent = 0
        self.first: int | None = None
        self.last: int | None = None

    def post(
        self, t: int, kind: str, amount: int, description: str, *, booking: str | None = None,
        subscription: str | None = None, expires: int | None = None,
    ) -> int:
        """Record a transaction; returns its time, nudged so that times strictly increase
        (which makes the running balance's order unambiguous)."""
        if self.last is not None:
            t = max(t, self.last + 1)
        if self.first is None:
            self.first = t
        self.last = t
        self.balance += amount
        if amount > 0:
            self.earned += amount
        else:
            self.spent -= amount
            self.expiring = max(0, self.expiring + amount)
        self.expiring = min(self.expiring, self.balance)
        self._rows.append((
            new_uuid(self._rng), self._uid, kind, amount, self.balance, subscription, booking,
            description, ts_or_none(self._clock, expires), self._clock.ts(t),
        ))
        return t

    def balance_row(self) -> tuple:
        """The customer's ``credit_balances`` row, from the transactions posted."""
        if self.first is None or self.last is None:
            raise ValueError("a ledger without transactions has no balance row")
        ts = self._clock.ts
        return (new_uuid(self._rng), self._uid, self.balance, self.earned, self.spent,
                ts(self.last), ts(self.first))
