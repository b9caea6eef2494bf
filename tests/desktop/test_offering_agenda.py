"""The agenda dialog pages a day at a time: the first day's sessions show first, later days
arrive as the table is scrolled, and Return on a session opens its offering."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from sqlalchemy import text

from data.queries.offerings import AGENDA_PAGE
from desktop.pages.offering_agenda import AgendaDialog
from tests.data.offering_factories import add_booking, add_customer, add_offering

WAIT = 15_000
START = dt.datetime(2030, 1, 1, 0, 0, tzinfo=dt.UTC)
BUSY_DAY = AGENDA_PAGE + 50  # more events on the first day than one page holds


def _busy_first_day(engine) -> None:
    creator = add_customer(engine)
    with engine.begin() as c:
        c.execute(text("""
            INSERT INTO offerings (creator_id, title, slug, offering_type, capacity_type,
                max_participants, delivery_method, schedule, status)
            SELECT :creator, 'Morning talk ' || lpad(g::text, 3, '0'), 'talk-' || g,
                   'one_time_event', 'small_group', 10, 'online',
                   jsonb_build_object('date', '2030-01-01', 'start_time',
                                      lpad((8 + g % 12)::text, 2, '0') || chr(58) || '00',
                                      'duration_minutes', 45), 'published'
            FROM generate_series(1, :n) g
        """), {"creator": creator, "n": BUSY_DAY})


def test_the_first_days_rows_come_first_then_later_days_as_it_scrolls(qtbot, empty_database,
                                                                       engine):
    _busy_first_day(engine)
    later = add_offering(engine, title="Winter Retreat Talk", schedule={
        "date": "2030-01-20", "start_time": "18:00", "duration_minutes": 60},
        max_participants=30)
    add_booking(engine, later, add_customer(engine))
    dialog = AgendaDialog(empty_database, start=START)
    qtbot.addWidget(dialog)
    dialog.resize(760, 520)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0 and not dialog.model.is_loading,
                    timeout=WAIT)
    first = dialog.entries
    assert len(first) == AGENDA_PAGE
    assert {e.start.date() for e in first} == {dt.date(2030, 1, 1)}
    assert "so far" in dialog.note.text() and "Tue 01 Jan" in dialog.note.text()
    dialog.grab().save("/tmp/h13-agenda-first-page.png")

    # scrolling to the end asks for the rest: the first day's last sessions, then day 20
    for _ in range(10):
        if dialog.model.is_exhausted:
            break
        dialog.view.scrollToBottom()
        qtbot.waitUntil(lambda: not dialog.model.is_loading, timeout=WAIT)
    assert dialog.model.is_exhausted
    entries = dialog.entries
    assert len(entries) == BUSY_DAY + 1
    assert [e.start for e in entries] == sorted(e.start for e in entries)
    assert entries[-1].offering_id == later and entries[-1].seats == "1 / 30"
    assert dialog.note.text() == f"{BUSY_DAY + 1:,} sessions in the next 28 days."
    dialog.grab().save("/tmp/h13-agenda-last-page.png")

    chosen: list = []
    dialog.offering_chosen.connect(chosen.append)
    dialog.view.setFocus()
    dialog.view.setCurrentIndex(dialog.model.index(len(entries) - 1, 0))
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    assert chosen == [later]


def test_the_dialog_opens_as_wide_as_its_columns(qtbot, empty_database, engine):
    """Every column shows whole, "Seats taken" included, with no horizontal scroll bar: the
    dialog is sized to its columns (it was 760 px wide whatever they needed)."""
    creator = add_customer(engine)
    with engine.begin() as c:  # enough sessions for a vertical scroll bar
        c.execute(text("""
            INSERT INTO offerings (creator_id, title, slug, offering_type, capacity_type,
                max_participants, delivery_method, schedule, status)
            SELECT :creator, 'Goal Setting with Intention Cohort ' || g, 'goal-' || g,
                   'one_time_event', 'large_group', 200, 'online',
                   jsonb_build_object('date', '2030-01-02', 'start_time', '18:00',
                                      'duration_minutes', 45), 'published'
            FROM generate_series(1, 40) g
        """), {"creator": creator})
    add_offering(engine, offering_type="retreat", title="Mountain Retreat", schedule={
        "start_date": "2030-01-03", "end_date": "2030-01-07", "check_in_time": "15:00",
        "check_out_time": "11:00", "time_zone": "Europe/Berlin"})
    add_offering(engine, offering_type="multi_day_program", title="Intensive", schedule={
        "start_date": "2030-01-04", "end_date": "2030-01-05", "sessions": [
            {"date": "2030-01-04", "start_time": "09:00", "duration_minutes": 120}]},
        max_participants=1000)
    dialog = AgendaDialog(empty_database, start=START)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.model.is_exhausted and not dialog.model.is_loading,
                    timeout=WAIT)
    qtbot.wait(50)  # the layout settles
    view = dialog.view
    labels = {e.label for e in dialog.entries}
    assert {"Event", "Retreat day 2 of 5", "Session 1 of 1"} <= labels
    assert view.verticalScrollBar().isVisible()
    assert not view.horizontalScrollBar().isVisible()
    columns = range(dialog.model.columnCount())
    assert sum(view.columnWidth(c) for c in columns) <= view.viewport().width()
    metrics = view.fontMetrics()
    for row in range(dialog.model.rowCount()):
        for c in columns:
            shown = dialog.model.data(dialog.model.index(row, c))
            assert metrics.horizontalAdvance(shown) < view.columnWidth(c), (shown, c)
    dialog.grab().save("/tmp/h13-agenda2-agenda-wide.png")
