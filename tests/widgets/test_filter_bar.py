"""The declared filters build the value a page's query takes."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate

from widgets.filter_bar import Choice, DateRange, FilterBar, Search, Toggle


def _bar(qtbot):
    bar = FilterBar([Search("Search…"), Choice("role", [("customer", "Customer"),
                                                      ("owner", "Owner")], any_label="Any role"),
                     Toggle("deleted", "With deleted"),
                     DateRange("active_from", "active_to", "Activity from", days=7)])
    qtbot.addWidget(bar)
    return bar


def test_values_start_as_the_declared_defaults(qtbot):
    assert _bar(qtbot).values() == {"search": "", "role": None, "deleted": False,
                                    "active_from": None, "active_to": None}


def test_each_editor_changes_its_value_and_announces_it(qtbot):
    bar = _bar(qtbot)
    with qtbot.waitSignal(bar.changed):
        bar.widget("role").setCurrentIndex(2)
    with qtbot.waitSignal(bar.changed):
        bar.widget("deleted").setChecked(True)
    with qtbot.waitSignal(bar.changed):
        bar.widget("active_from__on").setChecked(True)
    bar.widget("active_from").setDate(QDate(2026, 11, 1))
    with qtbot.waitSignal(bar.changed, timeout=2_000):  # once typing pauses
        qtbot.keyClicks(bar.search, "ann")
    values = bar.values()
    assert values["search"] == "ann" and values["role"] == "owner" and values["deleted"]
    assert values["active_from"] == dt.date(2026, 11, 1)
    assert values["active_to"] == dt.date.today()


def test_options_loaded_later_keep_the_choice_when_it_is_still_offered(qtbot):
    bar = _bar(qtbot)
    bar.widget("role").setCurrentIndex(1)
    bar.set_options("role", [("admin", "Admin"), ("customer", "Customer")])
    assert bar.values()["role"] == "customer"
    with qtbot.waitSignal(bar.changed):  # the chosen value is gone: the list shows "any"
        bar.set_options("role", [("admin", "Admin")])
    assert bar.values()["role"] is None
