"""Users: roles, sign-up and verification times, names, unique emails, soft deletions."""

from __future__ import annotations

import random
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from data.demo.categories import CATEGORIES
from data.demo.clock import DAY, FAR_FUTURE, HOUR, MINUTE, RECENT, USER_SPAN, ts_or_none
from data.demo.draws import below, between, new_uuid, pick, random_hex

if TYPE_CHECKING:
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.referrals import ReferralPlan


FIRST_NAMES = (
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

_STAFF_BIO = "{name} is a certified {category} teacher with {years} years of experience."

_CUSTOMER_BIOS = (
    "Busy parent finding calm one breath at a time.",
    "Runner, reader and recovering perfectionist.",
    "Learning to move better every day.",
    "Nurse on night shifts; meditation keeps me sane.",
    "Software engineer trying to spend less time sitting.",
)


@dataclass
class People:
    """Users as later stages need them: ids, emails and the window in which each could act.

    ``active_from`` is when the user verified their email (the platform requires it before a
    purchase); unverified users have ``FAR_FUTURE`` and so never buy, book or subscribe.
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
        return self.active_from[i] < self.end(i) - 3 * HOUR

    def can_subscribe(self, i: int) -> bool:
        """Verified days before the anchor (or their deletion): room for plans and bookings."""
        return self.active_from[i] < self.end(i) - 3 * DAY


def _role_sizes(n: int) -> tuple[tuple[str, int], ...]:
    owners = 2 + n // 200_000
    media_owners = max(6, n // 1_000)
    return (
        ("platform_creator", 2),
        ("platform_owner", owners),
        ("media_owner", media_owners),
        ("customer", n - 2 - owners - media_owners),
    )


def _plan_people(rng: random.Random, n: int) -> People:
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
        signed_up = min(-USER_SPAN + int(USER_SPAN * ((i + rng.random()) / n) ** 0.6), -MINUTE)
        created.append(signed_up)
        if i < first_customer or rng.random() < 0.88:
            verified = min(signed_up + MINUTE + int(rng.random() * 2 * DAY), -30)
        else:
            verified = FAR_FUTURE
        active_from.append(verified)
        if i >= first_customer and rng.random() < 0.02:
            lo = max(signed_up if verified == FAR_FUTURE else verified, -RECENT) + 3 * HOUR
            if lo < -HOUR:
                deleted[i] = between(rng, lo, -MINUTE)

    first_names = array("H")
    last_names = array("H")
    emails: list[str] = []
    used: Counter[str] = Counter()
    for _ in range(n):
        fi = below(rng, len(FIRST_NAMES))
        li = below(rng, len(_LAST_NAMES))
        first_names.append(fi)
        last_names.append(li)
        emails.append(_email(rng, FIRST_NAMES[fi].lower(), _LAST_NAMES[li].lower(), used))

    return People(
        ids=[new_uuid(rng) for _ in range(n)],
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
    base = pick(rng, (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}",
                       f"{first}_{last}", f"{last}.{first}"))
    k = used[base]
    used[base] += 1
    number = "" if k == 0 and rng.random() < 0.4 else str(7 * k + 1 + below(rng, 7))
    return f"{base}{number}@{pick(rng, _EMAIL_DOMAINS)}"


_USER_COLUMNS = (
    "id", "email", "password_hash", "full_name", "role", "profile_image_url", "bio",
    "email_verified_at", "email_verification_token", "email_verification_expires_at",
    "password_reset_token", "password_reset_expires_at", "stripe_customer_id",
    "stripe_connect_account_id", "created_at", "updated_at", "deleted_at", "referral_count",
    "was_referred", "referred_by",
)


def _user_rows(
    rng: random.Random, clock: Clock, people: People, refs: ReferralPlan
) -> Iterator[tuple]:
    ts = clock.ts
    ids = people.ids
    for role, members in people.roles:
        staff = role != "customer"
        for i in members:
            uid = ids[i]
            created = people.created[i]
            verified = people.active_from[i]
            first = FIRST_NAMES[people.first_names[i]]
            updated = created
            token: str | None
            token_expires: str | None
            if verified == FAR_FUTURE:
                verified_at = None
                token = random_hex(rng, 40)
                token_expires = ts(created + DAY)
            else:
                verified_at = ts(verified)
                token = token_expires = None
                updated = verified
            reset_token = reset_expires = None
            if rng.random() < 0.01:
                requested = between(rng, max(created, -30 * DAY), -MINUTE)
                reset_token, reset_expires = random_hex(rng, 40), ts(requested + HOUR)
                updated = max(updated, requested)
            deleted = people.deleted.get(i)
            if deleted is not None:
                updated = deleted
            elif rng.random() < 0.3:
                updated = between(rng, updated, 0)
            bio: str | None
            if staff:
                bio = _STAFF_BIO.format(
                    name=first, category=pick(rng, CATEGORIES), years=rng.randint(3, 25)
                )
            else:
                bio = pick(rng, _CUSTOMER_BIOS) if rng.random() < 0.04 else None
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
                ts(created), ts(updated), ts_or_none(clock, deleted),
                refs.counts.get(i, 0), referrer is not None,
                None if referrer is None else ids[referrer],
            )


def plan_people(ctx: DemoContext) -> None:
    """Decide who the users are (kept on ``ctx``); their rows wait for the referral plan."""
    ctx.loader.report("users", 0, ctx.users)  # planning a million users takes a few seconds
    ctx.people = _plan_people(ctx.rng("people"), ctx.users)


def load_users(ctx: DemoContext) -> None:
    """Load the planned users, with who referred them and how many they referred."""
    ctx.loader.copy("users", _USER_COLUMNS,
                    _user_rows(ctx.rng("users"), ctx.clock, ctx.people, ctx.referrals),
                    total=ctx.users)
