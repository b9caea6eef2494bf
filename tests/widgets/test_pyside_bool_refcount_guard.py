"""The guard against PySide6 6.12's emit() stealing references to True."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

import widgets  # noqa: F401 - importing the package installs the guard
from widgets.pyside_bool_refcount_guard import guard_bools_against_emit_refcount_bug


class _Ticker(QObject):
    ticked = Signal(int)


def test_emitting_more_often_than_true_has_references_does_not_abort(qtbot):
    # Without the guard this aborts the whole interpreter ("bool_dealloc") on affected
    # PySide6/CPython combinations, because every emit() releases one reference to True.
    ticker = _Ticker()
    received = []
    ticker.ticked.connect(received.append)
    # More emits than True has references in any realistic process.
    emits = 100_000
    for number in range(emits):
        ticker.ticked.emit(number)
    assert len(received) == emits
    assert received[-1] == emits - 1


def test_guard_is_idempotent():
    guard_bools_against_emit_refcount_bug()
    before = sys.getrefcount(True)
    # Already protected: a second call must not keep inflating the count.
    assert guard_bools_against_emit_refcount_bug() is False
    assert sys.getrefcount(True) - before < 100
