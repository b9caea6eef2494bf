"""LazyTableModel's bounded row window: far rows are dropped and fetched again by keyset."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QItemSelectionModel

from tests.widgets.test_lazy_table import COLUMNS, ROWS, WAIT_MS, KeysetFetcher
from widgets.lazy_table import LazyTableModel, LazyTableView

PAGE = 50
WINDOW = 150


def _windowed_model(runner) -> LazyTableModel:
    return LazyTableModel(COLUMNS, runner, page_size=PAGE, window_rows=WINDOW,
                          row_key=lambda row: row[0])


def _view(qtbot, model: LazyTableModel) -> LazyTableView:
    view = LazyTableView(model)
    qtbot.addWidget(view)
    view.resize(520, 240)
    view.show()
    qtbot.waitExposed(view)
    return view


def _scroll_to_the_end(qtbot, model: LazyTableModel, view: LazyTableView) -> None:
    def at_the_end() -> bool:
        if not model.is_loading:
            view.scrollToBottom()
        return model.is_exhausted and not model.is_loading

    qtbot.waitUntil(at_the_end, timeout=20_000)
    qtbot.waitUntil(lambda: None not in _shown_rows(view), timeout=WAIT_MS)


def _shown_rows(view: LazyTableView) -> list:
    model = view.lazy_model()
    top = view.rowAt(0)
    bottom = view.rowAt(view.viewport().height() - 1)
    bottom = model.rowCount() - 1 if bottom < 0 else bottom
    return [model.row_at(row) for row in range(top, bottom + 1)]


@pytest.mark.qt_log_level_fail("WARNING")
def test_scrolling_far_drops_rows_and_scrolling_back_shows_the_same_rows(
    qtbot, qtmodeltester, runner
):
    model = _windowed_model(runner)
    qtmodeltester.check(model)  # stays connected: every drop and refetch is checked
    view = _view(qtbot, model)
    model.set_fetcher(KeysetFetcher(ROWS))
    _scroll_to_the_end(qtbot, model, view)

    # Row numbers never move, but only the window around the view is held.
    assert model.rowCount() == len(ROWS)
    assert model.rows_held <= WINDOW + PAGE
    middle = PAGE * 4
    assert model.row_at(middle) is None
    assert model.index(middle, 1).data() == ""
    assert model.row_index(ROWS[middle][0]) is None  # keys of dropped rows are forgotten
    shown = _shown_rows(view)
    assert shown == ROWS[-len(shown):]

    view.scrollTo(model.index(middle, 0), LazyTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: None not in _shown_rows(view), timeout=WAIT_MS)
    shown = _shown_rows(view)
    assert shown[0] == ROWS[middle]
    assert shown == ROWS[middle:middle + len(shown)]
    assert model.row_index(ROWS[middle][0]) == middle
    assert model.rowCount() == len(ROWS)
    assert model.rows_held <= WINDOW + PAGE
    assert model.row_at(len(ROWS) - 1) is None  # the end is dropped in turn


def test_the_selected_row_stays_selected_and_held_while_far_rows_are_dropped(qtbot, runner):
    model = _windowed_model(runner)
    view = _view(qtbot, model)
    model.set_fetcher(KeysetFetcher(ROWS))
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.is_loading, timeout=WAIT_MS)
    announced: list = []
    view.current_row_changed.connect(announced.append)
    assert view.select_row_by_key(4)

    _scroll_to_the_end(qtbot, model, view)

    assert model.rows_held <= WINDOW + PAGE
    assert model.row_at(0) == ROWS[0]  # the selected row's page is kept...
    assert model.row_at(PAGE * 2) is None  # ...while pages beyond it are dropped
    assert view.current_row() == ROWS[3]
    assert [index.row() for index in view.selectionModel().selectedRows()] == [3]
    assert announced == [ROWS[3]]  # never "no current row" meanwhile
    assert model.row_index(4) == 3


def test_a_dropped_page_fetched_again_after_deletes_shows_each_row_once(
    qtbot, qtmodeltester, runner
):
    rows = list(ROWS[:400])
    fetcher = KeysetFetcher(rows)
    model = _windowed_model(runner)
    qtmodeltester.check(model)
    view = _view(qtbot, model)
    model.set_fetcher(fetcher)
    _scroll_to_the_end(qtbot, model, view)
    # A page dropped away from the view (the current row's first page stays held).
    middle = next(row for row in range(PAGE, 300, PAGE) if model.row_at(row) is None)
    # Meanwhile someone deletes two rows on that dropped page.
    gone = (ROWS[middle + 3][0], ROWS[middle + 4][0])
    fetcher.rows = [row for row in rows if row[0] not in gone]

    view.scrollTo(model.index(middle, 0), LazyTableView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: None not in _shown_rows(view), timeout=WAIT_MS)

    # The page is fetched again from its own cursor: the deleted rows are gone and the
    # rows after them move up (the page keeps its length, taking rows from the next one).
    shown = _shown_rows(view)
    first_of_page = ROWS[middle - 1][0]
    after = [row for row in fetcher.rows if row[0] > first_of_page]
    assert shown == after[: len(shown)]
    assert not {row[0] for row in shown} & set(gone)
    held = [row for row in (model.row_at(i) for i in range(model.rowCount())) if row]
    assert len({row[0] for row in held}) == len(held)


def test_a_late_refetch_for_an_old_listing_is_dropped(qtbot, runner):
    release = threading.Event()
    refetch_started = threading.Event()

    class GatedRefetch(KeysetFetcher):
        gated = False

        def __call__(self, cursor, limit):
            if self.gated and cursor == ROWS[PAGE * 2 - 1][0]:
                refetch_started.set()
                release.wait(10)
            return super().__call__(cursor, limit)

    old = GatedRefetch(ROWS[:400])
    model = _windowed_model(runner)
    view = _view(qtbot, model)
    model.set_fetcher(old)
    _scroll_to_the_end(qtbot, model, view)
    old.gated = True
    view.scrollTo(model.index(PAGE * 2, 0), LazyTableView.ScrollHint.PositionAtTop)  # asks for the dropped first page again; its answer is held back
    qtbot.waitUntil(refetch_started.is_set, timeout=WAIT_MS)

    new_rows = [(n, f"New {n}", 0) for n in range(5000, 5010)]
    model.set_fetcher(KeysetFetcher(new_rows))
    qtbot.waitUntil(lambda: model.rowCount() == 10, timeout=WAIT_MS)
    release.set()
    assert runner.wait_for_done(5_000)
    qtbot.wait(50)
    assert [model.row_at(i) for i in range(model.rowCount())] == new_rows


def test_selecting_a_row_on_a_held_page_by_selection_model_keeps_it(qtbot, runner):
    """Selection made through the selection model (as a click does) pins the page too."""
    model = _windowed_model(runner)
    view = _view(qtbot, model)
    model.set_fetcher(KeysetFetcher(ROWS))
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.is_loading, timeout=WAIT_MS)
    view.selectionModel().select(model.index(1, 0),
                                 QItemSelectionModel.SelectionFlag.ClearAndSelect
                                 | QItemSelectionModel.SelectionFlag.Rows)
    _scroll_to_the_end(qtbot, model, view)
    assert [model.row_at(i.row()) for i in view.selectionModel().selectedRows()] == [ROWS[1]]


# -- a dropped page fetched again takes back exactly its own rows ----------------------------

SPACED = [(number * 10, f"Creator {number:04d}", number) for number in range(1, 401)]


def _assert_a_slice_of(shown: list, rows: list) -> None:
    """``shown`` is a run of the listing as it is now: no row twice, none missing between."""
    keys = [row[0] for row in rows]
    start = keys.index(shown[0][0])
    assert shown == rows[start:start + len(shown)]


def _sweep(qtbot, view: LazyTableView, first: int, last: int, rows: list) -> set:
    """Scroll from row ``first`` to ``last`` a few rows at a time as a reader would; every
    screen must be a run of ``rows``. Returns the keys seen."""
    model = view.lazy_model()
    seen: set = set()
    for top in range(first, last, 5):
        view.scrollTo(model.index(min(top, model.rowCount() - 1), 0),
                      LazyTableView.ScrollHint.PositionAtTop)
        qtbot.waitUntil(lambda: None not in _shown_rows(view), timeout=WAIT_MS)
        shown = _shown_rows(view)
        _assert_a_slice_of(shown, rows)
        seen.update(row[0] for row in shown)
    held = [row for row in (model.row_at(i) for i in range(model.rowCount())) if row]
    assert len({row[0] for row in held}) == len(held)
    return seen


def _away_with_the_second_row_selected(qtbot, qtmodeltester, runner, fetcher):
    model = _windowed_model(runner)
    qtmodeltester.check(model)  # every refill, insert and removal below is checked
    view = _view(qtbot, model)
    model.set_fetcher(fetcher)
    qtbot.waitUntil(lambda: model.rowCount() > 0 and not model.is_loading, timeout=WAIT_MS)
    assert view.select_row_by_key(SPACED[1][0])
    _scroll_to_the_end(qtbot, model, view)
    return model, view


@pytest.mark.qt_log_level_fail("WARNING")
def test_rows_added_to_a_dropped_page_are_all_listed_when_it_is_fetched_again(
    qtbot, qtmodeltester, runner
):
    fetcher = KeysetFetcher(list(SPACED))
    model, view = _away_with_the_second_row_selected(qtbot, qtmodeltester, runner, fetcher)
    page = 3  # rows 150..199, dropped while the end is shown
    assert model.row_at(page * PAGE) is None
    # Meanwhile three users sign up with keys just before the page's last row.
    last_of_page = SPACED[page * PAGE + PAGE - 1][0]
    added = [(last_of_page - n, f"New {n}", 0) for n in (3, 2, 1)]
    fetcher.rows = sorted(SPACED + added)

    seen = _sweep(qtbot, view, page * PAGE - 10, page * PAGE + 2 * PAGE + 10, fetcher.rows)

    # Before, the page kept its 50 rows: its last three were pushed past the next page's
    # cursor and listed nowhere.
    assert {row[0] for row in added} | {last_of_page, last_of_page - 10} <= seen
    assert model.rowCount() == len(fetcher.rows)
    assert view.current_row() == SPACED[1]  # selection kept through the inserts above it
    assert [index.row() for index in view.selectionModel().selectedRows()] == [1]


@pytest.mark.qt_log_level_fail("WARNING")
def test_rows_deleted_on_a_dropped_page_are_not_made_up_from_the_next_page(
    qtbot, qtmodeltester, runner
):
    fetcher = KeysetFetcher(list(SPACED))
    model, view = _away_with_the_second_row_selected(qtbot, qtmodeltester, runner, fetcher)
    page = 3
    assert model.row_at(page * PAGE) is None and model.row_at((page + 1) * PAGE) is None
    # Two users on the page are deleted while it is dropped, one of them its last row.
    gone = {SPACED[page * PAGE + 10][0], SPACED[page * PAGE + PAGE - 1][0]}
    fetcher.rows = [row for row in SPACED if row[0] not in gone]

    # Back to the page (it and the next are fetched again), away to the end, then straight
    # to the next page, whose neighbour is fetched again after it: before, the page had
    # borrowed the next page's first two rows, and two rows went missing after them.
    _sweep(qtbot, view, page * PAGE, page * PAGE + 1, fetcher.rows)
    _scroll_to_the_end(qtbot, model, view)
    seen = _sweep(qtbot, view, (page + 1) * PAGE + 5, (page + 1) * PAGE + 6, fetcher.rows)
    seen |= _sweep(qtbot, view, page * PAGE - 10, (page + 3) * PAGE, fetcher.rows)

    swept = {row[0] for row in fetcher.rows
             if SPACED[page * PAGE][0] <= row[0] <= SPACED[(page + 2) * PAGE][0]}
    assert swept <= seen
    assert not gone & seen
    assert model.rowCount() == len(fetcher.rows)
    assert view.current_row() == SPACED[1]
    assert [index.row() for index in view.selectionModel().selectedRows()] == [1]
