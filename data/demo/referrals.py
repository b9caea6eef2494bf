"""The referral program: codes, who referred whom, reward definitions and claims."""

from __future__ import annotations

import json
import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from data.demo.clock import DAY, FAR_FUTURE, MINUTE, ts_or_none
from data.demo.draws import Choice, between, random_hex
from data.demo.loading import single_value
from data.demo.users import FIRST_NAMES

if TYPE_CHECKING:
    from data.demo.clock import Clock
    from data.demo.context import DemoContext
    from data.demo.users import People


@dataclass
class _Referral:
    referred: int
    referrer: int
    at: int
    status: str
    claimed_at: int | None


@dataclass
class ReferralPlan:
    """Who holds a referral code, who was referred by whom, and how far each referral got."""

    codes: dict[int, tuple[str, int, int | None, bool]]  # user -> code, created, expires, active
    referrals: list[_Referral]
    referred_by: dict[int, int]
    counts: Counter[int]


_REFERRAL_STATUS = Choice({"rewarded": 45, "pending": 25, "qualified": 30})


def _plan_referrals(rng: random.Random, people: People) -> ReferralPlan:
    """Codes for media owners and ~15% of verified customers; ~8% of customers were referred.

    Computed before any user row is written because users carry ``referral_count``,
    ``was_referred`` and ``referred_by``. A referral only uses a code that existed, had not
    expired and whose holder was not deleted when the referred user signed up."""
    codes: dict[int, tuple[str, int, int | None, bool]] = {}
    used: set[str] = set()
    holders: list[int] = []
    for i in (*people.media_owners, *people.customers):
        if people.active_from[i] == FAR_FUTURE:
            continue
        if i in people.customers and rng.random() >= 0.15:
            continue
        created = min(people.active_from[i] + int(rng.random() * 30 * DAY), -MINUTE)
        expires = created + 365 * DAY if rng.random() < 0.1 else None
        active = (expires is None or expires > 0) and i not in people.deleted
        first = FIRST_NAMES[people.first_names[i]].upper()[:6]
        code = f"{first}{random_hex(rng, 5).upper()}"
        while code in used:
            code = f"{first}{random_hex(rng, 5).upper()}"
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
            usable_until = min(expires or FAR_FUTURE, people.deleted.get(h, FAR_FUTURE))
            if code_created < at < usable_until:
                break
        else:
            continue
        status = _REFERRAL_STATUS.nth(rng, len(referrals))
        if status == "pending" or (len(referrals) >= 3 and -at < 14 * DAY):
            status, claimed = "pending", None
        elif status == "qualified":
            claimed = None
        else:
            claimed = min(at + between(rng, 3 * DAY, 45 * DAY), -MINUTE)
        referrals.append(_Referral(i, h, at, status, claimed))
        referred_by[i] = h
        counts[h] += 1
    return ReferralPlan(codes, referrals, referred_by, counts)


_CODE_COLUMNS = ("user_id", "code", "created_at", "expires_at", "is_active")

_REFERRAL_COLUMNS = (
    "referrer_id", "referred_id", "referral_code", "referred_at", "status", "reward_claimed",
    "reward_claimed_at",
)

_REWARD_COLUMNS = ("user_id", "reward_id", "claimed_at", "applied_at", "expires_at")

# name, description, type, value (the JSON the type reads), required_referrals, is_active
_REWARDS: tuple[tuple[str, str, str, dict[str, Any], int, bool], ...] = (
    ("Free month", "One month of membership for free", "premium_days", {"days": 30}, 1, True),
    ("Bonus credits", "Five credits to book any offering", "credits", {"credits": 5}, 2, True),
    ("20% off", "20% off your next purchase", "discount", {"percent_off": 20}, 3, True),
    ("Ambassador badge", "A badge on your profile", "badge", {"badge": "ambassador"}, 5, True),
    ("Launch week bonus", "Retired launch promotion", "discount", {"percent_off": 50}, 1, False),
)


def _code_rows(clock: Clock, people: People, refs: ReferralPlan) -> Iterator[tuple]:
    for i, (code, created, expires, active) in refs.codes.items():
        yield people.ids[i], code, clock.ts(created), ts_or_none(clock, expires), active


