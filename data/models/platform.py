"""Platform-wide tables: ``platform_settings``, ``email_logs``, ``notifications``, ``events``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import Base, created_at, updated_at, uuid_pk

EMAIL_STATUSES = ("pending", "sent", "delivered", "bounced", "failed")


class PlatformSettings(Base):
    """A single row of platform configuration (branding, featured content, time zone)."""

    __tablename__ = "platform_settings"

    id: Mapped[uuid.UUID] = uuid_pk()
    platform_name: Mapped[str] = mapped_column(String(255), server_default=text("'My Platform'"))
    logo_url: Mapped[str | None]
    primary_color: Mapped[str] = mapped_column(String(7), server_default=text("'#3b82f6'"))
    hero_title: Mapped[str | None] = mapped_column(String(500))
    hero_subtitle: Mapped[str | None]
    hero_background_url: Mapped[str | None]
    hero_cta_text: Mapped[str | None] = mapped_column(String(100))
    hero_cta_link: Mapped[str | None] = mapped_column(String(500))
    featured_content_ids: Mapped[list[Any] | None] = mapped_column(
        server_default=text("'[]'::jsonb")
    )
    contact_email: Mapped[str | None] = mapped_column(String(255))
    social_links: Mapped[dict[str, Any] | None] = mapped_column(
        server_default=text("'{}'::jsonb")
    )
    about_content: Mapped[str | None]
    stripe_account_id: Mapped[str | None] = mapped_column(String(255))
    email_from_name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(50), server_default=text("'UTC'"))
    updated_at: Mapped[dt.datetime] = updated_at()
    created_at: Mapped[dt.datetime] = created_at()


class EmailLog(Base):
    __tablename__ = "email_logs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sent', 'delivered', 'bounced', 'failed')", name="status"
        ),
        Index("idx_email_logs_user_id", "user_id"),
        Index("idx_email_logs_email_type", "email_type"),
        Index("idx_email_logs_status", "status"),
        Index("idx_email_logs_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    recipient_email: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    email_type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(50), server_default=text("'pending'"))
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("idx_notifications_user_id", "user_id"),
        Index("idx_notifications_read_at", "read_at"),
        Index("idx_notifications_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    type: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    message: Mapped[str]
    action_url: Mapped[str | None]
    action_label: Mapped[str | None] = mapped_column(String(100))
    read_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("idx_events_user_id", "user_id"),
        Index("idx_events_type", "event_type"),
        Index("idx_events_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    session_id: Mapped[str | None] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    event_data: Mapped[dict[str, Any] | None] = mapped_column(server_default=text("'{}'::jsonb"))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None]
    referrer: Mapped[str | None]
    created_at: Mapped[dt.datetime] = created_at()
