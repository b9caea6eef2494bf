"""Fixtures shared by the widget tests."""

from __future__ import annotations

import pytest

from tests.qt_support import (  # noqa: F401 (fixture and hook shared with tests/desktop)
    gui_thread_garbage_collection,
    pytest_runtest_teardown,
)
from widgets.operations import OperationRunner


@pytest.fixture
def runner(qtbot):
    """An OperationRunner whose workers are all finished and delivered after the test."""
    operation_runner = OperationRunner(max_threads=4)
    yield operation_runner
    operation_runner.cancel_all()
    assert operation_runner.wait_for_done(10_000), "a worker is still running after the test"
    # Outcomes arrive through the event loop; deliver them while the test's objects exist.
    qtbot.waitUntil(lambda: operation_runner.active_count == 0, timeout=5_000)
