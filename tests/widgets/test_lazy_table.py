"""LazyTableModel / LazyTableView: keyset pages fetched off the GUI thread."""

from __future__ import annotations

import bisect
import threading
import time
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QModelIndex, Qt

from widgets.lazy_table import Column, LazyTableModel, LazyTableView, Page, RowRole

WAIT_MS = 5_000

ROWS = [(number, f"Creator {number:04d}", number * 125) for number in range(1, 1001)]

COLUMNS = [
    Column("ID", lambda row: row[0], align=Qt.AlignmentFlag.AlignRight, width=70),
    Column("Name", lambda row: row[1], width=220),
    Column(
        "Balance",
        lambda row: row[2],
        display=lambda cents: f"${cents / 100:,.2f}",
        align=Qt.AlignmentFlag.AlignRight,
    ),
]


@dataclass
class KeysetFetcher:
    """(cursor, limit) -> Page over an in-memory list sorted by id, like WHERE id > :cursor."""

    rows: list[tuple]
    delay: float = 0.0
    calls: list[object] = field(default_factory=list)

    def __call__(self, cursor: object | None, limit: int) -> Page:
        self.calls.append(cursor)
        if self.delay:
            time.sleep(self.delay)
        ids = [row[0] for row in self.rows]
        start = 0 if cursor is None else bisect.bisect_right(ids, cursor)
        page = self.rows[start : start + limit]
        more = start + limit < len(self.rows)
        return Page(list(page), page[-1][0] if more and page else None)


def _model(runner, *, page_size: int = 100) -> LazyTableModel:
    return LazyTableModel(COLUMNS, runner, page_size=page_size, row_key=lambda row: row[0])


def _wait_idle(qtbot, model: LazyTableModel) -> None:
    qtbot.waitUntil(lambda: not model.is_loading, timeout=WAIT_MS)


def _loaded_rows(model: LazyTableModel) -> list:
    return [model.row_at(row) for row in range(model.rowCount())]


def _show_view(qtbot, model: LazyTableModel, *, height: int = 240) -> LazyTableView:
    view = LazyTableView(model)
    qtbot.addWidget(view)
    view.resize(520, height)
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.mark.qt_log_level_fail("WARNING")
def test_qt_model_tester_passes_while_empty_loading_and_loaded(qtbot, qtmodeltester, runner):
    # Qt's own tester reports problems as warnings; the marker turns them into failures.
    # It stays connected, so every insert, change, removal and reset below is checked too.
    model = _model(runner, page_size=50)
    qtmodeltester.check(model)

    model.set_fetcher(KeysetFetcher(ROWS))
    # The tester calls fetchMore() from inside every insert and reset, so it pulls in the
    # whole listing - re-entrantly, which must neither duplicate nor reorder pages.
    qtbot.waitUntil(lambda: model.is_exhausted and not model.is_loading, timeout=WAIT_MS)
    assert _loaded_rows(model) == ROWS

    assert model.replace_row((3, "Renamed", 1))
    assert model.remove_row(4)
    model.set_fetcher(KeysetFetcher([]))
    _wait_idle(qtbot, model)
    assert model.rowCount() == 0


def test_python_model_tester_passes_on_an_empty_model_and_while_rows_arrive(
    qtbot, qtmodeltester, runner
):
    model = _model(runner, page_size=50)
    qtmodeltester.check(model, force_py=True)  # checks now, then on every model signal

    model.set_fetcher(KeysetFetcher(ROWS[:120]))
    qtbot.waitUntil(lambda: model.is_exhausted and not model.is_loading, timeout=WAIT_MS)
    assert _loaded_rows(model) == ROWS[:120]
    model.set_fetcher(None)
    assert model.rowCount() == 0


