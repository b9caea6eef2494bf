"""Guard against PySide6 6.12's ``SignalInstance.emit()`` releasing references it never owned.

On CPython 3.11 with PySide6 6.12.0, every ``signal.emit(...)`` called from Python returns
``True`` without taking a reference to it (and a failed ``disconnect()`` does the same with
``False``). Each call therefore steals one reference from the ``True`` singleton; ``True``
starts with only a few hundred, so after a few hundred emits the interpreter aborts with
"Fatal Python error: bool_dealloc". Signals emitted by C++ code are not affected.

CPython 3.12+ makes ``True``/``False`` immortal, which hides the bug. On older interpreters
we do the same by hand: if a probe emit is seen stealing references, both singletons get a
refcount so large that no realistic number of emits can bring it to zero. Nothing happens on
interpreters or PySide versions without the bug.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

__all__ = ["guard_bools_against_emit_refcount_bug"]

# 2**40 stolen references would take days of nothing but emits.
_IMMORTAL_MARGIN = 1 << 40

_applied = False


class _EmitProbe(QObject):
    pinged = Signal()


def _emit_steals_bool_references() -> bool:
    probe = _EmitProbe()
    before = sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(8):
        probe.pinged.emit()
    after = sys.getrefcount(True) + sys.getrefcount(False)
    return after < before


def guard_bools_against_emit_refcount_bug() -> bool:
    """Apply the guard if this interpreter needs it; True if this call applied it."""
    global _applied
    if _applied:
        return False
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        # Immortal bools (3.12+) ignore refcount changes, and writing the field would break
        # their immortality marker.
        return False
    if not _emit_steals_bool_references():
        return False
    for singleton in (True, False):
        # ob_refcnt is the first Py_ssize_t of every CPython object.
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        refcount.value += _IMMORTAL_MARGIN
    _applied = True
    return True
