"""The Content catalog page: find items, edit one, publish or archive it, act on many.

The list is a keyset-paged lazy table (search by title words or slug prefix; filters by
type, status, category, visibility, series and deleted; four sort orders). The detail pane
edits one item (:class:`ContentEditor`), shows who has access to it (engineer B's
:class:`ContentAccessPanel`) and its figures. Every change goes through
:mod:`data.services.catalog`, which refuses to overwrite a change made since the item was
loaded and audits each change in the same transaction.
"""

from __future__ import annotations

import html
import uuid
from decimal import Decimal
from functools import partial

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.errors import ConflictError, DomainError, ValidationError
from data.models.content import CONTENT_STATUSES, CONTENT_TYPES, CONTENT_VISIBILITIES
from data.queries.catalog import (
    CatalogChoices,
    CatalogFilter,
    CatalogRow,
    ContentFigures,
    ContentRecord,
    count_content,
    get_catalog_choices,
    get_content,
    get_content_figures,
    list_content_page,
)
from data.services import catalog as catalog_service
from data.services.catalog import PublishRefusedError
from desktop.database import Database
from desktop.pages.bulk_actions import BulkActionsDialog
from desktop.pages.content_access import ContentAccessPanel
from desktop.pages.content_editor import ContentEditor
from desktop.pages.featured_dialog import FeaturedContentDialog
from desktop.pages.formatting import format_count, format_money, format_value
from desktop.pages.series_dialog import SeriesDialog
from desktop.read_failures import report_read_failure, watch_list_loads
from widgets.banner import Banner
from widgets.dialogs import confirm
from widgets.layouts import column, side_by_side
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.record_form import kept_edits_message
from widgets.search_box import SearchBox

SEARCH_DELAY_MS = 250
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
SORTS = (("published", "Newest published"), ("title", "Title A–Z"),
         ("price", "Highest price"), ("purchases", "Most purchased"))
DELETED = (("active", "Hide deleted"), ("deleted", "Deleted only"), ("all", "With deleted"))


def format_price(price) -> str:
    return "Free" if price is None else format_money(price)  # no currency column: USD, as bookings


def _status_text(row: CatalogRow) -> str:
    return f"deleted ({row.status})" if row.deleted_at is not None else row.status


CATALOG_COLUMNS = (  # widths fit the header and the first page (LazyTableView.fit_columns)
    Column("Title", value=lambda r: r.title, max_width=240),
    Column("Type", value=lambda r: r.content_type),
    Column("Status", value=_status_text),
    Column("Category", value=lambda r: r.category, max_width=110),
    Column("Visibility", value=lambda r: r.visibility),
    Column("Price", value=lambda r: r.price, display=format_price, align=RIGHT),
    Column("Published", value=lambda r: r.published_at, display=format_value),
    Column("Purchases", value=lambda r: r.purchase_count, display=format_value, align=RIGHT),
    Column("Views", value=lambda r: r.view_count, display=format_value, align=RIGHT),
)


def _combo(any_label: str, values) -> QComboBox:
    combo = QComboBox()
    combo.addItem(any_label, None)
    for value in values:
        if isinstance(value, tuple):
            combo.addItem(value[1], value[0])
        else:
            combo.addItem(value, value)
    return combo


