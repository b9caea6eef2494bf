"""Export of a whole list to a CSV or Excel (xlsx) file, batch by batch, safe to open.

The pieces, all free of Qt so a plain Python shell can export too:

* :class:`ExportColumn` says what one column is called and how to read it from a row;
* :func:`keyset_batches` turns a keyset page query (``fetch_page(cursor, limit) -> (rows,
  next_cursor)``, the shape of :func:`data.queries.users.list_users_page`) into batches;
* :func:`write_export` writes the batches to ``path``, reporting progress and stopping when
  asked.

Typical use (the desktop's :func:`desktop.list_export.start_export` does this on a worker)::

    columns = [ExportColumn("Email", lambda r: r.email),
               ExportColumn("Created", lambda r: r.created_at)]
    batches = keyset_batches(
        lambda cursor, limit: list_users_page(session, flt, cursor=cursor, limit=limit), 2_000)
    n = write_export(Path("users.xlsx"), columns, batches, total=None,
                     progress=lambda done, total: None, should_stop=lambda: False)

What the file promises:

* **All or nothing.** Rows go to ``<name>.part`` next to ``path``; only a complete file is
  renamed over ``path`` (``os.replace``, atomic on one file system). A stop or an error deletes
  the ``.part`` file and leaves an older file at ``path`` as it was.
* **Stopping** raises :class:`ExportStopped` (an exception rather than a returned flag, so a
  caller cannot mistake a stopped export's row count for a finished one).
* **A file that cannot be written** (no such folder, no permission, disk full, the old file
  open in another program) raises :class:`ExportWriteError`, a :class:`DomainError` whose
  message names the file. Errors from the batches (the database) pass through unchanged.
* **Formula-safe.** CSV cells go through :mod:`data.csv_safety` (text starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR gets a leading ``'``). In xlsx every text cell is stored as
  text (openpyxl would otherwise store a string starting with ``=`` as a formula, and ``#N/A``
  as an error) with exactly what the user typed; a text that starts like a formula also gets
  Excel's "quote prefix" style, so editing the cell in Excel does not turn it into a formula.
  (The two things XML cannot carry: control characters other than tab and line breaks become
  U+FFFD, and a carriage return reads back as a line break.)
* **Values.** ``None`` is an empty cell. Decimals stay exact: CSV writes ``str(Decimal)``;
  xlsx writes a number with a number format showing the same decimal places, so a
  spreadsheet can add the column up. A double holds any 15 significant digits exactly and the
  schema's money is ``NUMERIC(10, 2)``; a Decimal (or int) with more digits than that is
  written as text rather than rounded. Datetimes go through ``display_time`` (the page passes
  the conversion to the zone it shows, :func:`desktop.formatting.in_time_zone`); CSV
  then writes ISO 8601 (with the offset when the value is aware), xlsx a real date-time cell
  holding the wall-clock time shown (Excel has no time zones). Booleans are yes/no in CSV
  and TRUE/FALSE in xlsx. Anything else is written as its ``str()``.
* **Constant memory.** CSV is streamed; xlsx uses openpyxl's write-only workbook, which
  streams rows to a temporary file and zips it once complete.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from data.csv_safety import FORMULA_TRIGGERS, safe_csv_writer
from data.errors import DomainError

__all__ = [
    "EXPORT_SUFFIXES",
    "ExportColumn",
    "ExportStopped",
    "ExportWriteError",
    "export_suffix",
    "keyset_batches",
    "partial_path",
    "write_export",
]

EXPORT_SUFFIXES = (".csv", ".xlsx")
"""The file name endings :func:`write_export` knows; the format follows the ending."""

EXACT_DIGITS = 15
"""Significant digits a spreadsheet's number (an IEEE double) always holds exactly."""

