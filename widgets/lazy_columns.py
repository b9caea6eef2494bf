"""What a lazy table shows: its columns, the pages a fetcher returns, and the row role.

Plain declarations shared by the model (:mod:`widgets.lazy_table_model`) and the view
(:mod:`widgets.lazy_table_view`); pages import them from :mod:`widgets.lazy_table`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

__all__ = ["AnyIndex", "Column", "Page", "PageFetcher", "RowRole"]

# data(index, RowRole) returns the whole row object.
RowRole = int(Qt.ItemDataRole.UserRole) + 1

AnyIndex = QModelIndex | QPersistentModelIndex


def _default_display(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """How one column turns a row into a cell.

    ``value`` extracts the raw value from a row; ``display`` turns it into text (default:
    ``str``, with None shown as an empty cell). ``width`` is where the column starts; the
    view widens it to its header and to the first page's values, up to ``max_width`` (long
    free text is cut there, and its tooltip shows it whole). ``tooltip`` is the header's
    (what the column means, when its title cannot say it all).
    """

    title: str
    value: Callable[[Any], Any]
    display: Callable[[Any], str] | None = None
    align: Qt.AlignmentFlag | None = None
    width: int | None = None
    max_width: int | None = None
    tooltip: str | None = None

    def text_for(self, row: Any) -> str:
        raw = self.value(row)
        if self.display is None:
            return _default_display(raw)
        return self.display(raw)


class Page(NamedTuple):
    """One page from a fetcher. ``next_cursor`` None means there are no more rows."""

    rows: list
    next_cursor: object | None


# (cursor, limit) -> Page; runs on a worker thread. The first call gets cursor None.
PageFetcher = Callable[[object | None, int], Page]
