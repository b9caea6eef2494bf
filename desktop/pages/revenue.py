"""The Revenue page: founders' charts and KPIs, computed by the database from one snapshot.

Every figure comes from :func:`data.queries.revenue.load_revenue`, run on a worker in one
REPEATABLE READ transaction; the page only turns the snapshot into curves and labels. The
charts are created once and updated with ``setData``; switching range or granularity starts
a new load (at most one in flight: a change made meanwhile is loaded when it ends, and only
the latest request's answer is shown).

On big databases the snapshot reads the daily rollup; the page keeps it current by
rebuilding it in the background when it was built before today (platform time) or for another
time zone, and offers a button to rebuild it now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from data.csv_safety import safe_csv_writer
from data.models.content import CONTENT_TYPES
from data.queries.revenue import (
    BOOKING_CURRENCY,
    PRESETS,
    Granularity,
    RevenueSnapshot,
    SeriesTable,
    begin_snapshot,
    load_revenue,
    next_period,
    period_bounds,
    purchases_in_period,
    refresh_rollup,
    rollup_status,
    series_csv_rows,
)
from desktop.database import Database
from desktop.pages.formatting import (
    format_money,
    format_tokens,
    format_wall_clock,
)
from widgets.banner import Banner
from widgets.dialogs import show_error
from widgets.lazy_table import Column, LazyTableModel, LazyTableView
from widgets.time_series_chart import (
    BarChart,
    TimeSeriesChart,
    epoch_to_wall_clock,
    wall_clock_epoch,
)

DEFAULT_PRESET = "12m"
DEFAULT_GRANULARITY: Granularity = "week"
GRANULARITY_LABELS = {"day": "Day", "week": "Week", "month": "Month"}
DATE_FORMATS = {"day": "%a %Y-%m-%d", "week": "week of %Y-%m-%d", "month": "%B %Y"}
MEASURES = {"net": "Net", "gross": "Gross", "refunds": "Refunds"}
CUSTOM = "custom"
CUSTOM_EDIT_DELAY_MS = 400
REFUND_NOTE = "Refunds count in the period they happened (refunded_at), not the sale's."

MONEY_COLORS = {"gross": "#2563eb", "refunds": "#dc2626", "net": "#16a34a"}
TYPE_COLORS = {"video": "#2563eb", "audio": "#9333ea", "written": "#ea580c"}


CURRENCY_NOTE = ("Bookings and plan prices carry no currency on the platform: counted as "
                 f"{BOOKING_CURRENCY.upper()}.")


def money(value: float | Decimal, currency: str = BOOKING_CURRENCY) -> str:
    """Money as everywhere in the app (``1,234.00 USD``); chart values arrive as floats."""
    amount = value if isinstance(value, Decimal) else Decimal(f"{value:.2f}")
    return format_money(amount, currency)


def count(value: float | int) -> str:
    return f"{value:,.0f}"


def tokens(value: float | int) -> str:
    return format_tokens(round(value))


@dataclass(frozen=True)
class SeriesSpec:
    column: str
    """The snapshot table's column; ``{m}`` stands for the measure shown (net, gross...)."""
    label: str
    color: str
    dashed: bool = False
    right_axis: bool = False

    @property
    def key(self) -> str:
        return self.column.replace("_{m}", "")


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which snapshot table it draws, and which columns as which series."""

    name: str
    title: str
    table: str
    series: tuple[SeriesSpec, ...]
    money: bool = True
    clickable: bool = True
    note: str = ""
    right_axis_label: str = ""


CHARTS = (
    ChartSpec("revenue", "Gross, refunds and net revenue", "revenue",
              (SeriesSpec("gross", "Gross", MONEY_COLORS["gross"]),
               SeriesSpec("refunds", "Refunds", MONEY_COLORS["refunds"]),
               SeriesSpec("net", "Net", MONEY_COLORS["net"])), note=REFUND_NOTE),
    ChartSpec("by_source", "Revenue by source", "by_source",
              (SeriesSpec("content_{m}", "Content purchases", "#2563eb"),
               SeriesSpec("offering_{m}", "Offering bookings", "#0891b2")), note=REFUND_NOTE),
    ChartSpec("by_type", "Content purchases by type", "by_type",
              tuple(SeriesSpec(f"{t}_{{m}}", t.capitalize(), TYPE_COLORS.get(t, "#4b5563"))
                    for t in CONTENT_TYPES), note=REFUND_NOTE),
    ChartSpec("mrr", "Monthly recurring revenue (yearly plans as 1/12)", "subscriptions",
              (SeriesSpec("mrr", "MRR", "#16a34a"),), clickable=False,
              note="At the end of each period, at the plans' current prices."),
    ChartSpec("subscribers", "Subscribers", "subscriptions",
              (SeriesSpec("active_subscribers", "Active (paying), left axis", "#2563eb"),
               SeriesSpec("churned", "Churned in the period, right axis", "#dc2626",
                          dashed=True, right_axis=True)),
              money=False, clickable=False, right_axis_label="churned"),
    ChartSpec("tokens", "Tokens granted and spent", "tokens",
              (SeriesSpec("granted", "Granted", "#16a34a"),
               SeriesSpec("spent", "Spent on offerings", "#2563eb"),
               SeriesSpec("expired", "Expired", "#9ca3af", dashed=True)),
              money=False, clickable=False),
)
CHART_NAMES = (*(c.name for c in CHARTS), "top_content")

EVENT_COLUMNS = (
    Column("Time", value=lambda e: e.at, display=format_wall_clock, width=130),
    Column("Event", value=lambda e: e.event, width=60),
    Column("Source", value=lambda e: e.source, width=70),
    Column("Item", value=lambda e: e.title, width=240),
    Column("Type", value=lambda e: e.kind, width=110),
    Column("Customer", value=lambda e: e.customer_email, width=220),
    Column("Amount", value=lambda e: format_money(e.amount if e.event == "sale" else -e.amount,
                                                  e.currency),
           align=Qt.AlignmentFlag.AlignRight, width=110),
    Column("Status now", value=lambda e: e.status, width=90),
)


class KpiCard(QFrame):
    """One figure of the KPI row: a caption, the value, and a line of context."""

    def __init__(self, caption: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("kpiCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("QFrame#kpiCard { background: #f9fafb; border: 1px solid #e5e7eb;"
                           " border-radius: 6px; }")
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: #6b7280; border: none")
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 20px; font-weight: 600; border: none")
        self.detail = QLabel("")
        self.detail.setStyleSheet("color: #6b7280; border: none")
        self.detail.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)

    def show_figure(self, caption: str, value: str, detail: str) -> None:
        self.caption.setText(caption)
        self.value.setText(value)
        self.detail.setText(detail)


class PeriodEventsDialog(QDialog):
    """The sales and refunds behind one period, loaded page by page (reused, not recreated)."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.setWindowTitle("Sales and refunds")
        self.resize(1000, 520)
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.model = LazyTableModel(EVENT_COLUMNS, database.runner, page_size=200,
                                    row_key=lambda e: (e.event, e.record_id), parent=self)
        self.view = LazyTableView(self.model)
        for i, column in enumerate(EVENT_COLUMNS):
            if column.width:
                self.view.setColumnWidth(i, column.width)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def show_period(self, snapshot: RevenueSnapshot, period: dt.datetime,
                    currency: str | None = None) -> None:
        g, tz = snapshot.granularity, snapshot.timezone
        first, after = period_bounds(period, g)
        after = min(after, snapshot.end + dt.timedelta(days=1))
        last = after - dt.timedelta(days=1)
        when = first.isoformat() if first == last else f"{first} to {last}"
        row = {"gross": None, "refunds": None, "net": None}
        cur = currency if currency in snapshot.by_currency else snapshot.currency
        table = snapshot.by_currency[cur].revenue if cur in snapshot.by_currency \
            else snapshot.revenue
        if period in table.periods:
            row = {c: table.value_at(period, c) for c in row}
        self.heading.setText(
            f"<b>Sales and refunds, {when}</b> ({tz} time). In the chart (as of "
            f"{snapshot.as_of_local:%Y-%m-%d %H:%M}): gross {money(row['gross'] or 0, cur)}, "
            f"refunds {money(row['refunds'] or 0, cur)}, net {money(row['net'] or 0, cur)}. "
            "The list below is read now; later changes show here first.")
        self.model.set_fetcher(
            self._db.page_fetcher(purchases_in_period, period, g, tz, end=after))
        self.show()
        self.raise_()


