"""Realistic, mutually consistent demo data for an empty platform database.

:func:`fill_demo_data` fills every platform table (users, content, purchases, subscriptions,
offerings, credits, notifications, analytics events and the referral program) so that the back
office has something believable to show, at any scale from a few hundred users to millions.

How it stays fast at a million users:

* every table is loaded with ``COPY ... FROM STDIN``; rows come from generators and are written
  with ``write_row``, so nothing big is ever held as rows in memory;
* values are handed to psycopg as ready strings (timestamps through :class:`_Clock`, money
  pre-formatted per item), because psycopg's datetime and Decimal dumpers cost more than the rest
  of a row;
* as pg_restore does, the loaded tables' indexes, keys and foreign keys are dropped for the
  load and recreated afterwards, in the same transaction (only when the connected role owns the
  tables): building an index once is much cheaper than maintaining it row by row, and the rows
  are consistent by construction; recreating the constraints still proves it.
* the customer simulation streams each chunk's purchases to the server while it computes, so
  that Python and PostgreSQL work at the same time.

How it stays consistent: whatever a later table must agree with (who was referred by whom, which
content a customer owns, a customer's running credit balance) is decided in Python before the
rows that depend on it are written. Customers are processed in chunks: for each chunk their
subscriptions, purchases, access rows, playback, bookings and credit ledgers are generated
together and copied table by table in foreign-key order.

How it stays deterministic: each stage draws from its own ``random.Random`` seeded from
``seed`` and the stage name, ids are random-looking version-4 UUIDs drawn from those generators,
and every timestamp is an offset from ``anchor``. Nothing reads the clock or asks the server to
generate a value (SERIAL ids of the referral tables aside, which a fresh database numbers the
same way every time).
"""

from __future__ import annotations

import heapq
import json
import random
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate

import psycopg
from psycopg import sql

__all__ = ["fill_demo_data", "MIN_USERS"]

Progress = Callable[[str, int, int], None]

MIN_USERS = 20
"""Fewer users than this cannot hold every role and a customer base worth showing."""

_MINUTE = 60
_HOUR = 3_600
_DAY = 86_400
_USER_SPAN = 3 * 365 * _DAY  # users signed up over the last three years
_PURCHASE_SPAN = 548 * _DAY  # purchases cover the last eighteen months
_RECENT = 90 * _DAY  # notifications, events and deletions are recent
_CHUNK_CUSTOMERS = 5_000  # customers per batch of the customer-activity stage
_PROGRESS_EVERY = 10_000
_FAR_FUTURE = 1 << 40  # "never": larger than any offset the clock can format

# ------------------------------------------------------------------------------------------------
# Vocabulary
# ------------------------------------------------------------------------------------------------

_FIRST_NAMES = (
    "Maria", "James", "Wei", "Aisha", "Carlos", "Emma", "Liam", "Olivia", "Noah", "Sofia",
    "Mateo", "Chloe", "Hiroshi", "Yuki", "Priya", "Arjun", "Fatima", "Omar", "Elena", "Ivan",
    "Grace", "Daniel", "Amara", "Kwame", "Lucia", "Diego", "Hannah", "Jonas", "Ingrid", "Lars",
    "Mei", "Jin", "Sara", "David", "Leila", "Karim", "Nina", "Paolo", "Giulia", "Marco",
    "Zara", "Ethan", "Ava", "Mia", "Lucas", "Isabella", "Amelia", "Oliver", "Harper", "Elijah",
    "Chen", "Ananya", "Rohan", "Nadia", "Tomas", "Eva", "Freya", "Aiden", "Layla", "Yusuf",
    "Sienna", "Theo", "Maya", "Kai", "Noor", "Rafael", "Camila", "Hugo", "Alice", "Leon",
    "Chiara", "Samir", "Ines", "Bruno", "Ada", "Felix", "Rosa", "Tariq", "Anika", "Emil",
    "Lena", "Oscar", "Julia", "Adrian", "Selin", "Mehmet", "Keiko", "Ravi", "Thandiwe", "Sipho",
    "Naomi", "Caleb", "Ruth", "Gabriel", "Leah", "Samuel", "Clara", "Victor", "Iris", "Jasper",
)
_LAST_NAMES = (
    "Garcia", "Smith", "Zhang", "Khan", "Rodriguez", "Johnson", "Brown", "Williams", "Jones",
    "Martinez", "Lopez", "Tanaka", "Sato", "Patel", "Sharma", "Ali", "Hassan", "Popescu",
    "Ivanova", "Okafor", "Mensah", "Rossi", "Bianchi", "Fernandez", "Silva", "Santos", "Muller",
    "Schmidt", "Johansson", "Larsen", "Nielsen", "Wang", "Li", "Liu", "Chen", "Kim", "Park",
    "Nguyen", "Tran", "Cohen", "Levi", "Dubois", "Moreau", "Laurent", "Novak", "Kowalski",
    "Nowak", "Horvat", "Yilmaz", "Demir", "Costa", "Pereira", "Almeida", "Gonzalez", "Hernandez",
    "Diaz", "Torres", "Ramirez", "Flores", "Rivera", "Murphy", "Kelly", "OBrien", "Walsh",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Jackson", "White", "Harris", "Clark",
    "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams",
    "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner",
    "Reddy", "Iyer", "Nakamura", "Suzuki", "Abebe", "Mwangi", "Adeyemi", "Haddad",
)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
_PASSWORD_HASH = "$2b$12$DemoDemoDemoDemoDemoDeu7Qw1pX9mK3sV5bN8cR2tY6hJ4gF0aLe"
"""Every demo account shares this bcrypt-shaped hash; it is not the hash of any password."""

