"""A table that loads its rows page by page, off the GUI thread.

The model holds rows that were already fetched and nothing else: it never sees SQL. Where the
rows come from is a ``PageFetcher``, a plain function ``(cursor, limit) -> Page`` that runs on
a worker thread (that is where the query runs). Keyset pagination is the intended shape: the
cursor is whatever the fetcher needs to continue after the last row it returned, e.g. the
last ``(created_at, id)`` pair.

Sorting and filtering belong to the fetcher too (the server sorts, ``ORDER BY`` must match the
keyset). To change them, build a new fetcher and call ``set_fetcher()``; the model never
reorders rows itself, so there is deliberately no ``sort()``.

The parts, each in its own module, all importable from here:

- :mod:`widgets.lazy_columns`: ``Column``, ``Page``, ``PageFetcher``, ``RowRole``;
- :mod:`widgets.lazy_table_model`: ``LazyTableModel``, the Qt model;
- :mod:`widgets.page_requests`: which page is awaited from the worker (late answers dropped);
- :mod:`widgets.row_window`: the bounded window's books (pages, keys, page edges);
- :mod:`widgets.lazy_table_view`: ``LazyTableView``.
"""

from widgets.lazy_columns import Column, Page, PageFetcher, RowRole
from widgets.lazy_table_model import WINDOW_ROWS, LazyTableModel
from widgets.lazy_table_view import FIT_ROWS, MAX_FITTED_WIDTH, LazyTableView

__all__ = [
    "FIT_ROWS",
    "MAX_FITTED_WIDTH",
    "WINDOW_ROWS",
    "Column",
    "LazyTableModel",
    "LazyTableView",
    "Page",
    "PageFetcher",
    "RowRole",
]