class ContentDetailPane(QWidget):
    """One item: editor (Save/Revert), access and figures, with the workflow actions.

    Signals:
        content_saved(object): a :class:`ContentRecord` after any successful change.
        content_created(object): a :class:`ContentRecord` after a new item was saved.
        record_shown(object): the :class:`ContentRecord` now shown (loaded or changed).
        busy_changed(bool): a write of this pane started (True) or was answered (False);
            every write action waits meanwhile.
    """

    content_saved = Signal(object)
    content_created = Signal(object)
    record_shown = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._record: ContentRecord | None = None
        self._requested: uuid.UUID | None = None
        self._creating = False
        self._busy = False

        self.title = QLabel("Select a content item")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel("")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = Banner()

        self.editor = ContentEditor(database)
        self.editor.dirty_changed.connect(self._update_buttons)
        self.editor.submitted.connect(self._on_save_clicked)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        self.save_button = QPushButton("&Save")
        self.revert_button = QPushButton("Revert")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        editor_tab = QWidget()
        el = QVBoxLayout(editor_tab)
        el.setContentsMargins(4, 4, 4, 4)
        el.addWidget(scroll, 1)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.revert_button)
        row.addWidget(self.save_button)
        el.addLayout(row)

        self.figures = QWidget()
        fl = QFormLayout(self.figures)
        self.figure_labels: dict[str, QLabel] = {}
        for key, label in (("purchases", "Purchases (paid)"), ("gross", "Gross revenue"),
                           ("refunds", "Refunds"), ("net", "Net revenue"),
                           ("views", "Views"), ("counter", "Purchase counter (platform)")):
            value = QLabel("")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.figure_labels[key] = value
            fl.addRow(f"{label}:", value)
        self.figures_note = QLabel(
            "Purchases and revenue count completed and later-refunded purchases of this "
            "item; refunds are the money that went back to buyers. Views and the purchase "
            "counter are the platform's own counters.")
        self.figures_note.setWordWrap(True)
        self.figures_note.setStyleSheet("color: palette(mid);")
        fl.addRow(self.figures_note)

        self.tabs = QTabWidget()
        self.tabs.addTab(editor_tab, "Editor")
        self.access_panel = ContentAccessPanel(database)
        self.tabs.addTab(self.access_panel, "Access")
        self.tabs.addTab(self.figures, "Figures")

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setMinimumWidth(480)
        self._set_loaded(False)

    # -- loading -------------------------------------------------------------------------
    @property
    def record(self) -> ContentRecord | None:
        return self._record

    @property
    def is_creating(self) -> bool:
        """A new item is in the editor (not saved yet)."""
        return self._creating

    @property
    def is_dirty(self) -> bool:
        return (self._record is not None or self._creating) and self.editor.is_dirty

    def set_choices(self, choices: CatalogChoices) -> None:
        self.editor.set_choices(choices)

    def show_content(self, content_id: uuid.UUID | None) -> None:
        self._requested = content_id
        self._creating = False
        if content_id is None:
            self._record = None
            self.title.setText("Select a content item")
            self.facts.setText("")
            self.banner.setVisible(False)
            self._set_loaded(False)
            self.access_panel.show_content(None)
            return
        self.title.setText("Loading…")
        self._db.read(lambda s: (get_content(s, content_id), get_content_figures(s, content_id)),
                      on_success=partial(self._on_detail_loaded, content_id),
                      on_failure=partial(self._on_detail_load_failed, content_id),
                      context=self)

    def _on_detail_load_failed(self, content_id: uuid.UUID, exc: BaseException) -> None:
        if content_id != self._requested:
            return  # the selection moved on: this item is not shown any more
        # Only the load failed: a write in flight stays in flight (its buttons keep waiting).
        self.banner.show_message(str(exc) if isinstance(exc, DomainError)
                                 else report_read_failure(self._db, "this item", exc))
        if self._record is None or self._record.id != content_id:
            self.title.setText("Select a content item" if isinstance(exc, DomainError)
                               else "Could not load this item")

    def start_new(self) -> None:
        """An empty editor for a new item (a draft once saved)."""
        self._requested = None
        self._record = None
        self._creating = True
        self.banner.setVisible(False)
        self.title.setText("<b>New content item</b>")
        self.facts.setText("Saved as a draft; publish it when it is complete.")
        self.editor.load(None)
        self._set_loaded(True)
        self.tabs.setCurrentIndex(0)
        self.editor.title.setFocus()
        self.access_panel.show_content(None)

    def _on_detail_loaded(self, content_id: uuid.UUID,
                          loaded: tuple[ContentRecord, ContentFigures]) -> None:
        if content_id != self._requested:
            return  # the selection moved on while this was loading
        record, figures = loaded
        self.banner.setVisible(False)
        self._show_record(record)
        self._show_figures(figures)
        self.access_panel.show_content(record.id, record.title)

    def _show_record(self, record: ContentRecord, *, keep_edits: bool = False) -> dict:
        """Show ``record``; with ``keep_edits``, the unsaved edits stay on top of it and the
        fields someone else also changed are returned (see ``ContentEditor.rebase``)."""
        self._record = record
        self._creating = False
        self.title.setText(f"<b>{html.escape(record.title)}</b>")
        facts = [f"<b>{record.status}</b> {record.content_type}",
                 f"slug {html.escape(record.slug)}"]
        if record.published_at:
            facts.append(f"published {format_value(record.published_at)}")
        facts.append(f"updated {format_value(record.updated_at)}")
        if record.deleted_at:
            facts.append(f"<b style='color:#b00020'>deleted "
                         f"{format_value(record.deleted_at)}</b>")
        self.facts.setText(" · ".join(facts))
        clashes = {}
        if keep_edits:
            clashes = self.editor.rebase(record)
        else:
            self.editor.load(record)
        self._set_loaded(True)
        self.record_shown.emit(record)
        return clashes

    def _show_figures(self, f: ContentFigures) -> None:
        labels = self.figure_labels
        labels["purchases"].setText(format_value(f.purchases))
        # One amount per currency, never added together: "24.98 USD · 9.00 EUR".
        for key, name in (("gross", "gross_revenue"), ("refunds", "refunds"),
                          ("net", "net_revenue")):
            labels[key].setText(" · ".join(format_money(getattr(m, name), m.currency)
                                           for m in f.money) or format_money(Decimal(0)))
        labels["views"].setText(format_value(f.view_count))
        labels["counter"].setText(format_value(f.purchase_count))

    def _set_loaded(self, loaded: bool) -> None:
        self.tabs.setVisible(loaded)
        self.editor.set_read_only(
            not loaded or (self._record is not None and self._record.deleted_at is not None))
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        dirty = self.is_dirty and not self._busy
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty and not self._creating)
        self.save_button.setText("&Save new draft" if self._creating else "&Save")

    # -- actions (the page's toolbar calls these too) -------------------------------------
    def _on_save_clicked(self) -> None:
        if not self.is_dirty or self._busy:
            return
        self.editor.clear_errors()
        if self._creating:
            values = self.editor.values()
            self._run_write(lambda s, actor: catalog_service.create_content(s, actor, values),
                            created=True)
            return
        r = self._record
        changes = self.editor.changed_values()
        self._run_write(lambda s, actor: catalog_service.update_content(
            s, actor, r.id, r.version, changes))

    def _on_revert_clicked(self) -> None:
        if self._record is not None:
            self.editor.load(self._record)
            self.banner.setVisible(False)

    def run_transition(self, action: str) -> None:
        """"publish", "archive" or "draft" for the loaded item (unsaved edits stay)."""
        r = self._record
        if r is None or self._busy:
            return
        fn = {"publish": catalog_service.publish_content,
              "archive": catalog_service.archive_content,
              "draft": catalog_service.return_to_draft}[action]
        self._run_write(lambda s, actor: fn(s, actor, r.id, r.version))

    def delete_or_restore(self) -> None:
        r = self._record
        if r is None or self._busy:
            return
        if r.deleted_at is None:
            if not confirm(self, title="Delete content",
                           text=f"Delete “{r.title}”?",
                           informative="It disappears from the catalog. Its purchases and "
                                       "access records are kept, and you can restore it "
                                       "later.",
                           confirm_label="Delete item", destructive=True):
                return
            self._run_write(lambda s, actor: catalog_service.soft_delete_content(
                s, actor, r.id, r.version))
        else:
            if not confirm(self, title="Restore content", text=f"Restore “{r.title}”?",
                           confirm_label="Restore item"):
                return
            self._run_write(lambda s, actor: catalog_service.restore_content(
                s, actor, r.id, r.version))

    @property
    def is_busy(self) -> bool:
        """A write of this pane is in flight."""
        return self._busy

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)

    def _run_write(self, fn, *, created: bool = False) -> None:
        r = self._record
        target = None if created or r is None else r.id
        self._set_busy(True)
        self._update_buttons()
        self._db.write(fn, on_success=partial(self._on_saved, created),
                       on_failure=partial(self._on_write_failed, target), context=self)

    def _on_write_failed(self, target: uuid.UUID | None, exc: BaseException) -> None:
        if target is not None and target != self._requested and isinstance(exc, DomainError):
            # Not the item shown any more: say what happened, without touching its editor.
            self._set_busy(False)
            self._update_buttons()
            self.banner.show_message(f"Your change to another item was not saved: {exc}")
            return
        self._on_action_failed(exc)

    def _on_saved(self, created: bool, record: ContentRecord) -> None:
        self._set_busy(False)
        if not created and record.id != self._requested:
            # Another item is shown now: its list row is updated, the editor stays on it.
            self._update_buttons()
            self.content_saved.emit(record)
            return
        self.banner.setVisible(False)
        self._requested = record.id
        self._show_record(record)
        if created:
            self.content_created.emit(record)
            self.access_panel.show_content(record.id, record.title)
        self.content_saved.emit(record)
        self._db.read(lambda s: get_content_figures(s, record.id),
                      on_success=partial(self._on_figures_loaded, record.id),
                      on_failure=partial(self._on_figures_failed, record.id), context=self)

    def _on_figures_loaded(self, content_id: uuid.UUID, figures: ContentFigures) -> None:
        if self._record is not None and self._record.id == content_id:
            self._show_figures(figures)

    def _on_figures_failed(self, content_id: uuid.UUID, exc: BaseException) -> None:
        if self._record is not None and self._record.id == content_id:
            self.banner.show_message(report_read_failure(self._db, "the figures", exc))

    def _on_action_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, PublishRefusedError):
            self.banner.show_message(str(exc))
            self.tabs.setCurrentIndex(0)
            self.editor.set_errors(exc.field_errors)
        elif isinstance(exc, ValidationError):
            self.tabs.setCurrentIndex(0)
            self.editor.set_errors(exc.field_errors)
        elif isinstance(exc, ConflictError):
            self.banner.show_message(str(exc))
            if isinstance(exc.current, ContentRecord):
                # Nothing typed is lost: the edits stay, on top of their version (unless
                # they deleted the item, which cannot be edited).
                edited = self.editor.is_dirty and exc.current.deleted_at is None
                clashes = self._show_record(exc.current, keep_edits=edited)
                if edited:
                    self.banner.show_message(kept_edits_message(str(exc), clashes))
                self.content_saved.emit(exc.current)
        elif isinstance(exc, DomainError):
            self.banner.show_message(str(exc))
            if self._record is None and not self._creating:
                self.title.setText("Select a content item")
        else:
            self._update_buttons()
            raise exc
        self._update_buttons()


