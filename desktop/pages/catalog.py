"""The Content catalog page: find items, edit one, publish or archive it, act on many.

A declaration: the list (:data:`CATALOG`: search by title words or slug prefix; filters by
type, status, category, visibility, series and deleted; four sort orders; several rows at
once for the bulk actions), the detail (:data:`CONTENT`: the :class:`ContentEditor`, who has
access, the figures) and the actions. Every change is a named operation
(:mod:`data.operations.catalog`) that refuses to overwrite a change made since the item was
loaded, audits it, and announces what it changed: the list's rows, the filters' choices and
the detail reload from the announcement.
"""

from __future__ import annotations

import html
import uuid
from decimal import Decimal
from operator import attrgetter

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from data.models.content import CONTENT_STATUSES, CONTENT_TYPES, CONTENT_VISIBILITIES
from data.operations.catalog import (
    ArchiveContent,
    CreateContent,
    DeleteContent,
    PublishContent,
    RestoreContent,
    ReturnToDraft,
    UpdateContent,
)
from data.queries.catalog import (
    CatalogChoices,
    CatalogFilter,
    CatalogRow,
    ContentDetail,
    ContentFigures,
    ContentRecord,
    count_content,
    get_catalog_choices,
    get_catalog_row,
    get_content_detail,
    list_content_page,
    search_creators,
)
from desktop.admin.history import history_tab
from desktop.admin.list_page import ChoiceSource, ListPage, ListSpec, MultiSelect
from desktop.admin.record_detail import DetailSpec, RecordDetail
from desktop.database import Database
from desktop.formatting import format_money, format_value
from desktop.pages.bulk_actions import BulkActionsDialog
from desktop.pages.content_access import ContentAccessPanel
from desktop.pages.content_editor import ContentEditor
from desktop.pages.featured_dialog import FeaturedContentDialog
from desktop.pages.series_dialog import SeriesDialog
from widgets.actions import Action, Confirmation, always
from widgets.filter_bar import Break, Choice, Related, Search
from widgets.labelled_values import LabelledValues
from widgets.lazy_table import Column

__all__ = ["CATALOG", "CONTENT", "BulkActionsDialog", "CatalogPage", "ContentDetailPane"]

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


def _catalog_filter(search: str = "", type: str | None = None, status: str | None = None,
                    category: str | None = None, visibility: str | None = None,
                    series: str | None = None, deleted: str = "active",
                    sort: str = "published", creator=None) -> CatalogFilter:
    # Series ids are text in the combo box (QVariant compares Python objects by identity).
    return CatalogFilter(search=search, content_type=type, status=status, category=category,
                         visibility=visibility, series_id=uuid.UUID(series) if series else None,
                         deleted=deleted, sort=sort, creator_id=creator)


def _filter_options(choices: CatalogChoices) -> dict:
    return {"category": [(c, c) for c in choices.categories],
            "series": [(str(c.value), c.label) for c in choices.series]}


CATALOG = ListSpec(
    title="Content catalog", shortcut="Ctrl+2", noun="item", columns=CATALOG_COLUMNS,
    query=list_content_page, count=count_content, make_filter=_catalog_filter,
    filters=[Search("Search title or slug (Ctrl+F)…"), Choice("sort", SORTS),
             Choice("deleted", DELETED), Break(),
             Choice("type", [(t, t) for t in CONTENT_TYPES], any_label="Any type"),
             Choice("status", [(s, s) for s in CONTENT_STATUSES], any_label="Any status"),
             Choice("category", any_label="Any category"),
             Choice("visibility", [(v, v) for v in CONTENT_VISIBILITIES],
                    any_label="Any visibility"),
             Choice("series", any_label="Any series"), Break(), Related("creator", "Creator")],
    searches={"creator": search_creators},
    table="content", row_query=get_catalog_row, refresh_on_new=True,
    choices=ChoiceSource(get_catalog_choices, _filter_options,
                         tables=("content", "content_series"),
                         empty=CatalogChoices((), (), ()),
                         what="the categories and series for the filters"),
    multi_select=MultiSelect(
        note="The editor shows one item at a time. To change all of them together, use the "
             "bulk actions; to edit one, select only that one.",
        action="bulk", button_label="Bulk actions for the selected items…",
        blocked="Select one item to act on it alone; the bulk actions act on all."),
    actions=[Action("Bul&k actions…", name="bulk", open="open_bulk_actions", many=True,
                    requires="edit_catalog"),
             # Anyone may look at the series and the featured list; their dialogs guard
             # what changes them.
             Action("Se&ries…", name="series", open="open_series_dialog", enabled=always),
             Action("Feat&ured…", name="featured", open="open_featured_dialog",
                    enabled=always)],
    toolbar=True, keep_detail=True,
)


