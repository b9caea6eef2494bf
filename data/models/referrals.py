"""The referral program of seed 002 §4, keyed by the platform's UUID users."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import ForeignKey, text
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, Timestamp

REFERRAL_STATUSES = ("pending", "qualified", "rewarded")


class ReferralCode(Base):
    __tablename__ = "referral_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    code: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=text("now()"))
    expires_at: Mapped[dt.datetime | None]
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    referrer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    referred_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    referral_code: Mapped[str] = mapped_column(ForeignKey("referral_codes.code"))
    referred_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=text("now()"))
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    reward_claimed: Mapped[bool] = mapped_column(server_default=text("false"))
    reward_claimed_at: Mapped[dt.datetime | None]


class ReferralReward(Base):
    __tablename__ = "referral_rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    description: Mapped[str]
    type: Mapped[str]
    value: Mapped[dict[str, Any]]
    required_referrals: Mapped[int] = mapped_column(server_default=text("1"))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))


class UserReferralReward(Base):
    __tablename__ = "user_referral_rewards"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("referral_rewards.id"))
    claimed_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=text("now()"))
    applied_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
