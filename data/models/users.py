"""``users``: every account, of every role (seed 004), with the referral columns of seed 002 §4."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, created_at, updated_at, uuid_pk

if TYPE_CHECKING:
    from data.models.commerce import ContentAccess, Purchase
    from data.models.credits import CreditBalance
    from data.models.subscriptions import Subscription

USER_ROLES = ("platform_creator", "platform_owner", "media_owner", "customer")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('platform_creator', 'platform_owner', 'media_owner', 'customer')",
            name="role",
        ),
        Index("idx_users_email", "email"),
        Index("idx_users_role", "role"),
        Index("idx_users_deleted_at", "deleted_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(50))

    profile_image_url: Mapped[str | None]
    bio: Mapped[str | None]

    email_verified_at: Mapped[dt.datetime | None]
    email_verification_token: Mapped[str | None] = mapped_column(String(255))
    email_verification_expires_at: Mapped[dt.datetime | None]

    password_reset_token: Mapped[str | None] = mapped_column(String(255))
    password_reset_expires_at: Mapped[dt.datetime | None]

    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    stripe_connect_account_id: Mapped[str | None] = mapped_column(String(255))

    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None]

    # Referral program (seed 002 §4), keyed by the platform's UUID users.
    referral_count: Mapped[int | None] = mapped_column(server_default=text("0"))
    was_referred: Mapped[bool | None] = mapped_column(server_default=text("false"))
    referred_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    purchases: Mapped[list[Purchase]] = relationship(back_populates="customer")
    content_access: Mapped[list[ContentAccess]] = relationship(back_populates="user")
    subscriptions: Mapped[list[Subscription]] = relationship(back_populates="customer")
    credit_balance: Mapped[CreditBalance | None] = relationship(back_populates="customer")
