"""The catalog: ``content``, ``content_series`` and ``video_playback`` (seed 004)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, created_at, updated_at, uuid_pk

CONTENT_TYPES = ("video", "audio", "written")
CONTENT_VISIBILITIES = ("public", "private", "members_only", "purchased_only")
CONTENT_STATUSES = ("draft", "published", "archived")


class ContentSeries(Base):
    __tablename__ = "content_series"
    __table_args__ = (
        Index("idx_series_creator_id", "creator_id"),
        Index("idx_series_slug", "slug"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str | None]
    thumbnail_url: Mapped[str | None]
    price: Mapped[Decimal | None]
    content_order: Mapped[list[Any] | None] = mapped_column(server_default=text("'[]'::jsonb"))
    status: Mapped[str] = mapped_column(String(50), server_default=text("'draft'"))
    published_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None]

    items: Mapped[list[Content]] = relationship(back_populates="series")


class Content(Base):
    __tablename__ = "content"
    __table_args__ = (
        CheckConstraint("content_type IN ('video', 'audio', 'written')", name="content_type"),
        CheckConstraint(
            "visibility IN ('public', 'private', 'members_only', 'purchased_only')",
            name="visibility",
        ),
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
        Index("idx_content_creator_id", "creator_id"),
        Index("idx_content_slug", "slug"),
        Index("idx_content_status", "status"),
        Index("idx_content_published_at", "published_at"),
        Index("idx_content_category", "category"),
        Index("idx_content_series_id", "series_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str | None]
    content_type: Mapped[str] = mapped_column(String(50))
    media_url: Mapped[str | None]
    media_duration_seconds: Mapped[int | None]
    thumbnail_url: Mapped[str | None]
    content_body: Mapped[str | None]
    category: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any] | None] = mapped_column(server_default=text("'[]'::jsonb"))
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content_series.id"))
    visibility: Mapped[str] = mapped_column(String(50), server_default=text("'purchased_only'"))
    price: Mapped[Decimal | None]
    status: Mapped[str] = mapped_column(String(50), server_default=text("'draft'"))
    published_at: Mapped[dt.datetime | None]
    view_count: Mapped[int] = mapped_column(server_default=text("0"))
    purchase_count: Mapped[int] = mapped_column(server_default=text("0"))
    prerequisite_content_ids: Mapped[list[Any] | None] = mapped_column(
        server_default=text("'[]'::jsonb")
    )
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None]

    series: Mapped[ContentSeries | None] = relationship(back_populates="items")


class VideoPlayback(Base):
    __tablename__ = "video_playback"
    __table_args__ = (
        UniqueConstraint("user_id", "content_id"),
        Index("idx_video_playback_user_id", "user_id"),
        Index("idx_video_playback_content_id", "content_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id"))
    position_seconds: Mapped[int] = mapped_column(server_default=text("0"))
    duration_seconds: Mapped[int]
    completed: Mapped[bool] = mapped_column(server_default=text("false"))
    updated_at: Mapped[dt.datetime] = updated_at()
    created_at: Mapped[dt.datetime] = created_at()
