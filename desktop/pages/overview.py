"""The pages that are read-only lists for now, described by their columns."""

from __future__ import annotations

from data.models import (
    Content,
    Offering,
    Purchase,
    ReferralReward,
    User,
)
from data.queries.listing import TableListing

CONTENT = TableListing(
    "Content catalog",
    (("Title", Content.title), ("Type", Content.content_type), ("Status", Content.status),
     ("Category", Content.category), ("Visibility", Content.visibility),
     ("Price", Content.price), ("Published", Content.published_at),
     ("Purchases", Content.purchase_count), ("Views", Content.view_count)),
    sort=Content.created_at, id_column=Content.id,
)
OFFERINGS = TableListing(
    "Offerings",
    (("Title", Offering.title), ("Type", Offering.offering_type),
     ("Capacity", Offering.capacity_type), ("Delivery", Offering.delivery_method),
     ("Price", Offering.price), ("Credit cost", Offering.credit_cost),
     ("Status", Offering.status), ("Bookings", Offering.booking_count)),
    sort=Offering.created_at, id_column=Offering.id,
)
REFERRAL_REWARDS = TableListing(
    "Referral rewards",
    (("Name", ReferralReward.name), ("Type", ReferralReward.type),
     ("Required referrals", ReferralReward.required_referrals),
     ("Active", ReferralReward.is_active), ("Description", ReferralReward.description)),
    sort=ReferralReward.id, id_column=ReferralReward.id,
)
REVENUE = TableListing(
    "Revenue (purchases)",
    (("Created", Purchase.created_at), ("Customer", User.email), ("Content", Content.title),
     ("Amount", Purchase.amount_paid),
     ("Currency", Purchase.currency), ("Status", Purchase.status),
     ("Purchased", Purchase.purchased_at), ("Refunded", Purchase.refunded_at)),
    sort=Purchase.created_at, id_column=Purchase.id,
    joins=((User, User.id == Purchase.customer_id), (Content, Content.id == Purchase.content_id)),
)

__all__ = ["CONTENT", "OFFERINGS", "REFERRAL_REWARDS", "REVENUE"]