# Characters XML 1.0 cannot carry at all; openpyxl refuses a cell holding one.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31
_XLSX_TEXT_MAX = 32_767
_COLUMN_WIDTH_MIN, _COLUMN_WIDTH_MAX = 10, 60


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its ``header`` and how to get its ``value`` from a row.

    ``value(row)`` returns the cell as data (a Decimal, a datetime, a str, None), not as
    on-screen text: the file keeps numbers as numbers and times as times.
    """

    header: str
    value: Callable[[Any], Any]


class ExportStopped(Exception):
    """The export was stopped (``should_stop()`` said so) before it was complete: no file was
    written and an older file at the path is unchanged. ``rows_written`` counts the rows that
    had gone to the discarded ``.part`` file."""

    def __init__(self, path: Path, rows_written: int):
        super().__init__(f"The export to {path} was stopped; nothing was written.")
        self.path = path
        self.rows_written = rows_written


class ExportWriteError(DomainError):
    """The export file could not be written or put in place; the message names the file and
    the reason (no such folder, no permission, disk full, open in another program)."""


def partial_path(path: Path) -> Path:
    """Where :func:`write_export` writes before the file is complete: ``<name>.part``."""
    return path.with_name(path.name + ".part")


def keyset_batches(
    fetch_page: Callable[[Any, int], tuple[Sequence[Any], Any]], batch_size: int
) -> Iterator[Sequence[Any]]:
    """Every row of a keyset-paged query, one page (at most ``batch_size`` rows) at a time.

    ``fetch_page(cursor, limit)`` returns ``(rows, next_cursor)``, starting from
    ``cursor=None``, with ``next_cursor`` None after the last page: the shape of the app's
    list queries, e.g. ``lambda c, n: list_users_page(session, flt, cursor=c, limit=n)``.
    Pages are fetched lazily, as the consumer asks for them, so a stopped export reads no
    further.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
    cursor = None
    while True:
        rows, cursor = fetch_page(cursor, batch_size)
        if not rows:
            # An empty page with a cursor would otherwise ask for the same page forever.
            return
        yield rows
        if cursor is None:
            return


def export_suffix(path: Path) -> str:
    """``.csv`` or ``.xlsx``, from ``path``'s ending; a :class:`ValueError` for anything else."""
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(
            f"Cannot export to {path.name!r}: the file name must end in .csv or .xlsx, "
            "which decides the format.")
    return suffix


def write_export(
    path: Path,
    columns: Sequence[ExportColumn],
    batches: Iterable[Sequence[Any]],
    *,
    total: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    display_time: Callable[[dt.datetime], dt.datetime] | None = None,
    sheet_title: str = "Export",
) -> int:
    """Write a header row and every row of ``batches`` to ``path``; return the rows written.

    The format follows ``path``'s ending (``.csv`` or ``.xlsx``; anything else is a
    :class:`ValueError`, before any file is touched). ``progress(done, total)`` is called
    after each batch (``total`` is passed through as given: None when unknown, and it may be
    an estimate that ``done`` overtakes). ``should_stop()`` is asked before each batch is
    fetched and written; when it answers True the export raises :class:`ExportStopped`.
    ``display_time`` converts each datetime to the time to show (default: as it is).
    ``sheet_title`` names the xlsx worksheet. See the module's docstring for what the file
    promises (all or nothing, formula-safe, exact decimals).
    """
    path = Path(path)
    suffix = export_suffix(path)
    part = partial_path(path)
    show_time = display_time or (lambda value: value)
    # The concrete types open() returns: the sink is chosen by which one was opened.
    file: io.TextIOWrapper | io.BufferedWriter
    try:
        if suffix == ".csv":
            # utf-8 with a byte-order mark: without it Excel reads the file in the legacy
            # code page and garbles every name with an accent.
            file = part.open("w", newline="", encoding="utf-8-sig")
        else:
            file = part.open("wb")
    except OSError as exc:
        raise _write_error(path, exc) from exc
    sink: _CsvSink | _XlsxSink | None = None
    done = 0
    try:
        if isinstance(file, io.TextIOWrapper):
            sink = _CsvSink(file, columns, show_time, sheet_title)
        else:
            sink = _XlsxSink(file, columns, show_time, sheet_title)
        if should_stop is not None and should_stop():
            raise ExportStopped(path, done)
        for batch in batches:
            sink.write_rows(batch)
            done += len(batch)
            if progress is not None:
                progress(done, total)
            if should_stop is not None and should_stop():
                raise ExportStopped(path, done)
        sink.finish()
        file.close()
        os.replace(part, path)
    except BaseException as exc:
        # BaseException: a KeyboardInterrupt in a shell must not leave a .part behind either.
        if sink is not None:
            sink.discard()
        file.close()
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise
    return done