def test_python_model_tester_passes_on_a_loaded_model(qtbot, qtmodeltester, runner):
    model = _model(runner, page_size=50)
    model.set_fetcher(KeysetFetcher(ROWS[:120]))
    _wait_idle(qtbot, model)
    assert model.rowCount() == 50

    qtmodeltester.check(model, force_py=True)
    qtbot.waitUntil(lambda: model.is_exhausted and not model.is_loading, timeout=WAIT_MS)
    assert _loaded_rows(model) == ROWS[:120]


def test_cells_show_display_text_alignment_and_the_row_object(qtbot, runner):
    model = _model(runner)
    model.set_fetcher(KeysetFetcher(ROWS))
    _wait_idle(qtbot, model)

    assert model.data(model.index(0, 1)) == "Creator 0001"
    assert model.data(model.index(9, 2)) == "$12.50"
    assert model.data(model.index(0, 1), Qt.ItemDataRole.ToolTipRole) == "Creator 0001"
    assert model.data(model.index(0, 1), RowRole) == ROWS[0]
    alignment = model.data(model.index(0, 0), Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & Qt.AlignmentFlag.AlignRight
    assert model.data(model.index(0, 1), Qt.ItemDataRole.TextAlignmentRole) is None
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(3)]
    assert titles == ["ID", "Name", "Balance"]


def test_none_values_display_as_empty_cells(qtbot, runner):
    model = LazyTableModel([Column("Email", lambda row: row[1])], runner)
    model.set_fetcher(lambda cursor, limit: Page([(1, None)], None))
    _wait_idle(qtbot, model)
    assert model.data(model.index(0, 0)) == ""


def test_scrolling_to_the_bottom_loads_all_rows_in_order_page_by_page(qtbot, runner):
    fetcher = KeysetFetcher(ROWS)
    model = _model(runner, page_size=100)
    view = _show_view(qtbot, model)
    model.set_fetcher(fetcher)
    _wait_idle(qtbot, model)
    # One page fills this small view; nothing more is fetched until the user scrolls.
    qtbot.wait(50)
    assert model.rowCount() == 100
    assert fetcher.calls == [None]

    def scroll_until_exhausted() -> bool:
        if not model.is_loading:
            view.scrollToBottom()
        return model.is_exhausted and not model.is_loading

    qtbot.waitUntil(scroll_until_exhausted, timeout=20_000)

    loaded = _loaded_rows(model)
    assert loaded == ROWS
    assert len({row[0] for row in loaded}) == 1000
    assert fetcher.calls == [None, *range(100, 1000, 100)]
    assert not model.canFetchMore(QModelIndex())


def test_fetch_more_until_exhausted_without_a_view(qtbot, runner):
    model = _model(runner, page_size=300)
    model.set_fetcher(KeysetFetcher(ROWS))
    while True:
        _wait_idle(qtbot, model)
        if not model.canFetchMore(QModelIndex()):
            break
        model.fetchMore(QModelIndex())
    assert _loaded_rows(model) == ROWS
    assert model.is_exhausted


def test_view_prefetches_until_the_viewport_is_full(qtbot, runner):
    fetcher = KeysetFetcher(ROWS)
    model = _model(runner, page_size=3)
    view = _show_view(qtbot, model, height=400)
    model.set_fetcher(fetcher)

    def viewport_full() -> bool:
        last = model.rowCount() - 1
        return (
            last >= 0
            and not model.is_loading
            and view.visualRect(model.index(last, 0)).bottom() >= view.viewport().height()
        )

    qtbot.waitUntil(viewport_full, timeout=WAIT_MS)
    assert len(fetcher.calls) > 1
    qtbot.wait(50)
    # ...and stops once it is full.
    assert not model.is_exhausted
    assert model.rowCount() < 60


