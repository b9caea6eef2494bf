"""The core runs without Qt: in ``make test`` tests/data runs with Qt refused
(tests/qt_import_guard.py), and these tests prove the refusal is real.

They are skipped when the guard is off (a plain ``pytest`` over the whole tree, where the Qt
tests have imported PySide6 already), because only a guarded run can show anything.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pytest

import data
from tests.qt_import_guard import REFUSED_PACKAGES, guard_is_installed

pytestmark = pytest.mark.skipif(
    not guard_is_installed(),
    reason="Qt import guard is off (run tests/data with -p tests.qt_import_guard, as make test does)",
)


@pytest.mark.parametrize("module", [*REFUSED_PACKAGES, "PySide6.QtCore", "pyqtgraph.graphicsItems"])
def test_importing_qt_fails_loudly(module):
    with pytest.raises(ImportError, match="refused: this test run proves"):
        importlib.import_module(module)
    assert module not in sys.modules


def test_an_import_statement_is_refused_too():
    with pytest.raises(ImportError):
        from PySide6.QtWidgets import QApplication  # noqa: F401


def test_every_data_module_imports_without_qt():
    """Unlike import-linter's static check of our own code, this catches any import really made
    when a data module loads, a third-party package's included."""
    names = [info.name for info in pkgutil.walk_packages(data.__path__, "data.")
             # Alembic's env.py runs migrations on import; it is run by tests/data/test_migrations.py.
             if info.name != "data.migrations.env"]
    assert "data.services.refunds" in names  # the walk found the tree
    for name in names:
        importlib.import_module(name)
    assert not [name for name in sys.modules if name.partition(".")[0] in REFUSED_PACKAGES]
