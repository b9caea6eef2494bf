"""What every Qt test shares, imported by tests/widgets/conftest.py and
tests/desktop/conftest.py (never by tests/data, which runs with Qt refused, see
tests/qt_import_guard.py).

Importing it also sets the environment Qt reads when the session's QApplication is built.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from widgets.garbage_collector import GarbageCollector  # noqa: E402

__all__ = ["gui_thread_garbage_collection", "pytest_runtest_teardown"]


class _SessionCollector:
    """The one GarbageCollector of the run.

    Both Qt conftests declare the session fixture, so pytest sets it up once per directory;
    two collectors would each save and restore CPython's collection (the first ``stop()``
    would switch automatic collection back on while the other still relies on it being
    off), so they share this one and the last user stops it.
    """

    def __init__(self) -> None:
        self.collector: GarbageCollector | None = None
        self._users = 0

    def acquire(self) -> GarbageCollector:
        if self.collector is None:
            self.collector = GarbageCollector()
        self._users += 1
        return self.collector

    def release(self) -> None:
        self._users -= 1
        if self._users == 0 and self.collector is not None:
            self.collector.stop()
            self.collector = None


_session_collector = _SessionCollector()


@pytest.fixture(scope="session", autouse=True)
def gui_thread_garbage_collection(qapp):
    """As in the app: cyclic garbage is collected on the GUI thread only (see
    ``widgets.garbage_collector``), while an event loop runs and after every test."""
    yield _session_collector.acquire()
    _session_collector.release()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Collect after each Qt test, on the GUI thread, what the timer had no chance to."""
    if _session_collector.collector is not None:
        _session_collector.collector.check()