def test_answer_for_a_replaced_fetcher_is_dropped(qtbot, runner):
    old_started = threading.Event()
    release_old = threading.Event()
    old_returned = threading.Event()
    old_rows = [(number, f"Old {number}", 0) for number in range(1, 6)]
    new_rows = [(number, f"New {number}", 0) for number in range(100, 103)]

    def slow_old_fetcher(cursor, limit):
        old_started.set()
        try:
            release_old.wait(WAIT_MS / 1000)
            return Page(old_rows, None)
        finally:
            old_returned.set()

    model = _model(runner)
    model.set_fetcher(slow_old_fetcher)
    qtbot.waitUntil(old_started.is_set, timeout=WAIT_MS)
    model.set_fetcher(lambda cursor, limit: Page(new_rows, None))
    _wait_idle(qtbot, model)
    assert _loaded_rows(model) == new_rows

    # Now let the old request finish last and wait until its answer has been delivered.
    release_old.set()
    assert old_returned.wait(WAIT_MS / 1000)
    qtbot.waitUntil(lambda: runner.active_count == 0, timeout=WAIT_MS)

    assert _loaded_rows(model) == new_rows
    assert not model.is_loading


def test_can_fetch_more_is_false_while_a_page_is_loading(qtbot, runner):
    gate = threading.Event()
    calls: list[object] = []

    def gated_fetcher(cursor, limit):
        calls.append(cursor)
        gate.wait(WAIT_MS / 1000)
        return KeysetFetcher(ROWS)(cursor, limit)

    model = _model(runner)
    with qtbot.waitSignal(model.loading_changed, timeout=WAIT_MS) as blocker:
        model.set_fetcher(gated_fetcher)
    assert blocker.args == [True]
    assert model.is_loading
    assert not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # must not stack a second request

    with qtbot.waitSignal(model.rows_loaded, timeout=WAIT_MS) as loaded:
        gate.set()
    assert loaded.args == [100]
    assert calls == [None]
    assert model.canFetchMore(QModelIndex())


def test_replace_row_updates_the_displayed_text(qtbot, runner):
    model = _model(runner)
    model.set_fetcher(KeysetFetcher(ROWS))
    _wait_idle(qtbot, model)
    assert model.data(model.index(4, 1)) == "Creator 0005"

    with qtbot.waitSignal(model.dataChanged, timeout=WAIT_MS) as changed:
        assert model.replace_row((5, "Renamed creator", 99_00))
    top_left, bottom_right = changed.args[0], changed.args[1]
    assert (top_left.row(), bottom_right.row()) == (4, 4)
    assert model.data(model.index(4, 1)) == "Renamed creator"
    assert model.data(model.index(4, 2)) == "$99.00"
    assert model.rowCount() == 100
    assert not model.replace_row((5000, "Not loaded", 0))


def test_remove_row_drops_only_that_row(qtbot, runner):
    model = _model(runner)
    model.set_fetcher(KeysetFetcher(ROWS))
    _wait_idle(qtbot, model)

    assert model.remove_row(2)
    assert [row[0] for row in _loaded_rows(model)[:3]] == [1, 3, 4]
    assert model.row_index(3) == 1
    assert not model.remove_row(2)


def test_load_failed_is_emitted_and_further_pages_wait_for_retry(qtbot, runner):
    attempts = 0

    def flaky_fetcher(cursor, limit):
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("server closed the connection")
        return KeysetFetcher(ROWS)(cursor, limit)

    model = _model(runner)
    view = _show_view(qtbot, model)
    with qtbot.waitSignal(model.load_failed, timeout=WAIT_MS) as failed:
        model.set_fetcher(flaky_fetcher)
    [exc] = failed.args
    assert isinstance(exc, ConnectionError)
    assert model.last_error is exc
    assert not model.is_loading
    # No automatic hammering of a failing server.
    assert not model.canFetchMore(QModelIndex())
    assert view.placeholder_text() == "Could not load rows"

    with qtbot.waitSignal(model.rows_loaded, timeout=WAIT_MS):
        model.retry()
    assert model.rowCount() == 100
    assert model.last_error is None