class CatalogPage(QWidget):
    """Toolbar, search, filters and the list on the left; the selected item on the right."""

    title = "Content catalog"

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.choices = CatalogChoices((), (), ())
        self._shown_id: uuid.UUID | None = None
        self._dialogs: list[QWidget] = []

        self.new_button = QPushButton("&New…")
        self.publish_button = QPushButton("&Publish")
        self.archive_button = QPushButton("Arc&hive")
        self.draft_button = QPushButton("Back to dra&ft")
        self.delete_button = QPushButton("&Delete…")
        self.bulk_button = QPushButton("Bul&k actions…")
        self.series_button = QPushButton("Se&ries…")
        self.featured_button = QPushButton("Feat&ured…")
        self.new_button.clicked.connect(self._on_new_clicked)
        self.publish_button.clicked.connect(lambda: self.detail.run_transition("publish"))
        self.archive_button.clicked.connect(lambda: self.detail.run_transition("archive"))
        self.draft_button.clicked.connect(lambda: self.detail.run_transition("draft"))
        self.delete_button.clicked.connect(lambda: self.detail.delete_or_restore())
        self.bulk_button.clicked.connect(self.open_bulk_actions)
        self.series_button.clicked.connect(self.open_series_dialog)
        self.featured_button.clicked.connect(self.open_featured_dialog)
        toolbar = QHBoxLayout()
        for b in (self.new_button, self.publish_button, self.archive_button, self.draft_button,
                  self.delete_button):
            toolbar.addWidget(b)
        toolbar.addStretch()
        for b in (self.bulk_button, self.series_button, self.featured_button):
            toolbar.addWidget(b)

        self.search = SearchBox("Search title or slug (Ctrl+F)…", delay_ms=SEARCH_DELAY_MS)
        self.type_filter = _combo("Any type", CONTENT_TYPES)
        self.status_filter = _combo("Any status", CONTENT_STATUSES)
        self.category_filter = _combo("Any category", ())
        self.visibility_filter = _combo("Any visibility", CONTENT_VISIBILITIES)
        self.series_filter = _combo("Any series", ())
        self.deleted_filter = QComboBox()
        for value, label in DELETED:
            self.deleted_filter.addItem(label, value)
        self.sort = QComboBox()
        for value, label in SORTS:
            self.sort.addItem(label, value)
        self.count_label = QLabel("")
        self.selection_label = QLabel("")
        self.list_banner = Banner(error=True)

        self.search.search_requested.connect(lambda _text: self.refresh())
        for combo in (self.type_filter, self.status_filter, self.category_filter,
                      self.visibility_filter, self.series_filter, self.deleted_filter,
                      self.sort):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())

        self.model = LazyTableModel(CATALOG_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda r: r.id, parent=self)
        self.view = LazyTableView(self.model)
        watch_list_loads(self.model, self.view, self.list_banner, database, "the catalog")
        self.search.move_down_into(self.view)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.current_row_changed.connect(self._on_view_current_row_changed)
        self.model.rows_loaded.connect(self._on_model_rows_loaded)
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection_changed)
        self.detail = ContentDetailPane(database)
        self.detail.content_saved.connect(self._on_detail_content_saved)
        self.detail.content_created.connect(self._on_detail_content_created)
        self.detail.record_shown.connect(lambda _r: self._update_actions())
        self.detail.editor.dirty_changed.connect(lambda _d: self._update_actions())
        self.detail.busy_changed.connect(lambda _b: self._update_actions())

        # Several rows selected: the editor (which edits one) gives way to what acts on all.
        self.many_title = QLabel("")
        self.many_title.setObjectName("detailTitle")
        self.many_note = QLabel("")
        self.many_note.setWordWrap(True)
        self.many_bulk_button = QPushButton("Bulk actions for the selected items…")
        self.many_bulk_button.clicked.connect(self.open_bulk_actions)
        self.many = QWidget()
        ml = QVBoxLayout(self.many)
        ml.addWidget(self.many_title)
        ml.addWidget(self.many_note)
        bulk_row = QHBoxLayout()
        bulk_row.addWidget(self.many_bulk_button)
        bulk_row.addStretch()
        ml.addLayout(bulk_row)
        ml.addStretch()
        self.right = QStackedWidget()
        self.right.addWidget(self.detail)
        self.right.addWidget(self.many)

        filters1 = QHBoxLayout()
        filters1.addWidget(self.search, 3)
        filters1.addWidget(self.sort, 1)
        filters1.addWidget(self.deleted_filter, 1)
        filters2 = QHBoxLayout()
        for combo in (self.type_filter, self.status_filter, self.category_filter,
                      self.visibility_filter, self.series_filter):
            filters2.addWidget(combo, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addStretch()
        bottom.addWidget(self.selection_label)
        left = column(filters1, filters2, self.list_banner, self.view, bottom, grow=self.view)
        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(side_by_side(left, self.right), 1)
        self.refresh()
        self.reload_choices()
        self._update_actions()

    # -- list ----------------------------------------------------------------------------
    def current_filter(self) -> CatalogFilter:
        return CatalogFilter(
            search=self.search.text(),
            content_type=self.type_filter.currentData(),
            status=self.status_filter.currentData(),
            category=self.category_filter.currentData(),
            visibility=self.visibility_filter.currentData(),
            series_id=uuid.UUID(self.series_filter.currentData())
            if self.series_filter.currentData() else None,
            deleted=self.deleted_filter.currentData(),
            sort=self.sort.currentData(),
        )

    def focus_search(self) -> None:
        self.search.focus_and_select()

    def refresh(self) -> None:
        self.search.cancel_pending()
        flt = self.current_filter()
        self.model.set_fetcher(self._db.page_fetcher(list_content_page, flt))
        self.count_label.setText("Counting…")
        self._db.read(lambda s: count_content(s, flt),
                      on_success=partial(self._on_count_loaded, flt),
                      on_failure=partial(self._on_count_failed, flt), context=self)

    def reload_choices(self) -> None:
        self._db.read(get_catalog_choices, on_success=self._on_choices_loaded,
                      on_failure=self._on_choices_failed, context=self)

    def _on_count_failed(self, flt: CatalogFilter, exc: BaseException) -> None:
        if flt != self.current_filter():
            return  # an older filter's count: the newer one says its own
        self.count_label.setText("Count unavailable")
        self.count_label.setToolTip(report_read_failure(self._db, "the number of items", exc))

    def _on_choices_failed(self, exc: BaseException) -> None:
        self.list_banner.show_message(
            report_read_failure(self._db, "the categories and series for the filters", exc))

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.row_at(r).id for r in rows]

    def _on_count_loaded(self, flt: CatalogFilter, count) -> None:
        if flt != self.current_filter():
            return
        self.count_label.setToolTip("")
        self.count_label.setText(format_count(count.value, "item", exact=count.exact))

    def _on_choices_loaded(self, choices: CatalogChoices) -> None:
        self.choices = choices
        self.detail.set_choices(choices)
        self._refill_filter(self.category_filter, [(c, c) for c in choices.categories])
        self._refill_filter(self.series_filter,
                            [(str(c.value), c.label) for c in choices.series])

    @staticmethod
    def _refill_filter(combo: QComboBox, items) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        try:
            while combo.count() > 1:
                combo.removeItem(1)
            for value, label in items:
                combo.addItem(label, value)
            index = combo.findData(current) if current is not None else 0
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)

    def _on_view_current_row_changed(self, row: CatalogRow | None) -> None:
        if row is None:
            # The list was refreshed or filtered: the item being edited stays in the detail
            # (and is selected again if it shows up in the new list).
            return
        new_id = row.id
        if new_id == self._shown_id:
            return
        if self.detail.is_dirty and not confirm(
                self, title="Unsaved changes", text="Discard your unsaved changes?",
                informative="You edited this item and did not save.",
                confirm_label="Discard changes", destructive=True):
            self._reselect_shown()
            return
        self._shown_id = new_id
        self.detail.show_content(new_id)
        self._update_actions()

    def _on_model_rows_loaded(self, _count: int) -> None:
        if self._shown_id is not None and self.view.current_row() is None:
            self._reselect_shown()

    def _reselect_shown(self) -> None:
        if self._shown_id is None:
            return
        row = self.model.row_index(self._shown_id)
        if row is not None:
            self.view.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    def _on_view_selection_changed(self, *_args) -> None:
        n = len(self.view.selectionModel().selectedRows())
        self.selection_label.setText(f"{n:,} selected" if n > 1 else "")
        if n > 1:
            self.many_title.setText(f"<b>{n:,} selected</b>")
            self.many_note.setText(
                "The editor shows one item at a time. To change all of them together, use "
                "the bulk actions; to edit one, select only that one.")
            self.right.setCurrentWidget(self.many)
        else:
            self.right.setCurrentWidget(self.detail)
        self._update_actions()

    @property
    def showing_many(self) -> bool:
        """Several rows are selected: the multi-select pane stands in for the editor."""
        return self.right.currentWidget() is self.many

    def _update_actions(self) -> None:
        r = self.detail.record
        # One item's actions need that one item on screen, and wait for its write in flight.
        loaded = (r is not None and not self.detail.is_creating and not self.detail.is_busy
                  and not self.showing_many)
        # With unsaved edits the workflow waits: acting on the stored item would reload it
        # and lose the edits.
        clean = loaded and not self.detail.is_dirty
        live = clean and r.deleted_at is None
        self.publish_button.setEnabled(live and r.status != "published")
        self.archive_button.setEnabled(live and r.status != "archived")
        self.draft_button.setEnabled(live and r.status != "draft")
        self.delete_button.setEnabled(clean)
        hint = ("Select one item to act on it alone; the bulk actions act on all."
                if self.showing_many else
                "Save or revert your changes first." if loaded and not clean else "")
        for button in (self.publish_button, self.archive_button, self.draft_button,
                       self.delete_button):
            button.setToolTip(hint)
        self.delete_button.setText("Rest&ore…" if loaded and r.deleted_at else "&Delete…")
        self.bulk_button.setEnabled(bool(self.view.selectionModel().selectedRows()))

    def _on_detail_content_saved(self, record: ContentRecord) -> None:
        self.model.replace_row(record.list_row())
        self._update_actions()
        if record.category and record.category not in self.choices.categories:
            self.reload_choices()

    def _on_detail_content_created(self, record: ContentRecord) -> None:
        self._shown_id = record.id
        self.refresh()

    def _on_new_clicked(self) -> None:
        if self.detail.is_dirty and not confirm(
                self, title="Unsaved changes", text="Discard your unsaved changes?",
                confirm_label="Discard changes", destructive=True):
            return
        self.view.clearSelection()
        self._shown_id = None
        self.detail.start_new()
        self._update_actions()

    # -- dialogs -------------------------------------------------------------------------
    def open_bulk_actions(self) -> BulkActionsDialog | None:
        ids = self.selected_ids()
        if not ids:
            return None
        dialog = BulkActionsDialog(self._db, ids, self.choices.categories, self)
        dialog.bulk_applied.connect(self._on_bulk_applied)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_bulk_applied(self, _plan) -> None:
        self.refresh()
        self.reload_choices()
        if self._shown_id is not None and not self.detail.is_dirty:
            self.detail.show_content(self._shown_id)

    def open_series_dialog(self) -> SeriesDialog:
        dialog = SeriesDialog(self._db, self)
        dialog.series_changed.connect(self._on_series_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_series_changed(self) -> None:
        self.reload_choices()
        self.refresh()
        if self._shown_id is not None and not self.detail.is_dirty:
            self.detail.show_content(self._shown_id)

    def open_featured_dialog(self) -> FeaturedContentDialog:
        dialog = FeaturedContentDialog(self._db, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
