"""The Referral rewards page's charts: referrals per week by state, the top referrers, and
how many referred users went on to pay. Read on a worker when first shown and again when an
announced change touches the referrals; the plots are made once and only updated."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from data.operations import Changes
from data.queries.referrals import ReferralCharts as ChartData
from data.queries.referrals import get_referral_charts
from desktop.database import Database
from desktop.read_failures import report_read_failure
from widgets.latest import LatestRequest
from widgets.time_series_chart import PALETTE, BarChart, TimeSeriesChart, wall_clock_epoch

STATES = ("pending", "qualified", "rewarded", "voided")


def _count(value: float) -> str:
    return f"{value:,.0f}"


class ReferralCharts(QWidget):
    """Three charts over the referrals (see the module)."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._latest = LatestRequest()
        self._loaded = False
        self.data: ChartData | None = None
        self.weekly = TimeSeriesChart("Referrals per week, by state",
                                      note="Voided: recorded by the app; the platform's "
                                           "status is kept as it was.")
        for i, state in enumerate(STATES):
            self.weekly.add_series(state, state.title(), color=PALETTE[i], symbols=True,
                                   value_format=_count)
        self.top = BarChart("Top referrers (referrals made)", value_format=_count)
        self.conversion = BarChart("Referred → paying", value_format=_count)
        self.conversion_note = QLabel("")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        grid = QGridLayout(self)
        grid.addWidget(self.error, 0, 0, 1, 2)
        grid.addWidget(self.weekly, 1, 0, 1, 2)
        grid.addWidget(self.top, 2, 0)
        grid.addWidget(self.conversion, 2, 1)
        grid.addWidget(self.conversion_note, 3, 1)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 2)
        database.changed.connect(self._on_database_changed)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        self._loaded = True
        on_loaded, on_failed = self._latest.wrap(self._on_loaded, self._on_failed)
        self._db.read(get_referral_charts, on_success=on_loaded, on_failure=on_failed,
                      context=self)

    def _on_database_changed(self, changes: Changes) -> None:
        if self._loaded and changes.touches("referrals"):
            self.reload()

    def _on_failed(self, exc: BaseException) -> None:
        self.error.setText(report_read_failure(self._db, "the referral charts", exc))
        self.error.setVisible(True)

    def _on_loaded(self, data: ChartData) -> None:
        self.error.setVisible(False)
        self.data = data
        seen = sorted({w for w, _s, _n in data.weekly})
        # Every week from the first to the last, a week without referrals at zero (a line
        # drawn straight across a gap would show referrals that never happened).
        weeks = [seen[0] + dt.timedelta(weeks=i)
                 for i in range((seen[-1] - seen[0]).days // 7 + 1)] if seen else []
        by = {(w, s): n for w, s, n in data.weekly}
        xs = [wall_clock_epoch(w) for w in weeks]
        for state in STATES:
            self.weekly.set_series(state, xs, [by.get((w, state), 0) for w in weeks])
        self.weekly.auto_range()
        self.top.set_bars([email for email, _n in data.top], [n for _e, n in data.top])
        self.conversion.set_bars(["Referred users", "Paid at least once"],
                                 [data.referred, data.paying])
        share = f"{data.paying / data.referred:.0%}" if data.referred else "—"
        self.conversion_note.setText(f"{data.paying:,} of {data.referred:,} referred users "
                                     f"paid ({share}).")
