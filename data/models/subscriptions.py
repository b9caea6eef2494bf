"""Recurring plans: ``subscription_tiers`` and ``subscriptions`` (seed 004, phase 2)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, created_at, updated_at, uuid_pk
from data.models.users import User

SUBSCRIPTION_STATUSES = ("active", "past_due", "canceled", "trialing")
BILLING_PERIODS = ("monthly", "yearly")


class SubscriptionTier(Base):
    __tablename__ = "subscription_tiers"
    __table_args__ = (Index("idx_subscription_tiers_active", "active"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    price_monthly: Mapped[Decimal | None]
    price_yearly: Mapped[Decimal | None]
    category_access: Mapped[list[Any] | None] = mapped_column(server_default=text("'[]'::jsonb"))
    full_catalog_access: Mapped[bool] = mapped_column(server_default=text("false"))
    offering_access_rules: Mapped[list[Any] | None] = mapped_column(
        server_default=text("'[]'::jsonb")
    )
    monthly_credits: Mapped[int] = mapped_column(server_default=text("0"))
    credit_rollover: Mapped[bool] = mapped_column(server_default=text("false"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="tier")


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("billing_period IN ('monthly', 'yearly')", name="billing_period"),
        CheckConstraint(
            "status IN ('active', 'past_due', 'canceled', 'trialing')", name="status"
        ),
        Index("idx_subscriptions_customer_id", "customer_id"),
        Index("idx_subscriptions_status", "status"),
        Index("idx_subscriptions_stripe_subscription_id", "stripe_subscription_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    tier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscription_tiers.id"))
    stripe_subscription_id: Mapped[str] = mapped_column(String(255), unique=True)
    billing_period: Mapped[str] = mapped_column(String(20))
    current_period_start: Mapped[dt.datetime]
    current_period_end: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(50))
    cancel_at_period_end: Mapped[bool] = mapped_column(server_default=text("false"))
    trial_end: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    canceled_at: Mapped[dt.datetime | None]

    customer: Mapped[User] = relationship(back_populates="subscriptions")
    tier: Mapped[SubscriptionTier] = relationship(back_populates="subscriptions")
