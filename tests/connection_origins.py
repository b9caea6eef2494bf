"""Where a leaked psycopg connection was opened, said on stderr when it is collected open.

The suite turns warnings into errors, so a connection nobody closed fails whichever test is
running when the collector finds it ("was deleted while still open"), usually not the test
that leaked it. This records the opening stack of every connection (connections are pooled:
few are opened) and prints it next to that warning, so the failure names its origin.
"""

from __future__ import annotations

import sys
import traceback

import psycopg

_original_connect = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]
_original_del = psycopg.Connection.__del__


def _connect(cls, *args, **kwargs):
    conn = _original_connect(cls, *args, **kwargs)
    conn._opened_at = "".join(traceback.format_stack(limit=30)[:-1])  # type: ignore[attr-defined]
    return conn


def _del(self) -> None:
    if not getattr(self, "closed", True):
        sys.stderr.write("psycopg connection collected while open; it was opened at:\n"
                         + getattr(self, "_opened_at", "(unknown)\n"))
    _original_del(self)


psycopg.Connection.connect = classmethod(_connect)  # type: ignore[method-assign,assignment]
psycopg.Connection.__del__ = _del  # type: ignore[method-assign]
psycopg.connect = psycopg.Connection.connect  # the alias SQLAlchemy calls
