"""The UI follows the role: what this login may not do is disabled, saying who may.

:func:`ask_privileges` reads :func:`data.privileges.read_privileges` on a worker at start;
:func:`follow_privileges` hands the answer to the database's one
:class:`~widgets.rights.Rights`. Every control that declares what it ``requires`` — the
page machinery's actions, Save and tab buttons, dialogs' buttons, context menu entries and
their keys, on pages built at start or long after — was built asking those rights and
follows them (:meth:`~widgets.rights.Rights.guard`). PostgreSQL stays the judge: a right
lost while the app runs makes the write fail, and that failure is said in a sentence with
nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from desktop.database import Database
from desktop.read_failures import report_read_failure

if TYPE_CHECKING:  # data.privileges pulls in the roles, the services and the models: it is
    # imported when the question is asked, once the window is shown
    from data.privileges import Privileges


def follow_privileges(database: Database, privileges: Privileges) -> None:
    """From now on every control needing a right this login lacks is disabled, its tooltip
    the sentence naming the group that may (those built already, and those built later)."""
    database.rights.follow(privileges.refusal)


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
