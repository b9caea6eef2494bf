"""The Offerings page: events, programs, classes, 1:1 sessions, cohorts and retreats.

A declaration: the list (:data:`OFFERINGS`: type, delivery, next session in the platform's
time zone, seats confirmed of max, price, credit cost, status, bookings; filters and three
orders), the detail (:data:`OFFERING`: the editor with a schedule form per type, the
bookings with their actions, the resources) and the actions (publish — refused with the
reason —, archive, back to draft; the agenda). Changing the date, time, price or portal
window of an offering with confirmed bookings shows who it reaches first.
"""

from __future__ import annotations

import html
import uuid

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from data.models.offerings import DELIVERY_METHODS, OFFERING_TYPES
from data.operations.offerings import CreateOffering, SetOfferingStatus, UpdateOffering
from data.queries.catalog import search_creators
from data.queries.offerings import (
    OfferingDetail,
    OfferingFilter,
    OfferingRecord,
    count_offerings,
    get_impact,
    get_offering_detail,
    get_offering_row,
    list_offerings_page,
)
from data.services.offerings import STATUSES
from desktop.admin.history import history_tab
from desktop.admin.list_page import ListPage, ListSpec
from desktop.admin.record_detail import DetailSpec, RecordDetail
from desktop.database import Database
from desktop.formatting import format_money, format_value
from desktop.pages.booking_dialogs import BookOnBehalfDialog
from desktop.pages.manage_booking_dialog import ManageBookingDialog
from desktop.pages.offering_agenda import AgendaDialog
from desktop.pages.offering_bookings import OfferingBookingsTab
from desktop.pages.offering_cancel_dialog import CancelOfferingDialog
from desktop.pages.offering_form import (
    IMPACT_FIELDS,
    TYPE_LABELS,
    make_offering_form,
    new_offering_values,
    offering_values,
)
from desktop.pages.offering_resources import ResourcesPanel
from widgets.actions import Action, always
from widgets.dialogs import ask, open_dialog
from widgets.filter_bar import Break, Choice, Related, Search
from widgets.lazy_table import Column, LazyTableView

__all__ = ["OFFERING", "OFFERINGS", "OfferingDetailPane", "OfferingsPage"]

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _price(value) -> str:
    return "" if value is None else format_money(value)


def _next(row) -> str:
    if row.schedule_problem:
        return "schedule unreadable"
    return row.next_session.strftime("%Y-%m-%d %H:%M") if row.next_session else "—"


NEXT_SESSION_TIP = ("The next session in the platform's time zone (or the schedule's own); "
                    "for a 1:1 offering, the next session booked on it. Sorted by next "
                    "session, dated offerings come by their first day; weekly classes and "
                    "1:1 offerings follow them, as their next session depends on today.")


COLUMNS = (
    Column("Title", value=lambda r: r.title, max_width=240),
    Column("Type", value=lambda r: TYPE_LABELS[r.offering_type]),
    Column("Delivery", value=lambda r: r.delivery_method.replace("_", " ")),
    Column("Next session", value=_next, tooltip=NEXT_SESSION_TIP),
    Column("Seats", value=lambda r: r.seats, align=RIGHT),
    Column("Price", value=lambda r: r.price, display=_price, align=RIGHT),
    Column("Credits", value=lambda r: r.credit_cost, display=format_value, align=RIGHT),
    Column("Status", value=lambda r: r.status),
    Column("Bookings", value=lambda r: r.booking_count, display=format_value, align=RIGHT),
)
SORTS = (("next", "Next session first"), ("title", "Title A–Z"), ("bookings", "Most booked"))
WHEN = (("upcoming", "Upcoming"), ("past", "Past"), ("all", "Upcoming and past"))


def _filter(search: str = "", sort: str = "next", when: str = "upcoming", type=None,
            status=None, delivery=None, creator=None) -> OfferingFilter:
    return OfferingFilter(search=search, offering_type=type, status=status, delivery=delivery,
                          when=when, creator_id=creator, sort=sort)  # type: ignore[arg-type]


OFFERINGS = ListSpec(
    title="Offerings", shortcut="Ctrl+4", noun="offering", columns=COLUMNS,
    query=list_offerings_page, count=count_offerings, make_filter=_filter,
    filters=[Search("Search title or slug (Ctrl+F)…"), Choice("sort", SORTS),
             Choice("when", WHEN), Break(),
             Choice("type", [(t, TYPE_LABELS[t]) for t in OFFERING_TYPES],
                    any_label="Any type"),
             Choice("status", [(s, s) for s in STATUSES], any_label="Any status"),
             Choice("delivery", [(d, d.replace("_", " ")) for d in DELIVERY_METHODS],
                    any_label="Any delivery"),
             Related("creator", "Creator")],
    searches={"creator": search_creators}, table="offerings", row_query=get_offering_row,
    refresh_on_new=True, toolbar=True, keep_detail=True,
    actions=[Action("A&genda…", name="agenda", open="open_agenda", enabled=always)],
)


def _status(label: str, name: str, status: str) -> Action:
    return Action(label, name=name,
                  operation=lambda r: SetOfferingStatus(r.id, r.version, status),
                  enabled=lambda r: r is not None and r.deleted_at is None
                  and r.status != status, requires="edit_offerings")


