"""What a page says when a read fails: one sentence for its banner, a line in the log, and
the connection's state in the status bar.

Reads that fail used to be dropped (``on_failure=lambda e: None``) or shown as "Could not
load rows" with nothing logged. :func:`report_read_failure` is the one place that turns such
a failure into words; :func:`watch_list_loads` wires a lazy table to it.
"""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject
from sqlalchemy.exc import DBAPIError

from data.db import explain_connection_error, is_connection_error
from data.errors import DomainError
from desktop.database import Database
from widgets.banner import Banner
from widgets.lazy_table import LazyTableModel

log = logging.getLogger("platform_admin")

UNEXPECTED = "an unexpected error stopped it (the details are in the log)."

__all__ = ["explain_read_failure", "report_read_failure", "watch_list_loads"]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_expected_read_failure(exc: BaseException) -> bool:
    """A failure of the surroundings (refused, lost, not allowed), not of the app's code."""
    return isinstance(exc, DomainError) or is_connection_error(exc)


def explain_read_failure(exc: BaseException) -> str:
    """Why a read failed, in words a support person can act on. A refused privilege arrives
    already translated (:func:`data.db_errors.translate_db_error`, a :class:`DomainError`)."""
    if isinstance(exc, DomainError):
        return str(exc)
    if is_connection_error(exc):
        return explain_connection_error(exc)
    if isinstance(exc, DBAPIError):
        return f"the database refused the query ({_first_line(exc)}); details are in the log."
    return UNEXPECTED


def report_read_failure(database: Database, what: str, exc: BaseException) -> str:
    """Log the failure to load ``what`` (with the traceback when it looks like a bug), show a
    lost connection in the status bar, and return the sentence for the page's banner."""
    text = f"Could not load {what}: {explain_read_failure(exc)}"
    if is_expected_read_failure(exc):
        log.warning("%s", text)
    else:
        log.error("%s", text, exc_info=exc)
    database.report_failure(exc)
    return text


class _ListLoadWatcher(QObject):
    def __init__(self, model: LazyTableModel, view: ShowsPlaceholders, banner: Banner,
                 database: Database, what: str):
        super().__init__(model)
        self._view, self._banner, self._db, self._what = view, banner, database, what
        self._showing = False
        model.load_failed.connect(self._on_model_load_failed)
        model.rows_loaded.connect(self._on_model_rows_loaded)

    def _on_model_load_failed(self, exc: BaseException) -> None:
        text = report_read_failure(self._db, self._what, exc)
        self._view.set_placeholder_texts(error=text)
        self._banner.show_message(f"{text} Press F5 to try again.")
        self._showing = True

    def _on_model_rows_loaded(self, _count: int) -> None:
        self._db.report_success()
        if self._showing:  # the list works again: the old failure no longer applies
            self._showing = False
            self._banner.setVisible(False)


class ShowsPlaceholders(Protocol):
    """A lazy table's view, or a widget that builds one when first shown."""

    def set_placeholder_texts(self, *, empty: str | None = None, loading: str | None = None,
                              error: str | None = None) -> None: ...


def watch_list_loads(model: LazyTableModel, view: ShowsPlaceholders, banner: Banner,
                     database: Database, what: str) -> None:
    """Show why ``model``'s pages fail in ``banner`` and on the empty ``view``, log it, and
    keep the status bar's connection state true; hide the message once pages load again."""
    _ListLoadWatcher(model, view, banner, database, what)
