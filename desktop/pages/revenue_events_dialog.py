"""The sales and refunds behind one period of a Revenue chart (what a click on it lists)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from data.queries.revenue import RevenueSnapshot, period_bounds, purchases_in_period
from desktop.database import Database
from desktop.formatting import format_money, format_wall_clock
from widgets.lazy_table import Column, LazyTableModel, LazyTableView

EVENT_PAGE_SIZE = 200

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


class PeriodEventsDialog(QDialog):
    """The sales and refunds behind one period, loaded page by page (reused, not recreated).

    The heading repeats the chart's figures for the period, from the snapshot; the list is
    read now, so a change made since shows here first.
    """

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.setWindowTitle("Sales and refunds")
        self.resize(1000, 520)
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.model = LazyTableModel(EVENT_COLUMNS, database.runner, page_size=EVENT_PAGE_SIZE,
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
        """List the events of the period starting at ``period`` (cut where the snapshot's
        range ends), with that period's figures in ``currency`` (default: the main one)."""
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

        def money(column: str) -> str:
            return format_money(row[column] or Decimal(0), cur)

        self.heading.setText(
            f"<b>Sales and refunds, {when}</b> ({tz} time). In the chart (as of "
            f"{snapshot.as_of_local:%Y-%m-%d %H:%M}): gross {money('gross')}, "
            f"refunds {money('refunds')}, net {money('net')}. "
            "The list below is read now; later changes show here first.")
        self.model.set_fetcher(
            self._db.page_fetcher(purchases_in_period, period, g, tz, end=after))
        self.show()
        self.raise_()