_CATEGORIES = (
    "yoga", "meditation", "breathwork", "nutrition", "strength", "mindset", "mobility", "sleep",
)
_TOPICS = {
    "yoga": ("Morning Flow", "Hatha Foundations", "Vinyasa for Strength", "Yin for Deep Rest",
             "Sun Salutations", "Hip Opening Sequence", "Balance and Core Flow", "Restorative Yoga"),
    "meditation": ("Body Scan", "Loving-Kindness Practice", "Ten-Minute Reset", "Walking Meditation",
                   "Focus and Clarity", "Letting Go of Stress", "Evening Wind-Down"),
    "breathwork": ("Box Breathing", "Breath for Energy", "Calming the Nervous System",
                   "Alternate Nostril Breathing", "Breath Holds Explained", "Coherent Breathing"),
    "nutrition": ("Plant-Based Basics", "Meal Prep for a Busy Week", "Eating for Recovery",
                  "Understanding Macros", "Gut Health Essentials", "Hydration Done Right"),
    "strength": ("Kettlebell Fundamentals", "Bodyweight Strength", "Posterior Chain Power",
                 "Full-Body Dumbbell Session", "Core Stability", "Strength After 40"),
    "mindset": ("Building Habits That Last", "Self-Compassion", "Resilience Toolkit",
                "Goal Setting with Intention", "Overcoming Procrastination", "Gratitude Practice"),
    "mobility": ("Desk Worker Mobility", "Shoulder Mobility", "Spine Health", "Hip Mobility Flow",
                 "Ankle and Knee Care", "Ten-Minute Mobility Break"),
    "sleep": ("Sleep Hygiene Basics", "Yoga Nidra for Sleep", "Bedtime Breathing",
              "Winding Down Without Screens", "Understanding Sleep Cycles"),
}
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
_STAFF_BIO = "{name} is a certified {category} teacher with {years} years of experience."
_CUSTOMER_BIOS = (
    "Busy parent finding calm one breath at a time.",
    "Runner, reader and recovering perfectionist.",
    "Learning to move better every day.",
    "Nurse on night shifts; meditation keeps me sane.",
    "Software engineer trying to spend less time sitting.",
)
_REFUND_REASONS = (
    "Purchased by mistake", "Duplicate purchase", "Content did not match description",
    "Playback issues", "Customer request", "Accidental purchase by family member",
)
_CANCELLATION_REASONS = (
    "Schedule conflict", "Feeling unwell", "Travel plans changed", "Found a different session",
    "Family emergency", "Booked the wrong date",
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CITIES = (
    "Studio Loft, 120 Market Street, San Francisco, CA",
    "Riverside Wellness Center, 45 Quay Road, Portland, OR",
    "The Barn at Willow Farm, Hudson Valley, NY",
    "Casa Serena, Tulum, Quintana Roo, Mexico",
    "Mountain Lodge, 8 Pine Ridge Road, Boulder, CO",
)


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------

_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def _uuid(rng: random.Random) -> str:
    """A random-looking version-4 UUID in canonical text form, drawn from ``rng``.

    Text rather than :class:`uuid.UUID` because it is what COPY needs and what JSON arrays of
    ids (content_order, featured_content_ids) must contain."""
    h = (rng.getrandbits(128) & _V4_CLEAR | _V4_SET).to_bytes(16).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _slugify(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


class _Slugs:
    """Hands out unique slugs: the first use of a title gets the plain slug, later ones a suffix."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, title: str) -> str:
        base = _slugify(title)
        self._seen[base] += 1
        n = self._seen[base]
        return base if n == 1 else f"{base}-{n}"


class _Choice:
    """A weighted choice among the values of an enumerated column.

    :meth:`nth` walks through every value for the first draws, so that even a small demo shows
    each value at least once, then follows the weights."""

    __slots__ = ("values", "_cum", "_total")

    def __init__(self, weighted: dict) -> None:
        self.values = tuple(weighted)
        self._cum = list(accumulate(weighted.values()))
        self._total = self._cum[-1]

    def draw(self, rng: random.Random):
        return self.values[bisect_right(self._cum, rng.random() * self._total)]

    def nth(self, rng: random.Random, n: int):
        return self.values[n] if n < len(self.values) else self.draw(rng)


def _pick(rng: random.Random, seq):
    """``_pick(rng, seq)`` at a third of the cost (no rejection sampling; the bias of
    ``random() * n`` is far below anything a demo could show)."""
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, n: int) -> int:
    """``_below(rng, n)``, cheaper for the same reason as :func:`_pick`."""
    return int(rng.random() * n)


def _between(rng: random.Random, lo: int, hi: int) -> int:
    """A whole second in ``[lo, hi)``, or ``lo`` when the interval is empty."""
    return lo + int(rng.random() * (hi - lo)) if hi > lo else lo


class _Clock:
    """Formats instants given as whole seconds relative to the anchor (negative = before it).

    Keeping times as ints makes the arithmetic cheap, and formatting is two table look-ups: far
    cheaper than building ``datetime`` objects and letting psycopg dump them."""

    DAYS_BEFORE = 1_200
    DAYS_AFTER = 800

    def __init__(self, anchor: datetime) -> None:
        self.anchor = anchor
        self._day_offset = self.DAYS_BEFORE
        self._anchor_second = anchor.hour * _HOUR + anchor.minute * _MINUTE + anchor.second
        first = anchor.date() - timedelta(days=self.DAYS_BEFORE)
        self._days = [
            (first + timedelta(days=d)).isoformat()
            for d in range(self.DAYS_BEFORE + self.DAYS_AFTER + 1)
        ]
        self._times = [
            f" {h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
        ]

    def ts(self, offset: int) -> str:
        day, second = divmod(offset + self._anchor_second, _DAY)
        return self._days[day + self._day_offset] + self._times[second]

    def date(self, offset: int) -> str:
        return self._days[(offset + self._anchor_second) // _DAY + self._day_offset]

    def weekday(self, offset: int) -> str:
        moment = self.anchor + timedelta(seconds=offset)
        return _WEEKDAYS[moment.weekday()]


def _ts_or_none(clock: _Clock, offset: int | None) -> str | None:
    return None if offset is None else clock.ts(offset)


def _normalise_anchor(anchor: datetime | None) -> datetime:
    """Naive UTC, whole seconds; the default is now, so the demo runs up to the current time
    (a demo that stopped at midnight made every chart's running period plunge)."""
    if anchor is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if anchor.tzinfo is not None:
        anchor = anchor.astimezone(UTC).replace(tzinfo=None)
    return anchor.replace(microsecond=0)


EUR_CUSTOMER_EVERY = 8
"""One customer in this many pays in euros, so the demo's revenue has a second currency."""


def _customer_currency(i: int) -> str:
    # By index, not by the random generator: every other demo figure stays as it was.
    return "eur" if i % EUR_CUSTOMER_EVERY == 3 else "usd"


def _chunks(items: range, size: int) -> Iterator[range]:
    for start in range(items.start, items.stop, size):
        yield range(start, min(start + size, items.stop))


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------

_TABLES = (
    "users", "content_series", "content", "purchases", "content_access", "video_playback",
    "platform_settings", "subscription_tiers", "subscriptions", "offerings", "offering_bookings",
    "credit_balances", "credit_transactions", "offering_portal_access", "offering_resources",
    "email_logs", "notifications", "events", "referral_codes", "referrals", "referral_rewards",
    "user_referral_rewards",
)


class _Loader:
    """COPYs rows into tables, counts them and reports progress."""

    def __init__(self, conn: psycopg.Connection, progress: Progress | None) -> None:
        self.conn = conn
        self.counts: dict[str, int] = dict.fromkeys(_TABLES, 0)
        self._progress = progress

    def report(self, stage: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress(stage, done, total)

    def copy(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
        *, total: int | None = None, quiet: bool = False,
    ) -> int:
        """COPY ``rows`` into ``table``. Unless quiet, report the stage (named after the
        table) at its start, every 10,000 rows and at its end; ``total`` defaults to
        ``len(rows)``."""
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        if not quiet:
            total = len(rows) if total is None else total  # type: ignore[arg-type]
            self.report(table, 0, total)
        done = 0
        with self.conn.cursor().copy(query) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                done += 1
                if not quiet and done % _PROGRESS_EVERY == 0:
                    self.report(table, done, max(total or 0, done))
        self.counts[table] += done
        if not quiet:
            self.report(table, done, done)
        return done


@contextmanager
def _bulk_load_mode(conn: psycopg.Connection, tables: tuple[str, ...]) -> Iterator[None]:
    """Load the tables without their indexes and foreign keys, as pg_restore does.

    Maintaining a B-tree row by row costs a random page visit per row and index, which grows
    with the table; checking a foreign key costs a trigger and a look-up per row. Building each
    index once from the loaded rows and validating each foreign key with one join is several
    times faster. So, inside the caller's transaction: drop the tables' foreign keys, their
    primary keys and unique constraints (unless a foreign key of some other table depends on
    one) and their plain indexes; after the load, recreate them verbatim from the definitions
    the catalog gave, names included (keys first, so the foreign keys find them), and ANALYZE.
    Any failure, a duplicate key included, rolls the whole fill back and leaves the schema as
    it was. Skipped when the current role does not own every table (it could not alter them).
    """
    regclasses = list(tables)
    with conn.cursor() as cur:
        owns_all = cur.execute(
            "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c"
            " WHERE c.oid = ANY(%s::regclass[])",
            (regclasses,),
        ).fetchone()[0]
        if not owns_all:
            yield
            return
        foreign_keys = cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " ORDER BY 1, 2",
            (regclasses,),
        ).fetchall()
        keys = cur.execute(
            "SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)"
            " FROM pg_constraint k WHERE k.contype IN ('p', 'u')"
            " AND k.conrelid = ANY(%(t)s::regclass[]) AND NOT EXISTS ("
            "   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'"
            "   AND f.conindid = k.conindid AND NOT f.conrelid = ANY(%(t)s::regclass[]))"
            " ORDER BY k.contype, 1, 2",
            {"t": regclasses},
        ).fetchall()
        indexes = cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique"
            " AND NOT i.indisprimary AND NOT i.indisexclusion"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY 1",
            (regclasses,),
        ).fetchall()
        for table, name, _ in (*foreign_keys, *keys):
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)))
        for index, _ in indexes:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
    yield
    with conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL work_mem = '64MB'")
        for table, name, definition in (*keys, *foreign_keys):
            cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)))
        for _, definition in indexes:
            cur.execute(sql.SQL(definition))
        cur.execute(sql.SQL("ANALYZE {}").format(
            sql.SQL(", ").join(map(sql.Identifier, tables))))


# ------------------------------------------------------------------------------------------------
# People: users, their roles and timelines, and who referred whom
# ------------------------------------------------------------------------------------------------


@dataclass
class _People:
    """Users as later stages need them: ids, emails and the window in which each could act.

    ``active_from`` is when the user verified their email (the platform requires it before a
    purchase); unverified users have ``_FAR_FUTURE`` and so never buy, book or subscribe.
    ``deleted`` maps the ~2% soft-deleted customers to their deletion time."""

    ids: list[str]
    emails: list[str]
    first_names: array
    last_names: array
    roles: tuple[tuple[str, range], ...]
    created: array
    active_from: array
    deleted: dict[int, int]
    customers: range
    content_creators: range  # platform_owners and media_owners
    media_owners: range

    def end(self, i: int) -> int:
        """Until when user ``i`` can act: their deletion, or the anchor."""
        return self.deleted.get(i, 0)

    def can_buy(self, i: int) -> bool:
        """Verified, with a few hours of account life in which to buy."""
        return self.active_from[i] < self.end(i) - 3 * _HOUR

    def can_subscribe(self, i: int) -> bool:
        """Verified days before the anchor (or their deletion): room for plans and bookings."""
        return self.active_from[i] < self.end(i) - 3 * _DAY


def _role_sizes(n: int) -> tuple[tuple[str, int], ...]:
    owners = 2 + n // 200_000
    media_owners = max(6, n // 1_000)
    return (
        ("platform_creator", 2),
        ("platform_owner", owners),
        ("media_owner", media_owners),
        ("customer", n - 2 - owners - media_owners),
    )


def _plan_people(rng: random.Random, n: int) -> _People:
    """Roles, sign-up times, verification, deletion, names and unique emails.

    Staff come first and so signed up first; sign-ups then accelerate towards the anchor (a
    growing platform), which also makes "earlier index" mean "signed up earlier"."""
    roles: list[tuple[str, range]] = []
    start = 0
    for role, size in _role_sizes(n):
        roles.append((role, range(start, start + size)))
        start += size
    customers = roles[3][1]
    first_customer = customers.start

    created = array("q")
    active_from = array("q")
    deleted: dict[int, int] = {}
    for i in range(n):
        signed_up = min(-_USER_SPAN + int(_USER_SPAN * ((i + rng.random()) / n) ** 0.6), -_MINUTE)
        created.append(signed_up)
        if i < first_customer or rng.random() < 0.88:
            verified = min(signed_up + _MINUTE + int(rng.random() * 2 * _DAY), -30)
        else:
            verified = _FAR_FUTURE
        active_from.append(verified)
        if i >= first_customer and rng.random() < 0.02:
            lo = max(signed_up if verified == _FAR_FUTURE else verified, -_RECENT) + 3 * _HOUR
            if lo < -_HOUR:
                deleted[i] = _between(rng, lo, -_MINUTE)

    first_names = array("H")
    last_names = array("H")
    emails: list[str] = []
    used: Counter[str] = Counter()
    for _ in range(n):
        fi = _below(rng, len(_FIRST_NAMES))
        li = _below(rng, len(_LAST_NAMES))
        first_names.append(fi)
        last_names.append(li)
        emails.append(_email(rng, _FIRST_NAMES[fi].lower(), _LAST_NAMES[li].lower(), used))

    return _People(
        ids=[_uuid(rng) for _ in range(n)],
        emails=emails,
        first_names=first_names,
        last_names=last_names,
        roles=tuple(roles),
        created=created,
        active_from=active_from,
        deleted=deleted,
        customers=customers,
        content_creators=range(roles[1][1].start, roles[2][1].stop),
        media_owners=roles[2][1],
    )


def _email(rng: random.Random, first: str, last: str, used: Counter[str]) -> str:
    """``maria.garcia42@example.com`` and friends, unique by construction.

    The local part is a letters-only base plus a number; the k-th user of a base gets a number
    from a range of its own (1-7, 8-14, ...), so no two users can end up with the same address
    whatever their domains."""
    base = _pick(rng, (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}",
                       f"{first}_{last}", f"{last}.{first}"))
    k = used[base]
    used[base] += 1
    number = "" if k == 0 and rng.random() < 0.4 else str(7 * k + 1 + _below(rng, 7))
    return f"{base}{number}@{_pick(rng, _EMAIL_DOMAINS)}"


@dataclass
class _Referral:
    referred: int
    referrer: int
    at: int
    status: str
    claimed_at: int | None


@dataclass
class _Referrals:
    """Who holds a referral code, who was referred by whom, and how far each referral got."""

    codes: dict[int, tuple[str, int, int | None, bool]]  # user -> code, created, expires, active
    referrals: list[_Referral]
    referred_by: dict[int, int]
    counts: Counter[int]


_REFERRAL_STATUS = _Choice({"rewarded": 45, "pending": 25, "qualified": 30})


