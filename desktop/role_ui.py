"""The UI follows the role: what this login may not do is disabled, saying who may.

:func:`ask_privileges` reads :func:`data.privileges.read_privileges` on a worker at start;
:func:`apply_privileges` hands the refusals to every action bar and record detail under a
window (each disables what ``requires`` a right it lacks, its tooltip naming the group that
may). PostgreSQL stays the judge: a right lost while the app runs makes the write fail, and
that failure is said in a sentence with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from desktop.admin.record_detail import RecordDetail
from desktop.database import Database
from desktop.read_failures import report_read_failure
from widgets.actions import ActionBar

if TYPE_CHECKING:  # data.privileges pulls in the roles, the services and the models: it is
    # imported when the question is asked, once the window is shown
    from data.privileges import Privileges


def apply_privileges(root: QWidget, privileges: Privileges) -> None:
    """Disable under ``root`` every action, Save and button that needs a right this login
    lacks (tooltip: who may)."""
    refusals = privileges.refusals()
    for detail in root.findChildren(RecordDetail):
        detail.set_refusals(refusals)
    for bar in root.findChildren(ActionBar):
        bar.set_refusals(refusals)


def ask_privileges(database: Database, context: QWidget,
                   on_read: Callable[[Privileges], None],
                   on_failed: Callable[[str], None]) -> None:
    """Ask PostgreSQL what this login may do, off the GUI thread; ``on_read`` gets the
    answer, ``on_failed`` a sentence (the app then leaves every action to PostgreSQL)."""
    from data.privileges import read_privileges

    database.read(read_privileges, on_success=on_read,
                  on_failure=lambda exc: on_failed(
                      report_read_failure(database, "what this login may do", exc)),
                  context=context)
