"""Activity: the emails, in-app notifications and analytics events of the platform's users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from data.demo.clock import RECENT, ts_or_none
from data.demo.draws import Choice, below, between, new_uuid, pick, random_hex

if TYPE_CHECKING:
    import random

    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.users import People


_EMAIL_TYPES = {
    "welcome": "Welcome to Stillwater Studio",
    "email_verification": "Please confirm your email address",
    "purchase_receipt": "Your receipt from Stillwater Studio",
    "password_reset": "Reset your password",
    "booking_confirmation": "You're booked!",
    "subscription_renewal": "Your membership has renewed",
}


_EMAIL_TYPE = Choice({"welcome": 35, "purchase_receipt": 30, "email_verification": 10,
                       "booking_confirmation": 12, "subscription_renewal": 10,
                       "password_reset": 3})


_EMAIL_STATUS = Choice({"delivered": 82, "sent": 10, "bounced": 3, "failed": 2, "pending": 3})


_EMAIL_COLUMNS = (
    "id", "recipient_email", "user_id", "email_type", "subject", "status", "provider",
    "provider_message_id", "error_message", "sent_at", "delivered_at", "created_at",
)


def _email_count(users: int) -> int:
    return users * 3 // 5


def _email_rows(
    rng: random.Random, clock: Clock, people: People, total: int
) -> Iterator[tuple]:
    """~0.6 emails per user, a few to addresses that are not users (gift recipients)."""
    ts, n = clock.ts, len(people.ids)
    for k in range(total):
        i = below(rng, n)
        created = between(rng, people.created[i], people.end(i))
        if rng.random() < 0.02:
            recipient, user_id, kind = f"friend{k}@example.net", None, "welcome"
        else:
            recipient, user_id, kind = people.emails[i], people.ids[i], _EMAIL_TYPE.nth(rng, k)
        status = _EMAIL_STATUS.nth(rng, k)
        sent = delivered = error = None
        message_id = None
        if status != "pending":
            sent = created + rng.randint(1, 30)
            message_id = new_uuid(rng)
        if status == "delivered":
            delivered = sent + rng.randint(1, 120)
        elif status == "bounced":
            error = "550 5.1.1 The email account that you tried to reach does not exist"
        elif status == "failed":
            sent, message_id, error = None, None, "429 Too many requests"
        yield (
            new_uuid(rng), recipient, user_id, kind, _EMAIL_TYPES[kind], status, "resend",
            message_id, error, ts_or_none(clock, sent), ts_or_none(clock, delivered),
            ts(created),
        )


_NOTIFICATIONS = {
    "new_content": ("New class: {title}", "{title} is now available.", "Watch now"),
    "booking_reminder": ("Reminder: {title}", "Your session starts soon.", "View booking"),
    "credit_expiring": ("Credits expiring soon", "Use your credits before they expire.",
                        "Browse offerings"),
    "purchase_complete": ("Enjoy {title}", "Your purchase is ready to watch.", "Open"),
    "referral_reward": ("You earned a reward", "A friend joined with your code. Thank you!",
                        "See rewards"),
}


_NOTIFICATION_TYPE = Choice({"new_content": 40, "booking_reminder": 20, "credit_expiring": 10,
                              "purchase_complete": 25, "referral_reward": 5})


_NOTIFICATION_COLUMNS = (
    "id", "user_id", "type", "title", "message", "action_url", "action_label", "read_at",
    "created_at",
)


def _notification_count(users: int) -> int:
    return users // 2


def _notification_rows(
    rng: random.Random, clock: Clock, people: People, catalog: Catalog, total: int
) -> Iterator[tuple]:
    ts, n = clock.ts, len(people.ids)
    published = catalog.published or [0]
    for k in range(total):
        i = below(rng, n)
        created = between(rng, max(people.created[i], -RECENT), people.end(i))
        kind = _NOTIFICATION_TYPE.nth(rng, k)
        item = catalog.items[published[below(rng, len(published))]]
        title, message, label = _NOTIFICATIONS[kind]
        read = between(rng, created, 0) if rng.random() < 0.6 else None
        yield (
            new_uuid(rng), people.ids[i], kind, title.format(title=item.title),
            message.format(title=item.title), f"/content/{item.slug}", label,
            ts_or_none(clock, read), ts(created),
        )


_EVENT_TYPE = Choice({"page_view": 50, "content_view": 25, "video_play": 10, "search": 6,
                       "purchase_start": 5, "signup": 4})


_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari",
)


_REFERRERS = (None, None, "https://www.google.com/", "https://www.instagram.com/",
              "https://www.youtube.com/", "https://newsletter.example.com/")


_EVENT_COLUMNS = (
    "id", "user_id", "session_id", "event_type", "event_data", "ip_address", "user_agent",
    "referrer", "created_at",
)


_EVENT_CAP = 500_000


def _event_count(users: int) -> int:
    return min(2 * users, _EVENT_CAP)


def _event_rows(
    rng: random.Random, clock: Clock, people: People, catalog: Catalog, total: int
) -> Iterator[tuple]:
    """Analytics events of the last 90 days; a fifth are anonymous visitors."""
    ts, n, items = clock.ts, len(people.ids), catalog.items
    published = catalog.published or [0]
    for k in range(total):
        kind = _EVENT_TYPE.nth(rng, k)
        i = below(rng, n)
        anonymous = kind == "signup" or rng.random() < 0.2
        lo = -RECENT if anonymous else max(people.created[i], -RECENT)
        created = between(rng, lo, people.end(i) if not anonymous else -1)
        item = items[published[below(rng, len(published))]]
        if kind == "page_view":
            data = f'{{"path": "/content/{item.slug}"}}'
        elif kind == "search":
            data = f'{{"query": "{item.category}"}}'
        elif kind == "signup":
            data = '{"method": "email"}'
        elif kind == "purchase_start":
            data = f'{{"content_id": "{item.id}", "price": "{item.price or "0.00"}"}}'
        else:
            data = f'{{"content_id": "{item.id}", "slug": "{item.slug}"}}'
        yield (
            new_uuid(rng), None if anonymous else people.ids[i], f"sess_{random_hex(rng, 20)}",
            kind,
            data, f"{pick(rng, ('192.0.2', '198.51.100', '203.0.113'))}.{1 + below(rng, 254)}",
            pick(rng, _USER_AGENTS), pick(rng, _REFERRERS), ts(created),
        )


def load_activity(ctx: DemoContext) -> None:
    """Load the emails, notifications and events."""
    loader, clock, people, users = ctx.loader, ctx.clock, ctx.people, ctx.users
    total = _email_count(users)
    loader.copy("email_logs", _EMAIL_COLUMNS,
                _email_rows(ctx.rng("emails"), clock, people, total), total=total)
    total = _notification_count(users)
    loader.copy("notifications", _NOTIFICATION_COLUMNS, _notification_rows(
        ctx.rng("notifications"), clock, people, ctx.catalog, total), total=total)
    total = _event_count(users)
    loader.copy("events", _EVENT_COLUMNS,
                _event_rows(ctx.rng("events"), clock, people, ctx.catalog, total), total=total)
