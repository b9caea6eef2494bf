"""The Revenue page: what it shows, range and granularity switching, period drill-down,
exports, and the rollup it keeps. SQL on the GUI thread fails every test (conftest)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import text

from data.db import make_session_factory
from data.queries import revenue as revenue_queries
from data.queries.revenue import rollup_state
from data.queries.revenue import snapshot as revenue_snapshot
from desktop.pages.revenue import CHART_NAMES, RevenuePage
from tests.data.test_revenue_queries import TZ, build_fixture
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


def _built(qtbot, page, tz: str) -> revenue_queries.RevenueSnapshot:
    """The snapshot on screen once the page has built the rollup for ``tz`` and read it."""
    def read_from_rollup():
        snap = page.snapshot
        return (snap is not None and snap.used_rollup and snap.rollup_timezone == tz
                and not snap.rollup_needs_refresh and not page.is_loading)
    qtbot.waitUntil(read_from_rollup, timeout=30_000)
    return page.snapshot


def _months(qtbot, page):
    page.set_granularity("month")
    return _load(qtbot, page, lambda: page.set_custom_range(dt.date(2025, 1, 1),
                                                            dt.date(2025, 3, 31)))


def test_first_show_loads_the_default_view(qtbot, page):
    with qtbot.waitSignal(page.snapshot_loaded, timeout=20_000) as blocker:
        page.show()
    snap = blocker.args[0]
    assert snap.preset == "12m" and snap.granularity == "week"
    assert page.minimumSizeHint().width() <= 1200  # its long lines wrap on a laptop screen
    assert "America/New_York" in page.as_of_label.text()
    assert page.rollup_label.text().startswith("Read from the tables")
    assert page.kpi_cards["mrr"].value.text() == "28.33 USD"
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
    assert text == "February 2025  Gross: 24.99 USD  Refunds: 79.99 USD  Net: -55.00 USD"
    assert "refunded_at" in chart.note_label.text()


def test_switching_range_and_granularity_100_times(qtbot, page):
    snap = _months(qtbot, page)
    QApplication.processEvents()
    # The page's own widgets: widgets earlier tests left for the garbage collector may be
    # deleted meanwhile, which says nothing about this page.
    widgets = len(page.findChildren(QWidget))
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
    assert len(page.findChildren(QWidget)) == widgets
    assert {n: len(c.plot_widget.scene().items()) for n, c in page.charts.items()} == items


def test_clicking_a_period_lists_its_sales_and_refunds(qtbot, qtmodeltester, page):
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
    assert dialog.model.data(dialog.model.index(0, 6)) == "-9.99 USD"
    qtmodeltester.check(dialog.model)
    widgets = len(page.findChildren(QWidget))  # the dialog is the page's: reused, not added
    page.charts["by_type"].period_clicked.emit(wall_clock_epoch(JAN))
    qtbot.waitUntil(lambda: dialog.model.row_count_loaded == 5 and dialog.model.is_exhausted,
                    timeout=10_000)
    assert page._events_dialog is dialog
    assert len(page.findChildren(QWidget)) == widgets
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
    monkeypatch.setattr(rollup_state, "ROLLUP_MIN_PURCHASES", -1)
    # No rollup yet: the page builds it first instead of reading every row.
    events = []
    page.rollup_refreshed.connect(lambda done: events.append(("rollup", done)))
    page.snapshot_loaded.connect(lambda snap: events.append(("snapshot", snap.used_rollup)))
    page.set_granularity("month")
    page.set_custom_range(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    snap = _built(qtbot, page, TZ)
    # Built newest months first; figures may be shown meanwhile (from the tables while the
    # range is older than what is built), and from the rollup once the build reached the
    # range (that reload can come just before or after the build's end: a small data set
    # builds in one go). The last figures are the rollup's, equal to the tables' (below).
    assert ("rollup", True) in events and events[-1] == ("snapshot", True)
    assert snap.used_rollup and not snap.rollup_needs_refresh
    with revenue_queries.snapshot_session(make_session_factory(engine)) as s:
        raw = revenue_queries.load_revenue(s, granularity="month", use_rollup=False,
                                           start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    assert snap.tables() == raw.tables() and snap.kpis == raw.kpis
    assert "daily rollup built" in page.rollup_label.text()
    # A new platform time zone makes the rollup unusable: rebuilt, then read.
    with engine.begin() as conn:
        conn.execute(text("UPDATE platform_settings SET timezone = 'Europe/Paris'"))
    page.refresh()
    snap = _built(qtbot, page, "Europe/Paris")
    assert snap.rollup_timezone == snap.timezone == "Europe/Paris"
    with qtbot.waitSignal(page.rollup_refreshed, timeout=20_000) as refreshed:
        page.rollup_button.click()
    assert refreshed.args == [True]


def test_a_failed_load_says_so_and_the_next_one_recovers(qtbot, page, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(revenue_snapshot, "load_revenue", broken)
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


def test_eur_and_usd_are_shown_apart_main_currency_first(qtbot, page, engine):
    from tests.data.test_revenue_queries import _add_purchase
    fx = type("Fx", (), {})()
    with engine.connect() as conn:
        fx.ids = {"c4": conn.execute(text("SELECT id FROM users WHERE email = 'c4@example.com'"))
                  .scalar(), "v1": conn.execute(text("SELECT id FROM content WHERE slug = 'v1'"))
                  .scalar()}
    _add_purchase(engine, fx, "e1", "v1", Decimal("30.00"), "eur", dt.datetime(2025, 1, 15, 12),
                  customer="c4")
    snap = _months(qtbot, page)
    assert snap.currencies == ("usd", "eur")
    combo = [page.currency_combo.itemText(i) for i in range(page.currency_combo.count())]
    assert combo == ["USD (main)", "EUR"]
    label = page.currency_label.text()
    assert "never added together" in label and "94.99 USD" in label and "30.00 EUR" in label
    # USD's chart is USD only: January's 149.99, not 179.99.
    assert page.charts["revenue"].series_data("gross")[1][0] == 149.99
    page.currency_combo.setCurrentIndex(1)
    page.currency_combo.activated.emit(1)
    assert page.currency == "eur"
    assert list(page.charts["revenue"].series_data("gross")[1]) == [30.0, 0.0, 0.0]
    assert page.top_chart.labels == ("Item v1",) and page.top_chart.values == (30.0,)
    assert page.kpi_cards["refund_rate"].detail.text() == "Refunds 0.00 EUR of sales 30.00 EUR"
    assert "EUR" in page.charts["revenue"].show_values_at(wall_clock_epoch(JAN))


def test_on_the_first_of_a_month_the_kpi_says_so_far_and_the_last_period_is_partial(
        qtbot, page):
    import dataclasses

    snap = _load(qtbot, page, lambda: page.set_range_preset("90d"))
    # A fixed "today": the 1st of December at 09:30, with 12.00 sold so far, and 240.00 on
    # the same days (the 1st) of November.
    first = dt.datetime(2026, 12, 1, 9, 30)
    kpis = dataclasses.replace(snap.kpis, this_month_net=Decimal("12.00"),
                               last_month_to_date_net=Decimal("240.00"),
                               last_month_net=Decimal("900.00"),
                               arppu_month=dt.date(2026, 11, 1))
    months = tuple(dt.datetime(2026, m, 1) for m in (10, 11, 12))
    table = revenue_queries.SeriesTable("revenue", ("gross", "refunds", "net"), tuple(
        (p, Decimal(v), Decimal(0), Decimal(v)) for p, v in zip(months, ("800", "900", "12"), strict=True)))
    empty = {name: revenue_queries.SeriesTable(name, (), tuple((p,) for p in months))
             for name in ("by_source", "by_type")}
    figures = dataclasses.replace(snap.by_currency[snap.currency], kpis=kpis, revenue=table,
                                  **empty)
    fixed = dataclasses.replace(
        snap, as_of_local=first, end=first.date(), granularity="month", kpis=kpis,
        revenue=table, by_currency={snap.currency: figures},
        subscriptions=revenue_queries.SeriesTable(
            "subscriptions", ("mrr", "active_subscribers", "churned"),
            tuple((p, Decimal(0), 0, 0) for p in months)),
        tokens=revenue_queries.SeriesTable(
            "tokens", ("granted", "spent", "expired", "net_change"),
            tuple((p, 0, 0, 0, 0) for p in months)),
        **empty)
    page._show_snapshot(fixed)
    card = page.kpi_cards["month"]
    assert card.caption.text() == "Net revenue, December so far"
    assert card.value.text() == "12.00 USD"
    assert "-95% on the same days of November" in card.detail.text()
    assert "-100%" not in card.detail.text()
    chart = page.charts["revenue"]
    assert chart.partial_from == wall_clock_epoch(months[-1])
    assert list(chart.tail_data("gross")[0]) == [wall_clock_epoch(m) for m in months[1:]]
    assert chart.partial_label.text() == "shaded: December so far"
    assert "(December so far)" in chart.show_values_at(wall_clock_epoch(months[-1]))


def test_a_range_ending_before_today_has_no_partial_period(qtbot, page):
    _months(qtbot, page)  # January to March 2025, long past
    assert page.charts["revenue"].partial_from is None
    assert not page.charts["revenue"].partial_region.isVisible()


def test_a_cold_build_shows_the_newest_months_while_the_rest_builds(qtbot, demo_database,
                                                                    monkeypatch):
    """No rollup on a big database: the page builds it newest months first, saying how far
    it got, and ends on the whole twelve months from the rollup."""
    monkeypatch.setattr(rollup_state, "ROLLUP_MIN_PURCHASES", -1)
    page = RevenuePage(demo_database)
    qtbot.addWidget(page)
    seen, progress = [], []
    page.snapshot_loaded.connect(lambda snap: seen.append((snap.start, snap.used_rollup)))
    original = page._on_rollup_progress

    def spy(done, total, text=""):
        original(done, total, text)
        progress.append(page.rollup_label.text())

    monkeypatch.setattr(page, "_on_rollup_progress", spy)
    with qtbot.waitSignal(page.rollup_refreshed, timeout=60_000) as built:
        page.show()
    assert built.args == [True]
    loaded = len(seen)
    qtbot.waitUntil(lambda: len(seen) > loaded, timeout=20_000)  # reloaded once built
    assert any("newest months first" in text and "of" in text for text in progress)
    snap = page._snapshot
    assert snap.used_rollup and "being built" not in snap.rollup_note
    assert snap.start <= dt.date.today() - dt.timedelta(days=360)  # the whole twelve months
