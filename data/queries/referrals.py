"""Read-side queries of the Referral rewards page: rewards, codes, referrals, the review
queue, a referrer's progress.

Keyset pages on the app's indexes (migration 0014), never OFFSET. Every function takes a
``Session`` and returns frozen dataclasses (plain data that may cross to the GUI thread).
A referral's state as the page shows it is the platform's status, or ``voided`` when the app
voided it (``admin.referral_voids``), and whether it has open fraud flags.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from data.models import User
from data.queries.users import UserCount
from data.queries.users import search_condition as user_search_condition
from data.services.text import clean_search

COUNTABLE_STATUSES = ("qualified", "rewarded")
"""The platform statuses a threshold counts (when neither voided nor flagged)."""

ReferralState = Literal["pending", "qualified", "rewarded", "voided", "flagged"]


# -- rewards ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RewardRecord:
    """One reward definition; ``claims`` is how many times it was claimed (platform and app),
    ``version`` the row's xmin (for conflict-safe saves)."""

    id: int
    name: str
    description: str
    type: str
    value: dict[str, Any]
    required_referrals: int
    is_active: bool
    claims: int
    version: int


@dataclass(frozen=True)
class RewardFilter:
    search: str = ""
    active: Literal["all", "active", "inactive"] = "all"


_REWARD_SELECT = """
SELECT r.id, r.name, r.description, r.type, r.value, r.required_referrals, r.is_active,
       (SELECT count(*) FROM user_referral_rewards u WHERE u.reward_id = r.id) AS claims,
       r.xmin::text::bigint AS version
FROM referral_rewards r
"""


def get_reward(session: Session, reward_id: int) -> RewardRecord | None:
    row = session.execute(text(_REWARD_SELECT + " WHERE r.id = :id"), {"id": reward_id}).first()
    return None if row is None else RewardRecord(*row)


def list_rewards_page(session: Session, flt: RewardFilter, cursor: tuple | None,
                      limit: int) -> tuple[list[RewardRecord], tuple | None]:
    """Rewards newest first (a handful: the program's definitions)."""
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit + 1}
    q = clean_search(flt.search)
    if q:
        where.append("r.name ILIKE :q")
        params["q"] = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if flt.active != "all":
        where.append("r.is_active" if flt.active == "active" else "NOT r.is_active")
    if cursor is not None:
        where.append("r.id < :after")
        params["after"] = cursor[0]
    rows = [RewardRecord(*r) for r in session.execute(text(
        _REWARD_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY r.id DESC LIMIT :limit"),
        params)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].id,) if more and rows else None)


def count_rewards(session: Session, flt: RewardFilter) -> UserCount:
    rows, _ = list_rewards_page(session, flt, None, 10_000)
    return UserCount(len(rows), True)


# -- codes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeRow:
    id: int
    code: str
    user_id: uuid.UUID
    email: str
    full_name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    is_active: bool
    uses: int


@dataclass(frozen=True)
class CodeFilter:
    search: str = ""
    user: uuid.UUID | None = None


_CODE_SELECT = """
SELECT c.id, c.code, c.user_id, u.email, u.full_name, c.created_at, c.expires_at, c.is_active,
       (SELECT count(*) FROM referrals r WHERE r.referral_code = c.code) AS uses
FROM referral_codes c JOIN users u ON u.id = c.user_id
"""


def get_code_row(session: Session, code_id: int) -> CodeRow | None:
    row = session.execute(text(_CODE_SELECT + " WHERE c.id = :id"), {"id": code_id}).first()
    return None if row is None else CodeRow(*row)


def list_codes_page(session: Session, flt: CodeFilter, cursor: tuple | None,
                    limit: int) -> tuple[list[CodeRow], tuple | None]:
    """Codes newest first; the search matches the start of the code (any case) or of the
    holder's email."""
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit + 1}
    q = clean_search(flt.search)
    if q:
        like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(upper(c.code) LIKE upper(:q) OR lower(u.email) LIKE lower(:q))")
        params["q"] = like
    if flt.user is not None:
        where.append("c.user_id = :user")
        params["user"] = flt.user
    if cursor is not None:
        where.append("(c.created_at, c.id) < (:at, :after)")
        params["at"], params["after"] = cursor
    rows = [CodeRow(*r) for r in session.execute(text(
        _CODE_SELECT + " WHERE " + " AND ".join(where)
        + " ORDER BY c.created_at DESC, c.id DESC LIMIT :limit"), params)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].created_at, rows[-1].id) if more and rows else None)


def count_codes(session: Session, flt: CodeFilter) -> int | UserCount:
    if flt == CodeFilter():
        return int(session.execute(text(
            "SELECT greatest(reltuples::bigint, 0) FROM pg_class "
            "WHERE oid = 'referral_codes'::regclass")).scalar_one())
    rows = list_codes_page(session, flt, None, 10_000)[0]
    return UserCount(len(rows), len(rows) < 10_000)


