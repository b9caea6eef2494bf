"""Typed SQLAlchemy models: the platform's tables by their exact names, and the app's own.

Importing this package registers every table on :data:`Base.metadata`.
"""

from data.models.admin import (
    AuditChain,
    AuditRecord,
    BookingCreditMove,
    BulkGrant,
    CreditAdjustment,
    PeriodCreditGrant,
    RefundRequest,
    SubscriptionRequest,
    TierPrice,
)
from data.models.base import APP_SCHEMA, Base
from data.models.commerce import ContentAccess, Purchase
from data.models.content import Content, ContentSeries, VideoPlayback
from data.models.credits import CreditBalance, CreditTransaction
from data.models.offerings import (
    Offering,
    OfferingBooking,
    OfferingPortalAccess,
    OfferingResource,
)
from data.models.platform import EmailLog, Event, Notification, PlatformSettings
from data.models.referrals import Referral, ReferralCode, ReferralReward, UserReferralReward
from data.models.revenue_rollup import (
    CreditDaily,
    RevenueDaily,
    RevenueDailyContent,
    RevenueMonthlyPayers,
    RevenueRollupInfo,
    RevenueRollupRecent,
)
from data.models.subscriptions import Subscription, SubscriptionTier
from data.models.users import User

PLATFORM_TABLES = tuple(t for t in Base.metadata.sorted_tables if t.schema is None)
"""The platform's own tables, in an order that satisfies their foreign keys."""

__all__ = [
    "APP_SCHEMA",
    "PLATFORM_TABLES",
    "AuditChain",
    "AuditRecord",
    "Base",
    "BookingCreditMove",
    "BulkGrant",
    "Content",
    "ContentAccess",
    "ContentSeries",
    "CreditAdjustment",
    "CreditBalance",
    "CreditDaily",
    "CreditTransaction",
    "EmailLog",
    "Event",
    "Notification",
    "Offering",
    "OfferingBooking",
    "OfferingPortalAccess",
    "OfferingResource",
    "PeriodCreditGrant",
    "PlatformSettings",
    "Purchase",
    "Referral",
    "ReferralCode",
    "ReferralReward",
    "RefundRequest",
    "RevenueDaily",
    "RevenueDailyContent",
    "RevenueMonthlyPayers",
    "RevenueRollupInfo",
    "RevenueRollupRecent",
    "Subscription",
    "SubscriptionRequest",
    "SubscriptionTier",
    "TierPrice",
    "User",
    "UserReferralReward",
    "VideoPlayback",
]
