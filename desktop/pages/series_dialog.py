"""The series dialog: list, create and edit content series, and order a series' items by drag
and drop.

Editing and ordering are saved together in one transaction (named operations,
:mod:`data.operations.series`), which refuses to overwrite a change made since the series was
loaded (including an item added to or removed from it meanwhile) and announces what changed.
"""

from __future__ import annotations

import html
import uuid
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConflictError
from data.models.content import CONTENT_STATUSES
from data.operations.series import CreateSeries, SaveSeries
from data.queries.series import (
    CreatorChoice,
    SeriesDetail,
    SeriesRow,
    get_series,
    list_creators,
    list_series_page,
)
from data.services.slugs import propose_slug
from desktop.database import Database
from desktop.formatting import format_value
from desktop.pages.series_add_dialog import SeriesItemsBox
from desktop.present_error import present_error
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.form_rows import FormRows
from widgets.id_choice import IdChoice
from widgets.latest import LatestRequest
from widgets.layouts import column, side_by_side
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.record_form import FieldSpec, RecordForm, kept_edits_message
from widgets.search_box import SearchBox

SERIES_COLUMNS = (
    Column("Title", value=lambda r: r.title, width=220),
    Column("Status", value=lambda r: r.status, width=80),
    Column("Items", value=lambda r: r.item_count, display=format_value, width=50,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Price", value=lambda r: r.price, display=lambda v: "" if v is None
           else format_value(v), width=70,
           align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
)

SERIES_FORM_FIELDS = (
    FieldSpec("title", "&Title", "text", max_length=500, required=True),
    FieldSpec("slug", "S&lug", "text", max_length=500, required=True,
              placeholder="proposed from the title"),
    FieldSpec("status", "St&atus", "choice", choices=tuple((s, s) for s in CONTENT_STATUSES)),
    FieldSpec("price", "&Price", "text", placeholder="bundle price; blank for none"),
    FieldSpec("thumbnail_url", "T&humbnail URL", "text", max_length=2000),
    FieldSpec("description", "&Description", "multiline"),
)


def _form_values(detail: SeriesDetail | None) -> dict[str, Any]:
    if detail is None:
        return {"status": "draft"}
    return {
        "title": detail.title, "slug": detail.slug, "status": detail.status,
        "price": "" if detail.price is None else str(detail.price),
        "thumbnail_url": detail.thumbnail_url, "description": detail.description,
    }


def _list_row(detail: SeriesDetail) -> SeriesRow:
    return SeriesRow(detail.id, detail.title, detail.slug, detail.status, detail.price,
                     len(detail.items), detail.updated_at)


class SeriesDialog(QDialog):
    """Series on the left; the chosen series' fields and item order on the right.

    Signals:
        series_changed(): a series was created, edited or reordered.
    """

    series_changed = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Content series")
        self.resize(1000, 640)
        self._db = database
        self._detail: SeriesDetail | None = None
        self._creating = False
        self._requested: uuid.UUID | None = None
        self._slug_touched = False
        self._busy = False
        self._switching = False
        self._latest_load = LatestRequest()

        # -- list ------------------------------------------------------------------------
        self.search = SearchBox("Search series by title or slug…")
        self.search.search_requested.connect(lambda _t: self.refresh_list())
        self.model = LazyTableModel(SERIES_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.id, parent=self)
        self.view = LazyTableView(self.model)
        self.view.set_placeholder_texts(empty="No series")
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        self.model.rows_loaded.connect(self._on_model_rows_loaded)
        self._select_when_loaded: uuid.UUID | None = None
        self.new_button = QPushButton("&New series")
        self.new_button.clicked.connect(self.start_new_series)
        database.rights.guard(self.new_button, "edit_catalog")
        left = column(self.search, self.view, self.new_button, grow=self.view)

        # -- detail ----------------------------------------------------------------------
        self.title = QLabel("Select a series, or create a new one.")
        self.title.setObjectName("detailTitle")
        self.banner = Banner(error=True)
        watch_list_loads(self.model, self.view, self.banner, database, "the series")
        self.creator = IdChoice()
        self.creator.setPlaceholderText("Loading…")
        owner = FormRows()
        owner.add_row("creator_id", "O&wner", self.creator)
        self.creator_error = owner.error_label("creator_id")
        self.form = RecordForm(SERIES_FORM_FIELDS)
        self.form.field_widget("title").textEdited.connect(self._on_title_edited)
        self.form.field_widget("slug").textEdited.connect(self._on_slug_edited)
        self.form.dirty_changed.connect(self._update_buttons)
        self.form.submitted.connect(database.rights.allowing(
            "edit_catalog", lambda _v: self.save(), lambda why: self.banner.show_message(why)))
        self.creator.currentIndexChanged.connect(self._update_buttons)

        self.items_box = SeriesItemsBox(database)
        self.items_box.order_changed.connect(self._update_buttons)
        self.items_box.write_started.connect(lambda: self._set_busy(True))
        self.items_box.items_changed.connect(self._on_items_changed)
        self.items_box.write_failed.connect(self._on_action_failed)
        self.items = self.items_box.items
        self.add_items_button = self.items_box.add_items_button
        self.remove_item_button = self.items_box.remove_item_button
        items_box = self.items_box

        self.save_button = QPushButton("&Save")
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Re&vert")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        database.rights.guard(self.save_button, "edit_catalog")
        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.revert_button)
        actions.addStretch()
        self.body = column(self.banner, owner, self.form, items_box, actions, grow=items_box)
        right = column(self.title, self.body, grow=self.body)
        splitter = side_by_side(left, right, ratio=(2, 3))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(close)

        self.body.setVisible(False)
        self._update_buttons()
        self._db.read(list_creators, on_success=self._on_creators_loaded,
                      on_failure=self._on_action_failed, context=self)
        self.refresh_list()

    # -- public API ------------------------------------------------------------------------
    @property
    def detail(self) -> SeriesDetail | None:
        return self._detail

    @property
    def is_dirty(self) -> bool:
        if self._creating:
            return self.form.is_dirty or self._slug_touched
        if self._detail is None:
            return False
        return (self.form.is_dirty or self.items_box.order_dirty
                or self.creator_id() != self._detail.creator_id)

    def creator_id(self) -> uuid.UUID | None:
        """The owner chosen in the Owner box."""
        data = self.creator.value()
        return uuid.UUID(data) if data else None

    def refresh_list(self) -> None:
        self.search.cancel_pending()
        self.model.set_fetcher(self._db.page_fetcher(list_series_page, self.search.text()))

    def show_series(self, series_id: uuid.UUID | None) -> None:
        """Load one series into the editor (None: nothing chosen)."""
        self._requested = series_id
        self._creating = False
        if series_id is None:
            self._latest_load.supersede()
            self._detail = None
            self.title.setText("Select a series, or create a new one.")
            self.body.setVisible(False)
            self._update_buttons()
            return
        self.title.setText("Loading…")
        # The latest selection wins: a late answer for another series is dropped.
        on_loaded, on_failed = self._latest_load.wrap(
            self._on_series_loaded, lambda exc: self._on_series_load_failed(series_id, exc))
        self._db.read(get_series, series_id, on_success=on_loaded, on_failure=on_failed,
                      context=self)

    def _on_series_load_failed(self, series_id: uuid.UUID, exc: BaseException) -> None:
        # Only the load failed: a write in flight stays in flight (its buttons keep waiting).
        self.banner.show_message(report_read_failure(self._db, "this series", exc))
        if self._detail is None or self._detail.id != series_id:
            self.title.setText("Could not load this series")

    def start_new_series(self) -> None:
        """An empty form; Save creates the series."""
        if not self._may_discard():
            return
        self._switching = True
        self.view.clearSelection()
        self.view.setCurrentIndex(self.model.index(-1, -1))
        self._switching = False
        self._latest_load.supersede()
        self._requested = None
        self._detail = None
        self._creating = True
        self._slug_touched = False
        self.title.setText("<b>New series</b>")
        self.banner.setVisible(False)
        self.form.set_values(_form_values(None))
        self.form.set_read_only(False)
        self.creator.setEnabled(True)
        self.creator.setCurrentIndex(-1 if self.creator.count() != 1 else 0)
        self.items_box.show_detail(None)
        self.body.setVisible(True)
        self.form.field_widget("title").setFocus()
        self._update_buttons()

    def save(self) -> None:
        """Create the new series, or save the edited fields and item order together."""
        if self._busy or not self.is_dirty:
            return
        self.form.clear_errors()
        self.creator_error.setVisible(False)
        values = self.form.values() if self._creating else self.form.changed_values()
        creator = self.creator_id()
        if self._creating:
            self._run_write(CreateSeries({**values, "creator_id": creator}))
            return
        d = self._detail
        assert d is not None
        if creator != d.creator_id:
            values["creator_id"] = creator
        order = self.items_box.order() if self.items_box.order_dirty else None
        self._run_write(SaveSeries(d.id, d.version, values, order))

    # -- loading ---------------------------------------------------------------------------
    def _on_creators_loaded(self, creators: list[CreatorChoice]) -> None:
        self.creator.set_choices([(c.id, c.label) for c in creators])
        self.creator.setPlaceholderText("Choose who owns the series")
        if self._detail is not None:
            self._select_creator(self._detail)
        self._update_buttons()

    def _select_creator(self, detail: SeriesDetail) -> None:
        # e.g. a customer who owns an old series: shown as they are
        self.creator.select(detail.creator_id, detail.creator_label, quiet=True)

    def _on_series_loaded(self, detail: SeriesDetail) -> None:
        self.banner.setVisible(False)
        self._show_detail(detail)

    def _show_detail(self, detail: SeriesDetail, *, keep_edits: bool = False) -> dict:
        """Show ``detail``; with ``keep_edits``, the unsaved field edits stay on top of it and
        the fields someone else also changed are returned (see ``RecordForm.rebase``). The
        items' order is always theirs: a reorder is made against the items as they are."""
        self._detail = detail
        self._creating = False
        self._slug_touched = True
        self.title.setText(f"<b>{html.escape(detail.title)}</b> · {len(detail.items)} "
                           f"item{'s' if len(detail.items) != 1 else ''}")
        clashes = {}
        if keep_edits:
            clashes = self.form.rebase(_form_values(detail))
        else:
            self.form.set_values(_form_values(detail))
        self.form.set_read_only(False)
        self._select_creator(detail)
        self.creator.setEnabled(True)
        self.items_box.show_detail(detail)
        self.body.setVisible(True)
        self._update_buttons()
        return clashes

    # -- editing ---------------------------------------------------------------------------
    def _on_title_edited(self, text: str) -> None:
        if self._creating and not self._slug_touched:
            self.form.field_widget("slug").setText(propose_slug(text))

    def _on_slug_edited(self, _text: str) -> None:
        self._slug_touched = True

    def _on_revert_clicked(self) -> None:
        if self._detail is not None:
            self.banner.setVisible(False)
            self._show_detail(self._detail)
        elif self._creating:
            self._creating = False
            self.start_new_series()

    def _update_buttons(self, *_args: Any) -> None:
        dirty = self.is_dirty and not self._busy
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        self.items_box.set_waiting(self._busy, "Save or revert your changes first."
                                   if self.is_dirty else "")

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _on_items_changed(self, detail: SeriesDetail) -> None:
        self._busy = False
        if detail.id == self._requested:  # else another series is shown now: it stays
            self._show_detail(detail)
        else:
            self._update_buttons()
        self.series_changed.emit()
        self.model.replace_row(_list_row(detail))

    def _on_view_current_row_changed(self, row: SeriesRow | None) -> None:
        if self._switching or row is None:
            return  # None: the list was reloaded; keep showing what is being edited
        new_id = row.id
        if self._detail is not None and new_id == self._detail.id:
            return
        if not self._may_discard():
            self._switching = True
            if self._detail is not None:
                self.view.select_row_by_key(self._detail.id)
            else:
                self.view.clearSelection()
            self._switching = False
            return
        self.show_series(new_id)

    def _may_discard(self) -> bool:
        if not self.is_dirty:
            return True
        return confirm(self, title="Unsaved changes",
                       text="Discard your unsaved changes to this series?",
                       confirm_label="Discard changes", destructive=True)

    # -- saving ----------------------------------------------------------------------------
    def _run_write(self, operation) -> None:
        self._busy = True
        self._update_buttons()
        self._db.perform(operation, on_success=self._on_saved,
                         on_failure=self._on_action_failed, context=self)

    def _on_saved(self, detail: SeriesDetail) -> None:
        self._busy = False
        if not self._creating and detail.id != self._requested:
            # Another series is shown now: its list row is updated, the form stays on it.
            self._update_buttons()
            self.series_changed.emit()
            if not self.model.replace_row(_list_row(detail)):
                self.refresh_list()
            return
        self.banner.setVisible(False)
        created = self._creating
        self._requested = detail.id
        self._show_detail(detail)
        self.series_changed.emit()
        if created or not self.model.replace_row(_list_row(detail)):
            self._select_when_loaded = detail.id
            self.refresh_list()

    def _on_model_rows_loaded(self, _n: int) -> None:
        key, self._select_when_loaded = self._select_when_loaded, None
        if key is not None and self._detail is not None and self._detail.id == key:
            self._switching = True
            self.view.select_row_by_key(key)
            self._switching = False

    def _on_action_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._update_buttons()
        present_error(self._db, exc, banner=self.banner, fields=self._show_field_errors,
                      on_conflict=self._on_conflict)
        self._update_buttons()

    def _show_field_errors(self, field_errors: dict) -> None:
        errors = dict(field_errors)
        creator = errors.pop("creator_id", None)
        if creator:
            self.creator_error.setText(creator)
            self.creator_error.setVisible(True)
        order = errors.pop("content_order", None)
        if order:
            self.banner.show_message(order)
        self.form.set_errors(errors)

    def _on_conflict(self, exc: ConflictError) -> None:
        if exc.current is None:
            return
        edited = self.form.is_dirty
        clashes = self._show_detail(exc.current, keep_edits=edited)
        if edited:  # nothing typed is lost: it stays, on top of their version
            self.banner.show_message(kept_edits_message(str(exc), clashes))
        self.series_changed.emit()

    # -- Qt overrides ----------------------------------------------------------------------
    def reject(self) -> None:
        # Escape and Close land here: never drop unsaved edits silently.
        if self._may_discard():
            super().reject()
