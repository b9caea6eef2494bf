"""The Revenue page's figures on screen: the KPI row and the chart tabs, for one snapshot.

:class:`SnapshotView` turns a :class:`~data.queries.revenue.RevenueSnapshot` into curves,
bars and KPI cards, in the currency it is told to show; it reads nothing from the database.
The charts are described once (:data:`CHARTS`), created once and updated with ``setData``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from data.csv_safety import safe_csv_writer
from data.models.content import CONTENT_TYPES
from data.queries.revenue import BOOKING_CURRENCY, RevenueSnapshot, SeriesTable, series_csv_rows
from desktop.formatting import format_money, format_tokens
from widgets.dialogs import show_error
from widgets.kpi_card import KpiCard
from widgets.time_series_chart import BarChart, TimeSeriesChart, wall_clock_epoch

DATE_FORMATS = {"day": "%a %Y-%m-%d", "week": "week of %Y-%m-%d", "month": "%B %Y"}
MEASURES = {"net": "Net", "gross": "Gross", "refunds": "Refunds"}
REFUND_NOTE = "Refunds count in the period they happened (refunded_at), not the sale's."

MONEY_COLORS = {"gross": "#2563eb", "refunds": "#dc2626", "net": "#16a34a"}
TYPE_COLORS = {"video": "#2563eb", "audio": "#9333ea", "written": "#ea580c"}


def money(value: float | Decimal, currency: str = BOOKING_CURRENCY) -> str:
    """Money as everywhere in the app (``1,234.00 USD``); chart values arrive as floats."""
    amount = value if isinstance(value, Decimal) else Decimal(f"{value:.2f}")
    return format_money(amount, currency)


def count(value: float | int) -> str:
    """A count as a chart shows it: a whole number with thousands separators."""
    return f"{value:,.0f}"


def tokens(value: float | int) -> str:
    """Tokens as a chart shows them (chart values arrive as floats)."""
    return format_tokens(round(value))


@dataclass(frozen=True)
class SeriesSpec:
    """One curve of a chart."""

    column: str
    """The snapshot table's column; ``{m}`` stands for the measure shown (net, gross...)."""
    label: str
    color: str
    dashed: bool = False
    right_axis: bool = False

    @property
    def key(self) -> str:
        """The series' name in its chart (the column without the measure)."""
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


def chart_spec(name: str) -> ChartSpec:
    """The chart called ``name``; ValueError for an unknown one."""
    for spec in CHARTS:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown chart {name!r}")


def tables_in(snap: RevenueSnapshot, currency: str) -> dict[str, SeriesTable]:
    """The snapshot's tables, the money ones in ``currency``."""
    tables = snap.tables()
    figures = snap.by_currency.get(currency)
    if figures is not None:
        tables.update(revenue=figures.revenue, by_source=figures.by_source,
                      by_type=figures.by_type)
    return tables


def partial_period_text(snap: RevenueSnapshot) -> str:
    """'December so far' when the last period is still running (the range ends today),
    else ''."""
    if not snap.periods or snap.end != snap.as_of_local.date():
        return ""
    last = snap.periods[-1]
    label = {"day": "today", "week": f"the week of {last:%Y-%m-%d}",
             "month": f"{last:%B}"}[snap.granularity]
    return f"{label} so far"


