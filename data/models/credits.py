"""Tokens (credits): ``credit_balances`` and their ledger ``credit_transactions`` (seed 004)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, created_at, updated_at, uuid_pk
from data.models.users import User

CREDIT_TRANSACTION_TYPES = (
    "earned_subscription",
    "earned_purchase",
    "spent_offering",
    "expired",
    "adjustment",
)


class CreditBalance(Base):
    __tablename__ = "credit_balances"
    __table_args__ = (Index("idx_credit_balances_customer_id", "customer_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    current_balance: Mapped[int] = mapped_column(server_default=text("0"))
    lifetime_earned: Mapped[int] = mapped_column(server_default=text("0"))
    lifetime_spent: Mapped[int] = mapped_column(server_default=text("0"))
    updated_at: Mapped[dt.datetime] = updated_at()
    created_at: Mapped[dt.datetime] = created_at()

    customer: Mapped[User] = relationship(back_populates="credit_balance")


class CreditTransaction(Base):
    __tablename__ = "credit_transactions"
    __table_args__ = (
        CheckConstraint(
            "type IN ('earned_subscription', 'earned_purchase', 'spent_offering', "
            "'expired', 'adjustment')",
            name="type",
        ),
        Index("idx_credit_transactions_customer_id", "customer_id"),
        Index("idx_credit_transactions_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(50))
    amount: Mapped[int]
    balance_after: Mapped[int]
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("subscriptions.id"))
    offering_booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("offering_bookings.id")
    )
    description: Mapped[str | None]
    expires_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()
