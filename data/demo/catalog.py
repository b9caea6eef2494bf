"""The content catalog: series and content items, with prices and creator payouts."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from data.demo.categories import CATEGORIES, TOPICS
from data.demo.clock import DAY, HOUR, ts_or_none
from data.demo.draws import Choice, below, between, new_uuid, pick

if TYPE_CHECKING:
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.users import People


_TITLE_SUFFIXES = ("", "", "", " for Beginners", " (Intermediate)", " Masterclass",
                   " in 20 Minutes", ": A Guided Practice", " Deep Dive")

_LEVELS = ("beginner", "intermediate", "advanced", "all-levels")

_SERIES_PREFIXES = ("Foundations of", "21 Days of", "The Complete Guide to", "Intro to",
                    "Advanced", "A Month of", "Everyday")

_PRICE = {"4.99": 10, "9.99": 25, "12.00": 8, "14.99": 18, "19.99": 14, "24.99": 8,
          "29.99": 9, "49.00": 5, "79.00": 3}

_SERIES_PRICES = ("39.00", "59.00", "79.00", "99.00", "149.00")

_PARAGRAPHS = (
    "Find a comfortable position and let your shoulders soften away from your ears.",
    "Consistency matters more than intensity: a few minutes every day builds lasting change.",
    "Notice where you hold tension, and invite that area to relax with each exhale.",
    "Start slowly, listen to your body, and modify any movement that does not feel right.",
    "Small adjustments in the way you eat and rest add up over weeks and months.",
    "Take a moment to reflect on what you want to carry with you into the rest of your day.",
)


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class Slugs:
    """Hands out unique slugs: the first use of a title gets the plain slug, later ones a suffix."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, title: str) -> str:
        base = _slugify(title)
        self._seen[base] += 1
        n = self._seen[base]
        return base if n == 1 else f"{base}-{n}"


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class Item:
    """One piece of content, with what purchases, access and playback need to know about it."""

    idx: int
    id: str
    creator: int
    content_type: str
    category: str
    title: str
    slug: str
    visibility: str
    status: str
    price: str | None
    created: int
    published: int | None
    duration: int | None
    series: int | None
    prerequisite: str | None = None
    fee: str = "0"
    payout: str = "0"

    @property
    def published_at(self) -> int:
        """When the item was published: every item in the catalog's published, priced,
        popular and members-only lists has been; asking a draft is a bug."""
        if self.published is None:
            raise ValueError(f"item {self.idx} ({self.status}) was never published")
        return self.published


@dataclass
class _Series:
    idx: int
    id: str
    creator: int
    category: str
    title: str
    slug: str
    status: str
    price: str | None
    created: int
    published: int | None
    items: list[int] = field(default_factory=list)


@dataclass
class Catalog:
    """The planned catalog, as purchases, access, resources and activity need it."""

    series: list[_Series]
    items: list[Item]
    priced: list[int]  # published items with a price: what customers buy
    popular: list[int]  # ``priced`` repeated by popularity, for cheap weighted draws
    published: list[int]
    members_only: dict[str, list[int]]  # category -> published members_only items


_CONTENT_TYPE = Choice({"video": 50, "written": 30, "audio": 20})

_VISIBILITY = Choice({"purchased_only": 50, "public": 20, "members_only": 20, "private": 10})

_CONTENT_STATUS = Choice({"published": 75, "draft": 15, "archived": 10})

_SERIES_STATUS = Choice({"published": 75, "draft": 15, "archived": 10})

_ITEM_PRICE = Choice(_PRICE)


