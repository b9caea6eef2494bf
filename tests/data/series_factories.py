"""Catalog rows inserted with plain SQL: content items, series, access rows, settings."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.data.factories import BASE_TIME, insert_user


def insert_creator(engine: Engine, email: str = "creator@example.com",
                   name: str = "Cora Creator") -> uuid.UUID:
    return insert_user(engine, email, name, role="platform_creator")


def insert_content(
    engine: Engine,
    creator_id: uuid.UUID,
    title: str,
    *,
    status: str = "published",
    content_type: str = "video",
    series_id: uuid.UUID | None = None,
    price: Decimal | None = Decimal("9.99"),
    deleted: bool = False,
) -> uuid.UUID:
    """One item; with ``series_id`` it is also appended to that series' content_order."""
    content_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content (id, creator_id, title, slug, content_type, media_url, "
                "media_duration_seconds, visibility, price, status, published_at, series_id, "
                "created_at, deleted_at) VALUES (:id, :creator, :title, :slug, :type, "
                "'https://media.example.com/x.mp4', 600, 'purchased_only', :price, :status, "
                ":published, :series, :created, :deleted)"
            ),
            {
                "id": content_id, "creator": creator_id, "title": title,
                "slug": f"{title.lower().replace(' ', '-')}-{content_id.hex[:8]}",
                "type": content_type, "price": price, "status": status,
                "published": BASE_TIME if status != "draft" else None, "series": series_id,
                "created": BASE_TIME + dt.timedelta(seconds=len(title)),
                "deleted": BASE_TIME if deleted else None,
            },
        )
        if series_id is not None:
            conn.execute(
                text("UPDATE content_series SET content_order = content_order || "
                     "CAST(:entry AS jsonb) WHERE id = :id"),
                {"entry": json.dumps([str(content_id)]), "id": series_id},
            )
    return content_id


def insert_series(engine: Engine, creator_id: uuid.UUID, title: str,
                  *, status: str = "published") -> uuid.UUID:
    series_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO content_series (id, creator_id, title, slug, status, "
                "content_order) VALUES (:id, :creator, :title, :slug, :status, '[]'::jsonb)"
            ),
            {"id": series_id, "creator": creator_id, "title": title,
             "slug": f"{title.lower().replace(' ', '-')}-{series_id.hex[:8]}", "status": status},
        )
    return series_id


def series_order(engine: Engine, series_id: uuid.UUID) -> list[uuid.UUID]:
    with engine.connect() as conn:
        order = conn.execute(
            text("SELECT content_order FROM content_series WHERE id = :id"), {"id": series_id}
        ).scalar_one()
    return [uuid.UUID(i) for i in order]


def content_series_id(engine: Engine, content_id: uuid.UUID) -> uuid.UUID | None:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT series_id FROM content WHERE id = :id"), {"id": content_id}
        ).scalar_one()
