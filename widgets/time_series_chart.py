"""Charts for numbers over time (and a ranked bar chart), built on pyqtgraph.

The charts know nothing about where their numbers come from: the owner adds named series
once and then feeds them arrays with :meth:`TimeSeriesChart.set_series`. Curves and plot
widgets are created once and only ever updated (``setData``): creating and destroying many
PlotWidgets has been seen to abort the interpreter (PySide6 6.12 / pyqtgraph 0.14), and
updating is what keeps a chart fast anyway. Downsampling (peak mode) and clip-to-view are on.

Time is given as epoch seconds. The date axis shows them as UTC, so an owner that wants to
show wall-clock times of some time zone (e.g. the platform's calendar days) passes those
wall-clock times encoded as if they were UTC (:func:`wall_clock_epoch`): every day then starts
at a tick, whatever the viewer's own time zone or daylight saving time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPointF, Qt, Signal  # noqa: E402
from PySide6.QtGui import QColor, QFont, QFontMetrics  # noqa: E402
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget  # noqa: E402

__all__ = [
    "BarChart",
    "TimeSeriesChart",
    "epoch_to_wall_clock",
    "wall_clock_epoch",
]

ValueFormat = Callable[[float], str]

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04",
           "#db2777", "#4b5563")


def wall_clock_epoch(moment: dt.datetime | dt.date) -> float:
    """A naive wall-clock time (or a date's midnight) as epoch seconds read as UTC."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day)
    return float(calendar.timegm(moment.timetuple()))


def epoch_to_wall_clock(x: float) -> dt.datetime:
    """The inverse of :func:`wall_clock_epoch` (a naive datetime)."""
    return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=round(x))


def _default_format(value: float) -> str:
    return f"{value:,.2f}"


def _view_point(plot_item, scene_pos: QPointF) -> QPointF | None:
    """Where ``scene_pos`` falls in the plot's data coordinates; None outside the plot."""
    vb = plot_item.getViewBox()
    if not vb.sceneBoundingRect().contains(scene_pos):
        return None
    return vb.mapSceneToView(scene_pos)


def _view_x(plot_item, scene_pos: QPointF) -> float | None:
    point = _view_point(plot_item, scene_pos)
    return None if point is None else float(point.x())


def _view_y(plot_item, scene_pos: QPointF) -> float | None:
    point = _view_point(plot_item, scene_pos)
    return None if point is None else float(point.y())


@dataclass
class _Series:
    label: str
    color: str
    curve: pg.PlotDataItem
    xs: np.ndarray
    ys: np.ndarray
    value_format: ValueFormat
    tail: pg.PlotDataItem
    """The dotted stretch into the partial period (empty when there is none)."""