def _content_count(users: int) -> int:
    return max(60, users // 400)


def _plan_catalog(rng: random.Random, people: People, n_items: int) -> Catalog:
    """Series first, each with a few items by the same creator in one category, then
    standalone items. Statuses follow the series (a draft series has draft items)."""
    creators = people.content_creators
    n_series = min(n_items // 4, 24 + n_items // 50)
    budget = int(n_items * 0.55)
    slugs = Slugs()
    series_list: list[_Series] = []
    items: list[Item] = []

    def creator_and_start() -> tuple[int, int]:
        creator = creators[below(rng, len(creators))]
        return creator, between(rng, people.active_from[creator] + DAY, -2 * DAY)

    for s in range(n_series):
        creator, created = creator_and_start()
        category = pick(rng, CATEGORIES)
        title = f"{pick(rng, _SERIES_PREFIXES)} {category.capitalize()}"
        status = _SERIES_STATUS.nth(rng, s)
        published = min(created + between(rng, HOUR, 10 * DAY), -DAY) \
            if status != "draft" else None
        series = _Series(
            idx=s, id=new_uuid(rng), creator=creator, category=category, title=title,
            slug=slugs(title), status=status,
            price=pick(rng, _SERIES_PRICES) if rng.random() < 0.4 else None,
            created=created, published=published,
        )
        series_list.append(series)
        size = min(rng.randint(2, 6), budget - len(items))
        kind = _CONTENT_TYPE.draw(rng)
        for position in range(size):
            item_status = status if status != "published" or rng.random() < 0.9 else "draft"
            item = _new_item(rng, people, slugs, len(items), creator, created, category,
                             kind if rng.random() < 0.8 else _CONTENT_TYPE.draw(rng),
                             _VISIBILITY.draw(rng), item_status, series=s)
            if position and rng.random() < 0.3:
                item.prerequisite = items[-1].id
            series.items.append(item.idx)
            items.append(item)

    standalone = 0
    while len(items) < n_items:
        creator, created = creator_and_start()
        items.append(_new_item(
            rng, people, slugs, len(items), creator, created, pick(rng, CATEGORIES),
            _CONTENT_TYPE.nth(rng, standalone), _VISIBILITY.nth(rng, standalone),
            _CONTENT_STATUS.nth(rng, standalone), series=None,
        ))
        standalone += 1

    published_items = [it.idx for it in items if it.status == "published"]
    priced = [i for i in published_items if items[i].price is not None]
    popular = [i for i in priced for _ in range(min(40, int(rng.paretovariate(1.1))))]
    rng.shuffle(popular)
    members_only: dict[str, list[int]] = {c: [] for c in CATEGORIES}
    for i in published_items:
        if items[i].visibility == "members_only":
            members_only[items[i].category].append(i)
    return Catalog(series_list, items, priced, popular, published_items, members_only)


def _new_item(
    rng: random.Random, people: People, slugs: Slugs, idx: int, creator: int, not_before: int,
    category: str, content_type: str, visibility: str, status: str, *, series: int | None,
) -> Item:
    title = pick(rng, TOPICS[category]) + pick(rng, _TITLE_SUFFIXES)
    created = between(rng, not_before, -DAY)
    published = min(created + between(rng, HOUR, 14 * DAY), -DAY) \
        if status != "draft" else None
    if visibility == "purchased_only":
        priced = True
    elif visibility == "members_only":
        priced = rng.random() < 0.4
    else:
        priced = rng.random() < 0.15
    price = _ITEM_PRICE.draw(rng) if priced else None
    if content_type == "video":
        duration = rng.randint(5, 90) * 60 + below(rng, 60)
    elif content_type == "audio":
        duration = rng.randint(5, 60) * 60 + below(rng, 60)
    else:
        duration = None
    item = Item(idx, new_uuid(rng), creator, content_type, category, title, slugs(title),
                 visibility, status, price, created, published, duration, series)
    if price is not None:
        fee = Decimal(price) * Decimal("0.30") if creator in people.media_owners else Decimal(0)
        item.fee, item.payout = _money(fee), _money(Decimal(price) - fee)
    return item


_SERIES_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "thumbnail_url", "price",
    "content_order", "status", "published_at", "created_at", "updated_at", "deleted_at",
)


def _series_rows(clock: Clock, people: People, catalog: Catalog) -> Iterator[tuple]:
    for s in catalog.series:
        order = json.dumps([catalog.items[i].id for i in s.items])
        last = max([s.created, s.published or s.created,
                    *(catalog.items[i].created for i in s.items)])
        yield (
            s.id, people.ids[s.creator], s.title, s.slug,
            f"A step-by-step {s.category} journey in {len(s.items) or 'several'} sessions.",
            f"https://cdn.example.com/series/{s.slug}.jpg", s.price, order, s.status,
            ts_or_none(clock, s.published), clock.ts(s.created), clock.ts(last), None,
        )


_CONTENT_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "content_type", "media_url",
    "media_duration_seconds", "thumbnail_url", "content_body", "category", "tags", "series_id",
    "visibility", "price", "status", "published_at", "view_count", "purchase_count",
    "prerequisite_content_ids", "created_at", "updated_at", "deleted_at",
)


def _content_rows(
    rng: random.Random, clock: Clock, people: People, catalog: Catalog
) -> Iterator[tuple]:
    """``view_count`` and ``purchase_count`` start at the views of non-buyers and 0; both are
    raised once the purchases are known (see :func:`_update_counters`)."""
    for it in catalog.items:
        media_url = thumbnail = body = None
        if it.content_type == "video":
            media_url = f"https://media.example.com/video/{it.slug}.mp4"
        elif it.content_type == "audio":
            media_url = f"https://media.example.com/audio/{it.slug}.m4a"
        else:
            paragraphs = "".join(f"<p>{p}</p>" for p in rng.sample(_PARAGRAPHS, 3))
            body = f"<h2>{it.title}</h2>{paragraphs}<ul><li>Practice daily</li></ul>"
        if it.content_type != "written" or rng.random() < 0.5:
            thumbnail = f"https://cdn.example.com/thumbnails/{it.slug}.jpg"
        tags = json.dumps([it.category, pick(rng, _LEVELS), *rng.sample(CATEGORIES, 1)])
        views = int(rng.paretovariate(1.3) * 40) if it.published is not None else 0
        updated = between(rng, it.published or it.created, 0)
        yield (
            it.id, people.ids[it.creator], it.title, it.slug,
            f"{it.title}: a {it.content_type} {it.category} session.", it.content_type,
            media_url, it.duration, thumbnail, body, it.category, tags,
            None if it.series is None else catalog.series[it.series].id, it.visibility,
            it.price, it.status, ts_or_none(clock, it.published), views, 0,
            json.dumps([it.prerequisite] if it.prerequisite else []),
            clock.ts(it.created), clock.ts(updated), None,
        )


def load_catalog(ctx: DemoContext) -> None:
    """Plan the catalog (kept on ``ctx``) and load its series and content."""
    ctx.catalog = _plan_catalog(ctx.rng("catalog"), ctx.people, _content_count(ctx.users))
    ctx.loader.copy("content_series", _SERIES_COLUMNS,
                    list(_series_rows(ctx.clock, ctx.people, ctx.catalog)))
    ctx.loader.copy("content", _CONTENT_COLUMNS, list(
        _content_rows(ctx.rng("content"), ctx.clock, ctx.people, ctx.catalog)))
