"""Export… for any list page: the whole filtered list to CSV or Excel, with progress and cancel.

A page describes its export and calls :func:`export_list` from its "Export…" action::

    export_list(
        self, self._db,
        title="Export users", default_name="users.xlsx",
        columns=[ExportColumn("Email", lambda r: r.email),
                 ExportColumn("Created", lambda r: r.created_at)],
        page_query=list_users_page, query_args=(self.current_filter(),),
        count_query=count_users,
    )

``page_query(session, *query_args, cursor=…, limit=…)`` is the page's own keyset query (the
one its lazy table uses), so the file holds every row the filter matches, not only the rows
loaded on screen. ``count_query(session, *query_args)`` (optional) gives the progress bar its
total: an int, or a count with ``.value`` such as :class:`data.queries.users.UserCount`.

:func:`export_list` asks for the file; :func:`start_export` takes the path directly (tests,
or a page that remembers where the last export went). Either returns the operation's handle.
The export runs through :meth:`Database.read_with_progress` in one read-only REPEATABLE READ
transaction, so all pages come from one snapshot while the web app keeps writing (a row
whose sort key changes mid-export is neither lost nor written twice). A window-modal
:class:`widgets.dialogs.ProgressDialog` follows it; its Cancel stops the export, and nothing
is written. The outcome is reported once: "Exported N rows to <file>." in a message box,
a failure through :func:`widgets.dialogs.show_error` (a :class:`DomainError`'s text as it is;
anything unexpected as a sentence, with the details in the log).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget
from sqlalchemy.orm import Session

from data.errors import DomainError
from data.export import (
    EXPORT_SUFFIXES,
    ExportColumn,
    ExportStopped,
    export_suffix,
    keyset_batches,
    write_export,
)
from desktop.database import Database
from desktop.formatting import in_time_zone
from desktop.read_failures import explain_read_failure, is_expected_read_failure
from widgets.dialogs import ProgressDialog, show_error
from widgets.operations import OperationCancelled, OperationContext, OperationHandle

__all__ = ["CSV_FILTER", "XLSX_FILTER", "ask_export_path", "export_list", "start_export"]

log = logging.getLogger("platform_admin")

CSV_FILTER = "CSV (*.csv)"
XLSX_FILTER = "Excel (*.xlsx)"
EXPORT_BATCH_SIZE = 2_000
"""Rows per keyset page: big enough that round trips do not dominate, small enough that
Cancel answers within a moment."""

PageQuery = Callable[..., tuple[Sequence[Any], Any]]
CountQuery = Callable[..., Any]


def export_list(
    parent_widget: QWidget,
    database: Database,
    *,
    title: str,
    default_name: str,
    columns: Sequence[ExportColumn],
    page_query: PageQuery,
    query_args: Sequence[Any] = (),
    count_query: CountQuery | None = None,
    display_time: Callable[[dt.datetime], dt.datetime] = in_time_zone,
    batch_size: int = EXPORT_BATCH_SIZE,
) -> OperationHandle | None:
    """Ask where to save (CSV or Excel), then :func:`start_export` there.

    Returns the running export's handle, or None when the person closed the file dialog.
    """
    path = ask_export_path(parent_widget, title=title, default_name=default_name)
    if path is None:
        return None
    return start_export(
        path, parent_widget, database, title=title, columns=columns, page_query=page_query,
        query_args=query_args, count_query=count_query, display_time=display_time,
        batch_size=batch_size)


def ask_export_path(parent_widget: QWidget, *, title: str, default_name: str) -> Path | None:
    """The file the person chose in a save dialog offering CSV and Excel, or None.

    A name typed without an ending gets the chosen filter's (some dialogs do not add it).
    """
    initial = XLSX_FILTER if default_name.lower().endswith(".xlsx") else CSV_FILTER
    chosen, selected_filter = QFileDialog.getSaveFileName(
        parent_widget, title, default_name, f"{CSV_FILTER};;{XLSX_FILTER}", initial)
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in EXPORT_SUFFIXES:
        ending = ".xlsx" if selected_filter == XLSX_FILTER else ".csv"
        path = path.with_name(path.name + ending)
    return path


def start_export(
    path: Path,
    parent_widget: QWidget,
    database: Database,
    *,
    title: str,
    columns: Sequence[ExportColumn],
    page_query: PageQuery,
    query_args: Sequence[Any] = (),
    count_query: CountQuery | None = None,
    display_time: Callable[[dt.datetime], dt.datetime] = in_time_zone,
    batch_size: int = EXPORT_BATCH_SIZE,
) -> OperationHandle:
    """Export every row of ``page_query(session, *query_args, …)`` to ``path`` on a worker.

    The format follows ``path``'s ending (.csv or .xlsx). Shows a progress dialog with
    Cancel over ``parent_widget`` and reports the outcome there (see the module's
    docstring). Returns the handle; its result is the number of rows written.
    """
    path = Path(path)
    export_suffix(path)  # a wrong ending is the caller's mistake: refused here, not later
    args = tuple(query_args)

    def work(session: Session, ctx: OperationContext) -> int:
        # One snapshot for the count and every page; read-only, as an export never writes.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                              "postgresql_readonly": True})
        total = _count(count_query(session, *args)) if count_query is not None else None
        ctx.report_progress(0, total, "0 rows written" if total is None else
                            f"0 of {total:,} rows written")

        def fetch_page(cursor: Any, limit: int) -> tuple[Sequence[Any], Any]:
            return page_query(session, *args, cursor=cursor, limit=limit)

        def progress(done: int, expected: int | None) -> None:
            if expected is None:
                ctx.report_progress(done, None, f"{done:,} rows written")
            else:
                # The total may be an estimate (a big table's reltuples) that done overtakes.
                expected = max(expected, done)
                ctx.report_progress(done, expected, f"{done:,} of {expected:,} rows written")

        try:
            return write_export(
                path, columns, keyset_batches(fetch_page, batch_size), total=total,
                progress=progress, should_stop=lambda: ctx.cancelled,
                display_time=display_time, sheet_title=_sheet_name(title))
        except ExportStopped:
            raise OperationCancelled() from None

    def on_success(rows: int) -> None:
        noun = "row" if rows == 1 else "rows"
        _show_result(parent_widget, title, f"Exported {rows:,} {noun} to {path}.")

    def on_failure(exc: BaseException) -> None:
        if isinstance(exc, DomainError):
            text = str(exc)  # already a sentence a person can act on
        else:
            text = f"The export to {path} failed: {explain_read_failure(exc)}"
        if is_expected_read_failure(exc):
            log.warning("%s", text)
        else:
            log.error("%s", text, exc_info=exc)
        show_error(parent_widget, f"{title} failed", text)

    def on_cancelled() -> None:
        log.info("Export to %s cancelled; nothing was written.", path)

    handle = database.read_with_progress(
        work, on_success=on_success, on_failure=on_failure, on_cancelled=on_cancelled,
        context=parent_widget)
    dialog = ProgressDialog(parent_widget, title=title, label=f"Exporting to {path.name}…")
    dialog.attach(handle)
    # One dialog per export: freed once it has closed itself.
    handle.finished.connect(dialog.deleteLater)
    return handle


def _count(counted: Any) -> int | None:
    """A count query's answer as an int: an int itself, or a count object's ``.value``."""
    if counted is None:
        return None
    return int(getattr(counted, "value", counted))


def _sheet_name(title: str) -> str:
    """"Export users" names the sheet "Users"."""
    name = title.removeprefix("Export").strip(" …")
    return name[:1].upper() + name[1:] if name else "Export"


def _show_result(parent_widget: QWidget, title: str, text: str) -> None:
    """Say where the file went, without holding up the event loop (``open()``, not
    ``exec()``); the box deletes itself once closed."""
    box = QMessageBox(parent_widget)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()
