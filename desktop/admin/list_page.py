"""A list page, declared: the binding of the generic list parts to the database.

A page is a :class:`ListSpec` — columns, filters, the keyset query and its count, the table
whose changes it shows, actions, export columns — and, beside the list, a detail widget.
:class:`ListPage` does the rest: the filter bar builds the filter value; a refresh swaps the
lazy table's fetcher and counts (the latest count wins); a failed load says why in the
banner; a committed change to ``table`` reloads the rows it touched (or the list); actions
run with their confirmation and their errors go to :func:`present_error`; Export writes the
whole filtered list.

Optional parts: filter options read from the database (:class:`ChoiceSource`, read again
when an announced change touches its tables); several rows selected at once
(:class:`MultiSelect`: a pane stands in for the one-record detail); the actions in a toolbar
above the list, after the detail's own (``toolbar``); and a detail that keeps its record
while the list is refreshed and asks before unsaved edits are left (``keep_detail``).

The detail may be given as a function that makes it: the page builds the list now and the
detail on the next turn of the event loop, so building a page does not hold the GUI thread
for both at once (reading ``page.detail`` before then builds it at once).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.export import ExportColumn
from data.operations import Changes
from desktop.database import Database
from desktop.formatting import format_count
from desktop.list_export import export_list, start_export
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.actions import Action, ActionBar
from widgets.banner import Banner
from widgets.filter_bar import FilterBar, FilterSpec
from widgets.latest import LatestRequest
from widgets.layouts import column, side_by_side
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.operations import OperationHandle
from widgets.selection_pane import SelectionPane

__all__ = ["ChoiceSource", "DetailPane", "ListPage", "ListSpec", "MultiSelect", "Page"]


class Page(Protocol):
    """What the main window asks of every tab."""

    title: str
    shortcut: str
    """The key that shows this page ("Ctrl+1")."""

    def focus_search(self) -> None: ...

    def refresh(self) -> None: ...


class DetailPane(Protocol):
    """The widget beside a list: shows the current row (None: nothing selected).

    A :class:`~desktop.admin.record_detail.RecordDetail` offers more, which the page uses
    when present: ``shown_key`` and ``may_leave()`` (``keep_detail``), ``block_actions``
    (several rows selected), ``toolbar_widgets()`` (``toolbar``) and ``new_started``.
    """

    def show_row(self, row: Any) -> None: ...


@dataclass(frozen=True)
class ChoiceSource:
    """Filter options read from the database.

    ``query(session)`` is read when the page first loads and again when an announced change
    touches one of ``tables``; ``options(result)`` maps :class:`~widgets.filter_bar.Choice`
    names to their ``(value, label)`` options. The page keeps the result as ``choices``
    (``empty`` until the first answer) and emits ``choices_loaded`` with it.
    """

    query: Callable[..., Any]
    options: Callable[[Any], Mapping[str, Sequence[tuple[Hashable, str]]]]
    tables: tuple[str, ...] = ()
    empty: Any = None
    what: str = "the choices for the filters"


@dataclass(frozen=True)
class MultiSelect:
    """Several rows may be selected. With more than one, a pane stands in for the detail
    (which shows one record): its title says how many, ``note`` says why, and a button
    (``button_label``) runs the list's ``many`` action ``action`` (its key) on them; the
    detail's own actions wait, saying ``blocked``."""

    note: str
    action: str
    button_label: str
    blocked: str = "Select one row to act on it alone."


def _identity(**values: Any) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class ListSpec:
    """A list page's description.

    ``query(session, flt, cursor=…, limit=…)`` returns ``(rows, next_cursor)``;
    ``count(session, flt)`` a ``Count`` (``value``, ``exact``) or an int (an estimate);
    ``make_filter(**filter_bar_values)`` the filter value both take. ``table`` names the
    table whose announced changes this list shows; ``row_query(session, key)`` reloads one
    row (None: it left the list), else a change reloads the whole list. ``refresh_on_new``:
    a changed id that is not loaded (a new row) reloads the list. ``export`` columns make the
    Export button write the whole filtered list.
    """

    title: str
    noun: str
    columns: Sequence[Column]
    query: Callable[..., tuple[list, Any]]
    count: Callable[..., Any] | None = None
    filters: Sequence[FilterSpec] = ()
    make_filter: Callable[..., Any] = _identity
    row_key: Callable[[Any], Hashable] = attrgetter("id")
    table: str | None = None
    row_query: Callable[..., Any] | None = None
    refresh_on_new: bool = False
    actions: Sequence[Action] = ()
    export: Sequence[ExportColumn] = ()
    export_name: str = ""
    heading: str = ""
    shortcut: str = ""
    """The key that shows the page (see :class:`Page`)."""
    page_size: int = 200
    placeholder: str = ""
    detail_ratio: tuple[int, int] = (3, 2)
    searches: dict[str, Callable[..., Any]] = field(default_factory=dict)
    """For each :class:`~widgets.filter_bar.Related` filter, its named query
    ``(session, text) -> [(id, label), …]``, run on a worker as the person types."""
    full_width_bars: bool = False
    """The filters above and the buttons below span list and detail (a detail that is a
    list of its own, like a ledger); else they stay in the list's column."""
    choices: ChoiceSource | None = None
    multi_select: MultiSelect | None = None
    toolbar: bool = False
    """The actions in a row above the list (after the detail's ``toolbar_widgets()``)."""
    keep_detail: bool = False
    """The detail keeps its record while the list has no current row (refreshed, filtered)
    and the row is selected again when it shows up; moving to another row asks first when
    the detail has unsaved edits (``detail.may_leave()``)."""


