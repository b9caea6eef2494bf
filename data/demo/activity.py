"""Activity: the emails, in-app notifications and analytics events of each user.

Every user gets a handful of each, spread over their own lifetime (from sign-up to their
deletion, or to the anchor): up to 8 emails, 15 events and 6 notifications, few for most users
and more for some. Emails start with the address confirmation and the welcome; a few bounce or
fail, with the provider's error. Notifications need an account that can sign in, so they start
at verification. Events come in browsing sessions, the first being the sign-up itself.

Each table has a generator of its own; each user's count is drawn before the rows (one byte
a user), so that progress has a total while the rows stream to COPY without being held in
memory.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING

from data.demo.clock import DAY, HOUR, MINUTE, ts_or_none
from data.demo.draws import Choice, between, new_uuid, pick, random_hex

if TYPE_CHECKING:
    import random

    from data.demo.catalog import Catalog
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.users import People

MOST_EMAILS = 8
MOST_EVENTS = 15
MOST_NOTIFICATIONS = 6
"""The most emails, events and notifications one user gets."""


def _handfuls(rng: random.Random, users: int, most: int) -> array:
    """How many rows each user gets: 0 to ``most``, small numbers more often (most people
    do little, a few do a lot)."""
    return array("B", (int((most + 1) * rng.random() ** 1.5) for _ in range(users)))


# ------------------------------------------------------------------------------------------------
# Emails
# ------------------------------------------------------------------------------------------------

_EMAIL_SUBJECTS = {
    "welcome": "Welcome to Stillwater Studio",
    "email_verification": "Please confirm your email address",
    "purchase_receipt": "Your receipt from Stillwater Studio",
    "password_reset": "Reset your password",
    "booking_confirmation": "You're booked!",
    "subscription_renewal": "Your membership has renewed",
}
_LATER_EMAIL = Choice({"purchase_receipt": 45, "booking_confirmation": 20,
                       "subscription_renewal": 20, "password_reset": 10, "welcome": 5})
_EMAIL_STATUS = Choice({"delivered": 82, "sent": 10, "bounced": 3, "failed": 2, "pending": 3})
_BOUNCES = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "552 5.2.2 The recipient's mailbox is full",
    "554 5.7.1 Message rejected as spam by the receiving server",
)
_FAILURES = (
    "429 Too many requests",
    "Timed out connecting to the email provider after 30 s",
    "422 The to field is not a valid email address",
)
_EMAIL_LAG = 3 * MINUTE  # sending and delivery take up to 150 s: they must end before the user
_EMAIL_COLUMNS = (
    "id", "recipient_email", "user_id", "email_type", "subject", "status", "provider",
    "provider_message_id", "error_message", "sent_at", "delivered_at", "created_at",
)


def _email_rows(
    rng: random.Random, clock: Clock, people: People, counts: array
) -> Iterator[tuple]:
    """Each user's emails: the address confirmation at sign-up (reminders, for users who never
    confirmed), the welcome on confirming, then receipts, booking confirmations, renewals and
    password resets. The first emails of the demo walk through every status."""
    ts = clock.ts
    n = 0
    for i, count in enumerate(counts):
        signed_up, verified = people.created[i], people.active_from[i]
        last = people.end(i) - _EMAIL_LAG
        if count == 0 or last <= signed_up:
            continue
        address, uid = people.emails[i], people.ids[i]
        for k in range(count):
            if k == 0:
                kind, created = "email_verification", signed_up
            elif verified >= last:
                kind, created = "email_verification", between(rng, signed_up, last)
            elif k == 1:
                kind, created = "welcome", verified
            else:
                kind, created = _LATER_EMAIL.draw(rng), between(rng, verified, last)
            status = _EMAIL_STATUS.nth(rng, n)
            n += 1
            sent = delivered = message_id = error = None
            if status == "pending":  # still queued: only a recent email can be
                created = between(rng, max(created, last - HOUR), last)
            else:
                sent = created + rng.randint(1, 30)
                message_id = new_uuid(rng)
                if status == "delivered":
                    delivered = sent + rng.randint(1, 120)
                elif status == "bounced":
                    error = pick(rng, _BOUNCES)
                elif status == "failed":  # the provider refused it: never sent
                    sent, message_id, error = None, None, pick(rng, _FAILURES)
            yield (
                new_uuid(rng), address, uid, kind, _EMAIL_SUBJECTS[kind], status, "resend",
                message_id, error, ts_or_none(clock, sent), ts_or_none(clock, delivered),
                ts(created),
            )


# ------------------------------------------------------------------------------------------------
# Notifications
# ------------------------------------------------------------------------------------------------

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


def _notification_rows(
    rng: random.Random, clock: Clock, people: People, catalog: Catalog, counts: array
) -> Iterator[tuple]:
    """Each verified user's notifications, about published content; most old ones are read,
    about half of the last month's."""
    ts = clock.ts
    published = catalog.published or [0]
    n = 0
    for i, count in enumerate(counts):
        lo, end = people.active_from[i], people.end(i)
        if count == 0 or lo >= end - MINUTE:  # never verified, or no time left to be told
            continue
        uid = people.ids[i]
        for _ in range(count):
            kind = _NOTIFICATION_TYPE.nth(rng, n)
            n += 1
            created = between(rng, lo, end - MINUTE)
            item = catalog.items[pick(rng, published)]
            title, message, label = _NOTIFICATIONS[kind]
            read_chance = 0.5 if created > -30 * DAY else 0.9
            read = between(rng, created, end) if rng.random() < read_chance else None
            yield (
                new_uuid(rng), uid, kind, title.format(title=item.title),
                message.format(title=item.title), f"/content/{item.slug}", label,
                ts_or_none(clock, read), ts(created),
            )


