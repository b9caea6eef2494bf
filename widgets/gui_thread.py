"""The GUI thread gets the interpreter back quickly from busy workers.

Workers run Python too (SQLAlchemy compiling a query, psycopg's rows turned into row
objects). CPython hands the GIL to a waiting thread only every ``sys.getswitchinterval()``
(5 ms by default), and the GUI thread gives up the GIL around most Qt calls: while a worker
builds a page of rows, each of those calls could wait up to 5 ms for it back, so building a
page or painting a screen of rows took several times its own cost (measured: building the
Users page 31-36 ms with a query running, 20-26 ms with 0.5 ms). A shorter interval makes
the worker yield sooner; it costs the workers a little switching, nothing when only one
thread runs.
"""

from __future__ import annotations

import sys

__all__ = ["SWITCH_INTERVAL_S", "favour_gui_thread"]

SWITCH_INTERVAL_S = 0.0005


def favour_gui_thread(interval_s: float = SWITCH_INTERVAL_S) -> None:
    """Call once at start-up, on any thread (the setting is the interpreter's)."""
    sys.setswitchinterval(interval_s)
