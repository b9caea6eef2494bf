"""Events, programs, sessions and retreats: ``offerings`` and what hangs off them (seed 004)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import Base, Money, Timestamp, created_at, updated_at, uuid_pk

OFFERING_TYPES = (
    "one_time_event",
    "multi_day_program",
    "recurring_fixed",
    "recurring_bookable",
    "cohort_course",
    "retreat",
)
CAPACITY_TYPES = ("one_on_one", "small_group", "large_group", "unlimited")
DELIVERY_METHODS = ("online", "in_person", "hybrid", "self_guided")
BOOKING_PAYMENT_METHODS = ("purchase", "subscription", "credits")
BOOKING_STATUSES = ("confirmed", "canceled", "completed", "no_show")


class Offering(Base):
    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(
            "offering_type IN ('one_time_event', 'multi_day_program', 'recurring_fixed', "
            "'recurring_bookable', 'cohort_course', 'retreat')",
            name="offering_type",
        ),
        CheckConstraint(
            "capacity_type IN ('one_on_one', 'small_group', 'large_group', 'unlimited')",
            name="capacity_type",
        ),
        CheckConstraint(
            "delivery_method IN ('online', 'in_person', 'hybrid', 'self_guided')",
            name="delivery_method",
        ),
        Index("idx_offerings_creator_id", "creator_id"),
        Index("idx_offerings_slug", "slug"),
        Index("idx_offerings_type", "offering_type"),
        Index("idx_offerings_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(500), unique=True)
    description: Mapped[str | None]
    offering_type: Mapped[str] = mapped_column(String(50))
    capacity_type: Mapped[str] = mapped_column(String(50))
    max_participants: Mapped[int | None]
    delivery_method: Mapped[str] = mapped_column(String(50))
    location_details: Mapped[str | None]
    video_conference_provider: Mapped[str | None] = mapped_column(String(50))
    schedule: Mapped[dict[str, Any]]
    price: Mapped[Decimal | None]
    credit_cost: Mapped[int | None]
    payment_options: Mapped[dict[str, Any] | None] = mapped_column(
        server_default=text("'{}'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(50), server_default=text("'draft'"))
    published_at: Mapped[dt.datetime | None]
    registration_deadline: Mapped[dt.datetime | None]
    portal_config: Mapped[dict[str, Any] | None] = mapped_column(
        server_default=text("'{}'::jsonb")
    )
    booking_count: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()
    deleted_at: Mapped[dt.datetime | None]

    bookings: Mapped[list[OfferingBooking]] = relationship(back_populates="offering")


class OfferingBooking(Base):
    __tablename__ = "offering_bookings"
    __table_args__ = (
        CheckConstraint(
            "payment_method IN ('purchase', 'subscription', 'credits')", name="payment_method"
        ),
        CheckConstraint(
            "status IN ('confirmed', 'canceled', 'completed', 'no_show')", name="status"
        ),
        Index("idx_offering_bookings_customer_id", "customer_id"),
        Index("idx_offering_bookings_offering_id", "offering_id"),
        Index("idx_offering_bookings_status", "status"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id"))
    payment_method: Mapped[str] = mapped_column(String(50))
    amount_paid: Mapped[Decimal | None] = mapped_column(Money, server_default=text("0"))
    credits_used: Mapped[int | None] = mapped_column(server_default=text("0"))
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    booking_details: Mapped[dict[str, Any] | None] = mapped_column(
        server_default=text("'{}'::jsonb")
    )
    status: Mapped[str] = mapped_column(String(50), server_default=text("'confirmed'"))
    canceled_at: Mapped[dt.datetime | None]
    cancellation_reason: Mapped[str | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()

    offering: Mapped[Offering] = relationship(back_populates="bookings")


class OfferingPortalAccess(Base):
    __tablename__ = "offering_portal_access"
    __table_args__ = (
        Index("idx_offering_portal_access_user_id", "user_id"),
        Index("idx_offering_portal_access_offering_id", "offering_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("offering_bookings.id"), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(Timestamp, server_default=text("now()"))
    expires_at: Mapped[dt.datetime | None]
    last_accessed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


class OfferingResource(Base):
    __tablename__ = "offering_resources"
    __table_args__ = (
        CheckConstraint(
            "resource_type IN ('content', 'file', 'link', 'text')", name="resource_type"
        ),
        CheckConstraint(
            "available_when IN ('before', 'during', 'after', 'always')", name="available_when"
        ),
        Index("idx_offering_resources_offering_id", "offering_id"),
        Index("idx_offering_resources_display_order", "display_order"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    offering_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("offerings.id"))
    resource_type: Mapped[str] = mapped_column(String(50))
    content_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("content.id"))
    file_url: Mapped[str | None]
    link_url: Mapped[str | None]
    text_content: Mapped[str | None]
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None]
    available_when: Mapped[str] = mapped_column(String(50), server_default=text("'during'"))
    unlock_at: Mapped[dt.datetime | None]
    display_order: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[dt.datetime] = created_at()
    updated_at: Mapped[dt.datetime] = updated_at()


__all__ = [
    "Offering",
    "OfferingBooking",
    "OfferingPortalAccess",
    "OfferingResource",
]
