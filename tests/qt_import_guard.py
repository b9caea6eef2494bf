"""A pytest plugin that makes Qt unimportable, so the ``tests/data`` run proves that the core
runs where PySide6 is not installed (DESIGN.md §2: ``data`` never imports Qt).

Load it first, before the installed plugins, and switch pytest-qt off::

    pytest -p tests.qt_import_guard -p no:pytest-qt tests/data

``-p`` plugins are registered before the entry-point plugins, so from then on any import of
PySide6, shiboken6, pyqtgraph or pytestqt (a test, a fixture, a plugin, or ``data`` code doing
it indirectly) raises :class:`QtImportRefused`, a ``ModuleNotFoundError`` as if the package
were not installed, and the test that caused it fails with a message saying why.
import-linter checks the same rule statically; this checks what really gets imported.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

import pytest

REFUSED_PACKAGES = ("PySide6", "shiboken6", "pyqtgraph", "pytestqt")


class QtImportRefused(ModuleNotFoundError):
    """Raised for any import of a refused package while the guard is installed."""


class QtImportRefuser(MetaPathFinder):
    """A ``sys.meta_path`` finder, placed first, that refuses the Qt packages and their
    submodules and leaves every other import to the finders after it."""

    def find_spec(self, fullname, path=None, target=None):
        """Raise :class:`QtImportRefused` for a refused package; ``None`` otherwise."""
        top_level = fullname.partition(".")[0]
        if top_level in REFUSED_PACKAGES:
            raise QtImportRefused(
                f"import of {fullname!r} refused: this test run proves that tests/data and "
                "data/ need no Qt (tests/qt_import_guard.py); move the test to tests/widgets "
                "or tests/desktop, or remove the Qt import",
                name=fullname,
            )
        return None


def guard_is_installed() -> bool:
    """Whether the Qt imports are being refused in this process."""
    return any(isinstance(finder, QtImportRefuser) for finder in sys.meta_path)


def _already_imported() -> list[str]:
    return sorted(name for name in sys.modules
                  if name.partition(".")[0] in REFUSED_PACKAGES)


def install() -> None:
    """Put the refusing finder first on ``sys.meta_path``. A refused package imported before
    this is an error: the finder could not stop a module that is already loaded."""
    loaded = _already_imported()
    if loaded:
        raise RuntimeError(f"Qt was imported before the Qt import guard was installed: {loaded}")
    if not guard_is_installed():
        sys.meta_path.insert(0, QtImportRefuser())


def pytest_addoption(parser: pytest.Parser) -> None:
    # The first hook pytest calls on a ``-p`` plugin, as it registers it and before it loads
    # the installed plugins: the earliest moment to install the guard. (Not at import, so
    # that a test may import this module to ask whether the guard is on.)
    install()
    # pytest-qt owns this ini key and is switched off in this run; declaring it keeps the
    # shared pyproject.toml from raising "unknown config option" under filterwarnings=error.
    parser.addini("qt_api", "pytest-qt's Qt binding (unused: Qt is refused in this run)")
