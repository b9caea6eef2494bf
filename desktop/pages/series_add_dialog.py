"""A series' items: their order, adding items (a dialog) and taking one out.

:class:`SeriesItemsBox` shows the items in order (drag, or Ctrl+Up / Ctrl+Down, to reorder;
the series dialog saves the order with the fields) with Add content… and Remove from
series…, which save at once. :class:`AddToSeriesDialog` finds items by title or slug; they
keep the order they were picked in and go to the end of the series. An item that is in
another series leaves it; the dialog says so and asks first. Each change is one named
operation (:mod:`data.operations.series`), announced to every page.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.series import AddToSeries, RemoveFromSeries
from data.queries.series import SeriesCandidate, SeriesDetail, search_series_candidates
from desktop.database import Database
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.actions import Confirmation, confirmed
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.ordered_list import OrderedList
from widgets.search_box import SearchBox
from widgets.search_results import LiveSearch, SearchResults

SEARCH_LIMIT = 50
REORDER_HINT = "Drag items to reorder them, or use Ctrl+Up / Ctrl+Down."


def _label(c: SeriesCandidate) -> str:
    text = f"{c.title}  ({c.content_type}, {c.status})"
    return f"{text} — now in “{c.series_title}”" if c.series_title else text


class AddToSeriesDialog(QDialog):
    """Signals:
        items_added(object): the :class:`SeriesDetail` after the items were appended.
    """

    items_added = Signal(object)

    def __init__(self, database: Database, series: SeriesDetail,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add items to series")
        self.resize(640, 480)
        self._db = database
        self._series = series
        self._busy = False

        intro = QLabel(f"Add items to the end of <b>{html.escape(series.title)}</b>. Select "
                       "several with Ctrl or Shift.")
        intro.setWordWrap(True)
        self.search = SearchBox("Search items by title or slug…")
        self.results = SearchResults(
            limit=SEARCH_LIMIT,
            none_text="No item matches (items already in this series are not listed).",
            limit_text=f"First {SEARCH_LIMIT}, newest first: type more to narrow.",
            count_text=lambda n: f"{n} item{'s' if n != 1 else ''}.")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.itemSelectionChanged.connect(self._update_buttons)
        self.results.itemActivated.connect(
            database.rights.allowing("edit_catalog", lambda _item: self.add_selected()))
        self.live_search = LiveSearch(
            self.search, self.results, self._find_items, label=_label, tooltip=_label,
            describe_failure=lambda exc: report_read_failure(self._db, "the items", exc))
        self.live_search.shown.connect(self._update_buttons)
        self.results_note = self.results.note
        self.banner = Banner(error=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("&Add to series",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        database.rights.guard(self.add_button, "edit_catalog")
        for b in self.buttons.buttons():
            b.setAutoDefault(False)  # Return searches, or adds the item it is on
        self.buttons.accepted.connect(self.add_selected)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.banner)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.results_note)
        layout.addWidget(self.buttons)
        self.search.setFocus()
        self._update_buttons()
        self.live_search.search("")

    # -- public API ------------------------------------------------------------------------
    def selected(self) -> list[SeriesCandidate]:
        """The chosen items, in the order the list shows them."""
        return self.results.selected_values()

    def add_selected(self) -> None:
        chosen = self.selected()
        if not chosen or self._busy:
            return
        moving = [c for c in chosen if c.series_title]
        if moving and not confirm(
                self, title="Move to this series",
                text=f"{len(moving)} of the {len(chosen)} item(s) will leave the series "
                     "they are in now.",
                informative="\n".join(f"“{c.title}” leaves “{c.series_title}”"
                                      for c in moving[:10]),
                confirm_label="Move and add"):
            return
        self._busy = True
        self._update_buttons()
        self._db.perform(AddToSeries(self._series.id, tuple(c.id for c in chosen)),
                         on_success=self._on_added, on_failure=self._on_failed, context=self)

    # -- internals -------------------------------------------------------------------------
    def _find_items(self, text: str, found, failed) -> None:
        self._db.read(search_series_candidates, self._series.id, text, SEARCH_LIMIT,
                      on_success=found, on_failure=failed, context=self)

    def _on_added(self, detail: SeriesDetail) -> None:
        self._busy = False
        self.items_added.emit(detail)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._update_buttons()
        present_error(self._db, exc, banner=self.banner, fields=self._show_field_errors)

    def _show_field_errors(self, errors: dict) -> None:
        self.banner.show_message(" ".join(errors.values()))
        self.live_search.search(self.search.text())  # show the items as they are now

    def _update_buttons(self, *_args) -> None:
        count = len(self.results.selectedItems())
        self.add_button.setEnabled(count > 0 and not self._busy)
        self.add_button.setText(f"&Add {count} to series" if count > 1 else "&Add to series")


def _item_text(item) -> str:
    marks = [item.content_type]
    if item.status != "published":
        marks.append(item.status)
    if item.deleted:
        marks.append("deleted")
    return f"{item.title}  ({', '.join(marks)})"


class SeriesItemsBox(QGroupBox):
    """The items of the series shown (:meth:`show_detail`), in order.

    Signals:
        order_changed(): the user reordered the items (compare :attr:`order_dirty`).
        write_started(): a removal is on its way (the series' buttons wait for it).
        items_changed(object): the :class:`SeriesDetail` after items were added or removed.
        write_failed(object): why a removal failed (the owner presents it).
    """

    order_changed = Signal()
    write_started = Signal()
    items_changed = Signal(object)
    write_failed = Signal(object)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__("&Items in order", parent)
        self._db = database
        self._detail: SeriesDetail | None = None
        self._busy = False
        self._waiting = ""
        self.items = OrderedList()
        self.items.order_changed.connect(lambda _ids: self.order_changed.emit())
        self.items.current_changed.connect(self._update_buttons)
        self.add_items_button = QPushButton("Add &content…")
        self.add_items_button.clicked.connect(self.open_add_items)
        self.remove_item_button = QPushButton("Re&move from series…")
        self.remove_item_button.clicked.connect(self.remove_selected)
        for button in (self.add_items_button, self.remove_item_button):
            button.setAutoDefault(False)
            database.rights.guard(button, "edit_catalog")
        self.hint = QLabel(REORDER_HINT)
        self.hint.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.hint, 1)
        actions.addWidget(self.add_items_button)
        actions.addWidget(self.remove_item_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.items, 1)
        layout.addLayout(actions)
        self.setFocusProxy(self.items.view)

    @property
    def order_dirty(self) -> bool:
        """The items were reordered since the series was shown (not saved yet)."""
        return self._detail is not None and list(self.items.ids()) != self._detail.item_ids

    def order(self) -> tuple:
        """The items' ids in the order shown."""
        return tuple(self.items.ids())

    def show_detail(self, detail: SeriesDetail | None) -> None:
        """Show ``detail``'s items in their stored order (None: a series not saved yet)."""
        self._detail = detail
        items = detail.items if detail is not None else ()
        self.items.set_items([(i.id, _item_text(i)) for i in items])
        self.setEnabled(detail is not None)
        self.items.setEnabled(bool(items))
        self.hint.setText("Save the series first; then add items to it." if detail is None
                          else REORDER_HINT if items
                          else "No items yet: Add content… puts items in this series.")
        self._update_buttons()

    def set_waiting(self, busy: bool, reason: str = "") -> None:
        """Adding and removing save at once and reload the series: they wait while a write
        is in flight (``busy``) and, saying ``reason``, over unsaved edits."""
        self._busy, self._waiting = busy, reason
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        may = self._detail is not None and not self._busy and not self._waiting
        self.add_items_button.setEnabled(may)
        self.remove_item_button.setEnabled(may and self.items.current_id() is not None)
        self.add_items_button.setToolTip(
            self._waiting or "Find items and add them to the end of this series.")
        self.remove_item_button.setToolTip(
            self._waiting or "Take the selected item out of this series now (it stays in "
                             "the catalog).")

    def remove_selected(self) -> None:
        """Take the selected item out of the series, after asking."""
        d, item_id = self._detail, self.items.current_id()
        if d is None or item_id is None or not self.remove_item_button.isEnabled():
            return
        title = next((i.title for i in d.items if i.id == item_id), "this item")
        if not confirmed(self, Confirmation(
                "Remove from series", f"Take '{title}' out of '{d.title}'?",
                "Remove from series", informative="The item stays in the catalog, in no "
                                                  "series. Add content… puts it back.")):
            return
        self.write_started.emit()
        self._db.perform(RemoveFromSeries(d.id, item_id), on_success=self.items_changed.emit,
                         on_failure=self.write_failed.emit, context=self)

    def open_add_items(self) -> AddToSeriesDialog | None:
        """Find items and append them to the series shown (saved at once)."""
        if self._detail is None or not self.add_items_button.isEnabled():
            return None
        dialog = AddToSeriesDialog(self._db, self._detail, self)
        dialog.items_added.connect(self.items_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