def _referral_rows(clock: Clock, people: People, refs: ReferralPlan) -> Iterator[tuple]:
    for r in refs.referrals:
        yield (
            people.ids[r.referrer], people.ids[r.referred], refs.codes[r.referrer][0],
            clock.ts(r.at), r.status, r.status == "rewarded", ts_or_none(clock, r.claimed_at),
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
            ids.append(single_value(cur))
    return ids


def _claim_rows(
    rng: random.Random, clock: Clock, people: People, refs: ReferralPlan, reward_ids: list[int]
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
            applied = between(rng, claimed, min(claimed + 3 * DAY, 0)) \
                if rng.random() < 0.8 else None
            if kind == "premium_days" and applied is not None:
                expires = applied + value["days"] * DAY
            elif kind == "discount":
                expires = claimed + 90 * DAY
            else:
                expires = None
            yield (people.ids[referrer], reward_id, clock.ts(claimed),
                   ts_or_none(clock, applied), ts_or_none(clock, expires))


def plan_referrals(ctx: DemoContext) -> None:
    """Decide the codes and who referred whom (kept on ``ctx``): user rows carry it."""
    ctx.referrals = _plan_referrals(ctx.rng("referrals"), ctx.people)


def load_referrals(ctx: DemoContext) -> None:
    """Load the codes, the referrals, the reward definitions and the rewards claimed."""
    loader, clock, people, refs = ctx.loader, ctx.clock, ctx.people, ctx.referrals
    loader.copy("referral_codes", _CODE_COLUMNS, list(_code_rows(clock, people, refs)))
    loader.copy("referrals", _REFERRAL_COLUMNS, list(_referral_rows(clock, people, refs)))
    reward_ids = _insert_rewards(ctx.conn)
    loader.counts["referral_rewards"] += len(reward_ids)
    loader.report("referral_rewards", len(reward_ids), len(reward_ids))
    loader.copy("user_referral_rewards", _REWARD_COLUMNS, list(
        _claim_rows(ctx.rng("rewards"), clock, people, refs, reward_ids)))
    planted = plant_fraud_cases(ctx.conn, clock.ts(-MINUTE))
    loader.counts["referrals"] += planted


# -- planted fraud cases ---------------------------------------------------------------------
# One case of each fraud signal (data.services.referral_fraud), written after the regular
# referrals with the users' counters kept in step (``referrals check`` stays clean). Chosen by
# SQL among users nobody referred, in a fixed order, so the same seed plants the same cases;
# a case with no candidate (a tiny demo) is left out.

_FREE = """
SELECT u.id, u.email, u.full_name, u.created_at FROM users u
WHERE u.role = 'customer' AND u.deleted_at IS NULL
  AND NOT EXISTS (SELECT FROM referrals r WHERE r.referred_id = u.id)
  AND NOT EXISTS (SELECT FROM referral_codes c WHERE c.user_id = u.id)
ORDER BY u.created_at, u.id
"""
_HOLDERS = """
SELECT c.user_id, c.code, c.created_at, u.email, u.full_name FROM referral_codes c
JOIN users u ON u.id = c.user_id
WHERE c.is_active AND c.expires_at IS NULL AND u.deleted_at IS NULL
  AND NOT EXISTS (SELECT FROM referrals r WHERE r.referred_id = c.user_id)
ORDER BY c.created_at, c.id
"""


def _refer(cur: psycopg.Cursor, referrer: Any, referred: Any, code: str, at: Any,
           status: str = "pending") -> None:
    cur.execute(
        "INSERT INTO referrals (referrer_id, referred_id, referral_code, referred_at, status, "
        "reward_claimed, reward_claimed_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (referrer, referred, code, at, status, status == "rewarded",
         at if status == "rewarded" else None))
    cur.execute("UPDATE users SET referral_count = coalesce(referral_count, 0) + 1 "
                "WHERE id = %s", (referrer,))
    cur.execute("UPDATE users SET was_referred = true, referred_by = %s WHERE id = %s",
                (referrer, referred))


def plant_fraud_cases(conn: psycopg.Connection, latest: Any) -> int:
    """Plant one referral per fraud signal (self by user, by email, by name; an account older
    than the code; a ring; a burst of six in a day); returns how many referrals it added.
    ``latest``: no referral is dated after it (the demo's now)."""
    import datetime as dt

    hour = dt.timedelta(hours=1)
    with conn.cursor() as cur:
        holders = list(cur.execute(_HOLDERS).fetchall())
        free = list(cur.execute(_FREE).fetchall())
        latest = dt.datetime.fromisoformat(str(latest))
        # Codes made at least two days ago, so each planted referral fits after its code.
        holders = [h for h in holders if h[2] < latest - 48 * hour]
        if len(holders) < 6 or len(free) < 12:
            return 0
        added = 0

        def at(*times: dt.datetime) -> dt.datetime:
            return min(max(times) + hour, latest)

        def later_than(code_created: dt.datetime) -> list:
            return [f for f in free if f[3] > code_created]

        # self-referral: a holder used their own code
        h = holders.pop(0)
        _refer(cur, h[0], h[0], h[1], at(h[2]))
        added += 1
        # same email once normalised: the referred address is the referrer's with a +tag
        h = holders.pop(0)
        pick = later_than(h[2])[:1]
        if pick:
            local, _, domain = h[3].partition("@")
            twin = f"{local}+friend@{domain}"
            free.remove(pick[0])
            cur.execute("UPDATE users SET email = %s WHERE id = %s", (twin, pick[0][0]))
            cur.execute("UPDATE email_logs SET recipient_email = %s WHERE user_id = %s",
                        (twin, pick[0][0]))
            _refer(cur, h[0], pick[0][0], h[1], at(h[2], pick[0][3]), "qualified")
            added += 1
            # the same full name, on the same code
            pick = later_than(h[2])[:1]
            if pick:
                free.remove(pick[0])
                cur.execute("UPDATE users SET full_name = %s WHERE id = %s", (h[4], pick[0][0]))
                _refer(cur, h[0], pick[0][0], h[1], at(h[2], pick[0][3]) + hour)
                added += 1
        # the referred account is older than the code
        h = holders.pop()  # the newest code: most accounts are older
        older = [f for f in free if f[3] < h[2]]
        if older:
            free.remove(older[0])
            _refer(cur, h[0], older[0][0], h[1], at(h[2]), "qualified")
            added += 1
        # a ring: A refers B, B refers A
        a, b = holders.pop(0), holders.pop(0)
        _refer(cur, a[0], b[0], a[1], at(a[2], b[2]))
        _refer(cur, b[0], a[0], b[1], min(at(a[2], b[2]) + hour, latest))
        added += 2
        # a burst: six sign-ups on one code within a day
        h = holders.pop(0)
        burst = later_than(h[2])[:6]
        if len(burst) == 6:
            start = at(h[2], *(f[3] for f in burst))
            start = min(start, latest - 7 * hour)
            for i, f in enumerate(burst):
                free.remove(f)
                _refer(cur, h[0], f[0], h[1], start + i * hour)
            added += 6
    return added
