"""Cheap, seeded random draws: ids, hex tokens, weighted choices, picks and intervals."""

from __future__ import annotations

import random
from bisect import bisect_right
from itertools import accumulate

_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)

_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_uuid(rng: random.Random) -> str:
    """A random-looking version-4 UUID in canonical text form, drawn from ``rng``.

    Text rather than :class:`uuid.UUID` because it is what COPY needs and what JSON arrays of
    ids (content_order, featured_content_ids) must contain."""
    h = (rng.getrandbits(128) & _V4_CLEAR | _V4_SET).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_hex(rng: random.Random, digits: int) -> str:
    """``digits`` random lower-case hex digits (tokens, codes, made-up provider ids)."""
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


class Choice:
    """A weighted choice among the values of an enumerated column.

    :meth:`nth` walks through every value for the first draws, so that even a small demo shows
    each value at least once, then follows the weights."""

    __slots__ = ("values", "_cum", "_total")

    def __init__(self, weighted: dict) -> None:
        self.values = tuple(weighted)
        self._cum = list(accumulate(weighted.values()))
        self._total = self._cum[-1]

    def draw(self, rng: random.Random):
        """A value drawn by weight."""
        return self.values[bisect_right(self._cum, rng.random() * self._total)]

    def nth(self, rng: random.Random, n: int):
        """The ``n``-th draw: every value in turn first, then by weight."""
        return self.values[n] if n < len(self.values) else self.draw(rng)


def pick(rng: random.Random, seq):
    """``pick(rng, seq)`` at a third of the cost (no rejection sampling; the bias of
    ``random() * n`` is far below anything a demo could show)."""
    return seq[int(rng.random() * len(seq))]


def below(rng: random.Random, n: int) -> int:
    """``below(rng, n)``, cheaper for the same reason as :func:`pick`."""
    return int(rng.random() * n)


def between(rng: random.Random, lo: int, hi: int) -> int:
    """A whole second in ``[lo, hi)``, or ``lo`` when the interval is empty."""
    return lo + int(rng.random() * (hi - lo)) if hi > lo else lo