def _write_error(path: Path, exc: OSError) -> ExportWriteError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = " (is it open in another program?)" if isinstance(exc, PermissionError) else ""
    return ExportWriteError(f"Could not write {path}{hint}: {reason}.")


def _digits(value: Decimal | int) -> int:
    if isinstance(value, int):
        return len(str(abs(value)))
    return len(value.as_tuple().digits)


class _CsvSink:
    """Rows to a CSV file through :func:`data.csv_safety.safe_csv_writer`."""

    def __init__(self, file: IO[str], columns: Sequence[ExportColumn],
                 show_time: Callable[[dt.datetime], dt.datetime], _sheet_title: str):
        self._columns = columns
        self._show_time = show_time
        self._writer = safe_csv_writer(file)
        self._writer.writerow([c.header for c in columns])

    def write_rows(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self._writer.writerow([self._cell(c.value(row)) for c in self._columns])

    def _cell(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return self._show_time(value).isoformat()
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        return value  # safe_cell does the rest: None, yes/no, numbers, defused text

    def finish(self) -> None:
        """Nothing to complete: every row is in the file already."""

    def discard(self) -> None:
        """Nothing of its own to clean up."""


class _XlsxSink:
    """Rows to an xlsx file through openpyxl's write-only (streaming) workbook."""

    def __init__(self, file: IO[bytes], columns: Sequence[ExportColumn],
                 show_time: Callable[[dt.datetime], dt.datetime], sheet_title: str):
        # Imported here: only xlsx exports pay for loading openpyxl.
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        self._cell_type = WriteOnlyCell
        self._file = file
        self._columns = columns
        self._show_time = show_time
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(_sheet_title(sheet_title))
        # Widths and frozen header must be set before the first row is streamed.
        for index, column in enumerate(columns, 1):
            width = min(max(len(column.header) + 2, _COLUMN_WIDTH_MIN), _COLUMN_WIDTH_MAX)
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = self._text(column.header)
            cell.font = bold
            header.append(cell)
        self._sheet.append(header)

    def write_rows(self, rows: Sequence[Any]) -> None:
        for row in rows:
            self._sheet.append([self._cell(c.value(row)) for c in self._columns])

    def _cell(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | float):
            return value
        if isinstance(value, int):
            return value if _digits(value) <= EXACT_DIGITS else self._text(str(value))
        if isinstance(value, Decimal):
            return self._decimal(value)
        if isinstance(value, dt.datetime):
            shown = self._show_time(value)
            return shown.replace(tzinfo=None) if shown.tzinfo is not None else shown
        if isinstance(value, dt.date | dt.time | dt.timedelta):
            return value
        return self._text(str(value))

    def _decimal(self, value: Decimal) -> Any:
        if not value.is_finite() or _digits(value) > EXACT_DIGITS:
            return self._text(str(value))
        # types-openpyxl types WriteOnlyCell's value narrower than the Cell it builds, which
        # stores a Decimal as a number (openpyxl.compat.NUMERIC_TYPES): kept exact, not a float.
        cell = self._cell_type(self._sheet, value=value)  # type: ignore[arg-type]
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        cell.number_format = "#,##0." + "0" * places if places else "#,##0"
        return cell

    def _text(self, text: str) -> Any:
        text = _XML_ILLEGAL.sub("\ufffd", text)[:_XLSX_TEXT_MAX]
        cell = self._cell_type(self._sheet, value=text)
        # Stored as text whatever it looks like: openpyxl makes "=…" a formula and "#N/A"
        # an error cell unless told otherwise.
        cell.data_type = "s"
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
        return cell

    def finish(self) -> None:
        """Zip the streamed sheet into the file (openpyxl deletes its temporary file)."""
        self._workbook.save(self._file)

    def discard(self) -> None:
        # The write-only sheet streams to a temporary file that openpyxl only deletes at
        # exit or on save; a stopped million-row export must not leave it behind until then.
        with contextlib.suppress(Exception):
            if not self._sheet.closed:
                self._sheet.close()
        writer = getattr(self._sheet, "_writer", None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.cleanup()


def _sheet_title(title: str) -> str:
    """``title`` as Excel accepts a sheet's name: at most 31 characters, none of []:*?/\\."""
    cleaned = _SHEET_TITLE_ILLEGAL.sub(" ", title).strip().strip("'")
    return cleaned[:_SHEET_TITLE_MAX] or "Export"

