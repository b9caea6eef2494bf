"""A period still running is drawn as partial: dotted into it, shaded, said "so far"."""

from __future__ import annotations

import datetime as dt

import numpy as np
from PySide6.QtGui import QImage

from widgets.time_series_chart import TimeSeriesChart, wall_clock_epoch

MONTHS = [dt.date(2025, m, 1) for m in (1, 2, 3, 4)]
XS = [wall_clock_epoch(d) for d in MONTHS]


def test_the_last_period_is_marked_partial_and_reads_so_far(qtbot, tmp_path):
    chart = TimeSeriesChart("Revenue")
    chart.add_series("net", "Net")
    qtbot.addWidget(chart)
    chart.resize(700, 300)
    chart.set_series("net", XS, [100, 120, 110, 3])
    assert chart.tail_data("net")[0].size == 0 and not chart.partial_region.isVisible()
    assert "so far" not in chart.show_values_at(XS[-1])

    chart.set_partial_from(XS[-1], "April so far")
    xs, ys = chart.tail_data("net")
    assert list(xs) == XS[-2:] and list(ys) == [110, 3]  # dotted from March into April
    solid_x, _ = chart._series["net"].curve.getData()
    assert list(solid_x) == XS[:3]
    assert chart.partial_region.isVisible()
    low, high = chart.partial_region.getRegion()
    assert low < XS[-1] < high and low > XS[-2]
    assert chart.show_values_at(XS[-1]).startswith("2025-04-01 (April so far)")
    assert "(April so far)" not in chart.show_values_at(XS[0])
    assert chart.partial_label.text() == "shaded: April so far"
    # The full data is still there for exports and the read-out.
    assert np.array_equal(chart.series_data("net")[1], [100, 120, 110, 3])
    # New data keeps the marking; None clears it.
    chart.set_series("net", XS, [1, 2, 3, 4])
    assert list(chart.tail_data("net")[1]) == [3, 4]
    chart.set_partial_from(None)
    assert chart.tail_data("net")[0].size == 0 and not chart.partial_region.isVisible()
    assert chart.export_png(str(tmp_path / "c.png")) and not QImage(str(tmp_path / "c.png")).isNull()