# -- referrals -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferralRow:
    id: int
    referrer_id: uuid.UUID
    referrer_email: str
    referred_id: uuid.UUID
    referred_email: str
    code: str
    referred_at: dt.datetime
    status: str
    reward_claimed: bool
    void_reason: str | None
    open_flags: int

    @property
    def state(self) -> str:
        """What the page shows: the platform's status, or voided / flagged."""
        if self.void_reason is not None:
            return "voided"
        return f"{self.status} (flagged)" if self.open_flags else self.status


@dataclass(frozen=True)
class ReferralFilter:
    status: ReferralState | None = None
    referrer: uuid.UUID | None = None
    referred: uuid.UUID | None = None
    code: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


_REFERRAL_SELECT = """
SELECT r.id, r.referrer_id, a.email, r.referred_id, b.email, r.referral_code, r.referred_at,
       r.status, r.reward_claimed, v.reason,
       (SELECT count(*) FROM admin.referral_flags f
        WHERE f.referral_id = r.id AND f.reviewed_at IS NULL) AS open_flags
FROM referrals r
JOIN users a ON a.id = r.referrer_id
JOIN users b ON b.id = r.referred_id
LEFT JOIN admin.referral_voids v ON v.referral_id = r.id
"""


def _referral_where(flt: ReferralFilter, params: dict[str, Any]) -> list[str]:
    where = ["true"]
    if flt.status in ("pending", "qualified", "rewarded"):
        where.append("r.status = :status AND v.referral_id IS NULL")
        params["status"] = flt.status
    elif flt.status == "voided":
        where.append("v.referral_id IS NOT NULL")
    elif flt.status == "flagged":
        where.append("EXISTS (SELECT FROM admin.referral_flags f "
                     "WHERE f.referral_id = r.id AND f.reviewed_at IS NULL)")
    if flt.referrer is not None:
        where.append("r.referrer_id = :referrer")
        params["referrer"] = flt.referrer
    if flt.referred is not None:
        where.append("r.referred_id = :referred")
        params["referred"] = flt.referred
    code = clean_search(flt.code)
    if code:
        where.append("upper(r.referral_code) = upper(:code)")
        params["code"] = code
    if flt.since is not None:
        where.append("r.referred_at >= :since")
        params["since"] = flt.since
    if flt.until is not None:
        where.append("r.referred_at < :until")
        params["until"] = flt.until + dt.timedelta(days=1)
    return where


def list_referrals_page(session: Session, flt: ReferralFilter, cursor: tuple | None,
                        limit: int) -> tuple[list[ReferralRow], tuple | None]:
    """Referrals newest first (``ix_admin_referrals_referred_at``), filtered."""
    params: dict[str, Any] = {"limit": limit + 1}
    where = _referral_where(flt, params)
    if cursor is not None:
        where.append("(r.referred_at, r.id) < (:at, :after)")
        params["at"], params["after"] = cursor
    rows = [ReferralRow(*r) for r in session.execute(text(
        _REFERRAL_SELECT + " WHERE " + " AND ".join(where)
        + " ORDER BY r.referred_at DESC, r.id DESC LIMIT :limit"), params)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].referred_at, rows[-1].id) if more and rows else None)


def count_referrals(session: Session, flt: ReferralFilter) -> int | UserCount:
    if flt == ReferralFilter():
        return int(session.execute(text(
            "SELECT greatest(reltuples::bigint, 0) FROM pg_class "
            "WHERE oid = 'referrals'::regclass")).scalar_one())
    params: dict[str, Any] = {}
    where = _referral_where(flt, params)
    n = int(session.execute(text(
        "SELECT count(*) FROM (SELECT 1 FROM referrals r "
        "LEFT JOIN admin.referral_voids v ON v.referral_id = r.id WHERE "
        + " AND ".join(where) + " LIMIT 10001) s"), params).scalar_one())
    return UserCount(min(n, 10_000), n <= 10_000)


def get_referral_row(session: Session, referral_id: int) -> ReferralRow | None:
    row = session.execute(text(_REFERRAL_SELECT + " WHERE r.id = :id"),
                          {"id": referral_id}).first()
    return None if row is None else ReferralRow(*row)


def search_users(session: Session, typed: str, limit: int = 20) -> list[tuple[uuid.UUID, str]]:
    """Users matching ``typed`` (start of the email or of a name word): (id, label) pairs."""
    cond = user_search_condition(typed)
    if cond is None:
        return []
    rows = session.execute(select(User.id, User.full_name, User.email).where(cond)
                           .order_by(func.lower(User.email)).limit(limit))
    return [(r.id, f"{r.full_name} <{r.email}>") for r in rows]


