"""The Revenue page's daily rollup (migrations 0016, 0018): derived tables in ``admin``, kept by
``admin.refresh_revenue_rollup()`` (see :mod:`data.services.revenue_rollup`) and read by
:mod:`data.queries.revenue`. Nobody writes them but that function."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, Integer, Numeric, Text, text
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import APP_SCHEMA, Base


class RevenueRollupInfo(Base):
    """The rollup's one row: when it was refreshed, for which time zone, up to which local
    day (exclusive), and from where the next refresh looks for changes."""

    __tablename__ = "revenue_rollup_info"
    __table_args__ = (CheckConstraint("id = 1", name="revenue_rollup_info_id_check"),
                      {"schema": APP_SCHEMA})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default=text("1"),
                                    autoincrement=False)
    refreshed_at: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True))
    timezone: Mapped[str] = mapped_column(Text)
    boundary_day: Mapped[dt.date] = mapped_column(Date)
    watermark: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True))
    built_from: Mapped[dt.date | None] = mapped_column(Date)
    """While built from nothing, newest months first: the first day it holds so far."""
    recent_from: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP(timezone=True))
    """Where :class:`RevenueRollupRecent` begins: the events arriving from then on that the
    rollup counted (migration 0018). None: never built by delta (the next refresh is full)."""
    last_kind: Mapped[str] = mapped_column(Text)
    last_days: Mapped[int] = mapped_column(Integer)


class RevenueDaily(Base):
    __tablename__ = "revenue_daily"
    __table_args__ = {"schema": APP_SCHEMA}

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    gross: Mapped[Decimal] = mapped_column(Numeric)
    refunds: Mapped[Decimal] = mapped_column(Numeric)
    sales: Mapped[int] = mapped_column(BigInteger)
    refund_count: Mapped[int] = mapped_column(BigInteger)


class RevenueDailyContent(Base):
    __tablename__ = "revenue_daily_content"
    __table_args__ = {"schema": APP_SCHEMA}

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    content_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    gross: Mapped[Decimal] = mapped_column(Numeric)
    refunds: Mapped[Decimal] = mapped_column(Numeric)
    sales: Mapped[int] = mapped_column(BigInteger)
    refund_count: Mapped[int] = mapped_column(BigInteger)


class RevenueMonthlyPayers(Base):
    __tablename__ = "revenue_monthly_payers"
    __table_args__ = {"schema": APP_SCHEMA}

    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    payers: Mapped[int] = mapped_column(BigInteger)


class CreditDaily(Base):
    __tablename__ = "credit_daily"
    __table_args__ = {"schema": APP_SCHEMA}

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    granted: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(BigInteger)
    expired: Mapped[int] = mapped_column(BigInteger)
    net_change: Mapped[int] = mapped_column(BigInteger)


class RevenueRollupRecent(Base):
    """Each money event the rollup counted that arrived since the last refresh's watermark,
    with what it added (migration 0018): the next refresh compares the events arriving since
    with these, key by key, and adds or subtracts only the difference."""

    __tablename__ = "revenue_rollup_recent"
    __table_args__ = {"schema": APP_SCHEMA}

    source: Mapped[str] = mapped_column(Text, primary_key=True)
    """``content``, ``offering`` or ``ledger``."""
    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(Text, primary_key=True)
    """``sale``, ``refund`` (the platform's own), ``request`` (the app's refund request,
    keyed by the request) or ``ledger``."""
    arrival: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True))
    day: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[uuid.UUID | None] = mapped_column()
    customer_id: Mapped[uuid.UUID | None] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Numeric)