class ListPage(QWidget):
    """The page :class:`ListSpec` describes, with ``detail`` (optional) on the right.

    Signals:
        current_row_changed(object): the selected row, or None.
        choices_loaded(object): the result of the spec's :class:`ChoiceSource` query.
    """

    current_row_changed = Signal(object)
    choices_loaded = Signal(object)

    def __init__(self, spec: ListSpec, database: Database, *,
                 detail: QWidget | Callable[[], QWidget] | None = None,
                 load_on_show: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.title = spec.title
        self.shortcut = spec.shortcut
        self._db = database
        self._latest_count = LatestRequest()
        self._latest_rows = LatestRequest()
        self._loaded = not load_on_show
        self.filters = FilterBar(spec.filters, searchers={
            name: self._searcher(query) for name, query in spec.searches.items()})
        self.filters.changed.connect(self.refresh)
        self.search = self.filters.search
        self.banner = Banner(error=True)
        self.model = LazyTableModel(spec.columns, database.runner, page_size=spec.page_size,
                                    row_key=spec.row_key, parent=self)
        self.view = LazyTableView(self.model)
        if spec.placeholder:
            self.view.set_placeholder_texts(empty=spec.placeholder)
        watch_list_loads(self.model, self.view, self.banner, database,
                         f"the {spec.title.lower()}")
        if self.search is not None:
            self.search.move_down_into(self.view)
        self.count_label = QLabel("")
        self.selection_label = QLabel("")
        self.actions = ActionBar(spec.actions, self.view.current_row, self.run_action,
                                 selection=self.selected_rows, rights=database.rights)
        self.actions.attach_to(self.view)
        self.export_button = QPushButton("E&xport…")
        self.export_button.setVisible(bool(spec.export))
        self.export_button.clicked.connect(self.ask_export)
        self._detail: QWidget | None = None
        self._make_detail: Callable[[], QWidget] | None = None
        self._detail_holder: QVBoxLayout | None = None
        if callable(detail) and not isinstance(detail, QWidget):
            if spec.toolbar or spec.multi_select is not None:
                detail = detail()  # its parts are laid out with the list: made now
                self._set_detail(detail)
            else:
                self._make_detail = detail
                holder = QWidget()
                self._detail_holder = QVBoxLayout(holder)
                self._detail_holder.setContentsMargins(0, 0, 0, 0)
                # A timer of the page (not singleShot(0), which runs before waiting timers
                # and input): the event loop gets its turn between the list and the detail.
                self._detail_timer = QTimer(self)
                self._detail_timer.setSingleShot(True)
                self._detail_timer.timeout.connect(self._build_detail)
                self._detail_timer.start(0)
                detail = holder
        else:
            self._set_detail(detail)
        self.choices = spec.choices.empty if spec.choices is not None else None
        self._choices_asked = False
        self._latest_choices = LatestRequest()
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        if spec.keep_detail:
            self.model.rows_loaded.connect(self._on_model_rows_loaded)
        database.changed.connect(self._on_database_changed)

        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addStretch()
        bottom.addWidget(self.selection_label)
        bottom.addWidget(self.export_button)
        parts: list = []
        if spec.toolbar:
            self.toolbar = QHBoxLayout()
            for widget in getattr(detail, "toolbar_widgets", list)():
                self.toolbar.addWidget(widget)
            self.toolbar.addStretch()
            self.toolbar.addWidget(self.actions)
        else:
            bottom.addWidget(self.actions)
        if spec.heading:
            heading = QLabel(spec.heading)
            heading.setWordWrap(True)  # a long heading wraps; it never widens the window
            parts.append(heading)
        parts.append(self.filters)
        layout = QVBoxLayout(self)
        if spec.toolbar:
            layout.addLayout(self.toolbar)
        right = detail
        if spec.multi_select is not None:
            right = self._multi_select_pane(spec.multi_select, detail)
        if right is None:
            layout.addWidget(column(*parts, self.banner, self.view, bottom, grow=self.view))
        elif spec.full_width_bars:
            for part in parts:
                layout.addWidget(part)
            layout.addWidget(side_by_side(column(self.banner, self.view, grow=self.view),
                                          right, ratio=spec.detail_ratio), 1)
            layout.addLayout(bottom)
        else:
            list_column = column(*parts, self.banner, self.view, bottom, grow=self.view)
            layout.addWidget(side_by_side(list_column, right, ratio=spec.detail_ratio), 1)
        if self._loaded:
            self.refresh()

    @property
    def built(self) -> bool:
        """The detail (if it comes later) and its tabs (if built in steps) are all built;
        reading ``detail`` does not wait for this: it builds the rest at once."""
        return self._make_detail is None and getattr(self._detail, "built", True)

    @property
    def detail(self) -> Any:
        """The widget beside the list (None: none); built now if it was still to come."""
        self._build_detail()
        return self._detail

    def _build_detail(self) -> None:
        make, self._make_detail = self._make_detail, None
        if make is None:
            return
        detail = make()
        assert self._detail_holder is not None
        self._detail_holder.addWidget(detail)
        self._set_detail(detail)

    def _set_detail(self, detail: QWidget | None) -> None:
        self._detail = detail
        if detail is not None and hasattr(detail, "new_started"):
            detail.new_started.connect(self.view.clearSelection)

    def _multi_select_pane(self, multi: MultiSelect, detail: QWidget | None) -> QWidget:
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.right = SelectionPane(detail, multi.note, multi.button_label,
                                   lambda: self.actions.run(self.actions.action(multi.action)))
        self.many, self.many_title = self.right.many, self.right.title
        self.many_note, self.many_button = self.right.note, self.right.button
        self._db.rights.guard(self.many_button, self.actions.action(multi.action).requires)
        return self.right

    def _searcher(self, query: Callable[..., Any]):
        def search(text: str, deliver) -> None:
            # The picker drops an answer for an older text itself (latest request wins).
            self._db.read(query, text, on_success=deliver,
                          on_failure=lambda exc: report_read_failure(self._db, "the search", exc),
                          context=self)

        return search

    # -- the Page protocol ---------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:  # load on first show: start-up stays fast
            self._loaded = True
            self.refresh()

    def focus_search(self) -> None:
        self.filters.focus_search()

    def current_filter(self) -> Any:
        return self.spec.make_filter(**self.filters.values())

    def refresh(self) -> None:
        """Read the list again with the filters as they are now, and count it."""
        self._loaded = True
        if self.spec.choices is not None and not self._choices_asked:
            self.reload_choices()
        self.filters.cancel_pending()
        flt = self.current_filter()
        self.model.set_fetcher(self._db.page_fetcher(self.spec.query, flt))
        if self.spec.count is None:
            return
        self.count_label.setText("Counting…")
        on_counted, on_failed = self._latest_count.wrap(self._on_counted, self._on_count_failed)
        self._db.read(self.spec.count, flt, on_success=on_counted, on_failure=on_failed,
                      context=self)

    def _on_counted(self, count: Any) -> None:
        self.count_label.setToolTip("")
        if isinstance(count, int):
            self.count_label.setText(format_count(count, self.spec.noun, exact=False))
        else:
            self.count_label.setText(format_count(count.value, self.spec.noun,
                                                  exact=count.exact))

    def _on_count_failed(self, exc: BaseException) -> None:
        self.count_label.setText("Count unavailable")
        self.count_label.setToolTip(
            report_read_failure(self._db, f"the number of {self.spec.noun}s", exc))

    def reload_choices(self) -> None:
        """Read the filters' options (:class:`ChoiceSource`) again."""
        source = self.spec.choices
        if source is None:
            return
        self._choices_asked = True
        on_loaded, on_failed = self._latest_choices.wrap(self._on_choices_loaded,
                                                         self._on_choices_failed)
        self._db.read(source.query, on_success=on_loaded, on_failure=on_failed, context=self)

    def _on_choices_loaded(self, result: Any) -> None:
        self.choices = result
        for name, options in self.spec.choices.options(result).items():
            self.filters.set_options(name, options)
        self.choices_loaded.emit(result)

    def _on_choices_failed(self, exc: BaseException) -> None:
        self.banner.show_message(report_read_failure(self._db, self.spec.choices.what, exc))

    # -- selection ---------------------------------------------------------------------------
    def selected_rows(self) -> list:
        """The selected rows, in the list's order (the current one alone, if none is)."""
        indexes = self.view.selectionModel().selectedRows()
        if not indexes:
            current = self.view.current_row()
            return [] if current is None else [current]
        return [self.model.row_at(i) for i in sorted(index.row() for index in indexes)]

    @property
    def showing_many(self) -> bool:
        """Several rows are selected: the multi-select pane stands in for the detail."""
        return self.spec.multi_select is not None and self.right.showing_many

    def _on_view_selection_changed(self, *_args) -> None:
        n = len(self.view.selectionModel().selectedRows())
        self.selection_label.setText(f"{n:,} selected" if n > 1 else "")
        self.right.show_count(n)
        if hasattr(self.detail, "block_actions"):
            self.detail.block_actions(self.spec.multi_select.blocked if n > 1 else "")
        self.actions.update_for(self.view.current_row())

    def _on_view_current_row_changed(self, row: Any) -> None:
        self.actions.update_for(row)
        if self.detail is not None and not (self.spec.keep_detail and self._keeps_detail(row)):
            self.detail.show_row(row)
        self.current_row_changed.emit(row)

    def _keeps_detail(self, row: Any) -> bool:
        """With ``keep_detail``: whether the detail stays as it is for ``row``."""
        if row is None:
            return True  # refreshed or filtered: the record stays (selected again if shown)
        shown = getattr(self.detail, "shown_key", None)
        if self.spec.row_key(row) == shown:
            return True
        may_leave = getattr(self.detail, "may_leave", None)
        if may_leave is not None and not may_leave():
            self._reselect_shown()
            return True
        return False

    def _on_model_rows_loaded(self, _count: int) -> None:
        if self.view.current_row() is None:
            self._reselect_shown()

    def _reselect_shown(self) -> None:
        key = getattr(self.detail, "shown_key", None)
        row = self.model.row_index(key) if key is not None else None
        if row is not None:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    # -- changes ---------------------------------------------------------------------------
    def _on_database_changed(self, changes: Changes) -> None:
        source = self.spec.choices
        if source is not None and self._choices_asked \
                and any(changes.touches(t) for t in source.tables):
            self.reload_choices()
        table = self.spec.table
        if table is None or not changes.touches(table) or not self._loaded:
            return
        ids = changes.ids(table)
        if ids is None or self.spec.row_query is None:
            self.refresh()
            return
        if self.spec.refresh_on_new and any(self.model.row_index(k) is None for k in ids):
            self.refresh()  # a new row: it belongs where the list's order puts it
            return
        for key in ids:
            if self.model.row_index(key) is not None:
                self.reload_row(key)

    def reload_row(self, key: Hashable) -> None:
        """Read one row again and show it in place (gone from the list if it left it)."""
        on_loaded = self._latest_rows.wrap(lambda row: self._on_row_reloaded(key, row),
                                           key=key)
        self._db.read(self.spec.row_query, key, on_success=on_loaded,
                      on_failure=lambda exc: report_read_failure(self._db, "a changed row", exc),
                      context=self)

    def _on_row_reloaded(self, key: Hashable, row: Any) -> None:
        if row is None:
            self.model.remove_row(key)
            return
        self.model.replace_row(row)
        current = self.view.current_row()
        if current is not None and self.spec.row_key(current) == key:
            self._on_view_current_row_changed(row)

    # -- actions ---------------------------------------------------------------------------
    def run_action(self, action: Action, row: Any) -> Any:
        """Run ``action`` on ``row``: open its dialog, or confirm and run its operation."""
        if not action.asks(self, row):
            return None
        if action.open is not None:
            # A method of the page by name (Django's string actions), or any callable.
            opener = getattr(self, action.open) if isinstance(action.open, str) else action.open
            return opener(row)
        if action.operation is not None:
            self.actions.set_busy(True)
            return self._db.perform(action.operation(row),
                                    on_success=lambda _result: self.actions.set_busy(False),
                                    on_failure=self._on_action_failed, context=self)
        return None

    def _on_action_failed(self, exc: BaseException) -> None:
        self.actions.set_busy(False)
        present_error(self._db, exc, banner=self.banner)

    def open_dialog(self, dialog: QDialog) -> QDialog:
        """Show ``dialog`` (an action's) without waiting; it is deleted when closed."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # -- export ----------------------------------------------------------------------------
    def ask_export(self) -> None:
        """Ask for a file (CSV or Excel), then write the whole filtered list to it."""
        self.export_handle = export_list(self, self._db, default_name=self._export_name(),
                                         **self._export_arguments())

    def export_to(self, path: Path) -> OperationHandle:
        """Write the whole filtered list to ``path`` (.csv or .xlsx), with progress."""
        return start_export(path, self, self._db, **self._export_arguments())

    def _export_name(self) -> str:
        return f"{self.spec.export_name or self.spec.title.lower().replace(' ', '_')}.xlsx"

    def _export_arguments(self) -> dict[str, Any]:
        return dict(title=f"Export {self.spec.title.lower()}", columns=self.spec.export,
                    page_query=self.spec.query, query_args=(self.current_filter(),),
                    count_query=self.spec.count)