def _plan_referrals(rng: random.Random, people: _People) -> _Referrals:
    """Codes for media owners and ~15% of verified customers; ~8% of customers were referred.

    Computed before any user row is written because users carry ``referral_count``,
    ``was_referred`` and ``referred_by``. A referral only uses a code that existed, had not
    expired and whose holder was not deleted when the referred user signed up."""
    codes: dict[int, tuple[str, int, int | None, bool]] = {}
    used: set[str] = set()
    holders: list[int] = []
    for i in (*people.media_owners, *people.customers):
        if people.active_from[i] == _FAR_FUTURE:
            continue
        if i in people.customers and rng.random() >= 0.15:
            continue
        created = min(people.active_from[i] + int(rng.random() * 30 * _DAY), -_MINUTE)
        expires = created + 365 * _DAY if rng.random() < 0.1 else None
        active = (expires is None or expires > 0) and i not in people.deleted
        first = _FIRST_NAMES[people.first_names[i]].upper()[:6]
        code = f"{first}{_hex(rng, 5).upper()}"
        while code in used:
            code = f"{first}{_hex(rng, 5).upper()}"
        used.add(code)
        codes[i] = (code, created, expires, active)
        holders.append(i)

    referrals: list[_Referral] = []
    referred_by: dict[int, int] = {}
    counts: Counter[int] = Counter()
    for i in people.customers:
        if rng.random() >= 0.08:
            continue
        earlier = bisect_left(holders, i)
        if earlier == 0:
            continue
        at = people.created[i]
        for _ in range(3):
            h = holders[int(earlier * rng.random() ** 1.5)]
            _, code_created, expires, _ = codes[h]
            usable_until = min(expires or _FAR_FUTURE, people.deleted.get(h, _FAR_FUTURE))
            if code_created < at < usable_until:
                break
        else:
            continue
        status = _REFERRAL_STATUS.nth(rng, len(referrals))
        if status == "pending" or (len(referrals) >= 3 and -at < 14 * _DAY):
            status, claimed = "pending", None
        elif status == "qualified":
            claimed = None
        else:
            claimed = min(at + _between(rng, 3 * _DAY, 45 * _DAY), -_MINUTE)
        referrals.append(_Referral(i, h, at, status, claimed))
        referred_by[i] = h
        counts[h] += 1
    return _Referrals(codes, referrals, referred_by, counts)


_USER_COLUMNS = (
    "id", "email", "password_hash", "full_name", "role", "profile_image_url", "bio",
    "email_verified_at", "email_verification_token", "email_verification_expires_at",
    "password_reset_token", "password_reset_expires_at", "stripe_customer_id",
    "stripe_connect_account_id", "created_at", "updated_at", "deleted_at", "referral_count",
    "was_referred", "referred_by",
)


def _user_rows(
    rng: random.Random, clock: _Clock, people: _People, refs: _Referrals
) -> Iterator[tuple]:
    ts = clock.ts
    ids = people.ids
    for role, members in people.roles:
        staff = role != "customer"
        for i in members:
            uid = ids[i]
            created = people.created[i]
            verified = people.active_from[i]
            first = _FIRST_NAMES[people.first_names[i]]
            updated = created
            if verified == _FAR_FUTURE:
                verified_at = None
                token = _hex(rng, 40)
                token_expires = ts(created + _DAY)
            else:
                verified_at = ts(verified)
                token = token_expires = None
                updated = verified
            reset_token = reset_expires = None
            if rng.random() < 0.01:
                requested = _between(rng, max(created, -30 * _DAY), -_MINUTE)
                reset_token, reset_expires = _hex(rng, 40), ts(requested + _HOUR)
                updated = max(updated, requested)
            deleted = people.deleted.get(i)
            if deleted is not None:
                updated = deleted
            elif rng.random() < 0.3:
                updated = _between(rng, updated, 0)
            if staff:
                bio = _STAFF_BIO.format(
                    name=first, category=_pick(rng, _CATEGORIES), years=rng.randint(3, 25)
                )
            else:
                bio = _pick(rng, _CUSTOMER_BIOS) if rng.random() < 0.04 else None
            image = (
                f"https://cdn.example.com/avatars/{uid}.jpg"
                if staff or rng.random() < 0.35 else None
            )
            plain = uid.replace("-", "")
            referrer = refs.referred_by.get(i)
            yield (
                uid, people.emails[i], _PASSWORD_HASH,
                f"{first} {_LAST_NAMES[people.last_names[i]]}", role, image, bio,
                verified_at, token, token_expires, reset_token, reset_expires,
                f"cus_demo_{plain[:16]}" if not staff else None,
                f"acct_demo_{plain[16:32]}" if role == "media_owner" else None,
                ts(created), ts(updated), _ts_or_none(clock, deleted),
                refs.counts.get(i, 0), referrer is not None,
                None if referrer is None else ids[referrer],
            )


# ------------------------------------------------------------------------------------------------
# Catalog: content series and content
# ------------------------------------------------------------------------------------------------


@dataclass
class _Item:
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
class _Catalog:
    series: list[_Series]
    items: list[_Item]
    priced: list[int]  # published items with a price: what customers buy
    popular: list[int]  # ``priced`` repeated by popularity, for cheap weighted draws
    published: list[int]
    members_only: dict[str, list[int]]  # category -> published members_only items


_CONTENT_TYPE = _Choice({"video": 50, "written": 30, "audio": 20})
_VISIBILITY = _Choice({"purchased_only": 50, "public": 20, "members_only": 20, "private": 10})
_CONTENT_STATUS = _Choice({"published": 75, "draft": 15, "archived": 10})
_SERIES_STATUS = _Choice({"published": 75, "draft": 15, "archived": 10})
_ITEM_PRICE = _Choice(_PRICE)


def _content_count(users: int) -> int:
    return max(60, users // 400)


def _plan_catalog(rng: random.Random, people: _People, n_items: int) -> _Catalog:
    """Series first, each with a few items by the same creator in one category, then
    standalone items. Statuses follow the series (a draft series has draft items)."""
    creators = people.content_creators
    n_series = min(n_items // 4, 24 + n_items // 50)
    budget = int(n_items * 0.55)
    slugs = _Slugs()
    series_list: list[_Series] = []
    items: list[_Item] = []

    def creator_and_start() -> tuple[int, int]:
        creator = creators[_below(rng, len(creators))]
        return creator, _between(rng, people.active_from[creator] + _DAY, -2 * _DAY)

    for s in range(n_series):
        creator, created = creator_and_start()
        category = _pick(rng, _CATEGORIES)
        title = f"{_pick(rng, _SERIES_PREFIXES)} {category.capitalize()}"
        status = _SERIES_STATUS.nth(rng, s)
        published = min(created + _between(rng, _HOUR, 10 * _DAY), -_DAY) \
            if status != "draft" else None
        series = _Series(
            idx=s, id=_uuid(rng), creator=creator, category=category, title=title,
            slug=slugs(title), status=status,
            price=_pick(rng, _SERIES_PRICES) if rng.random() < 0.4 else None,
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
            rng, people, slugs, len(items), creator, created, _pick(rng, _CATEGORIES),
            _CONTENT_TYPE.nth(rng, standalone), _VISIBILITY.nth(rng, standalone),
            _CONTENT_STATUS.nth(rng, standalone), series=None,
        ))
        standalone += 1

    published = [it.idx for it in items if it.status == "published"]
    priced = [i for i in published if items[i].price is not None]
    popular = [i for i in priced for _ in range(min(40, int(rng.paretovariate(1.1))))]
    rng.shuffle(popular)
    members_only: dict[str, list[int]] = {c: [] for c in _CATEGORIES}
    for i in published:
        if items[i].visibility == "members_only":
            members_only[items[i].category].append(i)
    return _Catalog(series_list, items, priced, popular, published, members_only)


def _new_item(
    rng: random.Random, people: _People, slugs: _Slugs, idx: int, creator: int, not_before: int,
    category: str, content_type: str, visibility: str, status: str, *, series: int | None,
) -> _Item:
    title = _pick(rng, _TOPICS[category]) + _pick(rng, _TITLE_SUFFIXES)
    created = _between(rng, not_before, -_DAY)
    published = min(created + _between(rng, _HOUR, 14 * _DAY), -_DAY) \
        if status != "draft" else None
    if visibility == "purchased_only":
        priced = True
    elif visibility == "members_only":
        priced = rng.random() < 0.4
    else:
        priced = rng.random() < 0.15
    price = _ITEM_PRICE.draw(rng) if priced else None
    if content_type == "video":
        duration = rng.randint(5, 90) * 60 + _below(rng, 60)
    elif content_type == "audio":
        duration = rng.randint(5, 60) * 60 + _below(rng, 60)
    else:
        duration = None
    item = _Item(idx, _uuid(rng), creator, content_type, category, title, slugs(title),
                 visibility, status, price, created, published, duration, series)
    if price is not None:
        fee = Decimal(price) * Decimal("0.30") if creator in people.media_owners else Decimal(0)
        item.fee, item.payout = _money(fee), _money(Decimal(price) - fee)
    return item


_SERIES_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "thumbnail_url", "price",
    "content_order", "status", "published_at", "created_at", "updated_at", "deleted_at",
)


def _series_rows(clock: _Clock, people: _People, catalog: _Catalog) -> Iterator[tuple]:
    for s in catalog.series:
        order = json.dumps([catalog.items[i].id for i in s.items])
        last = max([s.created, s.published or s.created,
                    *(catalog.items[i].created for i in s.items)])
        yield (
            s.id, people.ids[s.creator], s.title, s.slug,
            f"A step-by-step {s.category} journey in {len(s.items) or 'several'} sessions.",
            f"https://cdn.example.com/series/{s.slug}.jpg", s.price, order, s.status,
            _ts_or_none(clock, s.published), clock.ts(s.created), clock.ts(last), None,
        )


_CONTENT_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "content_type", "media_url",
    "media_duration_seconds", "thumbnail_url", "content_body", "category", "tags", "series_id",
    "visibility", "price", "status", "published_at", "view_count", "purchase_count",
    "prerequisite_content_ids", "created_at", "updated_at", "deleted_at",
)