def _facts(r: OfferingRecord) -> str:
    facts = [f"<b>{r.status}</b> {TYPE_LABELS[r.offering_type]}", f"slug {html.escape(r.slug)}",
             f"{r.booking_count:,} bookings", f"updated {format_value(r.updated_at)}"]
    if r.published_at:
        facts.insert(2, f"published {format_value(r.published_at)}")
    return " · ".join(facts)


TABS = (
    history_tab("offering", watch=("offerings",)),
)

OFFERING = DetailSpec(
    noun="offering", load=get_offering_detail, record_of=lambda d: d.record, fields=(),
    editor=make_offering_form, values_of=offering_values,
    save=lambda r, changes: UpdateOffering(r.id, r.version, changes, r.offering_type),
    create=lambda values: CreateOffering(values), new_values=new_offering_values,
    new_title="<b>New offering</b>", new_facts="Saved as a draft; publish it when complete.",
    new_save_label="&Save new draft", title=lambda r: f"<b>{html.escape(r.title)}</b>",
    facts=_facts, table="offerings", label_of=lambda r: f"“{r.title}”",
    read_only=lambda r: r.deleted_at is not None, edits_block_actions=True,
    form_tab="Editor", toolbar=True, tabs=TABS, min_width=560, save_requires="edit_offerings",
    actions=[_status("&Publish", "publish", "published"),
             _status("Arc&hive", "archive", "archived"),
             _status("Back to dra&ft", "draft", "draft"),
             Action("&Cancel offering…", name="cancel_offering", open="open_cancel_offering",
                    enabled=lambda r: r is not None and r.status != "archived", apart=True,
                    requires="edit_offerings")],
)


class OfferingDetailPane(RecordDetail):
    """One offering: the editor, its bookings (book on behalf, manage each) and resources."""

    build_in_steps = True  # the toolbar's actions now; the editor and the tabs turn by turn

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(OFFERING, database, parent)
        self._bookings_tab: OfferingBookingsTab | None = None  # built by tabs_built()
        self._resources: ResourcesPanel | None = None
        self.impact_question = None

    def tabs_built(self) -> None:
        self._bookings_tab = tab = OfferingBookingsTab(self._db)
        self._tabs.insertTab(1, tab, "Bookings")  # after the editor
        tab.book_requested.connect(self.open_booking_dialog)
        tab.manage_requested.connect(self.manage_booking)
        self._resources = ResourcesPanel(self._db)
        self.add_tab(self._resources, "Resources")

    # The parts built on later turns (reading one builds the rest now).
    @property
    def bookings_tab(self) -> OfferingBookingsTab:
        self.finish_build()
        assert self._bookings_tab is not None
        return self._bookings_tab

    @property
    def booking_filter(self):
        return self.bookings_tab.filters

    @property
    def resources(self) -> ResourcesPanel:
        self.finish_build()
        assert self._resources is not None
        return self._resources

    @property
    def bookings(self) -> LazyTableView:
        """The bookings' table (built on the tab's first show, or now)."""
        return self.bookings_tab.view

    def detail_loaded(self, loaded: OfferingDetail, same_record: bool) -> None:
        self.resources.show_resources(loaded.record.id, loaded.resources)
        self.bookings_tab.show_detail(loaded, same_record)

    def detail_cleared(self) -> None:
        self.resources.show_resources(None)
        self.bookings_tab.show_detail(None)

    def save(self) -> None:
        """Save; first show the impact when a date, time, price or portal window of an
        offering with confirmed bookings changes."""
        record = self.record
        changed = set(self.form.changed_values()) if record is not None else set()
        if record is None or self.is_creating or not changed & set(IMPACT_FIELDS):
            super().save()
            return
        self._db.read(get_impact, record.id, on_success=self._on_impact, context=self)

    def _on_impact(self, impact) -> None:
        if impact.confirmed == 0:
            super().save()
            return
        self.impact_question = ask(
            self, title="This change reaches booked customers",
            text=impact.sentence(),
            informative="The date, time, price or portal window changes for everyone "
                        "booked. Tell them; the platform does not.",
            confirm_label="Save the change", on_confirmed=lambda: RecordDetail.save(self))

    def open_cancel_offering(self, record: OfferingRecord) -> CancelOfferingDialog:
        return open_dialog(CancelOfferingDialog(self._db, record.id, record.title, self))

    def open_booking_dialog(self) -> BookOnBehalfDialog | None:
        if self.record is None:
            return None
        return open_dialog(BookOnBehalfDialog(self._db, self.record, self))

    def manage_booking(self, booking_id: uuid.UUID) -> ManageBookingDialog:
        return open_dialog(ManageBookingDialog(self._db, booking_id, self))


class OfferingsPage(ListPage):
    """Toolbar, filters and the list on the left; the selected offering on the right."""

    title = "Offerings"

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(OFFERINGS, database, detail=OfferingDetailPane(database),
                         load_on_show=True, parent=parent)
        buttons = {**self.detail.actions.buttons, **self.actions.buttons}
        self.publish_button, self.archive_button = buttons["publish"], buttons["archive"]
        self.draft_button, self.agenda_button = buttons["draft"], buttons["agenda"]
        self.new_button = self.detail.new_button

    def open_agenda(self, _row=None) -> AgendaDialog:
        dialog = AgendaDialog(self._db, self)
        dialog.offering_chosen.connect(self.detail.show)
        return self.open_dialog(dialog)
