"""A read-only list of one table, declared by its :class:`TableListing`: what a page shows
until it is built out (Subscription tiers, Offerings and Referral rewards for now)."""

from __future__ import annotations

from operator import itemgetter

from PySide6.QtWidgets import QWidget

from data.export import ExportColumn
from data.queries.listing import TableListing, estimated_rows, list_page
from desktop.admin.list_page import ListPage, ListSpec
from desktop.database import Database
from desktop.formatting import format_value
from widgets.lazy_table import Column


def listing_spec(listing: TableListing, shortcut: str = "") -> ListSpec:
    """The list page of ``listing``: newest first, an estimated count, every column
    exportable; the filter value is the listing itself (there are no filters yet)."""
    columns = [Column(title, value=itemgetter(i), display=format_value)
               for i, (title, _col) in enumerate(listing.columns)]
    return ListSpec(
        title=listing.title, shortcut=shortcut, noun="row", columns=columns, query=list_page,
        count=estimated_rows, make_filter=lambda: listing, row_key=itemgetter(-1),
        heading=f"<b>{listing.title}</b> — read-only for now",
        export=[ExportColumn(title, itemgetter(i))
                for i, (title, _col) in enumerate(listing.columns)])


class TablePage(ListPage):
    """``listing``'s table newest first, paged by keyset as the user scrolls; loads when
    first shown."""

    def __init__(self, listing: TableListing, database: Database, parent: QWidget | None = None,
                 *, shortcut: str = ""):
        self.listing = listing
        super().__init__(listing_spec(listing, shortcut), database, load_on_show=True, parent=parent)
        self.list_banner = self.banner