@dataclass(frozen=True)
class _RollupMissing:
    """The database is big and the rollup unusable: build it before loading."""

    note: str


def _load(session: Session, preset: str | None, start: dt.date | None, end: dt.date | None,
          granularity: Granularity, allow_raw: bool) -> RevenueSnapshot | _RollupMissing:
    begin_snapshot(session)
    if not allow_raw:
        status = rollup_status(session)
        if status.wanted and not status.usable:
            return _RollupMissing(status.note)
    return load_revenue(session, preset=preset, start=start, end=end,
                        granularity=granularity)


def _refresh_rollup(session: Session) -> bool:
    done = refresh_rollup(session)
    session.commit()
    return done


@dataclass(frozen=True)
class _Request:
    generation: int
    preset: str | None
    start: dt.date | None
    end: dt.date | None
    granularity: Granularity


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
        self._generation = 0
        self._in_flight: _Request | None = None
        self._pending = False
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
        self.measure_combo = QComboBox()
        for key, label in MEASURES.items():
            self.measure_combo.addItem(label, key)
        self.refresh_button = QPushButton("Refresh")
        self.currency_combo = QComboBox()
        self.currency_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.currency_combo.setToolTip("Amounts of different currencies are never added together")
        self.currency_label = QLabel("")
        self.currency_label.setWordWrap(True)
        self.currency_label.setStyleSheet("color: #6b7280")
        self.as_of_label = QLabel("Not loaded yet")
        self.rollup_label = QLabel("")
        self.rollup_label.setStyleSheet("color: #6b7280")
        self.rollup_button = QPushButton("Rebuild rollup")
        self.rollup_button.setToolTip(
            "Rebuild the daily rollup the page reads on big databases (runs in the background)")
        self.banner = Banner()
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
        controls.addStretch()
        controls.addWidget(self.as_of_label)
        status = QHBoxLayout()
        status.addWidget(self.currency_label, 1)
        status.addWidget(self.rollup_label)
        status.addWidget(self.rollup_button)

        # KPI row
        self.kpi_cards = {
            "month": KpiCard("Net revenue this month"),
            "mrr": KpiCard("MRR"),
            "subscribers": KpiCard("Active subscribers"),
            "refund_rate": KpiCard("Refund rate"),
            "arppu": KpiCard("Revenue per paying customer"),
        }
        kpis = QHBoxLayout()
        for card in self.kpi_cards.values():
            kpis.addWidget(card, 1)

        # charts: created once, updated with setData
        self.charts: dict[str, TimeSeriesChart] = {}
        for spec in CHARTS:
            chart = TimeSeriesChart(spec.title, note=spec.note)
            if spec.name == "mrr":
                fmt = money  # plan prices carry no currency: BOOKING_CURRENCY
            elif spec.money:
                fmt = self._money_shown
            else:
                fmt = tokens if spec.name == "tokens" else count
            for series in spec.series:
                chart.add_series(series.key, series.label, color=series.color,
                                 dashed=series.dashed, value_format=fmt,
                                 right_axis=series.right_axis)
            if spec.right_axis_label:
                chart.set_right_axis_label(spec.right_axis_label)
            if spec.clickable:
                chart.period_clicked.connect(self._on_chart_period_clicked)
                chart.plot_widget.setToolTip("Click a period to list its sales and refunds")
            self.charts[spec.name] = chart
        self.top_chart = BarChart("Top 10 content by net revenue in the range",
                                  value_format=self._money_shown)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._chart_tab("revenue"), "Revenue")
        split = self._chart_tab("by_source", "by_type")
        measure_row = QHBoxLayout()
        measure_row.addWidget(QLabel("Show"))
        measure_row.addWidget(self.measure_combo)
        measure_row.addStretch()
        split.layout().insertLayout(0, measure_row)
        self.tabs.addTab(split, "By source and type")
        self.tabs.addTab(self._chart_tab("mrr", "subscribers"), "Subscriptions")
        self.tabs.addTab(self._chart_tab("tokens"), "Tokens")
        self.tabs.addTab(self._chart_tab("top_content"), "Top content")

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(status)
        layout.addWidget(self.banner)
        layout.addLayout(kpis)
        layout.addWidget(self.tabs, 1)
        self._sync_date_edits_enabled()
        self._connect_signals()

    def _chart_tab(self, *names: str) -> QWidget:
        tab = QWidget()
        grid = QGridLayout()
        for row, name in enumerate(names):
            chart = self.top_chart if name == "top_content" else self.charts[name]
            csv_button = QPushButton("Export CSV…")
            png_button = QPushButton("Export PNG…")
            csv_button.clicked.connect(lambda _=False, n=name: self._on_export_clicked(n, "csv"))
            png_button.clicked.connect(lambda _=False, n=name: self._on_export_clicked(n, "png"))
            buttons = QVBoxLayout()
            buttons.addWidget(csv_button)
            buttons.addWidget(png_button)
            buttons.addStretch()
            grid.addWidget(chart, row, 0)
            grid.addLayout(buttons, row, 1)
        outer = QVBoxLayout(tab)
        outer.addLayout(grid, 1)
        return tab

    def _connect_signals(self) -> None:
        self.range_combo.currentIndexChanged.connect(self._on_range_combo_changed)
        self.granularity_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.measure_combo.currentIndexChanged.connect(lambda _i: self._show_split_charts())
        self.currency_combo.activated.connect(self._on_currency_combo_activated)
        self.start_edit.dateChanged.connect(self._on_date_edit_changed)
        self.end_edit.dateChanged.connect(self._on_date_edit_changed)
        self._custom_timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.rollup_button.clicked.connect(self.refresh_rollup)

    # -- public API -----------------------------------------------------------------------------

    @property
    def snapshot(self) -> RevenueSnapshot | None:
        """The snapshot on screen."""
        return self._snapshot

    @property
    def is_loading(self) -> bool:
        return self._in_flight is not None

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
        self.measure_combo.setCurrentIndex(self.measure_combo.findData(measure))

    def refresh(self) -> None:
        """Load the figures for the current controls (the latest request wins)."""
        self._loaded_once = True
        self._generation += 1
        if self._in_flight is not None:
            self._pending = True
            return
        self._start_load()

    def refresh_rollup(self) -> None:
        """Rebuild the rollup in the background, then reload."""
        if self._rollup_refreshing:
            return
        self._rollup_refreshing = True
        self.rollup_button.setEnabled(False)
        self.rollup_label.setText("Rebuilding the rollup…")
        self._db.read(_refresh_rollup, on_success=self._on_rollup_refreshed,
                      on_failure=self._on_rollup_refresh_failed, context=self)

    def export_csv(self, chart_name: str, path: str | Path) -> None:
        """Write the data behind ``chart_name`` (one of CHART_NAMES) as CSV."""
        snap = self._require_snapshot()
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = safe_csv_writer(f)
            cur = self.currency
            figures = snap.by_currency.get(cur)
            if chart_name == "top_content":
                writer.writerow(("rank", "content_id", "title", "content_type", "gross",
                                 "refunds", "net", "sales", "refunds_count", "currency"))
                top = figures.top_content if figures is not None else snap.top_content
                for i, t in enumerate(top, 1):
                    writer.writerow((i, t.content_id, t.title, t.content_type, t.gross,
                                     t.refunds, t.net, t.sales, t.refund_count, cur.upper()))
                return
            spec = self._spec(chart_name)
            writer.writerows(series_csv_rows(self._tables(snap)[spec.table]))

    def export_png(self, chart_name: str, path: str | Path) -> None:
        """Save ``chart_name`` as a PNG image."""
        chart = self.top_chart if chart_name == "top_content" else self.charts.get(chart_name)
        if chart is None:
            raise ValueError(f"unknown chart {chart_name!r}")
        if not chart.export_png(str(path)):
            raise OSError(f"could not write {path}")

    def open_period(self, period: dt.datetime) -> PeriodEventsDialog:
        """List the sales and refunds behind ``period`` (a period start on screen)."""
        snap = self._require_snapshot()
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

    def _current_request(self) -> _Request:
        preset = self.preset
        if preset == CUSTOM:
            start, end = self.start_edit.date().toPython(), self.end_edit.date().toPython()
            if start > end:
                start, end = end, start
            return _Request(self._generation, None, start, end, self.granularity)
        return _Request(self._generation, preset, None, None, self.granularity)

    def _start_load(self) -> None:
        request = self._current_request()
        self._in_flight = request
        self._pending = False
        self.refresh_button.setEnabled(False)
        self.as_of_label.setText("Loading…")
        allow_raw = self._raw_allowed or not self._auto_refresh_rollup
        self._db.read(
            lambda s: _load(s, request.preset, request.start, request.end, request.granularity,
                            allow_raw),
            on_success=lambda snap: self._on_load_finished(request, snap, None),
            on_failure=lambda exc: self._on_load_finished(request, None, exc),
            context=self,
        )

    def _on_load_finished(self, request: _Request,
                          snap: RevenueSnapshot | _RollupMissing | None,
                          exc: BaseException | None) -> None:
        self._in_flight = None
        self.refresh_button.setEnabled(True)
        if self._pending or request.generation != self._generation:
            self._start_load()  # something changed meanwhile: this answer is stale
            return
        if isinstance(snap, _RollupMissing):
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

    def _on_rollup_refreshed(self, done: bool) -> None:
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
        self.rollup_label.setText(f"Rebuilding the rollup failed: {exc}")

    # -- showing --------------------------------------------------------------------------------

    def _money_shown(self, value: float) -> str:
        return money(value, self.currency)

    def _tables(self, snap: RevenueSnapshot) -> dict[str, SeriesTable]:
        """The snapshot's tables, the money ones in the currency shown."""
        tables = snap.tables()
        figures = snap.by_currency.get(self.currency)
        if figures is not None:
            tables.update(revenue=figures.revenue, by_source=figures.by_source,
                          by_type=figures.by_type)
        return tables

    def _show_snapshot(self, snap: RevenueSnapshot) -> None:
        self._snapshot = snap
        xs = [wall_clock_epoch(p) for p in snap.periods]
        partial = self._partial_text(snap)
        for chart in self.charts.values():
            chart.set_date_format(DATE_FORMATS[snap.granularity])
            chart.set_partial_from(xs[-1] if partial and xs else None, partial or "so far")
        self._show_currencies(snap)
        tables = self._tables(snap)
        for spec in CHARTS:
            if spec.name in ("by_source", "by_type"):
                continue
            table = tables[spec.table]
            chart = self.charts[spec.name]
            for series in spec.series:
                chart.set_series(series.key, xs,
                                 [float(v) for v in table.values(series.column)])
            chart.auto_range()
        self._show_split_charts()
        figures = snap.by_currency.get(self.currency)
        top = figures.top_content if figures is not None else snap.top_content
        self.top_chart.set_bars([t.title for t in top], [float(t.net) for t in top])
        self._show_kpis(snap)
        self._show_status(snap)
        if self.preset != CUSTOM:  # show the dates the preset stands for
            for edit, day in ((self.start_edit, snap.start), (self.end_edit, snap.end)):
                edit.blockSignals(True)
                edit.setDate(QDate(day.year, day.month, day.day))
                edit.blockSignals(False)

    def _show_split_charts(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        measure = self.measure_combo.currentData()
        xs = [wall_clock_epoch(p) for p in snap.periods]
        for name in ("by_source", "by_type"):
            spec = self._spec(name)
            table: SeriesTable = self._tables(snap)[spec.table]
            chart = self.charts[name]
            for series in spec.series:
                full = series.column.format(m=measure)
                values = table.values(full) if full in table.columns else [0] * len(xs)
                chart.set_series(series.key, xs, [float(v) for v in values])
            chart.set_title(f"{MEASURES[measure]} revenue by "
                            + ("source" if name == "by_source" else "content type"))
            chart.auto_range()

    @staticmethod
    def _partial_text(snap: RevenueSnapshot) -> str:
        """'December so far' when the last period is still running (the range ends today),
        else ''."""
        if not snap.periods or snap.end != snap.as_of_local.date():
            return ""
        last = snap.periods[-1]
        label = {"day": "today", "week": f"the week of {last:%Y-%m-%d}",
                 "month": f"{last:%B}"}[snap.granularity]
        return f"{label} so far"

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

    def _show_kpis(self, snap: RevenueSnapshot) -> None:
        cur = self.currency
        figures = snap.by_currency.get(cur)
        k = figures.kpis if figures is not None else snap.kpis
        today = snap.as_of_local.date()
        last_month = k.arppu_month
        if k.last_month_to_date_net:
            pct = (k.this_month_net - k.last_month_to_date_net) / abs(k.last_month_to_date_net)
            change = f"{pct:+.0%} on the same days of {last_month:%B}"
        else:
            change = f"nothing on the same days of {last_month:%B}"
        self.kpi_cards["month"].show_figure(
            f"Net revenue, {today:%B} so far", money(k.this_month_net, cur),
            f"{change} ({money(k.last_month_to_date_net, cur)}); all of {last_month:%B} "
            f"{money(k.last_month_net, cur)}")
        self.kpi_cards["mrr"].show_figure(
            "MRR", money(k.mrr), "Yearly plans as 1/12, at current prices")
        self.kpi_cards["subscribers"].show_figure(
            "Active subscribers", f"{k.active_subscribers:,}", "Paying subscriptions now")
        self.kpi_cards["refund_rate"].show_figure(
            "Refund rate in the range",
            "—" if k.refund_rate is None else f"{k.refund_rate:.1%}",
            f"Refunds {money(k.range_refunds, cur)} of sales {money(k.range_gross, cur)}")
        self.kpi_cards["arppu"].show_figure(
            f"Revenue per paying customer, {k.arppu_month:%B %Y}",
            "—" if k.arppu is None else money(k.arppu, cur),
            f"{k.paying_customers:,} paying customers")

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

    def _on_export_clicked(self, chart_name: str, kind: str) -> None:
        if self._snapshot is None:
            return
        stamp = self._snapshot.as_of_local.strftime("%Y%m%d-%H%M")
        suggested = f"revenue-{chart_name}-{self.currency}-{stamp}.{kind}"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {chart_name} as {kind.upper()}", suggested,
            "CSV files (*.csv)" if kind == "csv" else "PNG images (*.png)")
        if not path:
            return
        try:
            if kind == "csv":
                self.export_csv(chart_name, path)
            else:
                self.export_png(chart_name, path)
        except OSError as exc:
            show_error(self, "Export failed", f"The file could not be written: {exc}")

    # -- helpers --------------------------------------------------------------------------------

    def _spec(self, name: str) -> ChartSpec:
        for spec in CHARTS:
            if spec.name == name:
                return spec
        raise ValueError(f"unknown chart {name!r}")

    def _require_snapshot(self) -> RevenueSnapshot:
        if self._snapshot is None:
            raise RuntimeError("nothing loaded yet")
        return self._snapshot


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
