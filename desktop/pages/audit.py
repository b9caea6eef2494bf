"""The Audit page: who changed what, when, why — old and new values.

A declaration (:data:`AUDIT`) on the list machinery: the trail newest first (the chain's
order), lazy by keyset; filters by staff member, table, record, action, dates and text; the
selected row's change field by field beside the list (:class:`AuditChangeView`); Export of
the whole filtered trail. The page only reads: the database alone writes audit rows.
"""

from __future__ import annotations

import json
from operator import attrgetter

from PySide6.QtWidgets import QWidget

from data.export import ExportColumn
from data.operations import Changes
from data.queries.audit import (
    AuditChoices,
    AuditFilter,
    audit_choices,
    count_audit,
    list_audit_page,
)
from desktop.admin.history import AuditChangeView
from desktop.admin.list_page import ChoiceSource, ListPage, ListSpec
from desktop.database import Database
from desktop.formatting import format_value
from widgets.filter_bar import Break, Choice, DateRange, Search
from widgets.lazy_table import Column

AUDIT_COLUMNS = (
    Column("When", value=attrgetter("occurred_at"), display=format_value),
    Column("Staff member", value=attrgetter("actor"), max_width=140),
    Column("Action", value=attrgetter("action"), max_width=160),
    Column("Table", value=attrgetter("entity_type"), max_width=130),
    Column("Record", value=attrgetter("entity_id"), max_width=120),
    Column("Changes (old → new)", value=attrgetter("summary"), max_width=360),
    Column("Reason", value=lambda r: r.reason or "", max_width=200),
)


def _json(values) -> str:
    return "" if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True)


def _options(choices: AuditChoices) -> dict[str, list[tuple[str, str]]]:
    return {"actor": [(a, a) for a in choices.actors],
            "entity_type": [(t, t) for t in choices.entity_types],
            "action": [(a, a) for a in choices.actions]}


TEXT_MATCH = ("Shows changes whose reason or values contain this text (any case) with each "
              "word starting a word there: \"ticket 12\" finds \"Support ticket #1234\", "
              "\"icket\" finds nothing. A record id matches exactly.")


AUDIT = ListSpec(
    title="Audit", shortcut="Ctrl+9", noun="change", columns=AUDIT_COLUMNS,
    query=list_audit_page, count=count_audit, make_filter=AuditFilter,
    filters=[Choice("actor", any_label="Any staff member"),
             Choice("entity_type", any_label="Any table"),
             Choice("action", any_label="Any action"),
             Search("Record id", name="record", delay_ms=400),
             Break(),
             DateRange("date_from", "date_to", "Between", days=7),
             Search("Words starting values or reasons, or a record id (Ctrl+F)…",
                    tooltip=TEXT_MATCH)],
    choices=ChoiceSource(audit_choices, _options, empty=AuditChoices(),
                         what="the staff members, tables and actions of the trail"),
    export=[ExportColumn("id", attrgetter("id")),
            ExportColumn("occurred_at", attrgetter("occurred_at")),
            ExportColumn("staff_member", attrgetter("actor")),
            ExportColumn("action", attrgetter("action")),
            ExportColumn("table", attrgetter("entity_type")),
            ExportColumn("record", attrgetter("entity_id")),
            ExportColumn("changes", attrgetter("summary")),
            ExportColumn("reason", attrgetter("reason")),
            ExportColumn("old_values", lambda r: _json(r.old_values)),
            ExportColumn("new_values", lambda r: _json(r.new_values))],
    export_name="audit_trail",
    placeholder="No change matches these filters.",
    detail_ratio=(3, 2),
)


class AuditPage(ListPage):
    """The trail on the left, the selected change field by field on the right. Loads when
    first shown; any change the app commits (each writes an audit row) reads it again."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        self.change_view = AuditChangeView()
        super().__init__(AUDIT, database, detail=self.change_view, load_on_show=True,
                         parent=parent)
        database.changed.connect(self._on_any_change)

    def _on_any_change(self, _changes: Changes) -> None:
        if self._loaded and self.isVisible():
            self.refresh()
