"""The Revenue page: founders' charts and KPIs, computed by the database from one snapshot.

Every figure comes from :func:`data.queries.revenue.load_revenue_snapshot`, run on a worker in
one REPEATABLE READ transaction; :class:`SnapshotView` draws it (KPI row and chart tabs) and
:class:`PeriodEventsDialog` lists what is behind a clicked period. This module holds the
controls and the loading: switching range or granularity starts a new load (at most one in
flight: a change made meanwhile is loaded when it ends, and only the latest request's answer
is shown).

On big databases the snapshot reads the daily rollup; the page keeps it current by updating
it in the background (a write: :func:`data.services.revenue_rollup.refresh_rollup`, the days
changed since the last update only) when it was
built before today (platform time) or for another time zone, and has a button to update it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.revenue import BuildRevenueRollup
from data.queries.revenue import (
    BOOKING_CURRENCY,
    PRESETS,
    Granularity,
    RevenueSnapshot,
    RollupMissing,
    load_revenue_snapshot,
    next_period,
)
from data.services.revenue_rollup import RollupRefresh
from desktop.database import Database
from desktop.pages.revenue_events_dialog import PeriodEventsDialog
from desktop.pages.revenue_snapshot_view import CHART_NAMES, SnapshotView, money
from widgets.banner import Banner
from widgets.latest import OneInFlight
from widgets.time_series_chart import epoch_to_wall_clock

DEFAULT_PRESET = "12m"
DEFAULT_GRANULARITY: Granularity = "week"
GRANULARITY_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
CUSTOM = "custom"
CUSTOM_EDIT_DELAY_MS = 400
CURRENCY_NOTE = ("Bookings and plan prices carry no currency on the platform: counted as "
                 f"{BOOKING_CURRENCY.upper()}.")


class RevenuePage(QWidget):
    """Charts, KPIs and exports of revenue, subscriptions and tokens.

    Signals:
        snapshot_loaded(object): a :class:`RevenueSnapshot` was loaded and shown.
        load_failed(object): loading failed; the argument is the exception.
        rollup_refreshed(bool): a rollup rebuild ended (False: another session was at it).
    """

    snapshot_loaded = Signal(object)
    load_failed = Signal(object)
    rollup_refreshed = Signal(bool)

    def __init__(self, database: Database, parent: QWidget | None = None, *,
                 auto_refresh_rollup: bool = True):
        super().__init__(parent)
        self._db = database
        self._auto_refresh_rollup = auto_refresh_rollup
        self._snapshot: RevenueSnapshot | None = None
        self._loads = OneInFlight(self._start_load)
        self._loaded_once = False
        self._rollup_refreshing = False
        self._rollup_auto_tried = False
        self._raw_allowed = False  # True once building the rollup failed: read the tables
        self._events_dialog: PeriodEventsDialog | None = None
        self._currency: str | None = None  # chosen by the user; None: the main one

        # controls
        self.range_combo = QComboBox()
        for key, label in PRESETS.items():
            self.range_combo.addItem(label, key)
        self.range_combo.addItem("Custom range", CUSTOM)
        self.range_combo.setCurrentIndex(self.range_combo.findData(DEFAULT_PRESET))
        today = QDate.currentDate()
        self.start_edit = QDateEdit(today.addDays(-89))
        self.end_edit = QDateEdit(today)
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.granularity_combo = QComboBox()
        for key, label in GRANULARITY_LABELS.items():
            self.granularity_combo.addItem(label, key)
        self.granularity_combo.setCurrentIndex(
            self.granularity_combo.findData(DEFAULT_GRANULARITY))
        self.refresh_button = QPushButton("Refresh")
        self.currency_combo = QComboBox()
        self.currency_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currency_combo.setToolTip("Amounts of different currencies are never added together")
        self.currency_label = QLabel("")
        self.currency_label.setWordWrap(True)
        self.currency_label.setStyleSheet("color: #6b7280")
        self.as_of_label = QLabel("Not loaded yet")
        self.as_of_label.setWordWrap(True)  # long lines wrap: they never widen the window
        self.as_of_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.rollup_label = QLabel("")
        self.rollup_label.setWordWrap(True)
        self.rollup_label.setStyleSheet("color: #6b7280")
        self.rollup_button = QPushButton("Update rollup")
        self.rollup_button.setToolTip(
            "Bring the daily rollup the page reads on big databases up to date: only what "
            "changed since the last update is added (runs in the background)")
        self.banner = Banner()
        self.snapshot_view = SnapshotView()
        # Its parts by their old names: tests, exports and the benchmark reach for them.
        self.kpi_cards = self.snapshot_view.kpi_cards
        self.charts = self.snapshot_view.charts
        self.top_chart = self.snapshot_view.top_chart
        self.tabs = self.snapshot_view.tabs
        self._custom_timer = QTimer(self)
        self._custom_timer.setSingleShot(True)
        self._custom_timer.setInterval(CUSTOM_EDIT_DELAY_MS)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Range"))
        controls.addWidget(self.range_combo)
        controls.addWidget(self.start_edit)
        controls.addWidget(QLabel("to"))
        controls.addWidget(self.end_edit)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Per"))
        controls.addWidget(self.granularity_combo)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Currency"))
        controls.addWidget(self.currency_combo)
        controls.addSpacing(12)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.as_of_label, 1)
        status = QHBoxLayout()
        status.addWidget(self.currency_label, 2)
        status.addWidget(self.rollup_label, 1)
        status.addWidget(self.rollup_button)

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(status)
        layout.addWidget(self.banner)
        layout.addWidget(self.snapshot_view, 1)
        self._sync_date_edits_enabled()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.range_combo.currentIndexChanged.connect(self._on_range_combo_changed)
        self.granularity_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.currency_combo.activated.connect(self._on_currency_combo_activated)
        self.start_edit.dateChanged.connect(self._on_date_edit_changed)
        self.end_edit.dateChanged.connect(self._on_date_edit_changed)
        self._custom_timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.rollup_button.clicked.connect(self.refresh_rollup)
        self.snapshot_view.period_clicked.connect(self._on_chart_period_clicked)

    # -- public API -----------------------------------------------------------------------------

    @property
    def snapshot(self) -> RevenueSnapshot | None:
        """The snapshot on screen."""
        return self._snapshot

    @property
    def is_loading(self) -> bool:
        return self._loads.busy

    @property
    def granularity(self) -> Granularity:
        return self.granularity_combo.currentData()

    @property
    def preset(self) -> str:
        return self.range_combo.currentData()

    def set_range_preset(self, name: str) -> None:
        """Show a preset range (a key of PRESETS, or 'custom' for the date fields)."""
        index = self.range_combo.findData(name)
        if index < 0:
            raise ValueError(f"unknown range preset {name!r}")
        if index == self.range_combo.currentIndex():
            self.refresh()
        else:
            self.range_combo.setCurrentIndex(index)  # refreshes

    def set_custom_range(self, start: dt.date, end: dt.date) -> None:
        for edit, day in ((self.start_edit, start), (self.end_edit, end)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.set_range_preset(CUSTOM)

    def set_granularity(self, granularity: Granularity) -> None:
        index = self.granularity_combo.findData(granularity)
        if index < 0:
            raise ValueError(f"unknown granularity {granularity!r}")
        if index == self.granularity_combo.currentIndex():
            self.refresh()
        else:
            self.granularity_combo.setCurrentIndex(index)  # refreshes

    @property
    def currency(self) -> str:
        """The currency the money charts and KPIs show now."""
        snap = self._snapshot
        if snap is None:
            return self._currency or BOOKING_CURRENCY
        return self._currency if self._currency in snap.by_currency else snap.currency

    def set_currency(self, currency: str) -> None:
        """Show the figures of ``currency`` (one of the snapshot's currencies)."""
        self._currency = currency
        if self._snapshot is not None:
            self._show_snapshot(self._snapshot)

    def set_measure(self, measure: str) -> None:
        """Show ``measure`` (net, gross or refunds) in the by-source and by-type charts."""
        self.snapshot_view.set_measure(measure)

    title = "Revenue"
    shortcut = "Ctrl+7"

    def focus_search(self) -> None:
        """Ctrl+F: no search here; the range is what one looks for."""
        self.range_combo.setFocus()

    def refresh(self) -> None:
        """Load the figures for the current controls (the latest request wins)."""
        self._loaded_once = True
        self._loads.request()

    def refresh_rollup(self) -> None:
        """Update the rollup in the background (the days changed since), then reload."""
        if self._rollup_refreshing:
            return
        self._rollup_refreshing = True
        self.rollup_button.setEnabled(False)
        self.rollup_label.setText("Updating the rollup…")
        # A named write on the serial worker, committed chunk by chunk while the rollup is
        # built from nothing (newest months first: each chunk is shown as it lands).
        handle = self._db.perform_in_batches(
            BuildRevenueRollup(), on_success=self._on_rollup_refreshed,
            on_failure=self._on_rollup_refresh_failed, context=self)
        handle.progress_reported.connect(self._on_rollup_progress)

    def export_csv(self, chart_name: str, path: str | Path) -> None:
        """Write the data behind ``chart_name`` (one of CHART_NAMES) as CSV."""
        self.snapshot_view.export_csv(chart_name, path)

    def export_png(self, chart_name: str, path: str | Path) -> None:
        """Save ``chart_name`` as a PNG image."""
        self.snapshot_view.export_png(chart_name, path)

    def open_period(self, period: dt.datetime) -> PeriodEventsDialog:
        """List the sales and refunds behind ``period`` (a period start on screen)."""
        snap = self._snapshot
        if snap is None:
            raise RuntimeError("nothing loaded yet")
        if self._events_dialog is None:
            self._events_dialog = PeriodEventsDialog(self._db, self)
        self._events_dialog.show_period(snap, period, self.currency)
        return self._events_dialog

    # -- Qt -------------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        # Load on first show, not at start-up.
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    # -- loading --------------------------------------------------------------------------------

    def _current_range(self) -> dict:
        preset = self.preset
        if preset == CUSTOM:
            start, end = self.start_edit.date().toPython(), self.end_edit.date().toPython()
            if start > end:
                start, end = end, start
            return dict(preset=None, start=start, end=end, granularity=self.granularity)
        return dict(preset=preset, start=None, end=None, granularity=self.granularity)

    def _start_load(self) -> None:
        self.refresh_button.setEnabled(False)
        self.as_of_label.setText("Loading…")
        allow_raw = self._raw_allowed or not self._auto_refresh_rollup
        self._db.read(partial(load_revenue_snapshot, **self._current_range(),
                              allow_raw=allow_raw),
                      on_success=self._on_load_finished,
                      on_failure=partial(self._on_load_finished, None), context=self)

    def _on_load_finished(self, snap: RevenueSnapshot | RollupMissing | None,
                          exc: BaseException | None = None) -> None:
        self.refresh_button.setEnabled(True)
        if not self._loads.finished():
            return  # something changed meanwhile: this answer is stale, a newer read runs
        if isinstance(snap, RollupMissing):
            # Reading millions of rows would take long; the rollup is built once, then
            # every view of the page is quick. Load again when it is there.
            self.as_of_label.setText("Waiting for the daily rollup…")
            self.refresh_rollup()
            self.rollup_label.setText(
                f"{snap.note} Building the daily rollup: on a big database this takes a "
                "while, once.".strip())
            return
        if exc is not None:
            self.banner.setText(f"The revenue figures could not be loaded: {exc}")
            self.banner.setVisible(True)
            self.as_of_label.setText("")
            self.load_failed.emit(exc)
            return
        assert snap is not None
        self.banner.setVisible(False)
        self._show_snapshot(snap)
        self.snapshot_loaded.emit(snap)
        if (self._auto_refresh_rollup and snap.rollup_wanted and snap.rollup_needs_refresh
                and not self._rollup_auto_tried):
            self._rollup_auto_tried = True
            self.refresh_rollup()

    def _on_rollup_progress(self, done, total, _text: str = "") -> None:
        if done >= total:
            return
        self.rollup_label.setText(
            f"Building the daily rollup, newest months first: {done} of {total} months…")
        self.refresh()  # show what has landed

    def _on_rollup_refreshed(self, report: RollupRefresh) -> None:
        done = report.kind != "busy"
        self._rollup_refreshing = False
        self.rollup_button.setEnabled(True)
        # Someone else is building it: show the tables' figures meanwhile.
        self._raw_allowed = not done
        self.rollup_refreshed.emit(done)
        self.refresh()

    def _on_rollup_refresh_failed(self, exc: BaseException) -> None:
        self._rollup_refreshing = False
        self.rollup_button.setEnabled(True)
        self._raw_allowed = True
        self.rollup_refreshed.emit(False)
        self.refresh()
        self.rollup_label.setText(f"Updating the rollup failed: {exc}")

    # -- showing --------------------------------------------------------------------------------

    def _show_snapshot(self, snap: RevenueSnapshot) -> None:
        self._snapshot = snap
        self._show_currencies(snap)
        self.snapshot_view.show_snapshot(snap, self.currency)
        self._show_status(snap)
        if self.preset != CUSTOM:  # show the dates the preset stands for
            for edit, day in ((self.start_edit, snap.start), (self.end_edit, snap.end)):
                edit.blockSignals(True)
                edit.setDate(QDate(day.year, day.month, day.day))
                edit.blockSignals(False)

    def _show_currencies(self, snap: RevenueSnapshot) -> None:
        shown = self.currency
        self.currency_combo.blockSignals(True)
        self.currency_combo.clear()
        for i, cur in enumerate(snap.currencies):
            self.currency_combo.addItem(cur.upper() + (" (main)" if i == 0 else ""), cur)
        self.currency_combo.setCurrentIndex(max(self.currency_combo.findData(shown), 0))
        self.currency_combo.blockSignals(False)
        totals = " · ".join(money(snap.by_currency[c].kpis.range_net, c)
                            for c in snap.currencies)
        several = len(snap.currencies) > 1
        self.currency_label.setText(
            (f"Net in the range, per currency (never added together): {totals}. "
             f"Charts and figures show {shown.upper()}. " if several
             else f"Amounts in {shown.upper()}. ") + CURRENCY_NOTE)

    def _show_status(self, snap: RevenueSnapshot) -> None:
        text = (f"As of {snap.as_of_local:%Y-%m-%d %H:%M:%S} ({snap.timezone}) · "
                f"{snap.start} to {snap.end}")
        last = snap.periods[-1].date()
        if next_period(last, snap.granularity) > snap.end + dt.timedelta(days=1):
            text += f" · the last {snap.granularity} runs only to {snap.end}"
            if snap.end == snap.as_of_local.date():
                text += " (to date)"
        self.as_of_label.setText(text)
        if snap.used_rollup and snap.rollup_age is not None:
            text = (f"Old days from the daily rollup built {_age(snap.rollup_age)} ago; "
                    "days since, from the tables")
        elif snap.rollup_wanted:
            text = "Read from the tables. " + (snap.rollup_note or "")
        else:
            text = "Read from the tables"
            if snap.rollup_age is not None:
                text += f" (rollup built {_age(snap.rollup_age)} ago, not needed at this size)"
        if self._rollup_refreshing:
            text += " · rebuilding the rollup…"
        self.rollup_label.setText(text.strip())

    # -- slots ----------------------------------------------------------------------------------

    def _on_range_combo_changed(self, _index: int) -> None:
        self._sync_date_edits_enabled()
        self.refresh()

    def _sync_date_edits_enabled(self) -> None:
        custom = self.preset == CUSTOM
        self.start_edit.setEnabled(custom)
        self.end_edit.setEnabled(custom)

    def _on_date_edit_changed(self, _date: QDate) -> None:
        if self.preset != CUSTOM:
            return
        self._custom_timer.start()

    def _on_currency_combo_activated(self, index: int) -> None:
        self.set_currency(self.currency_combo.itemData(index))

    def _on_chart_period_clicked(self, x: float) -> None:
        if self._snapshot is None:
            return
        self.open_period(epoch_to_wall_clock(x))


def _age(age: dt.timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 90:
        return f"{max(seconds, 0)} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


__all__ = ["CHART_NAMES", "RevenuePage"]