class TimeSeriesChart(QWidget):
    """Named series over a date axis, with a legend, a crosshair and a hover read-out.

    A period still running (this month, so far) is drawn as partial: after
    :meth:`set_partial_from`, the line into it is dotted, its region shaded, and the header
    and the read-out say "so far", so a month three days old does not read as a plunge.

    Signals:
        period_clicked(float): the user clicked the plot; the x (epoch seconds) of the data
            point nearest to the click.
    """

    period_clicked = Signal(float)

    def __init__(
        self,
        title: str = "",
        *,
        note: str = "",
        date_format: str = "%Y-%m-%d",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._date_format = date_format
        self._series: dict[str, _Series] = {}
        self._xs = np.empty(0)  # union of every series' xs, sorted
        self._hover_plain = ""
        self._right_vb: pg.ViewBox | None = None
        self._partial_x: float | None = None
        self._partial_text = "so far"
        self.title_label = QLabel(f"<b>{html.escape(title)}</b>")
        self.note_label = QLabel(note)
        self.note_label.setObjectName("chartNote")
        self.note_label.setStyleSheet("color: #6b7280")
        self.note_label.setVisible(bool(note))
        self.partial_label = QLabel("")
        self.partial_label.setObjectName("chartPartial")
        self.partial_label.setStyleSheet("color: #6b7280; font-style: italic")
        self.partial_label.setVisible(False)
        self.hover_label = QLabel("")
        self.hover_label.setTextFormat(Qt.TextFormat.RichText)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": self.axis}, background="w")
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setDownsampling(auto=True, mode="peak")
        self.plot_item.setClipToView(True)
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.getAxis("left").enableAutoSIPrefix(False)
        self.plot_item.getAxis("left").setWidth(64)
        self.legend = self.plot_item.addLegend(offset=(8, 8), labelTextColor="#111827",
                                               brush=pg.mkBrush(255, 255, 255, 200))
        self.crosshair = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen("#6b7280", width=1, style=Qt.PenStyle.DashLine))
        self.crosshair.setVisible(False)
        self.plot_item.addItem(self.crosshair, ignoreBounds=True)
        zero = pg.InfiniteLine(pos=0, angle=0, movable=False, pen=pg.mkPen("#9ca3af", width=1))
        self.plot_item.addItem(zero, ignoreBounds=True)
        self.partial_region = pg.LinearRegionItem(
            movable=False, brush=pg.mkBrush(107, 114, 128, 28), pen=pg.mkPen(None))
        self.partial_region.setZValue(-10)
        self.partial_region.setVisible(False)
        self.plot_item.addItem(self.partial_region, ignoreBounds=True)
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_scene_mouse_moved)
        scene.sigMouseClicked.connect(self._on_scene_mouse_clicked)

        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.note_label)
        header.addWidget(self.partial_label)
        header.addStretch()
        header.addWidget(self.hover_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)

    # -- series ---------------------------------------------------------------------------------

    def add_series(
        self,
        name: str,
        label: str,
        *,
        color: str | None = None,
        dashed: bool = False,
        width: float = 2.0,
        value_format: ValueFormat = _default_format,
        symbols: bool = False,
        right_axis: bool = False,
    ) -> None:
        """Create the curve of series ``name`` (once); it starts empty.

        ``right_axis`` puts it on a second y axis on the right, for a series of another
        scale (e.g. a count next to a total).
        """
        if name in self._series:
            raise ValueError(f"series {name!r} exists already")
        color = color or PALETTE[len(self._series) % len(PALETTE)]
        pen = pg.mkPen(color, width=width,
                       style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        symbol = {"symbol": "o", "symbolSize": 5, "symbolBrush": color, "symbolPen": None} \
            if symbols else {}
        tail = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=width,
                                                    style=Qt.PenStyle.DotLine), **symbol)
        if right_axis:
            curve = pg.PlotDataItem([], [], pen=pen, **symbol)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self._right_view().addItem(curve)
            self._right_view().addItem(tail)
            self.legend.addItem(curve, label)
        else:
            curve = self.plot_item.plot([], [], name=label, pen=pen, **symbol)
            self.plot_item.getViewBox().addItem(tail)  # not a listed data item: no legend
        self._series[name] = _Series(label, color, curve, np.empty(0), np.empty(0), value_format,
                                     tail)

    def set_right_axis_label(self, text: str) -> None:
        self._right_view()
        self.plot_item.getAxis("right").setLabel(text)

    def _right_view(self) -> pg.ViewBox:
        """The second view box (and right axis), created on first use and then kept."""
        if self._right_vb is None:
            vb = pg.ViewBox()
            self._right_vb = vb
            self.plot_item.showAxis("right")
            axis = self.plot_item.getAxis("right")
            axis.enableAutoSIPrefix(False)
            axis.setWidth(48)
            self.plot_item.scene().addItem(vb)
            axis.linkToView(vb)
            vb.setXLink(self.plot_item)
            main = self.plot_item.getViewBox()

            def follow() -> None:
                vb.setGeometry(main.sceneBoundingRect())
                vb.linkedViewChanged(main, vb.XAxis)

            main.sigResized.connect(follow)
            follow()
        return self._right_vb

    @property
    def series_names(self) -> tuple[str, ...]:
        return tuple(self._series)

    def set_series(self, name: str, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Replace the points of series ``name`` (x: epoch seconds, ascending)."""
        s = self._series[name]
        s.xs = np.asarray(xs, dtype=float)
        s.ys = np.asarray(ys, dtype=float)
        if s.xs.shape != s.ys.shape:
            raise ValueError("xs and ys differ in length")
        self._draw(s)
        self._xs = np.unique(np.concatenate([v.xs for v in self._series.values()]))
        self._place_partial_region()
        self._clear_hover()

    def _draw(self, s: _Series) -> None:
        """Solid up to the last complete point; dotted from there into the partial period."""
        cut = s.xs.size if self._partial_x is None else \
            int(np.searchsorted(s.xs, self._partial_x))
        if cut >= s.xs.size:
            s.curve.setData(s.xs, s.ys)
            s.tail.setData([], [])
            return
        s.curve.setData(s.xs[:cut], s.ys[:cut])
        start = max(cut - 1, 0)
        s.tail.setData(s.xs[start:], s.ys[start:])

    def set_partial_from(self, x: float | None, text: str = "so far") -> None:
        """Mark the period starting at ``x`` (and any after it) as still running; None: every
        period is complete. ``text`` is what the header and the read-out call it."""
        self._partial_x = x
        self._partial_text = text
        for s in self._series.values():
            self._draw(s)
        self.partial_label.setText(f"shaded: {text}" if x is not None else "")
        self.partial_label.setVisible(x is not None)
        self._place_partial_region()

    @property
    def partial_from(self) -> float | None:
        """Where the partial period starts (epoch seconds), or None."""
        return self._partial_x

    def is_partial(self, x: float) -> bool:
        return self._partial_x is not None and x >= self._partial_x

    def tail_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The dotted stretch of series ``name`` (empty when nothing is partial)."""
        xs, ys = self._series[name].tail.getData()
        return (np.empty(0) if xs is None else xs), (np.empty(0) if ys is None else ys)

    def _place_partial_region(self) -> None:
        x = self._partial_x
        if x is None or self._xs.size == 0 or self._xs[-1] < x:
            self.partial_region.setVisible(False)
            return
        before = self._xs[self._xs < x]
        step = (x - before[-1]) if before.size else 86400.0
        self.partial_region.setRegion((x - step / 2, self._xs[-1] + step / 2))
        self.partial_region.setVisible(True)

    def series_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        s = self._series[name]
        return s.xs, s.ys

    def set_series_visible(self, name: str, visible: bool) -> None:
        self._series[name].curve.setVisible(visible)

    def set_series_label(self, name: str, label: str) -> None:
        s = self._series[name]
        s.label = label
        for sample, text_item in self.legend.items:
            if sample.item is s.curve:
                text_item.setText(label)

    def set_date_format(self, date_format: str) -> None:
        """How the read-out shows a point's time (``strftime``), e.g. ``"%B %Y"``."""
        self._date_format = date_format

    def set_title(self, title: str) -> None:
        self.title_label.setText(f"<b>{html.escape(title)}</b>")

    def set_note(self, note: str) -> None:
        self.note_label.setText(note)
        self.note_label.setVisible(bool(note))

    def auto_range(self) -> None:
        self.plot_item.enableAutoRange()
        if self._right_vb is not None:
            self._right_vb.enableAutoRange(axis=pg.ViewBox.YAxis)

    # -- read-out -------------------------------------------------------------------------------

    def nearest_x(self, x: float) -> float | None:
        """The data x closest to ``x``, or None when the chart is empty."""
        if self._xs.size == 0:
            return None
        i = int(np.searchsorted(self._xs, x))
        candidates = [j for j in (i - 1, i) if 0 <= j < self._xs.size]
        best = min(candidates, key=lambda j: abs(self._xs[j] - x))
        return float(self._xs[best])

    def values_at(self, x: float) -> tuple[float | None, dict[str, float | None]]:
        """(snapped x, {series name: its value there or None}) for the point nearest ``x``."""
        snapped = self.nearest_x(x)
        values: dict[str, float | None] = {}
        for name, s in self._series.items():
            value = None
            if snapped is not None and s.xs.size and s.curve.isVisible():
                hits = np.nonzero(s.xs == snapped)[0]
                if hits.size:
                    value = float(s.ys[hits[0]])
            values[name] = value
        return snapped, values

    def show_values_at(self, x: float) -> str:
        """Move the crosshair to the point nearest ``x`` and show its values; returns the
        read-out as plain text."""
        snapped, values = self.values_at(x)
        if snapped is None:
            self._clear_hover()
            return ""
        self.crosshair.setPos(snapped)
        self.crosshair.setVisible(True)
        when = epoch_to_wall_clock(snapped).strftime(self._date_format)
        if self.is_partial(snapped):
            when += f" ({self._partial_text})"
        plain, rich = [when], [f"<b>{when}</b>"]
        for name, value in values.items():
            if value is None:
                continue
            s = self._series[name]
            shown = s.value_format(value)
            plain.append(f"{s.label}: {shown}")
            rich.append(f"<span style='color:{s.color}'>■</span> {html.escape(s.label)}: "
                        f"{html.escape(shown)}")
        self.hover_label.setText("&nbsp;&nbsp;".join(rich))
        self._hover_plain = "  ".join(plain)
        return self._hover_plain

    def _clear_hover(self) -> None:
        self.crosshair.setVisible(False)
        self.hover_label.setText("")
        self._hover_plain = ""

    def hover_text(self) -> str:
        """What the read-out shows now, as plain text."""
        return self._hover_plain

    def export_png(self, path: str) -> bool:
        """Save the chart (title, legend and plot) as a PNG image; True on success."""
        return self.grab().save(str(path), "PNG")

    # -- mouse ----------------------------------------------------------------------------------

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        x = _view_x(self.plot_item, scene_pos)
        if x is None:
            self._clear_hover()
            return
        self.show_values_at(x)

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x = _view_x(self.plot_item, event.scenePos())
        if x is None:
            return
        snapped = self.nearest_x(x)
        if snapped is not None:
            self.period_clicked.emit(snapped)


class BarChart(QWidget):
    """Ranked horizontal bars with their labels (e.g. the ten best-selling items).

    One bar item is created once and updated with ``setOpts``.

    Signals:
        bar_clicked(int): the index of the bar the user clicked.
    """

    bar_clicked = Signal(int)

    def __init__(
        self,
        title: str = "",
        *,
        value_format: ValueFormat = _default_format,
        color: str = PALETTE[0],
        negative_color: str = PALETTE[1],
        label_width: int = 240,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._value_format = value_format
        self._color = QColor(color)
        self._negative_color = QColor(negative_color)
        self._labels: list[str] = []
        self._values = np.empty(0)
        self.title_label = QLabel(f"<b>{html.escape(title)}</b>")
        self.hover_label = QLabel("")
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setMenuEnabled(False)
        self.plot_item.showGrid(x=True, alpha=0.15)
        self.plot_item.getViewBox().invertY(True)
        self.plot_item.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot_item.getAxis("bottom").enableAutoSIPrefix(False)
        left = self.plot_item.getAxis("left")
        left.setWidth(label_width)
        tick_font = QFont(self.font().family(), 9)
        left.setStyle(tickFont=tick_font)
        # The axis drops a label wider than itself: elide to fit instead.
        self._label_metrics = QFontMetrics(tick_font)
        self._label_room = label_width - 16
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[],
                                    pen=pg.mkPen(None))
        self.plot_item.addItem(self.bars)
        self._value_texts: list[pg.TextItem] = []
        self.plot_widget.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addStretch()
        header.addWidget(self.hover_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)

    def set_bars(self, labels: Sequence[str], values: Sequence[float]) -> None:
        """Show ``values`` as bars, first at the top, labelled on the left."""
        if len(labels) != len(values):
            raise ValueError("labels and values differ in length")
        self._labels = list(labels)
        self._values = np.asarray(values, dtype=float)
        ys = np.arange(len(self._values), dtype=float)
        x0 = np.minimum(self._values, 0)
        widths = np.abs(self._values)
        brushes = [pg.mkBrush(self._negative_color if v < 0 else self._color)
                   for v in self._values]
        self.bars.setOpts(x0=x0, y=ys, width=widths, height=0.7, brushes=brushes)
        ticks = [(float(i), self._label_metrics.elidedText(
            label, Qt.TextElideMode.ElideRight, self._label_room))
            for i, label in enumerate(self._labels)]
        self.plot_item.getAxis("left").setTicks([ticks, []])
        # value labels at the end of each bar: reuse the text items, create only missing ones
        while len(self._value_texts) < len(self._values):
            item = pg.TextItem(color="#111827", anchor=(0, 0.5))
            self.plot_item.addItem(item)
            self._value_texts.append(item)
        for i, item in enumerate(self._value_texts):
            if i < len(self._values):
                item.setText(self._value_format(self._values[i]))
                item.setPos(max(float(self._values[i]), 0.0), float(i))
                item.setVisible(True)
            else:
                item.setVisible(False)
        if len(self._values):
            hi = max(float(self._values.max()), 0.0)
            lo = min(float(self._values.min()), 0.0)
            span = (hi - lo) or 1.0
            self.plot_item.setXRange(lo, hi + 0.25 * span, padding=0)
            self.plot_item.setYRange(-0.6, len(self._values) - 0.4, padding=0)
        self.hover_label.setText("")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._labels)

    @property
    def values(self) -> tuple[float, ...]:
        return tuple(float(v) for v in self._values)

    def bar_at(self, y: float) -> int | None:
        i = int(round(y))
        return i if 0 <= i < len(self._labels) else None

    def export_png(self, path: str) -> bool:
        return self.grab().save(str(path), "PNG")

    def _on_scene_mouse_moved(self, scene_pos: QPointF) -> None:
        y = _view_y(self.plot_item, scene_pos)
        i = None if y is None else self.bar_at(y)
        self.hover_label.setText(
            "" if i is None else f"{self._labels[i]}: {self._value_format(self._values[i])}")

    def _on_scene_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        y = _view_y(self.plot_item, event.scenePos())
        i = None if y is None else self.bar_at(y)
        if i is not None:
            self.bar_clicked.emit(i)