# -- a referrer's view -----------------------------------------------------------------------

@dataclass(frozen=True)
class RewardProgress:
    """One active reward for one referrer: how many countable referrals they have of the
    ``required``, whether it was granted at this threshold, and why it cannot be yet."""

    reward_id: int
    name: str
    type: str
    required: int
    countable: int
    flagged: int
    granted: bool
    claimed_on_platform: bool
    value: dict[str, Any] | None = None

    @property
    def tokens(self) -> int | None:
        """For a credits reward: the tokens a grant adds."""
        v = self.value if isinstance(self.value, dict) else {}
        return v.get("credits") if self.type == "credits" else None

    @property
    def grantable(self) -> bool:
        return not self.granted and not self.claimed_on_platform \
            and self.countable >= self.required

    @property
    def note(self) -> str:
        if self.granted:
            return "granted"
        if self.claimed_on_platform:
            return "claimed on the platform"
        if self.countable >= self.required:
            return "ready to grant"
        wait = f"; {self.flagged} flagged await review" if self.flagged else ""
        return f"{self.required - self.countable} more needed{wait}"


@dataclass(frozen=True)
class EarnedReward:
    claim_id: int
    name: str
    type: str
    claimed_at: dt.datetime
    applied_at: dt.datetime | None
    through_app: bool


@dataclass(frozen=True)
class ReferrerSummary:
    user_id: uuid.UUID
    email: str
    full_name: str
    code: str | None
    referrals: tuple[ReferralRow, ...]
    earned: tuple[EarnedReward, ...]
    progress: tuple[RewardProgress, ...]
    countable: int
    flagged: int

    @property
    def id(self) -> uuid.UUID:
        return self.user_id


COUNTABLE_CONDITION = """r.status IN ('qualified', 'rewarded')
  AND NOT EXISTS (SELECT FROM admin.referral_voids v WHERE v.referral_id = r.id)
  AND NOT EXISTS (SELECT FROM admin.referral_flags f
                  WHERE f.referral_id = r.id AND f.reviewed_at IS NULL)"""
"""A referral a threshold counts: qualified or rewarded, not voided, no open flag."""


def referrer_counts(session: Session, referrer_id: uuid.UUID) -> tuple[int, int]:
    """(countable referrals, qualified-or-rewarded ones held back by an open flag)."""
    row = session.execute(text(f"""
        SELECT count(*) FILTER (WHERE {COUNTABLE_CONDITION}),
               count(*) FILTER (WHERE r.status IN ('qualified', 'rewarded')
                 AND NOT EXISTS (SELECT FROM admin.referral_voids v WHERE v.referral_id = r.id)
                 AND EXISTS (SELECT FROM admin.referral_flags f
                             WHERE f.referral_id = r.id AND f.reviewed_at IS NULL))
        FROM referrals r WHERE r.referrer_id = :u"""), {"u": referrer_id}).one()
    return int(row[0]), int(row[1])


def reward_progress(session: Session, referrer_id: uuid.UUID) -> tuple[RewardProgress, ...]:
    countable, flagged = referrer_counts(session, referrer_id)
    rows = session.execute(text("""
        SELECT w.id, w.name, w.type, w.required_referrals, w.value,
               EXISTS (SELECT FROM admin.referral_grants g WHERE g.referrer_id = :u
                       AND g.reward_id = w.id AND g.threshold = w.required_referrals),
               EXISTS (SELECT FROM user_referral_rewards c WHERE c.user_id = :u
                       AND c.reward_id = w.id AND NOT EXISTS (
                           SELECT FROM admin.referral_grants g WHERE g.user_reward_id = c.id))
        FROM referral_rewards w WHERE w.is_active
        ORDER BY w.required_referrals, w.id"""), {"u": referrer_id})
    return tuple(RewardProgress(r[0], r[1], r[2], r[3], countable, flagged, r[5], r[6], r[4])
                 for r in rows)


def get_referrer_summary(session: Session, user_id: uuid.UUID) -> ReferrerSummary | None:
    """A referrer's referrals (newest 200), the rewards they earned, and their progress to
    each active reward's threshold."""
    user = session.execute(select(User.id, User.email, User.full_name)
                           .where(User.id == user_id)).first()
    if user is None:
        return None
    code = session.execute(text("SELECT code FROM referral_codes WHERE user_id = :u"),
                           {"u": user_id}).scalar_one_or_none()
    referrals, _ = list_referrals_page(session, ReferralFilter(referrer=user_id), None, 200)
    earned = tuple(EarnedReward(*r) for r in session.execute(text("""
        SELECT c.id, w.name, w.type, c.claimed_at, c.applied_at,
               EXISTS (SELECT FROM admin.referral_grants g WHERE g.user_reward_id = c.id)
        FROM user_referral_rewards c JOIN referral_rewards w ON w.id = c.reward_id
        WHERE c.user_id = :u ORDER BY c.claimed_at DESC, c.id DESC"""), {"u": user_id}))
    countable, flagged = referrer_counts(session, user_id)
    return ReferrerSummary(user.id, user.email, user.full_name, code, tuple(referrals), earned,
                           reward_progress(session, user_id), countable, flagged)


