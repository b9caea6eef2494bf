"""One-time sales and what they grant: ``purchases`` and ``content_access`` (seed 004)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, Timestamp, created_at, updated_at, uuid_pk
from data.models.users import User

PURCHASE_STATUSES = ("pending", "completed", "refunded", "failed")
ACCESS_TYPES = ("purchased", "subscription", "complimentary", "preview")


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'completed', 'refunded', 'failed')", name="status"
        ),
        UniqueConstraint("customer_id", "content_id", "status"),
        Index("idx_purchases_customer_id", "customer_id"),
        Index("idx_purchases_content_id", "content_id"),
        Index("idx_purchases_status", "status"),
        Index("idx_purchases_created_at", "created_at"),
        Index("idx_purchases_stripe_payment_intent_id", "stripe_payment_intent_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id"))
    amount_paid: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3), server_default=text("'usd'"))
    stripe_payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    platform_fee_amount: Mapped[Decimal] = mapped_column(server_default=text("0"))
    creator_payout_amount: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(50), server_default=text("'pending'"))
    purchased_at: Mapped[dt.datetime | None]
    refunded_at: Mapped[dt.datetime | None]
    refund_reason: Mapped[str | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    customer: Mapped[User] = relationship(back_populates="purchases")


class ContentAccess(Base):
    __tablename__ = "content_access"
    __table_args__ = (
        CheckConstraint(
            "access_type IN ('purchased', 'subscription', 'complimentary', 'preview')",
            name="access_type",
        ),
        UniqueConstraint("user_id", "content_id"),
        Index("idx_content_access_user_id", "user_id"),
        Index("idx_content_access_content_id", "content_id"),
        Index("idx_content_access_expires_at", "expires_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id"))
    access_type: Mapped[str] = mapped_column(String(50))
    granted_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=text("now()"))
    expires_at: Mapped[dt.datetime | None]
    last_accessed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    user: Mapped[User] = relationship(back_populates="content_access")