def _content_rows(
    rng: random.Random, clock: _Clock, people: _People, catalog: _Catalog
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
        tags = json.dumps([it.category, _pick(rng, _LEVELS), *rng.sample(_CATEGORIES, 1)])
        views = int(rng.paretovariate(1.3) * 40) if it.published is not None else 0
        updated = _between(rng, it.published or it.created, 0)
        yield (
            it.id, people.ids[it.creator], it.title, it.slug,
            f"{it.title}: a {it.content_type} {it.category} session.", it.content_type,
            media_url, it.duration, thumbnail, body, it.category, tags,
            None if it.series is None else catalog.series[it.series].id, it.visibility,
            it.price, it.status, _ts_or_none(clock, it.published), views, 0,
            json.dumps([it.prerequisite] if it.prerequisite else []),
            clock.ts(it.created), clock.ts(updated), None,
        )


# ------------------------------------------------------------------------------------------------
# Subscription tiers and offerings
# ------------------------------------------------------------------------------------------------


@dataclass
class _Tier:
    id: str
    name: str
    monthly: str
    yearly: str
    categories: tuple[str, ...]
    full_catalog: bool
    offering_types: tuple[str, ...]  # offering types included in the plan
    monthly_credits: int
    rollover: bool
    active: bool


_TIER_SPECS = (
    ("Essentials", "12.00", "120.00", ("yoga", "meditation"), False, (), 0, False, True),
    ("Mind & Body", "19.00", "190.00", ("yoga", "meditation", "breathwork", "mindset"), False,
     (), 2, False, True),
    ("All Access", "29.00", "290.00", _CATEGORIES, True, ("recurring_fixed",), 4, True, True),
    ("VIP", "79.00", "790.00", _CATEGORIES, True,
     ("one_time_event", "recurring_fixed", "recurring_bookable"), 10, True, True),
    ("Founding Member", "9.00", "90.00", ("yoga",), False, (), 1, False, False),
)
_TIER_WEIGHTS = _Choice({0: 33, 1: 30, 2: 22, 3: 8, 4: 7})  # index into _TIER_SPECS
_TIER_RETIRED_AT = -560 * _DAY  # when the inactive tier stopped taking new members


def _tier_created(n: int) -> int:
    return -_USER_SPAN + (n + 1) * 30 * _DAY


def _plan_tiers(rng: random.Random) -> list[_Tier]:
    return [_Tier(_uuid(rng), *spec) for spec in _TIER_SPECS]


_TIER_COLUMNS = (
    "id", "name", "description", "price_monthly", "price_yearly", "category_access",
    "full_catalog_access", "offering_access_rules", "monthly_credits", "credit_rollover",
    "active", "created_at", "updated_at",
)


def _tier_rows(clock: _Clock, tiers: list[_Tier]) -> Iterator[tuple]:
    for n, t in enumerate(tiers):
        rules = [{"type": kind, "included": True} for kind in t.offering_types]
        created = _tier_created(n)
        yield (
            t.id, t.name, f"{t.name}: {', '.join(t.categories)}"
            + (f" and {t.monthly_credits} credits a month" if t.monthly_credits else ""),
            t.monthly, t.yearly, json.dumps(list(t.categories)), t.full_catalog,
            json.dumps(rules), t.monthly_credits, t.rollover, t.active,
            clock.ts(created), clock.ts(created if t.active else _TIER_RETIRED_AT),
        )


@dataclass
class _Offering:
    idx: int
    id: str
    creator: int
    offering_type: str
    title: str
    slug: str
    capacity_type: str
    max_participants: int | None
    delivery: str
    price: str
    credit_cost: int | None
    status: str
    created: int
    published: int | None
    start: int | None  # first session of dated offerings; None for recurring ones
    end: int | None
    deadline: int | None
    access_after_days: int | None
    spots_left: int = _FAR_FUTURE


_ARCHETYPES = (
    # (offering_type, capacity_type, delivery_method): the first ones cover every value
    ("one_time_event", "large_group", "online"),
    ("multi_day_program", "small_group", "hybrid"),
    ("recurring_fixed", "large_group", "in_person"),
    ("recurring_bookable", "one_on_one", "online"),
    ("cohort_course", "unlimited", "self_guided"),
    ("retreat", "small_group", "in_person"),
    ("one_time_event", "unlimited", "online"),
    ("recurring_fixed", "small_group", "hybrid"),
    ("cohort_course", "large_group", "online"),
    ("recurring_bookable", "one_on_one", "in_person"),
    ("multi_day_program", "unlimited", "self_guided"),
    ("one_time_event", "small_group", "in_person"),
)
_RECURRING = ("recurring_fixed", "recurring_bookable")
_OFFERING_STATUS = _Choice({"published": 80, "draft": 10, "archived": 10})
_OFFERING_NOUNS = {
    "one_time_event": "Workshop", "multi_day_program": "Intensive", "recurring_fixed": "Class",
    "recurring_bookable": "1:1 Session", "cohort_course": "Cohort", "retreat": "Retreat",
}


def _offering_count(users: int) -> int:
    return max(24, users // 2_000)


def _plan_offerings(rng: random.Random, people: _People, n: int) -> list[_Offering]:
    creators = people.content_creators
    slugs = _Slugs()
    offerings = []
    for idx in range(n):
        kind, capacity, delivery = _ARCHETYPES[idx] if idx < len(_ARCHETYPES) \
            else _pick(rng, _ARCHETYPES)
        creator = creators[_below(rng, len(creators))]
        category = _pick(rng, _CATEGORIES)
        title = f"{_pick(rng, _TOPICS[category])} {_OFFERING_NOUNS[kind]}"
        # the archetypes are all open for booking; later offerings cover the other statuses
        status = "published" if idx < len(_ARCHETYPES) \
            else _OFFERING_STATUS.nth(rng, idx - len(_ARCHETYPES))
        max_participants = {
            "one_on_one": 1, "small_group": rng.randint(6, 16),
            "large_group": _pick(rng, (30, 50, 100, 200)), "unlimited": None,
        }[capacity]
        start = end = deadline = None
        if kind in _RECURRING:
            created = _between(rng, max(people.active_from[creator], -700 * _DAY), -30 * _DAY)
        else:
            start = _between(rng, -365 * _DAY, 120 * _DAY) // _HOUR * _HOUR
            if status == "archived":
                start = min(start, -30 * _DAY)
            end = start + {"one_time_event": 2 * _HOUR, "multi_day_program": 4 * _DAY,
                           "cohort_course": 42 * _DAY, "retreat": 5 * _DAY}[kind]
            created = min(max(start - _between(rng, 45 * _DAY, 120 * _DAY),
                              people.active_from[creator] + _HOUR), -_DAY)
            deadline = start - _DAY
        published = None if status == "draft" else min(created + _between(rng, _HOUR, 7 * _DAY),
                                                       -_HOUR)
        offerings.append(_Offering(
            idx=idx, id=_uuid(rng), creator=creator, offering_type=kind, title=title,
            slug=slugs(title), capacity_type=capacity, max_participants=max_participants,
            delivery=delivery, price=_pick(rng, ("15.00", "25.00", "45.00", "95.00", "250.00"))
            if kind != "retreat" else _pick(rng, ("950.00", "1450.00", "2200.00")),
            credit_cost=None if kind == "retreat" or rng.random() < 0.2 else rng.randint(1, 5),
            status=status, created=created, published=published, start=start, end=end,
            deadline=deadline, access_after_days=None if kind in _RECURRING else 30,
            spots_left=max_participants if (max_participants and start is not None)
            else _FAR_FUTURE,
        ))
    return offerings


def _schedule(rng: random.Random, clock: _Clock, o: _Offering) -> str:
    """The schedule JSON, shaped per offering type as the platform's schema describes."""
    hour = f"{rng.randint(7, 19):02d}:{_pick(rng, ('00', '30'))}"
    kind = o.offering_type
    if kind == "one_time_event":
        value: dict = {"date": clock.date(o.start), "start_time": hour, "duration_minutes": 120}
    elif kind == "recurring_fixed":
        value = {"pattern": "weekly", "day": _pick(rng, _WEEKDAYS), "time": hour,
                 "duration_minutes": _pick(rng, (45, 60, 75))}
    elif kind == "recurring_bookable":
        days = rng.sample(_WEEKDAYS[:5], 3)
        value = {"availability": {d: [{"start": "09:00", "end": "12:00"},
                                      {"start": "14:00", "end": "17:00"}] for d in days},
                 "booking_window_days": 14, "buffer_minutes": 15, "session_minutes": 50}
    elif kind == "multi_day_program":
        value = {"start_date": clock.date(o.start), "end_date": clock.date(o.end),
                 "sessions": [{"date": clock.date(o.start + d * _DAY), "start_time": hour,
                               "duration_minutes": 90} for d in range(5)]}
    elif kind == "cohort_course":
        value = {"cohort_start_date": clock.date(o.start), "weeks": 6, "sessions_per_week": 1,
                 "day": clock.weekday(o.start), "time": hour, "duration_minutes": 75}
    else:
        value = {"start_date": clock.date(o.start), "end_date": clock.date(o.end),
                 "check_in_time": "15:00", "check_out_time": "11:00"}
    return json.dumps(value)


_OFFERING_COLUMNS = (
    "id", "creator_id", "title", "slug", "description", "offering_type", "capacity_type",
    "max_participants", "delivery_method", "location_details", "video_conference_provider",
    "schedule", "price", "credit_cost", "payment_options", "status", "published_at",
    "registration_deadline", "portal_config", "booking_count", "created_at", "updated_at",
    "deleted_at",
)


def _offering_rows(
    rng: random.Random, clock: _Clock, people: _People, offerings: list[_Offering]
) -> Iterator[tuple]:
    """``booking_count`` starts at 0 and is set once the bookings are known."""
    for o in offerings:
        online = o.delivery in ("online", "hybrid")
        in_person = o.delivery in ("in_person", "hybrid")
        options = {"installments": True} if o.offering_type in ("retreat", "cohort_course") \
            else {"pay_per_session": True} if o.offering_type in _RECURRING else {}
        portal = {} if o.access_after_days is None else {
            "access_before_days": 7, "access_after_days": o.access_after_days,
            "tabs": ["overview", "schedule", "resources", "recordings"]}
        yield (
            o.id, people.ids[o.creator], o.title, o.slug,
            f"{o.title}: {o.delivery.replace('_', ' ')}, {o.capacity_type.replace('_', ' ')}.",
            o.offering_type, o.capacity_type, o.max_participants, o.delivery,
            _pick(rng, _CITIES) if in_person else None,
            _pick(rng, ("zoom", "google_meet")) if online else None,
            _schedule(rng, clock, o), o.price, o.credit_cost, json.dumps(options), o.status,
            _ts_or_none(clock, o.published), _ts_or_none(clock, o.deadline), json.dumps(portal),
            0, clock.ts(o.created), clock.ts(o.published or o.created), None,
        )


_RESOURCE_TYPE = _Choice({"content": 35, "file": 30, "link": 20, "text": 15})
_AVAILABLE_WHEN = _Choice({"during": 40, "before": 20, "after": 20, "always": 20})
_RESOURCE_COLUMNS = (
    "id", "offering_id", "resource_type", "content_id", "file_url", "link_url", "text_content",
    "title", "description", "available_when", "unlock_at", "display_order", "created_at",
    "updated_at",
)


def _resource_rows(
    rng: random.Random, clock: _Clock, catalog: _Catalog, offerings: list[_Offering]
) -> Iterator[tuple]:
    """A workbook, a recording, a link or a note for ~60% of offerings."""
    n = 0
    for o in offerings:
        if rng.random() >= 0.6:
            continue
        for order in range(rng.randint(1, 4)):
            kind = _RESOURCE_TYPE.nth(rng, n)
            when = _AVAILABLE_WHEN.nth(rng, n)
            n += 1
            content_id = file_url = link_url = text = None
            if kind == "content" and catalog.published:
                item = catalog.items[_pick(rng, catalog.published)]
                content_id, title = item.id, item.title
            elif kind == "link":
                link_url, title = f"https://www.example.org/reading/{o.slug}", "Further reading"
            elif kind == "text":
                text, title = "Bring water, a mat and a blanket. Arrive 10 minutes early.", \
                    "What to bring"
            else:
                kind = "file"
                file_url, title = f"https://files.example.com/offerings/{o.slug}/workbook.pdf", \
                    "Workbook (PDF)"
            unlock = o.start if when in ("during", "after") and o.start is not None else None
            yield (
                _uuid(rng), o.id, kind, content_id, file_url, link_url, text, title, None, when,
                _ts_or_none(clock, unlock), order, clock.ts(o.created), clock.ts(o.created),
            )


# ------------------------------------------------------------------------------------------------
# Customer activity: subscriptions, purchases, access, playback, bookings and credits
# ------------------------------------------------------------------------------------------------

_SUBSCRIPTION_COLUMNS = (
    "id", "customer_id", "tier_id", "stripe_subscription_id", "billing_period",
    "current_period_start", "current_period_end", "status", "cancel_at_period_end",
    "trial_end", "created_at", "updated_at", "canceled_at",
)
_PURCHASE_COLUMNS = (
    "id", "customer_id", "content_id", "amount_paid", "currency", "stripe_payment_intent_id",
    "platform_fee_amount", "creator_payout_amount", "status", "purchased_at", "refunded_at",
    "refund_reason", "created_at", "updated_at",
)
_ACCESS_COLUMNS = (
    "id", "user_id", "content_id", "access_type", "granted_at", "expires_at",
    "last_accessed_at", "created_at", "updated_at",
)
_PLAYBACK_COLUMNS = (
    "id", "user_id", "content_id", "position_seconds", "duration_seconds", "completed",
    "updated_at", "created_at",
)
_BOOKING_COLUMNS = (
    "id", "customer_id", "offering_id", "payment_method", "amount_paid", "credits_used",
    "stripe_payment_intent_id", "booking_details", "status", "canceled_at",
    "cancellation_reason", "created_at", "updated_at",
)
_PORTAL_COLUMNS = (
    "id", "booking_id", "user_id", "offering_id", "granted_at", "expires_at",
    "last_accessed_at", "created_at", "updated_at",
)
_LEDGER_COLUMNS = (
    "id", "customer_id", "type", "amount", "balance_after", "subscription_id",
    "offering_booking_id", "description", "expires_at", "created_at",
)
_BALANCE_COLUMNS = (
    "id", "customer_id", "current_balance", "lifetime_earned", "lifetime_spent", "updated_at",
    "created_at",
)
_ACTIVITY_TABLES = (  # foreign-key order
    ("subscriptions", _SUBSCRIPTION_COLUMNS),
    ("purchases", _PURCHASE_COLUMNS),
    ("content_access", _ACCESS_COLUMNS),
    ("video_playback", _PLAYBACK_COLUMNS),
    ("offering_bookings", _BOOKING_COLUMNS),
    ("offering_portal_access", _PORTAL_COLUMNS),
    ("credit_transactions", _LEDGER_COLUMNS),
    ("credit_balances", _BALANCE_COLUMNS),
)

_PURCHASE_STATUS = _Choice({"completed": 90, "refunded": 6, "pending": 2, "failed": 2})
_SUBSCRIPTION_STATUS = _Choice({"active": 68, "canceled": 17, "trialing": 7, "past_due": 8})
_BILLING = _Choice({"monthly": 75, "yearly": 25})
_PAST_BOOKING = _Choice({"completed": 80, "canceled": 12, "no_show": 8})
_FUTURE_BOOKING = _Choice({"confirmed": 88, "canceled": 12})

# kinds of timeline events, in the order they sort when they fall on the same second
_GRANT, _EXPIRE, _PACK, _ADJUST, _BOOK, _REFUND = range(6)


@dataclass
class _Subscription:
    id: str
    tier: _Tier
    status: str
    start: int
    active_until: int  # the anchor for live subscriptions, the cancellation otherwise
    period_end: int


def _purchase_counts(
    rng: random.Random, people: _People, catalog: _Catalog, total: int
) -> array:
    """How many purchases each customer makes (indexed from the first customer): ``total``
    in all, long-standing customers buying more. Nobody gets more than the number of items
    they could buy (each at most once), so the requested total is met exactly."""
    customers = people.customers
    anytime = len(catalog.priced)
    # a deleted account closed within the last 90 days: items older than that were on sale
    before_deletion = sum(
        1 for j in catalog.priced if catalog.items[j].published < -_RECENT - 2 * _HOUR
    )
    caps = array("I", (
        0 if not people.can_buy(i) else before_deletion if i in people.deleted else anytime
        for i in customers
    ))
    if total > sum(caps):
        raise ValueError(f"{total} purchases do not fit: the customers can buy {sum(caps)}")
    counts = array("I", bytes(4 * len(customers)))
    n = len(customers)
    for _ in range(total):
        j = int(n * rng.random() ** 1.3)
        while counts[j] >= caps[j]:
            j = _below(rng, n)
        counts[j] += 1
    return counts


class _CustomerActivity:
    """Generates, customer by customer, everything a customer does on the platform.

    Rows accumulate per table for a chunk of customers and are then copied in foreign-key
    order; the counters that other tables carry (``content.purchase_count``,
    ``offerings.booking_count``) are tallied on the way."""

    def __init__(
        self, rng: random.Random, clock: _Clock, people: _People, catalog: _Catalog,
        tiers: list[_Tier], offerings: list[_Offering], purchase_counts: array,
    ) -> None:
        self.rng = rng
        self.clock = clock
        self.people = people
        self.catalog = catalog
        self.tiers = tiers
        self.offerings = offerings
        self.purchase_counts = purchase_counts
        self.dated = [o for o in offerings if o.status == "published" and o.start is not None]
        self.recurring = [o for o in offerings if o.status == "published" and o.start is None]
        self.completed_purchases = [0] * len(catalog.items)
        self.bookings_kept = [0] * len(offerings)
        self.rows: dict[str, list[tuple]] = {table: [] for table, _ in _ACTIVITY_TABLES}
        self.by_type: dict[str, list[_Offering]] = {}
        for o in self.dated + self.recurring:
            self.by_type.setdefault(o.offering_type, []).append(o)
        self.n_purchases = self.n_subscriptions = self.n_active = self.n_ledgers = 0

    # -- driver ----------------------------------------------------------------------------

    def customer(self, i: int) -> None:
        people = self.people
        if not people.can_buy(i):
            return  # unverified (or verified moments ago): nothing to show yet
        regular = people.can_subscribe(i)
        sub = self._subscription(i) if regular and self.rng.random() < 0.12 else None
        owned = self._purchases(i, self.purchase_counts[i - people.customers.start])
        self._other_access(i, sub, owned)
        if regular:
            self._bookings_and_credits(i, sub)
        self.n_active += 1

    def simulate(self, customers: range) -> Iterator[tuple]:
        """Simulate ``customers``, yielding their purchase rows as they come; every other
        table's rows wait in :attr:`rows`."""
        purchases = self.rows["purchases"]
        for i in customers:
            self.customer(i)
            if purchases:
                yield from purchases
                purchases.clear()

    def take_rows(self) -> dict[str, list[tuple]]:
        rows, self.rows = self.rows, {table: [] for table, _ in _ACTIVITY_TABLES}
        return rows

    # -- subscriptions ---------------------------------------------------------------------

    def _subscription(self, i: int) -> _Subscription:
        """One subscription in any status, its periods consistent with the billing period."""
        rng, ts = self.rng, self.clock.ts
        status = _SUBSCRIPTION_STATUS.nth(rng, self.n_subscriptions)
        if i in self.people.deleted:
            status = "canceled"  # deleted accounts lose their plan
        billing = _BILLING.nth(rng, self.n_subscriptions)
        self.n_subscriptions += 1
        tier_index = _TIER_WEIGHTS.draw(rng)
        period = 30 * _DAY if billing == "monthly" else 365 * _DAY
        opened = self.people.active_from[i]
        end = self.people.end(i)
        canceled_at = trial_end = None
        if status == "trialing":
            start = _between(rng, max(opened, -13 * _DAY), -_HOUR)
            period_start, period_end = start, start + 14 * _DAY
            trial_end, active_until = period_end, end
        else:
            start = _between(rng, max(opened, -730 * _DAY), end - 2 * _DAY)
            if rng.random() < 0.3 and start + 14 * _DAY < end:
                trial_end = start + 14 * _DAY
            if status == "canceled":
                canceled_at = _between(rng, start + _DAY, end - _HOUR)
                active_until = canceled_at
            else:
                active_until = end
            # the period running at the anchor, or the one the cancellation fell in (whose
            # end stays as billed, as Stripe keeps it)
            period_start = start + (active_until - start) // period * period
            period_end = period_start + period
        tier = self.tiers[tier_index]
        if start < _tier_created(tier_index) or (not tier.active and start > _TIER_RETIRED_AT):
            tier = self.tiers[0]  # the tier was not on sale then; the basic one always was
        sub_id = _uuid(rng)
        updated = max(start, period_start, canceled_at or start)
        self.rows["subscriptions"].append((
            sub_id, self.people.ids[i], tier.id, f"sub_demo_{_hex(rng, 24)}", billing,
            ts(period_start), ts(period_end), status,
            status == "active" and rng.random() < 0.1, _ts_or_none(self.clock, trial_end),
            ts(start), ts(updated), _ts_or_none(self.clock, canceled_at),
        ))
        return _Subscription(sub_id, tier, status, start, active_until, period_end)

    # -- purchases and access --------------------------------------------------------------

    def _pick_items(self, i: int, count: int) -> list[int]:
        """``count`` distinct items published before the customer's account ended, the
        popular ones more often."""
        rng, items, popular = self.rng, self.catalog.items, self.catalog.popular
        limit = self.people.end(i) - 2 * _HOUR
        chosen: dict[int, None] = {}
        for _ in range(4 * count + 8):
            j = popular[int(rng.random() * len(popular))]
            if j not in chosen and items[j].published < limit:
                chosen[j] = None
                if len(chosen) == count:
                    return list(chosen)
        rest = [j for j in self.catalog.priced if j not in chosen and items[j].published < limit]
        return [*chosen, *rng.sample(rest, count - len(chosen))]

    def _purchases(self, i: int, count: int) -> set[int]:
        """The customer's purchases, and an access row for each completed one; returns the
        items the customer now owns or tried to buy (no other access may duplicate them)."""
        if count == 0:
            return set()
        rng, ts, items = self.rng, self.clock.ts, self.catalog.items
        uid = self.people.ids[i]
        account_end = self.people.deleted.get(i, 0)
        window_start = max(self.people.active_from[i], -_PURCHASE_SPAN)
        end = account_end - _HOUR  # leaves room for a refund
        append = self.rows["purchases"].append
        currency = _customer_currency(i)
        picked = self._pick_items(i, count)
        for j in picked:
            item = items[j]
            status = _PURCHASE_STATUS.nth(rng, self.n_purchases)
            self.n_purchases += 1
            lo = max(window_start, item.published + _MINUTE)
            if status == "pending":  # checkouts do not stay pending for long
                lo = max(lo, end - 2 * _DAY)
            at = _between(rng, lo, end)
            stamp = ts(at)
            pid = _uuid(rng)
            # a sequence number then random digits: unique by construction, and ascending in
            # load order, which makes building the two indexes on it a fast, presorted sort
            intent = f"pi_demo_{self.n_purchases:08x}{pid[-12:]}{pid[:4]}"
            if status == "completed":
                append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                        status, stamp, None, None, stamp, stamp))
                self.completed_purchases[j] += 1
                self._access(uid, account_end, item, "purchased", at, stamp)
            elif status == "refunded":
                refunded = ts(_between(rng, at + _HOUR, min(at + 14 * _DAY, account_end)))
                append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                        status, stamp, refunded, _pick(rng, _REFUND_REASONS), stamp, refunded))
            else:  # pending or failed: never paid
                append((pid, uid, item.id, item.price, currency, intent, item.fee, item.payout,
                        status, None, None, None, stamp, stamp))
        return set(picked)

    def _access(
        self, uid: str, account_end: int, item: _Item, kind: str, granted: int,
        granted_stamp: str, expires: int | None = None,
    ) -> None:
        """An access row (``granted_stamp`` is ``granted`` formatted, which the caller often
        has already), with a playback position for some of the videos."""
        rng, ts = self.rng, self.clock.ts
        end = account_end if expires is None else min(account_end, expires)
        if rng.random() < 0.7 and end > granted:
            last = _between(rng, granted, end)
            last_stamp = ts(last)
        else:
            last, last_stamp = None, None
        self.rows["content_access"].append((
            _uuid(rng), uid, item.id, kind, granted_stamp,
            None if expires is None else ts(expires), last_stamp, granted_stamp,
            last_stamp or granted_stamp,
        ))
        if item.content_type == "video" and last is not None and rng.random() < 0.5:
            duration = item.duration
            position = duration if rng.random() < 0.3 else int(rng.random() * duration)
            self.rows["video_playback"].append((
                _uuid(rng), uid, item.id, position, duration, position >= duration * 0.95,
                last_stamp, ts(_between(rng, granted, last)),
            ))

    def _other_access(self, i: int, sub: _Subscription | None, owned: set[int]) -> None:
        """Members-only items for subscribers, plus the odd gift and preview (the first two
        active customers get one each, so that a small demo shows both)."""
        rng, catalog = self.rng, self.catalog
        uid = self.people.ids[i]
        opened, end = self.people.active_from[i], self.people.end(i)
        if sub is not None:
            pool = [j for c in sub.tier.categories for j in catalog.members_only[c]]
            for j in rng.sample(pool, min(len(pool), rng.randint(1, 3))):
                item = catalog.items[j]
                granted = max(sub.start, item.published + _MINUTE)
                if j in owned or granted >= min(sub.active_until, end):
                    continue
                owned.add(j)
                self._access(uid, end, item, "subscription", granted, self.clock.ts(granted),
                             sub.period_end)
        for kind, chance, days, first in (("complimentary", 0.03, None, 0),
                                          ("preview", 0.015, 7, 1)):
            if (rng.random() >= chance and self.n_active != first) or not catalog.published:
                continue
            j = _pick(rng, catalog.published)
            item = catalog.items[j]
            lo = max(opened, item.published + _MINUTE)
            if j in owned or lo >= end - _HOUR:
                continue
            owned.add(j)
            granted = _between(rng, lo, end - _HOUR)
            self._access(uid, end, item, kind, granted, self.clock.ts(granted),
                         None if days is None else granted + days * _DAY)

    # -- bookings and credits --------------------------------------------------------------

    def _bookings_and_credits(self, i: int, sub: _Subscription | None) -> None:
        """Simulate the customer's bookings and credit ledger in time order.

        A booking is paid by the subscription when the plan includes the offering type, with
        credits when the running balance covers the offering's credit cost, and otherwise by
        card. Subscription credits of plans without rollover expire after 30 days (spending
        uses them first); a canceled credit booking is refunded with an adjustment."""
        rng = self.rng
        opened, end = self.people.active_from[i], self.people.end(i)
        timeline = _Timeline()
        if sub is not None and sub.tier.monthly_credits:
            t = sub.start
            while t < min(sub.active_until, -_HOUR):
                timeline.add(t, _GRANT)
                if not sub.tier.rollover and t + 30 * _DAY - _MINUTE < -_HOUR:
                    timeline.add(t + 30 * _DAY - _MINUTE, _EXPIRE)
                t += 30 * _DAY
        window = (max(opened, -365 * _DAY), end - 2 * _HOUR)
        if rng.random() < (0.15 if sub is not None else 0.03):
            for _ in range(rng.randint(1, 3)):
                timeline.add(_between(rng, *window), _PACK, _pick(rng, (5, 10, 20)))
        if rng.random() < (0.45 if sub is not None else 0.12):
            subscribed = window if sub is None else \
                (max(window[0], sub.start), min(window[1], sub.active_until))
            for _ in range(rng.randint(1, 4)):
                # subscribers mostly book while subscribed
                span = subscribed if subscribed[0] < subscribed[1] and rng.random() < 0.8 \
                    else window
                timeline.add(_between(rng, *span), _BOOK)
        if not timeline:
            return
        if self.n_ledgers == 0:  # so that even a small demo has an adjustment
            timeline.add(_between(rng, *window), _ADJUST, 2)
        elif rng.random() < 0.06:
            timeline.add(_between(rng, *window), _ADJUST, _pick(rng, (2, 3, -1)))
        self.n_ledgers += 1

        uid = self.people.ids[i]
        ledger = _Ledger(rng, self.clock, uid, self.rows["credit_transactions"])
        booked: set[int] = set()
        for t, kind, data in timeline:
            if kind == _GRANT:
                credits, rollover = sub.tier.monthly_credits, sub.tier.rollover
                ledger.post(t, "earned_subscription", credits,
                            f"{credits} monthly credits ({sub.tier.name})", subscription=sub.id,
                            expires=None if rollover else t + 30 * _DAY)
                if not rollover:
                    ledger.expiring = credits
            elif kind == _EXPIRE and ledger.expiring > 0:
                ledger.post(t, "expired", -ledger.expiring, "Unused monthly credits expired")
            elif kind == _PACK:
                ledger.post(t, "earned_purchase", data, f"Purchased a {data}-credit pack")
            elif kind == _ADJUST and ledger.balance + data >= 0:
                ledger.post(t, "adjustment", data,
                            "Goodwill credit from support" if data > 0 else "Balance correction")
            elif kind == _REFUND:
                booking_id, credits = data
                ledger.post(t, "adjustment", credits, "Credits refunded for canceled booking",
                            booking=booking_id)
            elif kind == _BOOK:
                self._book(i, uid, sub, t, ledger, booked, timeline)
        if ledger.first is not None:
            self.rows["credit_balances"].append(ledger.balance_row())

    def _pick_offering(
        self, t: int, booked: set[int], sub: _Subscription | None
    ) -> _Offering | None:
        """A published offering open for booking at ``t``: one the customer's plan includes
        (usually, when there is one), else a dated one with seats left and registration open,
        else a recurring one."""
        rng = self.rng
        pools = [self.dated, self.recurring]
        if sub is not None and sub.start <= t < sub.active_until and rng.random() < 0.7:
            pools.insert(0, [o for kind in sub.tier.offering_types
                             for o in self.by_type.get(kind, ())])
        for pool in pools:
            for _ in range(6 if pool else 0):
                o = pool[_below(rng, len(pool))]
                if o.published < t and (o.start is None or (
                        t < o.deadline and o.spots_left > 0 and o.idx not in booked)):
                    return o
        return None

    def _book(
        self, i: int, uid: str, sub: _Subscription | None, t: int, ledger: _Ledger,
        booked: set[int], timeline: _Timeline,
    ) -> None:
        """A booking at ``t`` (if some offering is open), its payment, and its portal access."""
        rng, ts = self.rng, self.clock.ts
        o = self._pick_offering(t, booked, sub)
        if o is None:
            return
        booked.add(o.idx)
        booking_id = _uuid(rng)
        covered = sub is not None and sub.start <= t < sub.active_until \
            and o.offering_type in sub.tier.offering_types
        if covered:
            method, amount, credits, intent = "subscription", "0.00", 0, None
        elif o.credit_cost and ledger.balance >= o.credit_cost and rng.random() < 0.85:
            method, amount, credits, intent = "credits", "0.00", o.credit_cost, None
        else:
            method, amount, credits = "purchase", o.price, 0
            intent = f"pi_demo_{_hex(rng, 24)}"
        details: dict = {}
        session = o.start
        if o.offering_type == "recurring_bookable":
            session = t + _between(rng, _DAY, 14 * _DAY) // _HOUR * _HOUR
            details = {"booked_sessions": [{"date": self.clock.date(session),
                                            "time": ts(session)[11:16]}]}
        elif o.offering_type == "recurring_fixed":
            session = t + _between(rng, _HOUR, 30 * _DAY)
        elif o.offering_type == "cohort_course":
            details = {"cohort_start_date": self.clock.date(o.start)}
        end = self.people.end(i)
        status = (_PAST_BOOKING if session < 0 else _FUTURE_BOOKING).draw(rng)
        canceled_at = reason = None
        if status == "canceled":
            canceled_at = _between(rng, t + _MINUTE, min(session, end) - _MINUTE)
            reason = _pick(rng, _CANCELLATION_REASONS)
        else:
            self.bookings_kept[o.idx] += 1
            o.spots_left -= 1
        if method == "credits":
            t = ledger.post(t, "spent_offering", -credits, f"Booked {o.title}",
                            booking=booking_id)
            if canceled_at is not None:
                canceled_at = max(canceled_at, t + 1)
                timeline.add(canceled_at, _REFUND, (booking_id, credits))
        if canceled_at is not None:
            updated = canceled_at
        elif status == "confirmed":
            updated = t
        else:  # completed or no-show: marked after the session
            updated = max(t, min(session, end))
        self.rows["offering_bookings"].append((
            booking_id, uid, o.id, method, amount, credits, intent, json.dumps(details), status,
            _ts_or_none(self.clock, canceled_at), reason, ts(t), ts(updated),
        ))
        if status in ("confirmed", "completed") and o.access_after_days and rng.random() < 0.6:
            expires = o.end + o.access_after_days * _DAY
            last = _between(rng, t, min(end, expires)) if rng.random() < 0.7 else None
            self.rows["offering_portal_access"].append((
                _uuid(rng), booking_id, uid, o.id, ts(t), ts(expires),
                _ts_or_none(self.clock, last), ts(t), ts(last if last is not None else t),
            ))