def _facts(r: ContentRecord) -> str:
    facts = [f"<b>{r.status}</b> {r.content_type}", f"slug {html.escape(r.slug)}"]
    if r.published_at:
        facts.append(f"published {format_value(r.published_at)}")
    facts.append(f"updated {format_value(r.updated_at)}")
    if r.deleted_at:
        facts.append(f"<b style='color:#b00020'>deleted {format_value(r.deleted_at)}</b>")
    return " · ".join(facts)


def _live(r: ContentRecord | None) -> bool:
    return r is not None and r.deleted_at is None


def _delete_or_restore(r: ContentRecord):
    return (DeleteContent if r.deleted_at is None else RestoreContent)(r.id, r.version)


def _confirm_delete_or_restore(r: ContentRecord) -> Confirmation:
    if r.deleted_at is None:
        return Confirmation("Delete content", f"Delete “{r.title}”?", "Delete item",
                            destructive=True,
                            informative="It disappears from the catalog. Its purchases and "
                                        "access records are kept, and you can restore it "
                                        "later.")
    return Confirmation("Restore content", f"Restore “{r.title}”?", "Restore item")


def _transition(label: str, name: str, operation, status: str) -> Action:
    return Action(label, name=name, operation=lambda r: operation(r.id, r.version),
                  enabled=lambda r: _live(r) and r.status != status, requires="edit_catalog")


CONTENT = DetailSpec(
    noun="content item", load=get_content_detail, record_of=attrgetter("record"),
    fields=(), editor=ContentEditor, values_of=lambda r: r,
    save=lambda r, changes: UpdateContent(r.id, r.version, changes),
    create=CreateContent, new_values=lambda: None, new_title="<b>New content item</b>",
    new_facts="Saved as a draft; publish it when it is complete.",
    new_save_label="&Save new draft",
    title=lambda r: f"<b>{html.escape(r.title)}</b>", facts=_facts, table="content",
    label_of=lambda r: f"“{r.title}”", read_only=lambda r: r.deleted_at is not None,
    edits_block_actions=True, form_tab="Editor", toolbar=True,
    tabs=(history_tab("content"),),
    actions=[_transition("&Publish", "publish", PublishContent, "published"),
             _transition("Arc&hive", "archive", ArchiveContent, "archived"),
             _transition("Back to dra&ft", "draft", ReturnToDraft, "draft"),
             Action("&Delete…", name="delete", operation=_delete_or_restore,
                    confirm=_confirm_delete_or_restore,
                    label_for=lambda r: "Rest&ore…" if r.deleted_at else "&Delete…",
                    requires="edit_catalog")],
    save_requires="edit_catalog",
)

FIGURES = (("purchases", "Purchases (paid)"), ("gross", "Gross revenue"),
           ("refunds", "Refunds"), ("net", "Net revenue"), ("views", "Views"),
           ("counter", "Purchase counter (platform)"))
FIGURES_NOTE = ("Purchases and revenue count completed and later-refunded purchases of this "
                "item; refunds are the money that went back to buyers. Views and the purchase "
                "counter are the platform's own counters.")


