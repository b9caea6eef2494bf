"""The storefront's settings row (``platform_settings``)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from data.demo.clock import DAY, USER_SPAN
from data.demo.draws import new_uuid, random_hex
from data.demo.loading import single_value

if TYPE_CHECKING:
    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.context import DemoContext


_SETTINGS_COLUMNS = (
    "id", "platform_name", "logo_url", "primary_color", "hero_title", "hero_subtitle",
    "hero_background_url", "hero_cta_text", "hero_cta_link", "featured_content_ids",
    "contact_email", "social_links", "about_content", "stripe_account_id", "email_from_name",
    "timezone", "updated_at", "created_at",
)


def _settings_rows(rng: random.Random, clock: Clock, catalog: Catalog) -> Iterator[tuple]:
    featured = rng.sample(catalog.published, min(6, len(catalog.published)))
    yield (
        new_uuid(rng), "Stillwater Studio", "https://cdn.example.com/brand/logo.svg", "#2f855a",
        "Move, breathe and rest well", "Yoga, meditation and breathwork classes from teachers"
        " who care.", "https://cdn.example.com/brand/hero.jpg", "Start your free trial",
        "/pricing", json.dumps([catalog.items[j].id for j in featured]), "hello@example.com",
        json.dumps({"instagram": "https://instagram.com/example",
                    "youtube": "https://youtube.com/@example"}),
        "<h1>About us</h1><p>We started as a single studio and now teach thousands online.</p>",
        f"acct_demo_{random_hex(rng, 16)}", "Stillwater Studio", "America/New_York",
        clock.ts(-DAY * 7), clock.ts(-USER_SPAN),
    )


def load_platform_settings(ctx: DemoContext) -> None:
    """The storefront's one settings row, unless the database already has one."""
    if single_value(ctx.conn.execute("SELECT NOT EXISTS (SELECT 1 FROM platform_settings)")):
        ctx.loader.copy("platform_settings", _SETTINGS_COLUMNS,
                        list(_settings_rows(ctx.rng("settings"), ctx.clock, ctx.catalog)))
