"""Adding items to a series: find them by title or slug, pick one or more, append them.

Items keep the order they were picked in the list and go to the end of the series. An item
that is in another series leaves it; the dialog says so and asks first. Everything is one
transaction (:class:`~data.operations.series.AddToSeries`), announced to every page.
"""

from __future__ import annotations

import html
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from data.operations.series import AddToSeries
from data.queries.series import SeriesCandidate, SeriesDetail, search_series_candidates
from desktop.database import Database
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.latest import LatestRequest
from widgets.search_box import SearchBox
from widgets.search_results import SearchResults

SEARCH_LIMIT = 50


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
        self._latest_search = LatestRequest()

        intro = QLabel(f"Add items to the end of <b>{html.escape(series.title)}</b>. Select "
                       "several with Ctrl or Shift.")
        intro.setWordWrap(True)
        self.search = SearchBox("Search items by title or slug…")
        self.search.search_requested.connect(self._on_search_requested)
        self.results = SearchResults(
            limit=SEARCH_LIMIT,
            none_text="No item matches (items already in this series are not listed).",
            limit_text=f"First {SEARCH_LIMIT}, newest first: type more to narrow.",
            count_text=lambda n: f"{n} item{'s' if n != 1 else ''}.")
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.itemSelectionChanged.connect(self._update_buttons)
        self.results.itemActivated.connect(lambda _item: self.add_selected())
        self.search.move_down_into(self.results)
        self.results_note = self.results.note
        self.banner = Banner(error=True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("&Add to series",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
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
        self._on_search_requested("")

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
    def _on_search_requested(self, text: str) -> None:
        self.results.searching(text)
        on_found, on_failed = self._latest_search.wrap(
            partial(self._on_results_loaded, text), partial(self._on_search_failed, text))
        self._db.read(search_series_candidates, self._series.id, text, SEARCH_LIMIT,
                      on_success=on_found, on_failure=on_failed, context=self)

    def _on_search_failed(self, text: str, exc: BaseException) -> None:
        # Only the search is concerned: an add in flight stays in flight (and Add waits).
        self.results.show_failure(text, report_read_failure(self._db, "the items", exc))
        self._update_buttons()

    def _on_results_loaded(self, text: str, items: list[SeriesCandidate]) -> None:
        self.results.show_results(text, items, _label, _label)
        self._update_buttons()

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
        self._on_search_requested(self.search.text())  # show the items as they are now

    def _update_buttons(self, *_args) -> None:
        count = len(self.results.selectedItems())
        self.add_button.setEnabled(count > 0 and not self._busy)
        self.add_button.setText(f"&Add {count} to series" if count > 1 else "&Add to series")
