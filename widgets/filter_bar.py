"""A list's filters, declared: search, choices, toggles and date ranges in one bar.

A page lists its filters (``Search(...)``, ``Choice("role", ...)``, ``Toggle(...)``,
``DateRange(...)``; ``Break()`` starts a second row); :class:`FilterBar` builds the
editors, and ``values()`` gives a dict the page turns into its query's filter value
(``UserFilter(**bar.values())``). Knows no table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from widgets.form_editors import RelatedEditor, SearchCallback
from widgets.search_box import SearchBox

__all__ = ["Break", "Choice", "DateRange", "FilterBar", "FilterSpec", "Search", "Toggle"]


@dataclass(frozen=True)
class Search:
    """Free text, searched once typing pauses (``delay_ms``); Ctrl+F focuses it.
    ``tooltip`` says what a text matches."""

    placeholder: str
    name: str = "search"
    delay_ms: int = 250
    tooltip: str = ""


@dataclass(frozen=True)
class Choice:
    """One of ``options`` (``(value, label)`` pairs); ``any_label`` adds a first option whose
    value is None ("Any role"). Options known only later (read from the database) are set
    with :meth:`FilterBar.set_options`."""

    name: str
    options: Sequence[tuple[Hashable, str]] = ()
    any_label: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Toggle:
    """A check box: True or False."""

    name: str
    label: str
    default: bool = False


@dataclass(frozen=True)
class DateRange:
    """"From … to …" dates behind a check box: both None while it is off. ``days`` is how far
    back the range starts when first turned on."""

    name_from: str
    name_to: str
    label: str
    days: int = 30


@dataclass(frozen=True)
class Break:
    """Not a filter: the filters after it go on the next row (many filters, a narrow list)."""


@dataclass(frozen=True)
class Related:
    """One related record (a creator), found by a search: its label shows, its id is the
    value (None: any). The search itself is the page's: ``FilterBar(searchers={name: …})``
    with ``search(text, deliver)`` (see :class:`widgets.form_editors.RelatedEditor`)."""

    name: str
    label: str
    placeholder: str = ""


FilterSpec = Search | Choice | Toggle | DateRange | Related | Break


class FilterBar(QWidget):
    """The editors of ``filters`` in one row.

    Signals:
        changed(): a filter changed (a search once typing paused); read :meth:`values`.
    """

    changed = Signal()

    def __init__(self, filters: Sequence[FilterSpec], parent: QWidget | None = None, *,
                 searchers: Mapping[str, SearchCallback] | None = None):
        super().__init__(parent)
        self._filters = tuple(filters)
        searchers = searchers or {}
        self._widgets: dict[str, QWidget] = {}
        self.search: SearchBox | None = None
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout()
        rows.addLayout(layout)
        for spec in self._filters:
            if isinstance(spec, Break):
                layout = QHBoxLayout()
                rows.addLayout(layout)
            elif isinstance(spec, Search):
                box = SearchBox(spec.placeholder, delay_ms=spec.delay_ms)
                box.setToolTip(spec.tooltip)
                box.search_requested.connect(lambda _text: self.changed.emit())
                self.search = box
                self._widgets[spec.name] = box
                layout.addWidget(box, 3)
            elif isinstance(spec, Choice):
                combo = QComboBox()
                combo.setObjectName(f"filter_{spec.name}")
                self._widgets[spec.name] = combo
                self._fill(spec, combo, spec.options)
                combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
                if spec.label:  # a labelled choice ("Sort by") keeps its own width
                    label = QLabel(spec.label)
                    label.setBuddy(combo)
                    layout.addWidget(label)
                layout.addWidget(combo, 0 if spec.label else 1)
            elif isinstance(spec, Toggle):
                check = QCheckBox(spec.label)
                check.setChecked(spec.default)
                check.toggled.connect(lambda _on: self.changed.emit())
                self._widgets[spec.name] = check
                layout.addWidget(check)
            elif isinstance(spec, DateRange):
                self._add_date_range(layout, spec)
            elif isinstance(spec, Related):
                picker = RelatedEditor(search=searchers.get(spec.name),
                                       placeholder=spec.placeholder or f"{spec.label}: search…")
                picker.setObjectName(f"filter_{spec.name}")
                picker.edited.connect(self.changed.emit)
                self._widgets[spec.name] = picker
                label = QLabel(spec.label)
                label.setBuddy(picker)
                layout.addWidget(label)
                layout.addWidget(picker, 2)
            else:  # pragma: no cover - a declaration error
                raise TypeError(f"unknown filter {spec!r}")

    def _add_date_range(self, layout: QHBoxLayout, spec: DateRange) -> None:
        check = QCheckBox(spec.label)
        today = QDate.currentDate()
        start, end = QDateEdit(today.addDays(-spec.days)), QDateEdit(today)
        for edit in (start, end):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edit.dateChanged.connect(lambda _d: self.changed.emit())

        def toggled(on: bool) -> None:
            start.setEnabled(on)
            end.setEnabled(on)
            self.changed.emit()

        check.toggled.connect(toggled)
        self._widgets[spec.name_from] = start
        self._widgets[spec.name_to] = end
        self._widgets[f"{spec.name_from}__on"] = check
        layout.addWidget(check)
        layout.addWidget(start)
        layout.addWidget(QLabel("to"))
        layout.addWidget(end)

    @staticmethod
    def _fill(spec: Choice, combo: QComboBox, options: Sequence[tuple[Hashable, str]]) -> None:
        if spec.any_label is not None:
            combo.addItem(spec.any_label, None)
        for value, label in options:
            combo.addItem(label, value)

    def widget(self, name: str) -> QWidget:
        """The editor of filter ``name`` (a date range's check box is ``<from>__on``)."""
        return self._widgets[name]

    def set_options(self, name: str, options: Sequence[tuple[Hashable, str]]) -> None:
        """Replace a choice's options, keeping the current value when it is still offered
        (without announcing a change for it)."""
        spec = next(f for f in self._filters if isinstance(f, Choice) and f.name == name)
        combo = self._widgets[name]
        assert isinstance(combo, QComboBox)
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        self._fill(spec, combo, options)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        if index < 0 and current is not None:
            self.changed.emit()  # the chosen value is gone: the list shows "any" now

    def values(self) -> dict[str, Any]:
        """Each filter's value by name: text, the choice's value, bool, or dates (None when
        the range is off)."""
        out: dict[str, Any] = {}
        for spec in self._filters:
            if isinstance(spec, Search):
                out[spec.name] = self._widgets[spec.name].text()
            elif isinstance(spec, Choice):
                out[spec.name] = self._widgets[spec.name].currentData()
            elif isinstance(spec, Toggle):
                out[spec.name] = self._widgets[spec.name].isChecked()
            elif isinstance(spec, Related):
                out[spec.name] = self._widgets[spec.name].value()
            elif isinstance(spec, DateRange):
                on = self._widgets[f"{spec.name_from}__on"].isChecked()
                out[spec.name_from] = self._date(spec.name_from) if on else None
                out[spec.name_to] = self._date(spec.name_to) if on else None
        return out

    def _date(self, name: str) -> dt.date:
        edit = self._widgets[name]
        assert isinstance(edit, QDateEdit)
        return edit.date().toPython()

    def focus_search(self) -> None:
        if self.search is not None:
            self.search.focus_and_select()

    def cancel_pending(self) -> None:
        """Forget a search waiting for typing to pause (the list is refreshed now anyway)."""
        if self.search is not None:
            self.search.cancel_pending()