class SnapshotView(QWidget):
    """The KPI row above the chart tabs, showing one snapshot in one currency.

    Each chart's export buttons ask for a file and write what the chart shows.

    Signals:
        period_clicked(float): a clickable chart was clicked; the period's x (epoch seconds).
    """

    period_clicked = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._snapshot: RevenueSnapshot | None = None
        self._currency = BOOKING_CURRENCY
        self.measure_combo = QComboBox()
        for key, label in MEASURES.items():
            self.measure_combo.addItem(label, key)

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
                chart.period_clicked.connect(self.period_clicked)
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
        layout.setContentsMargins(0, 0, 0, 0)  # laid out as if part of the page's own layout
        layout.addLayout(kpis)
        layout.addWidget(self.tabs, 1)
        self.measure_combo.currentIndexChanged.connect(lambda _i: self._show_split_charts())

    def _chart_tab(self, *names: str) -> QWidget:
        tab = QWidget()
        grid = QGridLayout()
        for row, name in enumerate(names):
            chart = self.chart(name)
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

    def chart(self, name: str) -> TimeSeriesChart | BarChart:
        """The chart called ``name`` (one of :data:`CHART_NAMES`); ValueError otherwise."""
        chart = self.top_chart if name == "top_content" else self.charts.get(name)
        if chart is None:
            raise ValueError(f"unknown chart {name!r}")
        return chart

    def set_measure(self, measure: str) -> None:
        """Show ``measure`` (a key of :data:`MEASURES`) in the by-source and by-type charts."""
        self.measure_combo.setCurrentIndex(self.measure_combo.findData(measure))

    def show_snapshot(self, snap: RevenueSnapshot, currency: str) -> None:
        """Draw ``snap`` with its money in ``currency`` (one of its currencies)."""
        self._snapshot, self._currency = snap, currency
        xs = [wall_clock_epoch(p) for p in snap.periods]
        partial = partial_period_text(snap)
        for chart in self.charts.values():
            chart.set_date_format(DATE_FORMATS[snap.granularity])
            chart.set_partial_from(xs[-1] if partial and xs else None, partial or "so far")
        tables = tables_in(snap, currency)
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
        figures = snap.by_currency.get(currency)
        top = figures.top_content if figures is not None else snap.top_content
        self.top_chart.set_bars([t.title for t in top], [float(t.net) for t in top])
        self._show_kpis(snap)

    def export_csv(self, chart_name: str, path: str | Path) -> None:
        """Write the data behind ``chart_name`` (one of CHART_NAMES) as CSV, in the currency
        shown; RuntimeError before a snapshot is shown."""
        if self._snapshot is None:
            raise RuntimeError("nothing loaded yet")
        snap = self._snapshot
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = safe_csv_writer(f)
            cur = self._currency
            figures = snap.by_currency.get(cur)
            if chart_name == "top_content":
                writer.writerow(("rank", "content_id", "title", "content_type", "gross",
                                 "refunds", "net", "sales", "refunds_count", "currency"))
                top = figures.top_content if figures is not None else snap.top_content
                for i, t in enumerate(top, 1):
                    writer.writerow((i, t.content_id, t.title, t.content_type, t.gross,
                                     t.refunds, t.net, t.sales, t.refund_count, cur.upper()))
                return
            spec = chart_spec(chart_name)
            writer.writerows(series_csv_rows(tables_in(snap, cur)[spec.table]))

    def export_png(self, chart_name: str, path: str | Path) -> None:
        """Save ``chart_name`` as a PNG image; OSError when it cannot be written."""
        if not self.chart(chart_name).export_png(str(path)):
            raise OSError(f"could not write {path}")

    def _on_export_clicked(self, chart_name: str, kind: str) -> None:
        if self._snapshot is None:
            return
        stamp = self._snapshot.as_of_local.strftime("%Y%m%d-%H%M")
        suggested = f"revenue-{chart_name}-{self._currency}-{stamp}.{kind}"
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

    def _money_shown(self, value: float) -> str:
        return money(value, self._currency)

    def _show_split_charts(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        measure = self.measure_combo.currentData()
        xs = [wall_clock_epoch(p) for p in snap.periods]
        for name in ("by_source", "by_type"):
            spec = chart_spec(name)
            table: SeriesTable = tables_in(snap, self._currency)[spec.table]
            chart = self.charts[name]
            for series in spec.series:
                full = series.column.format(m=measure)
                values = table.values(full) if full in table.columns else [0] * len(xs)
                chart.set_series(series.key, xs, [float(v) for v in values])
            chart.set_title(f"{MEASURES[measure]} revenue by "
                            + ("source" if name == "by_source" else "content type"))
            chart.auto_range()

    def _show_kpis(self, snap: RevenueSnapshot) -> None:
        cur = self._currency
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
            "MRR", money(k.mrr), "Yearly plans as 1/12, each at the price in force when its "
            "period began" + (f"; {k.mrr_at_current_price:,} at today's price (their period "
                              "began before the price history)" if k.mrr_at_current_price
                              else ""))
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
