"""The featured content dialog: which published items the home page shows, in what order.

The list is edited locally (add from a search of published items, remove, drag to reorder)
and saved in one go (:class:`~data.operations.series.SetFeatured`), which refuses to
overwrite a change someone else made since the dialog loaded the list.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConflictError
from data.operations.series import SetFeatured
from data.queries.featured import (
    FeaturedItem,
    FeaturedState,
    get_featured,
    search_published_content,
)
from data.services.featured import FIELD
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.ordered_list import OrderedList
from widgets.search_box import SearchBox
from widgets.search_results import LiveSearch, SearchResults

SEARCH_LIMIT = 50


def _result_label(item: FeaturedItem) -> str:
    day = item.published_at.date().isoformat() if item.published_at else ""
    return f"{item.title}  ({item.content_type}, {day})"


def _tooltip(item: FeaturedItem) -> str:
    if item.featurable:
        return f"Published {format_value(item.published_at)}"
    return "Not published any more: remove it before saving."


class FeaturedContentDialog(QDialog):
    """The featured list in order on the left; published items to add on the right.

    Signals:
        featured_changed(): the featured list was saved.
    """

    featured_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Featured content")
        self.resize(920, 560)
        self._db = database
        self._state: FeaturedState | None = None
        self._known: dict[uuid.UUID, FeaturedItem] = {}
        self._busy = False

        self.featured = OrderedList(removable=True, remove_label="&Remove")
        self.featured.order_changed.connect(self._update_buttons)
        featured_box = QGroupBox("&Featured, in the order the home page shows them")
        fb = QVBoxLayout(featured_box)
        fb.addWidget(self.featured, 1)
        fb.addWidget(QLabel("Drag to reorder, or Ctrl+Up / Ctrl+Down."))
        featured_box.setFocusProxy(self.featured.view)

        self.search = SearchBox("Search published items by title or slug…")
        self.results = SearchResults(
            limit=SEARCH_LIMIT, none_text="No published item matches.",
            limit_text=f"First {SEARCH_LIMIT}: type more to narrow.",
            count_text=lambda n: f"{n} published item{'s' if n != 1 else ''}.")
        # Return searches now (never a dialog button); Down goes to the results, so adding
        # never needs the mouse: type, Down, Return.
        self.live_search = LiveSearch(
            self.search, self.results, self._find_items, label=_result_label,
            tooltip=_tooltip,
            describe_failure=lambda exc: report_read_failure(self._db, "the items", exc))
        self.live_search.shown.connect(self._update_buttons)
        self.results.itemActivated.connect(
            database.rights.allowing("featured", lambda _item: self.add_selected()))
        self.results.currentItemChanged.connect(self._update_buttons)
        self.results_note = self.results.note
        self.add_button = QPushButton("&Add to featured")
        self.add_button.clicked.connect(self.add_selected)
        self.add_button.setAutoDefault(False)  # Return on a result adds it; no default button
        database.rights.guard(self.add_button, "featured")
        add_box = QGroupBox("Add a &published item")
        ab = QVBoxLayout(add_box)
        ab.addWidget(self.search)
        ab.addWidget(self.results, 1)
        ab.addWidget(self.results_note)
        ab.addWidget(self.add_button)
        add_box.setFocusProxy(self.search)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(featured_box)
        splitter.addWidget(add_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)

        self.banner = Banner(error=True)
        self.status = QLabel("Loading…")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton("&Save", QDialogButtonBox.ButtonRole.ApplyRole)
        self.revert_button = self.buttons.addButton("Re&vert",
                                                    QDialogButtonBox.ButtonRole.ResetRole)
        for b in self.buttons.buttons():
            b.setAutoDefault(False)
        self.save_button.clicked.connect(self.save)
        database.rights.guard(self.save_button, "featured")
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._update_buttons()
        self.reload()
        self.live_search.search("")

    # -- public API ------------------------------------------------------------------------
    @property
    def state(self) -> FeaturedState | None:
        return self._state

    @property
    def is_dirty(self) -> bool:
        return self._state is not None and list(self.featured.ids()) != self._state.ids

    def reload(self) -> None:
        self._db.read(get_featured, on_success=self._show_state,
                      on_failure=self._on_action_failed, context=self)

    def add_selected(self) -> bool:
        """Append the chosen search result to the featured list (once)."""
        item: FeaturedItem | None = self.results.current_value()
        if item is None or self._state is None:
            return False
        self._known[item.id] = item
        if not self.featured.model.append_item(item.id, item.label, _tooltip(item)):
            self.status.setText(f"'{item.title}' is already featured.")
            return False
        self.featured.select_row(self.featured.model.rowCount() - 1)
        self.status.setText(f"Added '{item.title}'. Save to publish the new list.")
        return True

    def save(self) -> None:
        state = self._state
        if state is None or self._busy or not self.is_dirty:
            return
        self._busy = True
        self.banner.setVisible(False)
        self._update_buttons()
        self.status.setText("Saving…")
        self._db.perform(SetFeatured(state.version, tuple(self.featured.ids())),
                         on_success=self._on_saved, on_failure=self._on_action_failed,
                         context=self)

    # -- loading ---------------------------------------------------------------------------
    def _show_state(self, state: FeaturedState) -> None:
        self._state = state
        for item in state.items:
            self._known[item.id] = item
        self.featured.set_items([(i.id, i.label) for i in state.items],
                                {i.id: _tooltip(i) for i in state.items})
        stale = [i for i in state.items if not i.featurable]
        n = len(state.items)
        text = f"{n} featured item{'s' if n != 1 else ''}."
        if stale:
            text += (f" {len(stale)} of them {'is' if len(stale) == 1 else 'are'} not "
                     "published any more: remove them before saving.")
        self.status.setText(text)
        self._update_buttons()

    def _find_items(self, text: str, found, failed) -> None:
        self._db.read(search_published_content, text, SEARCH_LIMIT, on_success=found,
                      on_failure=failed, context=self)

    # -- saving ----------------------------------------------------------------------------
    def _on_saved(self, state: FeaturedState) -> None:
        self._busy = False
        self._show_state(state)
        self.status.setText(f"Saved: {len(state.items)} featured items.")
        self.featured_changed.emit()

    def _on_action_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._update_buttons()
        present_error(self._db, exc, banner=self.banner, fields=self._show_field_errors,
                      on_conflict=self._on_conflict)
        self._update_buttons()

    def _show_field_errors(self, errors: dict) -> None:
        self.banner.show_message(errors.get(FIELD) or " ".join(errors.values()))
        self.status.setText("Nothing was saved.")

    def _on_conflict(self, exc: ConflictError) -> None:
        if exc.current is not None:  # theirs, as it is now
            self._show_state(exc.current)

    def _on_revert_clicked(self) -> None:
        if self._state is not None:
            self.banner.setVisible(False)
            self._show_state(self._state)

    def _update_buttons(self, *_args) -> None:
        dirty = self.is_dirty and not self._busy
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        self.add_button.setEnabled(self._state is not None
                                   and self.results.currentItem() is not None)

    # -- Qt overrides ----------------------------------------------------------------------
    def reject(self) -> None:
        if not self.is_dirty or confirm(
                self, title="Unsaved changes",
                text="Discard your changes to the featured content?",
                confirm_label="Discard changes", destructive=True):
            super().reject()