class _Timeline:
    """A customer's credit and booking events, popped in time order; events may be added
    while popping (a canceled booking schedules its refund)."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, int, object]] = []
        self._seq = 0

    def __bool__(self) -> bool:
        return bool(self._heap)

    def add(self, t: int, kind: int, data: object = None) -> None:
        self._seq += 1  # keeps ties in insertion order, and data out of comparisons
        heapq.heappush(self._heap, (t, kind, self._seq, data))

    def __iter__(self) -> Iterator[tuple[int, int, object]]:
        while self._heap:
            t, kind, _, data = heapq.heappop(self._heap)
            yield t, kind, data


class _Ledger:
    """One customer's credit transactions with their running balance.

    ``expiring`` is how much of the balance is subscription credit that will expire; spending
    and expiry use it first."""

    def __init__(self, rng: random.Random, clock: _Clock, uid: str, rows: list[tuple]) -> None:
        self._rng, self._clock, self._uid, self._rows = rng, clock, uid, rows
        self.balance = self.expiring = self.earned = self.spent = 0
        self.first: int | None = None
        self.last: int | None = None

    def post(
        self, t: int, kind: str, amount: int, description: str, *, booking: str | None = None,
        subscription: str | None = None, expires: int | None = None,
    ) -> int:
        """Record a transaction; returns its time, nudged so that times strictly increase
        (which makes the running balance's order unambiguous)."""
        if self.last is not None:
            t = max(t, self.last + 1)
        if self.first is None:
            self.first = t
        self.last = t
        self.balance += amount
        if amount > 0:
            self.earned += amount
        else:
            self.spent -= amount
            self.expiring = max(0, self.expiring + amount)
        self.expiring = min(self.expiring, self.balance)
        self._rows.append((
            _uuid(self._rng), self._uid, kind, amount, self.balance, subscription, booking,
            description, _ts_or_none(self._clock, expires), self._clock.ts(t),
        ))
        return t

    def balance_row(self) -> tuple:
        ts = self._clock.ts
        return (_uuid(self._rng), self._uid, self.balance, self.earned, self.spent,
                ts(self.last), ts(self.first))


_ACTIVITY_STAGE = "customer activity"


def _load_customer_activity(
    loader: _Loader, activity: _CustomerActivity, customers: range
) -> None:
    """Simulate the customers chunk by chunk. Purchases, the biggest table, are copied while
    the chunk is being simulated (so the server stores them while Python computes); the rest
    of the chunk's rows follow, table by table in foreign-key order."""
    stage = _ACTIVITY_STAGE
    for chunk in _chunks(customers, _CHUNK_CUSTOMERS):
        loader.copy("purchases", _PURCHASE_COLUMNS, activity.simulate(chunk), quiet=True)
        rows = activity.take_rows()
        for table, columns in _ACTIVITY_TABLES:
            if rows[table]:
                loader.copy(table, columns, rows[table], quiet=True)
        loader.report(stage, chunk.stop - customers.start, len(customers))


def _update_counters(conn: psycopg.Connection, catalog: _Catalog, activity: _CustomerActivity,
                     offerings: list[_Offering], rng: random.Random) -> None:
    """Set the counters that summarise other tables: ``content.purchase_count`` (completed
    purchases), ``content.view_count`` (never below it), ``offerings.booking_count``
    (bookings not canceled)."""
    sold = [(catalog.items[j].id, n, n * rng.randint(2, 6))
            for j, n in enumerate(activity.completed_purchases) if n]
    booked = [(offerings[k].id, n) for k, n in enumerate(activity.bookings_kept) if n]
    with conn.cursor() as cur:
        if sold:
            cur.execute(
                "UPDATE content c SET purchase_count = s.n, view_count = c.view_count + s.v"
                " FROM unnest(%s::uuid[], %s::int[], %s::int[]) AS s(id, n, v) WHERE c.id = s.id",
                [list(col) for col in zip(*sold, strict=True)],
            )
        if booked:
            cur.execute(
                "UPDATE offerings o SET booking_count = b.n"
                " FROM unnest(%s::uuid[], %s::int[]) AS b(id, n) WHERE o.id = b.id",
                [list(col) for col in zip(*booked, strict=True)],
            )


# ------------------------------------------------------------------------------------------------
# Platform settings, email logs, notifications, events
# ------------------------------------------------------------------------------------------------

_SETTINGS_COLUMNS = (
    "id", "platform_name", "logo_url", "primary_color", "hero_title", "hero_subtitle",
    "hero_background_url", "hero_cta_text", "hero_cta_link", "featured_content_ids",
    "contact_email", "social_links", "about_content", "stripe_account_id", "email_from_name",
    "timezone", "updated_at", "created_at",
)


def _settings_rows(rng: random.Random, clock: _Clock, catalog: _Catalog) -> Iterator[tuple]:
    featured = rng.sample(catalog.published, min(6, len(catalog.published)))
    yield (
        _uuid(rng), "Stillwater Studio", "https://cdn.example.com/brand/logo.svg", "#2f855a",
        "Move, breathe and rest well", "Yoga, meditation and breathwork classes from teachers"
        " who care.", "https://cdn.example.com/brand/hero.jpg", "Start your free trial",
        "/pricing", json.dumps([catalog.items[j].id for j in featured]), "hello@example.com",
        json.dumps({"instagram": "https://instagram.com/example",
                    "youtube": "https://youtube.com/@example"}),
        "<h1>About us</h1><p>We started as a single studio and now teach thousands online.</p>",
        f"acct_demo_{_hex(rng, 16)}", "Stillwater Studio", "America/New_York",
        clock.ts(-_DAY * 7), clock.ts(-_USER_SPAN),
    )


_EMAIL_TYPES = {
    "welcome": "Welcome to Stillwater Studio",
    "email_verification": "Please confirm your email address",
    "purchase_receipt": "Your receipt from Stillwater Studio",
    "password_reset": "Reset your password",
    "booking_confirmation": "You're booked!",
    "subscription_renewal": "Your membership has renewed",
}
_EMAIL_TYPE = _Choice({"welcome": 35, "purchase_receipt": 30, "email_verification": 10,
                       "booking_confirmation": 12, "subscription_renewal": 10,
                       "password_reset": 3})
_EMAIL_STATUS = _Choice({"delivered": 82, "sent": 10, "bounced": 3, "failed": 2, "pending": 3})
_EMAIL_COLUMNS = (
    "id", "recipient_email", "user_id", "email_type", "subject", "status", "provider",
    "provider_message_id", "error_message", "sent_at", "delivered_at", "created_at",
)


def _email_count(users: int) -> int:
    return users * 3 // 5


def _email_rows(
    rng: random.Random, clock: _Clock, people: _People, total: int
) -> Iterator[tuple]:
    """~0.6 emails per user, a few to addresses that are not users (gift recipients)."""
    ts, n = clock.ts, len(people.ids)
    for k in range(total):
        i = _below(rng, n)
        created = _between(rng, people.created[i], people.end(i))
        if rng.random() < 0.02:
            recipient, user_id, kind = f"friend{k}@example.net", None, "welcome"
        else:
            recipient, user_id, kind = people.emails[i], people.ids[i], _EMAIL_TYPE.nth(rng, k)
        status = _EMAIL_STATUS.nth(rng, k)
        sent = delivered = error = None
        message_id = None
        if status != "pending":
            sent = created + rng.randint(1, 30)
            message_id = _uuid(rng)
        if status == "delivered":
            delivered = sent + rng.randint(1, 120)
        elif status == "bounced":
            error = "550 5.1.1 The email account that you tried to reach does not exist"
        elif status == "failed":
            sent, message_id, error = None, None, "429 Too many requests"
        yield (
            _uuid(rng), recipient, user_id, kind, _EMAIL_TYPES[kind], status, "resend",
            message_id, error, _ts_or_none(clock, sent), _ts_or_none(clock, delivered),
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
_NOTIFICATION_TYPE = _Choice({"new_content": 40, "booking_reminder": 20, "credit_expiring": 10,
                              "purchase_complete": 25, "referral_reward": 5})
_NOTIFICATION_COLUMNS = (
    "id", "user_id", "type", "title", "message", "action_url", "action_label", "read_at",
    "created_at",
)


def _notification_count(users: int) -> int:
    return users // 2


def _notification_rows(
    rng: random.Random, clock: _Clock, people: _People, catalog: _Catalog, total: int
) -> Iterator[tuple]:
    ts, n = clock.ts, len(people.ids)
    published = catalog.published or [0]
    for k in range(total):
        i = _below(rng, n)
        created = _between(rng, max(people.created[i], -_RECENT), people.end(i))
        kind = _NOTIFICATION_TYPE.nth(rng, k)
        item = catalog.items[published[_below(rng, len(published))]]
        title, message, label = _NOTIFICATIONS[kind]
        read = _between(rng, created, 0) if rng.random() < 0.6 else None
        yield (
            _uuid(rng), people.ids[i], kind, title.format(title=item.title),
            message.format(title=item.title), f"/content/{item.slug}", label,
            _ts_or_none(clock, read), ts(created),
        )


_EVENT_TYPE = _Choice({"page_view": 50, "content_view": 25, "video_play": 10, "search": 6,
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
    rng: random.Random, clock: _Clock, people: _People, catalog: _Catalog, total: int
) -> Iterator[tuple]:
    """Analytics events of the last 90 days; a fifth are anonymous visitors."""
    ts, n, items = clock.ts, len(people.ids), catalog.items
    published = catalog.published or [0]
    for k in range(total):
        kind = _EVENT_TYPE.nth(rng, k)
        i = _below(rng, n)
        anonymous = kind == "signup" or rng.random() < 0.2
        lo = -_RECENT if anonymous else max(people.created[i], -_RECENT)
        created = _between(rng, lo, people.end(i) if not anonymous else -1)
        item = items[published[_below(rng, len(published))]]
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
            _uuid(rng), None if anonymous else people.ids[i], f"sess_{_hex(rng, 20)}", kind,
            data, f"{_pick(rng, ('192.0.2', '198.51.100', '203.0.113'))}.{1 + _below(rng, 254)}",
            _pick(rng, _USER_AGENTS), _pick(rng, _REFERRERS), ts(created),
        )


# ------------------------------------------------------------------------------------------------
# Referral program
# ------------------------------------------------------------------------------------------------

_CODE_COLUMNS = ("user_id", "code", "created_at", "expires_at", "is_active")
_REFERRAL_COLUMNS = (
    "referrer_id", "referred_id", "referral_code", "referred_at", "status", "reward_claimed",
    "reward_claimed_at",
)
_REWARD_COLUMNS = ("user_id", "reward_id", "claimed_at", "applied_at", "expires_at")
_REWARDS = (  # name, description, type, value, required_referrals, is_active
    ("Free month", "One month of membership for free", "premium_days", {"days": 30}, 1, True),
    ("Bonus credits", "Five credits to book any offering", "credits", {"credits": 5}, 2, True),
    ("20% off", "20% off your next purchase", "discount", {"percent_off": 20}, 3, True),
    ("Ambassador badge", "A badge on your profile", "badge", {"badge": "ambassador"}, 5, True),
    ("Launch week bonus", "Retired launch promotion", "discount", {"percent_off": 50}, 1, False),
)


def _code_rows(clock: _Clock, people: _People, refs: _Referrals) -> Iterator[tuple]:
    for i, (code, created, expires, active) in refs.codes.items():
        yield people.ids[i], code, clock.ts(created), _ts_or_none(clock, expires), active


def _referral_rows(clock: _Clock, people: _People, refs: _Referrals) -> Iterator[tuple]:
    for r in refs.referrals:
        yield (
            people.ids[r.referrer], people.ids[r.referred], refs.codes[r.referrer][0],
            clock.ts(r.at), r.status, r.status == "rewarded", _ts_or_none(clock, r.claimed_at),
        )


def _insert_rewards(conn: psycopg.Connection) -> list[int]:
    """The reward definitions, with INSERT ... RETURNING rather than COPY: their SERIAL ids
    are needed for the claims, and there are only a handful."""
    ids = []
    with conn.cursor() as cur:
        for name, description, kind, value, required, active in _REWARDS:
            cur.execute(
                "INSERT INTO referral_rewards (name, description, type, value,"
                " required_referrals, is_active) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (name, description, kind, json.dumps(value), required, active),
            )
            ids.append(cur.fetchone()[0])
    return ids


def _claim_rows(
    rng: random.Random, clock: _Clock, people: _People, refs: _Referrals, reward_ids: list[int]
) -> Iterator[tuple]:
    """Each active reward a referrer has unlocked, claimed when the unlocking referral was
    rewarded."""
    rewarded: dict[int, list[int]] = {}
    for r in refs.referrals:
        if r.claimed_at is not None:
            rewarded.setdefault(r.referrer, []).append(r.claimed_at)
    for referrer, times in rewarded.items():
        times.sort()
        for reward_id, (_, _, kind, value, required, active) in zip(
            reward_ids, _REWARDS, strict=True
        ):
            if not active or required > len(times):
                continue
            claimed = times[required - 1]
            applied = _between(rng, claimed, min(claimed + 3 * _DAY, 0)) \
                if rng.random() < 0.8 else None
            if kind == "premium_days" and applied is not None:
                expires = applied + value["days"] * _DAY
            elif kind == "discount":
                expires = claimed + 90 * _DAY
            else:
                expires = None
            yield (people.ids[referrer], reward_id, clock.ts(claimed),
                   _ts_or_none(clock, applied), _ts_or_none(clock, expires))


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------


def _stage_rng(seed: int, stage: str) -> random.Random:
    """One generator per stage, so that each stage's output depends only on the seed and on
    what earlier stages decided, not on how many numbers they drew."""
    return random.Random(f"platform-demo-data:{seed}:{stage}")


def _refuse_non_empty(conn: psycopg.Connection) -> None:
    count = conn.execute("SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1000) u").fetchone()[0]
    if count:
        more = "+" if count == 1000 else ""
        raise ValueError(
            f"refusing to add demo data: the database already has users ({count}{more});"
            " demo data goes into an empty platform database"
        )


def fill_demo_data(
    conn: psycopg.Connection,
    *,
    users: int,
    seed: int = 1,
    purchases: int | None = None,
    anchor: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty platform database with realistic demo data; return rows per table.

    ``users`` users of every role; ``purchases`` purchases (default three per user) over the
    eighteen months before ``anchor`` (default: today 00:00 UTC; all timestamps are naive UTC);
    and, scaled to them, content, series, subscriptions, offerings, bookings, credit ledgers,
    emails, notifications, events and referrals. The same arguments give the same rows.
    Everything is written in one transaction, committed at the end. ``progress(stage, done,
    total)`` is called every 10,000 rows and at the end of each stage.

    Raises ValueError if ``users`` already has rows (nothing is written) or the arguments are
    out of range.
    """
    if users < MIN_USERS:
        raise ValueError(f"users must be at least {MIN_USERS}, not {users}")
    n_purchases = 3 * users if purchases is None else purchases
    if n_purchases < 0:
        raise ValueError(f"purchases must not be negative, not {n_purchases}")
    clock = _Clock(_normalise_anchor(anchor))
    loader = _Loader(conn, progress)

    with conn.transaction():
        _refuse_non_empty(conn)
        with _bulk_load_mode(conn, _TABLES):
            _fill(conn, loader, clock, seed, users, n_purchases)
            loader.report(_REBUILD_STAGE, 0, 1)
        loader.report(_REBUILD_STAGE, 1, 1)
    if not conn.autocommit:
        conn.commit()
    return loader.counts


_REBUILD_STAGE = "indexes and constraints"


def _fill(
    conn: psycopg.Connection, loader: _Loader, clock: _Clock, seed: int, users: int,
    n_purchases: int,
) -> None:
    """Plan and load every table, each stage from its own random generator."""
    loader.report("users", 0, users)  # planning a million users takes a few seconds
    people = _plan_people(_stage_rng(seed, "people"), users)
    refs = _plan_referrals(_stage_rng(seed, "referrals"), people)
    loader.copy("users", _USER_COLUMNS,
                _user_rows(_stage_rng(seed, "users"), clock, people, refs), total=users)

    catalog = _plan_catalog(_stage_rng(seed, "catalog"), people, _content_count(users))
    loader.copy("content_series", _SERIES_COLUMNS, list(_series_rows(clock, people, catalog)))
    loader.copy("content", _CONTENT_COLUMNS, list(
        _content_rows(_stage_rng(seed, "content"), clock, people, catalog)))

    tiers = _plan_tiers(_stage_rng(seed, "tiers"))
    loader.copy("subscription_tiers", _TIER_COLUMNS, list(_tier_rows(clock, tiers)))
    rng = _stage_rng(seed, "offerings")
    offerings = _plan_offerings(rng, people, _offering_count(users))
    loader.copy("offerings", _OFFERING_COLUMNS,
                list(_offering_rows(rng, clock, people, offerings)))
    loader.copy("offering_resources", _RESOURCE_COLUMNS,
                list(_resource_rows(rng, clock, catalog, offerings)))

    loader.report(_ACTIVITY_STAGE, 0, len(people.customers))
    rng = _stage_rng(seed, "customers")
    counts = _purchase_counts(rng, people, catalog, n_purchases)
    activity = _CustomerActivity(rng, clock, people, catalog, tiers, offerings, counts)
    _load_customer_activity(loader, activity, people.customers)
    _update_counters(conn, catalog, activity, offerings, rng)

    if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM platform_settings)").fetchone()[0]:
        loader.copy("platform_settings", _SETTINGS_COLUMNS,
                    list(_settings_rows(_stage_rng(seed, "settings"), clock, catalog)))
    total = _email_count(users)
    loader.copy("email_logs", _EMAIL_COLUMNS,
                _email_rows(_stage_rng(seed, "emails"), clock, people, total), total=total)
    total = _notification_count(users)
    loader.copy("notifications", _NOTIFICATION_COLUMNS, _notification_rows(
        _stage_rng(seed, "notifications"), clock, people, catalog, total), total=total)
    total = _event_count(users)
    loader.copy("events", _EVENT_COLUMNS,
                _event_rows(_stage_rng(seed, "events"), clock, people, catalog, total),
                total=total)

    loader.copy("referral_codes", _CODE_COLUMNS, list(_code_rows(clock, people, refs)))
    loader.copy("referrals", _REFERRAL_COLUMNS, list(_referral_rows(clock, people, refs)))
    reward_ids = _insert_rewards(conn)
    loader.counts["referral_rewards"] += len(reward_ids)
    loader.report("referral_rewards", len(reward_ids), len(reward_ids))
    loader.copy("user_referral_rewards", _REWARD_COLUMNS, list(
        _claim_rows(_stage_rng(seed, "rewards"), clock, people, refs, reward_ids)))
