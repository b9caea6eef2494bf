"""TimeSeriesChart and BarChart: data in, read-out, clicks, PNG export, and no growth."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from widgets.time_series_chart import (
    BarChart,
    TimeSeriesChart,
    epoch_to_wall_clock,
    wall_clock_epoch,
)

DAYS = [dt.date(2025, 3, d) for d in range(1, 11)]
XS = [wall_clock_epoch(d) for d in DAYS]


@pytest.fixture
def chart(qtbot):
    c = TimeSeriesChart("Revenue", note="Refunds count when they happen")
    c.add_series("gross", "Gross", value_format=lambda v: f"${v:,.2f}")
    c.add_series("net", "Net", dashed=True)
    qtbot.addWidget(c)
    c.resize(800, 400)
    c.show()
    qtbot.waitExposed(c)
    return c


def _widget_pos(chart: TimeSeriesChart, x: float, y: float):
    scene = chart.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    return chart.plot_widget.mapFromScene(scene)


def test_wall_clock_epoch_round_trips_and_ignores_the_viewers_zone():
    moment = dt.datetime(2025, 3, 30, 2, 30)  # a time that does not exist in much of Europe
    assert epoch_to_wall_clock(wall_clock_epoch(moment)) == moment
    assert wall_clock_epoch(dt.date(1970, 1, 2)) == 86_400.0


def test_series_are_created_once_and_updated(chart):
    assert chart.series_names == ("gross", "net")
    chart.set_series("gross", XS, range(10))
    chart.set_series("net", XS, [v - 1 for v in range(10)])
    xs, ys = chart.series_data("gross")
    assert list(xs) == XS and list(ys) == list(range(10))
    assert len(chart.plot_item.listDataItems()) == 2
    assert chart.legend.items[0][1].text == "Gross"
    with pytest.raises(ValueError):
        chart.add_series("gross", "again")
    with pytest.raises(ValueError):
        chart.set_series("gross", XS, [1, 2])


def test_downsampling_and_clip_to_view_are_on(chart):
    for curve in chart.plot_item.listDataItems():
        assert curve.opts["autoDownsample"] is True
        assert curve.opts["downsampleMethod"] == "peak"
        assert curve.opts["clipToView"] is True


def test_read_out_snaps_to_the_nearest_period(chart):
    chart.set_series("gross", XS, [10.0 * i for i in range(10)])
    chart.set_series("net", XS, [5.0 * i for i in range(10)])
    snapped, values = chart.values_at(XS[3] + 3_600 * 5)  # 05:00 on day 4
    assert snapped == XS[3]
    assert values == {"gross": 30.0, "net": 15.0}
    text = chart.show_values_at(XS[3] + 3_600 * 20)  # 20:00 on day 4 -> day 5
    assert text == "2025-03-05  Gross: $40.00  Net: 20.00"
    assert chart.hover_text() == text
    assert chart.crosshair.isVisible() and chart.crosshair.value() == XS[4]
    chart.set_series_visible("net", False)
    assert "Net" not in chart.show_values_at(XS[0])


def test_mouse_hover_and_click_report_the_period(chart, qtbot):
    chart.set_series("gross", XS, [10.0 * i for i in range(10)])
    chart.set_series("net", XS, [5.0 * i for i in range(10)])
    chart.auto_range()
    QApplication.processEvents()
    pos = _widget_pos(chart, XS[6] + 3_600, 30.0)
    qtbot.mouseMove(chart.plot_widget.viewport(), pos)
    qtbot.waitUntil(lambda: chart.hover_text().startswith("2025-03-07"))
    with qtbot.waitSignal(chart.period_clicked, timeout=2_000) as blocker:
        qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [XS[6]]


def test_a_series_on_the_right_axis(qtbot):
    c = TimeSeriesChart("Subscribers")
    qtbot.addWidget(c)
    c.add_series("active", "Active")
    c.add_series("churned", "Churned", right_axis=True, dashed=True,
                 value_format=lambda v: f"{v:.0f}")
    c.set_right_axis_label("churned")
    c.resize(600, 300)
    c.show()
    c.set_series("active", XS, [1000.0 + i for i in range(10)])
    c.set_series("churned", XS, [float(i % 3) for i in range(10)])
    c.auto_range()
    QApplication.processEvents()
    right = c.plot_item.getAxis("right")
    assert right.isVisible() and right.linkedView() is c._right_vb
    assert c._right_vb.viewRange()[1][1] < 10 < c.plot_item.getViewBox().viewRange()[1][0]
    assert [label.text for _sample, label in c.legend.items] == ["Active", "Churned"]
    assert c.show_values_at(XS[2]) == "2025-03-03  Active: 1,002.00  Churned: 2"
    curve = c._series["churned"].curve
    assert curve.opts["autoDownsample"] and curve.opts["clipToView"]


def test_empty_chart_has_no_read_out(chart):
    assert chart.values_at(XS[0]) == (None, {"gross": None, "net": None})
    assert chart.show_values_at(XS[0]) == ""
    assert not chart.crosshair.isVisible()


def test_export_png(chart, tmp_path):
    chart.set_series("gross", XS, range(10))
    path = tmp_path / "chart.png"
    assert chart.export_png(str(path))
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == chart.width() and image.height() == chart.height()


def test_many_updates_create_no_widgets_or_items(chart):
    chart.set_series("gross", XS, range(10))
    QApplication.processEvents()
    widgets = len(QApplication.allWidgets())
    items = len(chart.plot_widget.scene().items())
    for n in range(100):
        days = 5 + n % 20
        xs = [wall_clock_epoch(dt.date(2025, 1, 1) + dt.timedelta(days=i)) for i in range(days)]
        chart.set_series("gross", xs, [float(i * n) for i in range(days)])
        chart.set_series("net", xs, [float(-i) for i in range(days)])
        chart.show_values_at(xs[-1])
        QApplication.processEvents()
    assert len(QApplication.allWidgets()) == widgets
    assert len(chart.plot_widget.scene().items()) == items


def test_bar_chart_ranks_labels_and_reuses_its_items(qtbot, tmp_path):
    bars = BarChart("Top content", value_format=lambda v: f"${v:,.0f}")
    qtbot.addWidget(bars)
    bars.resize(700, 400)
    bars.show()
    bars.set_bars(["Morning flow", "Body scan", "A title " * 10], [120.0, 40.0, -5.0])
    assert bars.labels == ("Morning flow", "Body scan", "A title " * 10)
    assert bars.values == (120.0, 40.0, -5.0)
    assert list(bars.bars.opts["x0"]) == [0.0, 0.0, -5.0]
    assert list(bars.bars.opts["width"]) == [120.0, 40.0, 5.0]
    ticks = bars.plot_item.getAxis("left")._tickLevels[0]
    assert ticks[0] == (0.0, "Morning flow") and ticks[2][1].endswith("…")
    items = len(bars.plot_widget.scene().items())
    for n in range(50):
        bars.set_bars([f"item {i}" for i in range(n % 4)], [float(i) for i in range(n % 4)])
    bars.set_bars(["a", "b", "c"], [3.0, 2.0, 1.0])
    assert len(bars.plot_widget.scene().items()) == items
    assert bars.bar_at(1.2) == 1 and bars.bar_at(7) is None
    assert bars.export_png(str(tmp_path / "bars.png"))
    with pytest.raises(ValueError):
        bars.set_bars(["a"], [])
