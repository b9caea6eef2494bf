"""Content items inserted with plain SQL, for catalog tests that need exactly known rows."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.data.factories import BASE_TIME


def add_item(
    engine: Engine,
    creator_id: uuid.UUID,
    title: str,
    *,
    slug: str | None = None,
    content_type: str = "video",
    status: str = "draft",
    visibility: str = "purchased_only",
    price: Decimal | None = Decimal("9.99"),
    media_url: str | None = "https://media.example.com/a.mp4",
    duration: int | None = 600,
    body: str | None = None,
    category: str | None = None,
    tags: list[str] | None = None,
    published_at: dt.datetime | None = None,
    purchase_count: int = 0,
    view_count: int = 0,
    deleted: bool = False,
) -> uuid.UUID:
    content_id = uuid.uuid4()
    if status != "draft" and published_at is None:
        published_at = BASE_TIME
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO content (id, creator_id, title, slug, content_type, media_url, "
            "media_duration_seconds, content_body, category, tags, visibility, price, status, "
            "published_at, purchase_count, view_count, deleted_at) VALUES (:id, :creator, "
            ":title, :slug, :type, :media, :duration, :body, :category, CAST(:tags AS jsonb), "
            ":visibility, :price, :status, :published, :purchases, :views, :deleted)"), {
            "id": content_id, "creator": creator_id, "title": title,
            "slug": slug or f"item-{content_id.hex[:12]}", "type": content_type,
            "media": media_url if content_type != "written" else None,
            "duration": duration if content_type != "written" else None,
            "body": body, "category": category, "tags": json.dumps(tags or []),
            "visibility": visibility, "price": price, "status": status,
            "published": published_at, "purchases": purchase_count, "views": view_count,
            "deleted": BASE_TIME if deleted else None,
        })
    return content_id


def add_purchase(engine: Engine, customer_id: uuid.UUID, content_id: uuid.UUID,
                 amount: Decimal, status: str = "completed") -> uuid.UUID:
    purchase_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO purchases (id, customer_id, content_id, amount_paid, "
            "creator_payout_amount, stripe_payment_intent_id, status, purchased_at) VALUES (:id, "
            ":customer, :content, :amount, :amount, :pi, :status, :at)"), {
            "id": purchase_id, "customer": customer_id, "content": content_id,
            "amount": amount, "pi": f"pi_{purchase_id.hex}", "status": status, "at": BASE_TIME})
    return purchase_id