# -- the review queue ------------------------------------------------------------------------

@dataclass(frozen=True)
class FlagRow:
    """One open fraud flag on a referral, with the signal's reason."""

    id: int
    referral_id: int
    signal: str
    reason: str
    found_at: dt.datetime
    referrer_email: str
    referred_email: str
    code: str
    status: str


@dataclass(frozen=True)
class FlagFilter:
    signal: str | None = None


_FLAG_SELECT = """
SELECT f.id, f.referral_id, f.signal, f.reason, f.found_at, a.email, b.email,
       r.referral_code, r.status
FROM admin.referral_flags f
JOIN referrals r ON r.id = f.referral_id
JOIN users a ON a.id = r.referrer_id
JOIN users b ON b.id = r.referred_id
WHERE f.reviewed_at IS NULL
"""


def list_open_flags_page(session: Session, flt: FlagFilter, cursor: tuple | None,
                         limit: int) -> tuple[list[FlagRow], tuple | None]:
    """Open flags newest first (``ix_referral_flags_open``)."""
    sql = _FLAG_SELECT
    params: dict[str, Any] = {"limit": limit + 1}
    if flt.signal:
        sql += " AND f.signal = :signal"
        params["signal"] = flt.signal
    if cursor is not None:
        sql += " AND (f.found_at, f.id) < (:at, :after)"
        params["at"], params["after"] = cursor
    rows = [FlagRow(*r) for r in session.execute(
        text(sql + " ORDER BY f.found_at DESC, f.id DESC LIMIT :limit"), params)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].found_at, rows[-1].id) if more and rows else None)


def count_open_flags(session: Session, flt: FlagFilter) -> UserCount:
    sql, params = "SELECT count(*) FROM admin.referral_flags f WHERE f.reviewed_at IS NULL", {}
    if flt.signal:
        sql += " AND f.signal = :signal"
        params["signal"] = flt.signal
    return UserCount(int(session.execute(text(sql), params).scalar_one()), True)


def get_flag_row(session: Session, flag_id: int) -> FlagRow | None:
    row = session.execute(text(_FLAG_SELECT + " AND f.id = :id"), {"id": flag_id}).first()
    return None if row is None else FlagRow(*row)


# -- charts ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferralCharts:
    """``weekly``: (week start, state, referrals) rows, state as the page shows it (voided
    apart); ``top``: (referrer email, referrals made) of the ten who referred most;
    ``referred`` users and how many of them ever ``paying``."""

    weekly: tuple[tuple[dt.date, str, int], ...]
    top: tuple[tuple[str, int], ...]
    referred: int
    paying: int


def get_referral_charts(session: Session, weeks: int = 104) -> ReferralCharts:
    weekly = tuple((r[0], r[1], int(r[2])) for r in session.execute(text("""
        SELECT date_trunc('week', r.referred_at)::date AS week,
               CASE WHEN v.referral_id IS NOT NULL THEN 'voided' ELSE r.status END AS state,
               count(*)
        FROM referrals r LEFT JOIN admin.referral_voids v ON v.referral_id = r.id
        WHERE r.referred_at >= date_trunc('week', now()) - make_interval(weeks => :weeks)
        GROUP BY 1, 2 ORDER BY 1, 2"""), {"weeks": weeks}))
    top = tuple((r[0], int(r[1])) for r in session.execute(text("""
        SELECT u.email, t.n FROM (
            SELECT referrer_id, count(*) AS n FROM referrals GROUP BY referrer_id
            ORDER BY n DESC, referrer_id LIMIT 10) t
        JOIN users u ON u.id = t.referrer_id ORDER BY t.n DESC, u.email""")))
    referred, paying = session.execute(text("""
        SELECT count(*), count(*) FILTER (WHERE
            EXISTS (SELECT FROM purchases p WHERE p.customer_id = r.referred_id
                    AND p.status IN ('completed', 'refunded'))
            OR EXISTS (SELECT FROM subscriptions s WHERE s.customer_id = r.referred_id
                       AND s.status IN ('active', 'past_due', 'canceled'))
            OR EXISTS (SELECT FROM offering_bookings o WHERE o.customer_id = r.referred_id
                       AND o.amount_paid > 0))
        FROM referrals r""")).one()
    return ReferralCharts(weekly, top, int(referred), int(paying))
