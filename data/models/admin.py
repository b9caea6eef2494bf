"""The app's own tables, in its own schema ``admin``; the platform never writes here."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import Mapped, mapped_column, relationship

from data.models.base import APP_SCHEMA, Base


class AuditRecord(Base):
    """One change made through the app: who (the database user), what, before and after.

    Written by the services in the same transaction as the change it describes, so a change
    without its audit record (or the reverse) cannot exist. The trigger ``audit_log_chain``
    (migration 0009) sets ``actor`` to ``session_user``, ``occurred_at``, the id, and chains
    the row: ``row_hash = sha256(canonical row || prev_hash)``, ``prev_hash`` being the
    previous row's ``row_hash`` (see :mod:`data.audit_chain`). Partitioned by month on
    ``occurred_at`` (migration 0023: ``admin.audit_log_YYYY_MM`` and a default partition).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id", "occurred_at"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
        # The Audit page's filters, each a keyset on id (migration 0015).
        Index("ix_admin_audit_log_actor_id", "actor", "id"),
        Index("ix_admin_audit_log_entity_type_id", "entity_type", "id"),
        Index("ix_admin_audit_log_action_id", "action", "id"),
        Index("ix_admin_audit_log_record_id", "entity_type", "entity_id", "id"),
        # audit verify walks each striped chain in order (migration 0018).
        Index("ix_admin_audit_log_chain_id", "chain", "id"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Part of the key: the table is partitioned by month on it (migration 0023).
    occurred_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()"), primary_key=True
    )
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity_type: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str] = mapped_column(Text)
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    chain: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    row_hash: Mapped[bytes] = mapped_column(LargeBinary)


class AuditChain(Base):
    """One of the audit trail's striped chains: the last id and hash the trigger wrote in it
    (migration 0018). An audit insert locks one chain's row until its transaction commits,
    so writers on different chains do not queue; ``audit verify`` compares each chain's row
    here with the table to catch rows removed at a chain's end."""

    __tablename__ = "audit_chains"
    __table_args__ = (
        CheckConstraint("chain >= 0 AND chain < 16", name="chain"),
        {"schema": APP_SCHEMA},
    )

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(LargeBinary)
    rows_written: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class AuditArchive(Base):
    """A month of the audit trail detached by the retention (migration 0023): the partition,
    renamed ``admin.audit_archive_YYYY_MM``, stays in the database until someone archives and
    drops it; nothing is deleted by the app."""

    __tablename__ = "audit_archives"
    __table_args__ = ({"schema": APP_SCHEMA},)

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    range_from: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True))
    range_to: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=True))
    rows: Mapped[int] = mapped_column(BigInteger)
    detached_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()"))
    detached_by: Mapped[str] = mapped_column(Text, server_default=text("SESSION_USER"))


class AuditArchiveLink(Base):
    """The hash skeleton of the archived rows the remaining chains link to (per chain, the
    last archived row before its first remaining one, and archived rows interleaved with
    remaining ones at a month's boundary), so ``audit verify`` still checks what remains."""

    __tablename__ = "audit_archive_links"
    __table_args__ = ({"schema": APP_SCHEMA},)

    chain: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    row_hash: Mapped[bytes] = mapped_column(LargeBinary)
    archive: Mapped[str] = mapped_column(Text)


class BulkGrant(Base):
    """One bulk grant of tokens: the same amount and reason for a planned set of customers.

    Each customer's grant is a :class:`CreditAdjustment` whose request id is derived from
    (bulk id, customer), so running an interrupted bulk again grants only the rest.
    ``customers_digest`` fingerprints the planned customer list, so a resume cannot quietly
    grant to a different set than the one previewed.
    """

    __tablename__ = "bulk_grants"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("total >= 0", name="total"),
        {"schema": APP_SCHEMA},
    )

    bulk_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    amount: Mapped[int]
    reason: Mapped[str]
    actor: Mapped[str]
    total: Mapped[int]
    customers_digest: Mapped[str]
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP(timezone=True))

    adjustments: Mapped[list[CreditAdjustment]] = relationship(back_populates="bulk")


