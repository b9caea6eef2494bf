"""Inline lists: one record's related rows inside its detail, lazy and newest first.

An :class:`InlineSpec` is a few lines: a title, columns and the keyset query of one owner's
rows (or a :class:`~data.queries.listing.TableListing` with an ``owner`` column, see
:meth:`InlineSpec.of_listing`). :class:`InlineList` shows the rows of the owner it is given,
and reloads when an announced change touches that owner's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from data.operations import Changes
from data.queries.listing import TableListing, list_owned_page
from desktop.database import Database
from desktop.formatting import format_value
from desktop.read_failures import watch_list_loads
from widgets.banner import Banner
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

__all__ = ["InlineList", "InlineSpec"]


@dataclass(frozen=True)
class InlineSpec:
    """``query(session, *args, owner_id, cursor, limit)`` returns ``(rows, next_cursor)``.

    ``watch`` is a table keyed by the owner's id (``credit_balances`` for a customer's
    ledger): an announced change of the owner's row there reloads the list.
    """

    title: str
    columns: Sequence[Column]
    query: Callable[..., tuple[list, Any]]
    args: tuple = ()
    row_key: Callable[[Any], Hashable] = attrgetter("id")
    empty: str = "Nothing yet."
    watch: str | None = None
    owner_of: Callable[[Any], Hashable] = attrgetter("id")
    """As a list page's detail (``show_row``): the owner's id from the list's row."""
    heading: Callable[[Any], str] | None = None
    """As a list page's detail: the heading above the rows, from the list's row."""
    also_watch: tuple[str, ...] = ()
    """More tables keyed by the owner's id, watched as ``watch`` is (a user's History
    follows ``users`` and ``credit_balances``)."""
    watch_rows: str | None = None
    """A table keyed by the rows' own keys: an announced change of a row shown reloads the
    list (a refund announces the booking, not its customer)."""

    @classmethod
    def of_listing(cls, listing: TableListing, *, empty: str = "Nothing yet.",
                   displays: dict[str, Callable[[Any], str]] | None = None,
                   max_widths: dict[str, int] | None = None,
                   watch: str | None = None) -> InlineSpec:
        """An inline list of ``listing``'s rows of one owner (its ``owner`` column), one
        column per listing column; ``displays`` formats a column's values by title."""
        displays, max_widths = displays or {}, max_widths or {}
        columns = [Column(title, value=itemgetter(i), display=displays.get(title, format_value),
                          max_width=max_widths.get(title))
                   for i, (title, _col) in enumerate(listing.columns)]
        return cls(listing.title, columns, list_owned_page, (listing,),
                   row_key=itemgetter(-1), empty=empty, watch=watch)


class InlineList(QWidget):
    """The rows of one owner (``show_for(owner_id)``), paged as the user scrolls.

    Signals:
        view_built(object): the table (:attr:`view`) was just built (on first show or use).
    """

    view_built = Signal(object)

    def __init__(self, spec: InlineSpec, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self._db = database
        self._owner: Hashable | None = None
        self.heading = QLabel("")
        self.heading.setVisible(False)
        self.heading.setWordWrap(True)
        self.banner = Banner(error=True)
        self.model = LazyTableModel(spec.columns, database.runner, page_size=100,
                                    row_key=spec.row_key, parent=self)
        # The table is built when the list is first shown (or asked for): a detail's tabs
        # are mostly hidden, and building all their tables at once made building a page a
        # stall of the GUI thread (the Users detail has five).
        self._view: LazyTableView | None = None
        self._placeholders: dict[str, str | None] = {"empty": spec.empty,
                                                     "loading": "Loading…"}
        watch_list_loads(self.model, self, self.banner, database, spec.title.lower())
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.heading)
        self._layout.addWidget(self.banner)
        database.changed.connect(self._on_database_changed)

    @property
    def view(self) -> LazyTableView:
        if self._view is None:
            self._view = LazyTableView(self.model)
            self._view.set_placeholder_texts(**self._placeholders)
            self._layout.addWidget(self._view, 1)
            self.view_built.emit(self._view)
        return self._view

    @property
    def view_if_built(self) -> LazyTableView | None:
        """The table, or None while it is not built (nothing to ask it then)."""
        return self._view

    def set_placeholder_texts(self, *, empty: str | None = None, loading: str | None = None,
                              error: str | None = None) -> None:
        """As :meth:`LazyTableView.set_placeholder_texts` (kept until the table is built)."""
        given = {"empty": empty, "loading": loading, "error": error}
        self._placeholders.update({k: v for k, v in given.items() if v is not None})
        if self._view is not None:
            self._view.set_placeholder_texts(empty=empty, loading=loading, error=error)

    def showEvent(self, event: QShowEvent) -> None:
        self.view  # noqa: B018 - built before it is first painted
        super().showEvent(event)

    @property
    def owner(self) -> Hashable | None:
        return self._owner

    def show_for(self, owner_id: Hashable | None, heading: str | None = None) -> None:
        """Show ``owner_id``'s rows (None: none), with ``heading`` above them if given."""
        self._owner = owner_id
        self.heading.setText(heading or "")
        self.heading.setVisible(bool(heading))
        if owner_id is None:
            self.model.set_fetcher(None)
            return
        self.model.set_fetcher(self._db.page_fetcher(self.spec.query, *self.spec.args,
                                                     owner_id))

    def show_row(self, row: Any) -> None:
        """As a list page's detail: the rows of the list's current ``row`` (None: none)."""
        if row is None:
            self.show_for(None, self.spec.title)
            return
        heading = self.spec.heading(row) if self.spec.heading is not None else None
        self.show_for(self.spec.owner_of(row), heading)

    def reload(self) -> None:
        if self._owner is not None:
            self.model.refresh()

    def _on_database_changed(self, changes: Changes) -> None:
        if self._owner is None:
            return
        watched = ((self.spec.watch,) if self.spec.watch is not None else ()) \
            + self.spec.also_watch
        if any(changes.touches(table, (self._owner,)) for table in watched) \
                or self._shows_changed_rows(changes):
            self.reload()

    def _shows_changed_rows(self, changes: Changes) -> bool:
        table = self.spec.watch_rows
        if table is None or not changes.touches(table):
            return False
        ids = changes.ids(table)
        return ids is None or any(self.model.row_index(key) is not None for key in ids)
