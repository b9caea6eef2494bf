"""A record's History: its audit rows, newest first, old → new per field.

Two parts, both knowing only :mod:`data.queries.audit`:

- :func:`history_tab` declares a History tab for any :class:`~desktop.admin.record_detail.
  DetailSpec` in one line (``tabs=(..., history_tab("user", "credit_balance"))``): a lazy
  list of the audit rows written about the shown record under those entity types (what the
  services pass as ``entity_type``), reloaded when the record's own table announces a change
  of it;
- :class:`AuditChangeView` shows one audit row: who, when, what, why, and a table of each
  changed field, before and after (the Audit page's detail).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from data.queries.audit import AuditRow, describe, list_record_history
from desktop.admin.inline import InlineSpec
from desktop.formatting import format_value
from widgets.lazy_table import Column
from widgets.record_table import RecordTable

__all__ = ["HISTORY_COLUMNS", "AuditChangeView", "history_tab"]

HISTORY_COLUMNS = (
    Column("When", value=attrgetter("occurred_at"), display=format_value),
    Column("Staff member", value=attrgetter("actor"), max_width=140),
    Column("Action", value=attrgetter("action"), max_width=160),
    Column("Changes (old → new)", value=attrgetter("summary"), max_width=420),
    Column("Reason", value=lambda r: r.reason or "", max_width=220),
)


def history_tab(entity_type: str, *also: str, watch: Sequence[str] = (),
                title: str = "History", query: Callable[..., Any] | None = None
                ) -> InlineSpec:
    """The History tab of records written to the audit trail as ``entity_type`` (and as
    each of ``also``: a user's token adjustments are ``credit_balance`` rows of the same id).

    ``watch`` names the tables keyed by the record's id (default: ``entity_type``): an
    announced change of the shown record there reloads the tab, so a save shows up in its
    History at once. ``query(session, record_id, cursor, limit)``, when given, finds the
    record's rows itself (a booking's include those of its portal access rows).
    """
    tables = tuple(watch) or (entity_type,)
    rows, args = (list_record_history, ((entity_type, *also),)) if query is None \
        else (query, ())
    return InlineSpec(title, HISTORY_COLUMNS, rows, args,
                      empty="No changes recorded through the app yet.",
                      watch=tables[0], also_watch=tables[1:])


_OLD = QBrush(QColor("#b00020"))
_NEW = QBrush(QColor("#1b5e20"))


class AuditChangeView(QWidget):
    """One audit row (``show_row(row)``; None: nothing): a heading, the facts, and each
    changed field's value before and after."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.row: AuditRow | None = None
        self.title = QLabel("Select a change")
        self.title.setObjectName("detailTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel("")
        self.facts.setWordWrap(True)
        self.table = RecordTable(("Field", "Before", "After"))
        self.table.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.table, 1)
        self.table.setVisible(False)
        self.setMinimumWidth(440)  # before and after side by side, readable

    def show_row(self, row: Any) -> None:
        self.row = row
        if row is None:
            self.title.setText("Select a change")
            self.facts.setText("")
            self.table.setVisible(False)
            return
        self.title.setText(f"<b>{html.escape(row.action)}</b> on {html.escape(row.entity_type)} "
                           f"<code>{html.escape(row.entity_id)}</code>")
        facts = [f"By <b>{html.escape(row.actor)}</b> at {format_value(row.occurred_at)}",
                 f"audit row #{row.id:,}"]
        if row.reason:
            facts.append(f"reason: “{html.escape(row.reason)}”")
        self.facts.setText(" · ".join(facts))
        changes = row.changes
        self.table.set_rows([(c.field, describe(c.old), describe(c.new)) for c in changes])
        for i, change in enumerate(changes):
            if change.old is not None:
                self.table.item(i, 1).setForeground(_OLD)
            if change.new is not None:
                self.table.item(i, 2).setForeground(_NEW)
        self.table.setVisible(True)
        if not changes:
            self.facts.setText(self.facts.text() + "<br>No field values were recorded.")