class CreditAdjustment(Base):
    """A token adjustment made through the app, keyed by the request id its dialog created.

    The primary key makes a request apply once: a double click or a retry finds the row and
    answers the stored result. ``transaction_id`` is the ``credit_transactions`` row it wrote
    (no foreign key: the app adds no triggers or constraints to the platform's tables, and
    must not block the platform from archiving its own ledger).
    """

    __tablename__ = "credit_adjustments"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        Index("ix_credit_adjustments_transaction_id", "transaction_id", unique=True),
        Index("ix_credit_adjustments_bulk_id", "bulk_id"),
        # A bulk reaches each customer once, whatever request ids a caller makes up (0010).
        Index("ix_credit_adjustments_bulk_customer", "bulk_id", "customer_id", unique=True),
        {"schema": APP_SCHEMA},
    )

    request_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    customer_id: Mapped[uuid.UUID]
    amount: Mapped[int]
    reason: Mapped[str]
    actor: Mapped[str]
    bulk_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{APP_SCHEMA}.bulk_grants.bulk_id")
    )
    transaction_id: Mapped[uuid.UUID]
    balance_before: Mapped[int]
    balance_after: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )

    bulk: Mapped[BulkGrant | None] = relationship(back_populates="adjustments")


class RefundRequest(Base):
    """One refund asked of Stripe through the app (migration 0005).

    Written and committed with its ``idempotency_key`` BEFORE Stripe is called, then updated
    with Stripe's answer, so the database can always be brought to agree with Stripe: an open
    request (``requested``/``pending``) is asked about again and finished. Exactly one of
    ``purchase_id``/``booking_id`` is set. The trigger ``refund_requests_within_paid`` (see
    the migration) keeps the sum of requests that have not failed within what was paid.
    """

    __tablename__ = "refund_requests"
    __table_args__ = (
        CheckConstraint("num_nonnulls(purchase_id, booking_id) = 1", name="one_target"),
        CheckConstraint("amount >= 0 AND credits_returned >= 0 "
                        "AND (amount > 0 OR credits_returned > 0)", name="amount"),
        CheckConstraint(
            "reason IN ('requested_by_customer', 'duplicate', 'fraudulent', 'other')",
            name="reason",
        ),
        CheckConstraint("reason <> 'other' OR btrim(coalesce(note, '')) <> ''", name="note"),
        CheckConstraint("status IN ('requested', 'pending', 'succeeded', 'failed')",
                        name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        UniqueConstraint("idempotency_key"),
        UniqueConstraint("stripe_refund_id"),
        Index("ix_refund_requests_open_purchase", "purchase_id", unique=True,
              postgresql_where=text("status IN ('requested', 'pending')")),
        Index("ix_refund_requests_open_booking", "booking_id", unique=True,
              postgresql_where=text("status IN ('requested', 'pending')")),
        Index("ix_refund_requests_purchase_id", "purchase_id"),
        Index("ix_refund_requests_booking_id", "booking_id"),
        Index("ix_refund_requests_created", "created_at", "id"),
        Index("ix_refund_requests_status_created", "status", "created_at", "id"),
        Index("ix_refund_requests_completed", "completed_at",
              postgresql_where=text("status = 'succeeded'")),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    purchase_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchases.id"))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("offering_bookings.id"))
    customer_id: Mapped[uuid.UUID]
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str]
    credits_returned: Mapped[int] = mapped_column(server_default=text("0"))
    full_refund: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    reason: Mapped[str]
    note: Mapped[str | None]
    actor: Mapped[str]
    idempotency_key: Mapped[str]
    stripe_payment_intent_id: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=text("'requested'"))
    stripe_refund_id: Mapped[str | None]
    stripe_status: Mapped[str | None]
    failure_message: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP(timezone=True))


# -- referral program (migration 0014) -------------------------------------------------------

REFERRAL_SIGNALS = ("self_user", "self_email", "self_name", "older_account", "ring", "burst",
                    "never_paid")
"""The fraud signals :mod:`data.services.referral_fraud` looks for, as stored in
``admin.referral_flags.signal``."""


class ReferralVoid(Base):
    """A referral voided by staff (fraud, refund) with the reason: the platform's statuses
    are pending, qualified and rewarded only, so the void lives here and keeps the referral
    out of every threshold."""

    __tablename__ = "referral_voids"
    __table_args__ = ({"schema": APP_SCHEMA},)

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text, server_default=text("session_user"))
    voided_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()"))