def test_placeholder_says_loading_then_no_rows(qtbot, runner):
    gate = threading.Event()
    model = _model(runner)
    view = _show_view(qtbot, model)

    def empty_listing(cursor, limit):
        gate.wait(WAIT_MS / 1000)
        return Page([], None)

    model.set_fetcher(empty_listing)
    assert view.placeholder_text() == "Loading…"
    gate.set()
    _wait_idle(qtbot, model)
    assert view.placeholder_text() == "No rows"


def test_clicking_a_row_emits_current_row_changed_with_the_row(qtbot, runner):
    model = _model(runner)
    view = _show_view(qtbot, model)
    model.set_fetcher(KeysetFetcher(ROWS))
    _wait_idle(qtbot, model)

    rect = view.visualRect(model.index(3, 1))
    with qtbot.waitSignal(view.current_row_changed, timeout=WAIT_MS) as changed:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert changed.args == [ROWS[3]]
    assert view.current_row() == ROWS[3]
    assert view.selectionModel().isRowSelected(3, QModelIndex())

    # Replacing the current row hands listeners the fresh row object.
    with qtbot.waitSignal(view.current_row_changed, timeout=WAIT_MS) as changed:
        model.replace_row((4, "Renamed", 0))
    assert changed.args == [(4, "Renamed", 0)]

    # A reset clears the current row, and listeners hear about it.
    with qtbot.waitSignal(view.current_row_changed, timeout=WAIT_MS) as changed:
        model.refresh()
    assert changed.args == [None]


def test_column_widths_survive_a_reset(qtbot, runner):
    model = _model(runner)
    view = _show_view(qtbot, model)
    assert view.columnWidth(1) == 220
    view.setColumnWidth(1, 50)
    model.set_fetcher(KeysetFetcher(ROWS))
    _wait_idle(qtbot, model)
    assert view.columnWidth(0) == 70
    assert view.columnWidth(1) == 220


def test_a_fetcher_returning_garbage_fails_instead_of_loading_forever(qtbot, runner):
    model = _model(runner)
    with qtbot.waitSignal(model.load_failed, timeout=WAIT_MS) as failed:
        model.set_fetcher(lambda cursor, limit: 42)
    assert isinstance(failed.args[0], TypeError)
    assert not model.is_loading


def test_the_first_page_widens_columns_to_their_titles_and_values_up_to_their_cap(
        qtbot, runner):
    long_name = "A rather long customer name that runs on and on " * 3
    rows = [(1, "Ann", 5), (2, long_name, 12_345_678_900)]  # $123,456,789.00
    columns = [
        Column("Identifier number", lambda row: row[0], width=20),
        Column("Name", lambda row: row[1], max_width=150),
        Column("Balance", lambda row: row[2], display=lambda c: f"${c / 100:,.2f}"),
        Column("Note", lambda row: ""),  # last: stretched to the rest of the width
    ]
    model = LazyTableModel(columns, runner, row_key=lambda row: row[0])
    view = LazyTableView(model)
    qtbot.addWidget(view)
    view.resize(300, 240)  # narrower than the columns: the last one is not just stretched
    view.show()
    header = view.horizontalHeader()
    assert view.columnWidth(0) >= header.sectionSizeHint(0)  # the title, before any row
    model.set_fetcher(KeysetFetcher(rows))
    _wait_idle(qtbot, model)
    metrics = view.fontMetrics()
    assert view.columnWidth(2) >= metrics.horizontalAdvance("$123,456,789.00")
    assert view.columnWidth(1) == 150  # long free text stops at its cap (tooltip shows it)
    assert model.index(1, 1).data(Qt.ItemDataRole.ToolTipRole) == long_name
    # A narrower listing afterwards (a search) does not make the columns jump back.
    model.set_fetcher(KeysetFetcher([(1, "Ann", 5)]))
    _wait_idle(qtbot, model)
    assert view.columnWidth(2) >= metrics.horizontalAdvance("$123,456,789.00")