# ------------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------------

_BROWSING = Choice({"page_view": 50, "content_view": 25, "video_play": 10, "search": 8,
                    "purchase_start": 7})
_USER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari",
)
_REFERRERS = (None, None, "https://www.google.com/", "https://www.instagram.com/",
              "https://www.youtube.com/", "https://newsletter.example.com/")
_NETWORKS = ("192.0.2", "198.51.100", "203.0.113")  # documentation ranges: no real address
_SESSION_GAP = 10 * MINUTE  # the most between two events of one browsing session
_EVENT_COLUMNS = (
    "id", "user_id", "session_id", "event_type", "event_data", "ip_address", "user_agent",
    "referrer", "created_at",
)


def _event_rows(
    rng: random.Random, clock: Clock, people: People, catalog: Catalog, counts: array
) -> Iterator[tuple]:
    """Each user's analytics events: the sign-up, then browsing sessions of a few events each
    (one session id, address and referrer per session; one device per user)."""
    ts, items = clock.ts, catalog.items
    published = catalog.published or [0]
    n = 0
    for i, count in enumerate(counts):
        lo, end = people.created[i], people.end(i) - MINUTE
        if count == 0 or lo >= end:
            continue
        uid, agent = people.ids[i], pick(rng, _USER_AGENTS)
        at = lo  # the sign-up, the first event (k == 0)
        session = address = referrer = None
        for k in range(count):
            step = between(rng, 10, _SESSION_GAP)
            if k == 0:
                kind, at = "signup", lo
            else:
                kind = _BROWSING.nth(rng, n)
                n += 1
                if k == 1 or rng.random() < 0.35 or at + step >= end:
                    at, session = between(rng, lo, end), None  # a new session
                else:
                    at += step
            if session is None:
                session = f"sess_{random_hex(rng, 20)}"
                address = f"{pick(rng, _NETWORKS)}.{1 + int(rng.random() * 254)}"
                referrer = pick(rng, _REFERRERS)
            item = items[pick(rng, published)]
            if kind == "signup":
                data = '{"method": "email"}'
            elif kind == "page_view":
                data = f'{{"path": "/content/{item.slug}"}}'
            elif kind == "search":
                data = f'{{"query": "{item.category}"}}'
            elif kind == "purchase_start":
                data = f'{{"content_id": "{item.id}", "price": "{item.price or "0.00"}"}}'
            else:
                data = f'{{"content_id": "{item.id}", "slug": "{item.slug}"}}'
            yield (new_uuid(rng), uid, session, kind, data, address, agent, referrer, ts(at))


def load_activity(ctx: DemoContext) -> None:
    """Load every user's emails, notifications and events."""
    loader, clock, people, users = ctx.loader, ctx.clock, ctx.people, ctx.users
    rng = ctx.rng("emails")
    counts = _handfuls(rng, users, MOST_EMAILS)
    loader.copy("email_logs", _EMAIL_COLUMNS, _email_rows(rng, clock, people, counts),
                total=sum(counts))
    rng = ctx.rng("notifications")
    counts = _handfuls(rng, users, MOST_NOTIFICATIONS)
    loader.copy("notifications", _NOTIFICATION_COLUMNS,
                _notification_rows(rng, clock, people, ctx.catalog, counts), total=sum(counts))
    rng = ctx.rng("events")
    counts = _handfuls(rng, users, MOST_EVENTS)
    loader.copy("events", _EVENT_COLUMNS,
                _event_rows(rng, clock, people, ctx.catalog, counts), total=sum(counts))