class ReferralGrant(Base):
    """A reward granted through the app: at most one per (referrer, reward, threshold),
    enforced by the unique index ``ix_referral_grants_once`` (the platform's
    ``user_referral_rewards`` has no such key, and the app adds no constraint to it)."""

    __tablename__ = "referral_grants"
    __table_args__ = (
        Index("ix_referral_grants_once", "referrer_id", "reward_id", "threshold", unique=True),
        UniqueConstraint("request_id"),
        CheckConstraint("threshold >= 1", name="threshold"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    request_id: Mapped[uuid.UUID]
    referrer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("referral_rewards.id"))
    threshold: Mapped[int]
    user_reward_id: Mapped[int] = mapped_column(ForeignKey("user_referral_rewards.id"))
    referral_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    tokens: Mapped[int | None]
    actor: Mapped[str] = mapped_column(Text, server_default=text("session_user"))
    granted_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()"))


class ReferralFlag(Base):
    """A fraud signal found on a referral, and its review. A referral with an open flag
    (``reviewed_at`` NULL) counts toward no threshold until someone reviews it."""

    __tablename__ = "referral_flags"
    __table_args__ = (
        UniqueConstraint("referral_id", "signal"),
        CheckConstraint("signal IN ('self_user', 'self_email', 'self_name', 'older_account', "
                        "'ring', 'burst', 'never_paid')", name="signal"),
        CheckConstraint("outcome IS NULL OR outcome IN ('cleared', 'voided')", name="outcome"),
        CheckConstraint("(reviewed_at IS NULL) = (outcome IS NULL)", name="reviewed"),
        Index("ix_referral_flags_open", "found_at", "id",
              postgresql_where=text("reviewed_at IS NULL")),
        Index("ix_referral_flags_referral", "referral_id"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    signal: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    found_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)
class TierPrice(Base):
    """One price of a subscription tier while it was in force (migration 0012): the
    platform keeps only the current one. ``amount`` None: the tier had no price for that
    billing period. No foreign key to the platform's table (see the migration)."""

    __tablename__ = "tier_prices"
    __table_args__ = (
        CheckConstraint("billing_period IN ('monthly', 'yearly')", name="billing_period"),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_tier_prices_tier_period_from", "tier_id", "billing_period", "effective_from"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    tier_id: Mapped[uuid.UUID]
    billing_period: Mapped[str]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(server_default=text("'usd'"))
    effective_from: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=False))
    changed_by: Mapped[str] = mapped_column(server_default=text("session_user"))


class SubscriptionRequest(Base):
    """A change staff asked Stripe to make to a subscription (migration 0012), stored
    before the call; its id is the dialog's request id and the call's idempotency key."""

    __tablename__ = "subscription_requests"
    __table_args__ = (
        CheckConstraint("action IN ('cancel_at_period_end', 'resume', 'cancel_now')",
                        name="action"),
        CheckConstraint("status IN ('requested', 'succeeded', 'failed')", name="status"),
        Index("ix_subscription_requests_open", "subscription_id", unique=True,
              postgresql_where=text("status = 'requested'")),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    subscription_id: Mapped[uuid.UUID]
    stripe_subscription_id: Mapped[str]
    action: Mapped[str]
    actor: Mapped[str] = mapped_column(server_default=text("session_user"))
    status: Mapped[str] = mapped_column(server_default=text("'requested'"))
    stripe_status: Mapped[str | None]
    failure_message: Mapped[str | None]
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )
    completed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP(timezone=True))


class PeriodCreditGrant(Base):
    """A subscription's credits for one period granted by hand (migration 0017): the key
    (subscription, period start) makes a period granted once by the app, whatever the clicks,
    retries or staff. ``transaction_id`` is the ``earned_subscription`` ledger row written."""

    __tablename__ = "period_credit_grants"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_period_credit_grants_request_id", "request_id", unique=True),
        Index("ix_period_credit_grants_transaction_id", "transaction_id", unique=True),
        {"schema": APP_SCHEMA},
    )

    subscription_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    period_start: Mapped[dt.datetime] = mapped_column(TIMESTAMP(timezone=False),
                                                      primary_key=True)
    request_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    amount: Mapped[int]
    transaction_id: Mapped[uuid.UUID]
    balance_before: Mapped[int]
    balance_after: Mapped[int]
    actor: Mapped[str] = mapped_column(server_default=text("session_user"))
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )


class BookingCreditMove(Base):
    """A booking's credits spent or returned through ``admin.move_booking_credits``
    (migration 0017): the key (booking, direction) makes each happen once, whatever request
    ids a caller makes up. ``request_id`` is the ``credit_adjustments`` row it claimed."""

    __tablename__ = "booking_credit_moves"
    __table_args__ = (
        CheckConstraint("direction IN ('spend', 'return')", name="direction"),
        {"schema": APP_SCHEMA},
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID]
    transaction_id: Mapped[uuid.UUID]
    created_at: Mapped[dt.datetime] = mapped_column(
        TIMESTAMP(timezone=True), server_default=text("now()")
    )
