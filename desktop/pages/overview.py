"""The pages that are read-only lists for now, described by their columns."""

from __future__ import annotations

from data.models import (
    Content,
    Purchase,
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
REVENUE = TableListing(
    "Revenue (purchases)",
    (("Created", Purchase.created_at), ("Customer", User.email), ("Content", Content.title),
     ("Amount", Purchase.amount_paid),
     ("Currency", Purchase.currency), ("Status", Purchase.status),
     ("Purchased", Purchase.purchased_at), ("Refunded", Purchase.refunded_at)),
    sort=Purchase.created_at, id_column=Purchase.id,
    joins=((User, User.id == Purchase.customer_id), (Content, Content.id == Purchase.content_id)),
)


__all__ = ["CONTENT", "REVENUE"]