class ContentDetailPane(RecordDetail):
    """One item: the editor (Save/Revert), who has access, and its figures."""

    build_in_steps = True  # the toolbar's actions now; the editor and the tabs turn by turn

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(CONTENT, database, parent)
        self._choices: CatalogChoices | None = None  # handed to the editor once it is built
        self._access_panel: ContentAccessPanel | None = None  # built by tabs_built()
        self._figures: LabelledValues | None = None
        self.record_created.connect(lambda _record: self.reload())  # its figures and access

    def form_built(self) -> None:
        if self._choices is not None:
            self._form.set_choices(self._choices)

    def tabs_built(self) -> None:
        self._access_panel = ContentAccessPanel(self._db)
        self.add_tab(self._access_panel, "Access")
        self._figures = LabelledValues(FIGURES, FIGURES_NOTE)
        self.add_tab(self._figures, "Figures")

    def set_choices(self, choices: CatalogChoices) -> None:
        """The categories, series and creators the editor offers (kept until it is built)."""
        self._choices = choices
        if self._form is not None:
            self._form.set_choices(choices)

    # The parts built on later turns (reading one builds the rest now).
    @property
    def editor(self) -> ContentEditor:
        return self.form

    @property
    def access_panel(self) -> ContentAccessPanel:
        self.finish_build()
        assert self._access_panel is not None
        return self._access_panel

    @property
    def figures(self) -> LabelledValues:
        self.finish_build()
        assert self._figures is not None
        return self._figures

    @property
    def figure_labels(self):
        return self.figures.labels

    def detail_loaded(self, loaded: ContentDetail, same_record: bool) -> None:
        self._show_figures(loaded.figures)
        if self.access_panel.content_id != loaded.record.id:
            self.access_panel.show_content(loaded.record.id, loaded.record.title)

    def detail_cleared(self) -> None:
        self.access_panel.show_content(None)

    def _show_figures(self, f: ContentFigures) -> None:
        show = self.figures.set_value
        show("purchases", format_value(f.purchases))
        # One amount per currency, never added together: "24.98 USD · 9.00 EUR".
        for key, name in (("gross", "gross_revenue"), ("refunds", "refunds"),
                          ("net", "net_revenue")):
            show(key, " · ".join(format_money(getattr(m, name), m.currency)
                                 for m in f.money) or format_money(Decimal(0)))
        show("views", format_value(f.view_count))
        show("counter", format_value(f.purchase_count))


class CatalogPage(ListPage):
    """Toolbar, search, filters and the list on the left; the selected item on the right
    (or, with several selected, what acts on all of them)."""

    title = "Content catalog"

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(CATALOG, database, detail=ContentDetailPane(database), parent=parent)
        self.choices_loaded.connect(self.detail.set_choices)
        self.new_button = self.detail.new_button
        buttons = {**self.detail.actions.buttons, **self.actions.buttons}
        self.publish_button, self.archive_button = buttons["publish"], buttons["archive"]
        self.draft_button, self.delete_button = buttons["draft"], buttons["delete"]
        self.bulk_button, self.series_button = buttons["bulk"], buttons["series"]
        self.featured_button = buttons["featured"]
        self.many_bulk_button = self.many_button

    def open_bulk_actions(self, rows: list[CatalogRow]) -> BulkActionsDialog:
        return self.open_dialog(BulkActionsDialog(self._db, [r.id for r in rows],
                                                  self.choices.categories, self))

    def open_series_dialog(self, _row=None) -> SeriesDialog:
        dialog = self.open_dialog(SeriesDialog(self._db, self))
        dialog.series_changed.connect(self.reload_choices)
        return dialog

    def open_featured_dialog(self, _row=None) -> FeaturedContentDialog:
        return self.open_dialog(FeaturedContentDialog(self._db, self))
