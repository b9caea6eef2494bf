"""The Revenue page: what it shows, range and granularity switching, period drill-down,
exports, and the rollup it keeps. SQL on the GUI thread fails every test (conftest)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from data.db import make_session_factory
from data.queries import revenue as revenue_queries
from desktop.pages import revenue as revenue_page
from desktop.pages.revenue import CHART_NAMES, RevenuePage
from tests.data.test_revenue_queries import build_fixture
from widgets.time_series_chart import wall_clock_epoch

JAN, FEB, MAR = (dt.datetime(2025, m, 1) for m in (1, 2, 3))


@pytest.fixture
def page(qtbot, empty_database, engine):
    build_fixture(engine)
    p = RevenuePage(empty_database)
    qtbot.addWidget(p)
    p.resize(1300, 850)
    return p


def _load(qtbot, page, action) -> revenue_queries.RevenueSnapshot:
    with qtbot.waitSignal(page.snapshot_loaded, timeout=20_000) as blocker:
        action()
    return blocker.args[0]


def _months(qtbot, page):
    page.set_granularity("month")
    return _load(qtbot, page, lambda: page.set_custom_range(dt.date(2025, 1, 1),
                                                            dt.date(2025, 3, 31)))


def test_first_show_loads_the_default_view(qtbot, page):
    with qtbot.waitSignal(page.snapshot_loaded, timeout=20_000) as blocker:
        page.show()
    snap = blocker.args[0]
    assert snap.preset == "12m" and snap.granularity == "week"
    assert "America/New_York" in page.as_of_label.text()
    assert page.rollup_label.text().startswith("Read from the tables")
    assert page.kpi_cards["mrr"].value.text() == "28.33"
    assert page.kpi_cards["subscribers"].value.text() == "3"


def test_charts_and_kpis_show_the_snapshot(qtbot, page):
    snap = _months(qtbot, page)
    assert [p for p in snap.periods] == [JAN, FEB, MAR]
    xs = [wall_clock_epoch(p) for p in (JAN, FEB, MAR)]
    chart = page.charts["revenue"]
    assert list(chart.series_data("gross")[0]) == xs
    assert list(chart.series_data("gross")[1]) == [149.99, 24.99, 0.0]
    assert list(chart.series_data("refunds")[1]) == [0.0, 79.99, 0.0]
    assert list(chart.series_data("net")[1]) == [149.99, -55.0, 0.0]
    assert list(page.charts["mrr"].series_data("mrr")[1]) == [35.0, 20.0, 28.33]
    assert list(page.charts["subscribers"].series_data("churned")[1]) == [0, 1, 0]
    assert list(page.charts["tokens"].series_data("expired")[1]) == [3, 0, 0]
    assert page.charts["by_source"].series_data("content")[1].tolist() == [49.99, -5.0, 0.0]
    page.set_measure("refunds")
    assert page.charts["by_source"].series_data("content")[1].tolist() == [0.0, 29.99, 0.0]
    assert page.charts["by_source"].series_data("offering")[1].tolist() == [0.0, 50.0, 0.0]
    assert page.charts["by_type"].series_data("audio")[1].tolist() == [0.0, 9.99, 0.0]
    assert "Refunds revenue by source" in page.charts["by_source"].title_label.text()
    assert page.top_chart.labels == ("Item v1", "Item w1", "Item a1")
    assert page.top_chart.values == (40.0, 4.99, 0.0)
    assert page.kpi_cards["refund_rate"].value.text() == "45.7%"  # 79.99 / 174.98
    text = chart.show_values_at(xs[1] + 86_400 * 3)
    assert text == "February 2025  Gross: 24.99  Refunds: 79.99  Net: -55.00"
    assert "refunded_at" in chart.note_label.text()


def test_switching_range_and_granularity_100_times(qtbot, page):
    snap = _months(qtbot, page)
    QApplication.processEvents()
    widgets = len(QApplication.allWidgets())
    items = {name: len(c.plot_widget.scene().items()) for name, c in page.charts.items()}
    presets = ("30d", "90d", "12m", "all")
    grains = ("day", "week", "month")
    for i in range(100):
        if i % 2:
            page.set_granularity(grains[i % 3])
        else:
            page.set_range_preset(presets[i % 4])
        if i % 7 == 0:  # let some loads finish in between
            qtbot.waitUntil(lambda: not page.is_loading, timeout=20_000)
    qtbot.waitUntil(lambda: not page.is_loading and page.snapshot is not snap
                    and page.snapshot.preset == page.preset
                    and page.snapshot.granularity == page.granularity, timeout=20_000)
    QApplication.processEvents()
    assert (page.preset, page.granularity) == ("12m", "day")  # set at i = 98 and i = 99
    assert len(page.snapshot.periods) in (365, 366)
    assert len(QApplication.allWidgets()) == widgets
    assert {n: len(c.plot_widget.scene().items()) for n, c in page.charts.items()} == items


def test_clicking_a_period_lists_its_sales_and_refunds(qtbot, page):
    _months(qtbot, page)
    page.charts["revenue"].period_clicked.emit(wall_clock_epoch(FEB))
    dialog = page._events_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.model.row_count_loaded == 5 and dialog.model.is_exhausted,
                    timeout=10_000)
    rows = [dialog.model.row_at(i) for i in range(5)]
    assert [(r.event, r.title) for r in rows] == [
        ("refund", "Item a1"), ("refund", "Spring retreat"), ("sale", "Item w1"),
        ("sale", "Item v1"), ("refund", "Item v1")]
    assert "2025-02-01 to 2025-02-28" in dialog.heading.text()
    assert "gross 24.99" in dialog.heading.text()
    assert dialog.model.data(dialog.model.index(0, 6)) == "-9.99"
    widgets = len(QApplication.allWidgets())
    page.charts["by_type"].period_clicked.emit(wall_clock_epoch(JAN))
    qtbot.waitUntil(lambda: dialog.model.row_count_loaded == 5 and dialog.model.is_exhausted,
                    timeout=10_000)
    assert page._events_dialog is dialog
    assert len(QApplication.allWidgets()) == widgets
    dialog.close()


def test_exports_csv_and_png_for_every_chart(qtbot, page, tmp_path):
    snap = _months(qtbot, page)
    for name in CHART_NAMES:
        page.export_csv(name, tmp_path / f"{name}.csv")
        page.export_png(name, tmp_path / f"{name}.png")
        assert not QImage(str(tmp_path / f"{name}.png")).isNull()
    with open(tmp_path / "revenue.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["period_start", "gross", "refunds", "net"],
                    ["2025-01-01", "149.99", "0.00", "149.99"],
                    ["2025-02-01", "24.99", "79.99", "-55.00"],
                    ["2025-03-01", "0.00", "0.00", "0.00"]]
    with open(tmp_path / "subscribers.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["period_start", "mrr", "active_subscribers", "churned"]
    assert rows[2] == ["2025-02-01", "20.00", "2", "1"]
    with open(tmp_path / "top_content.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1][2:7] == ["Item v1", "video", "60.00", "20.00", "40.00"]
    assert Decimal(rows[1][6]) == snap.top_content[0].net
    with pytest.raises(ValueError):
        page.export_png("pie", tmp_path / "pie.png")


def test_big_database_reads_a_rollup_the_page_builds(qtbot, page, engine, monkeypatch):
    monkeypatch.setattr(revenue_queries, "ROLLUP_MIN_PURCHASES", -1)
    # No rollup yet: the page builds it first instead of reading every row.
    events = []
    page.rollup_refreshed.connect(lambda done: events.append(("rollup", done)))
    page.snapshot_loaded.connect(lambda snap: events.append(("snapshot", snap.used_rollup)))
    snap = _months(qtbot, page)
    assert events == [("rollup", True), ("snapshot", True)]
    assert snap.used_rollup and not snap.rollup_needs_refresh
    with revenue_queries.snapshot_session(make_session_factory(engine)) as s:
        raw = revenue_queries.load_revenue(s, granularity="month", use_rollup=False,
                                           start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    assert snap.tables() == raw.tables() and snap.kpis == raw.kpis
    assert "daily rollup built" in page.rollup_label.text()
    # A new platform time zone makes the rollup unusable: rebuilt, then read.
    with engine.begin() as conn:
        conn.execute(text("UPDATE platform_settings SET timezone = 'Europe/Paris'"))
    with qtbot.waitSignal(page.rollup_refreshed, timeout=20_000):
        snap = _load(qtbot, page, page.refresh)
    assert snap.used_rollup and snap.rollup_timezone == snap.timezone == "Europe/Paris"
    with qtbot.waitSignal(page.rollup_refreshed, timeout=20_000) as refreshed:
        page.rollup_button.click()
    assert refreshed.args == [True]


def test_a_failed_load_says_so_and_the_next_one_recovers(qtbot, page, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(revenue_page, "load_revenue", broken)
    with qtbot.waitSignal(page.load_failed, timeout=20_000):
        page.refresh()
    assert page.banner.isVisibleTo(page) and "on fire" in page.banner.text()
    monkeypatch.undo()
    _load(qtbot, page, page.refresh)
    assert not page.banner.isVisibleTo(page)


def test_demo_data_page_renders(qtbot, demo_database, tmp_path):
    p = RevenuePage(demo_database)
    qtbot.addWidget(p)
    p.resize(1300, 850)
    with qtbot.waitSignal(p.snapshot_loaded, timeout=30_000) as blocker:
        p.show()
    snap = blocker.args[0]
    assert snap.timezone == "America/New_York"
    assert sum(snap.revenue.values("net")) == snap.kpis.range_net
    assert snap.kpis.range_gross > 0 and snap.kpis.mrr > 0 and len(snap.top_content) == 10
    p.grab().save(str(tmp_path / "page.png"))
