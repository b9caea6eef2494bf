"""Fraud signals on referrals: flags for a person to review, never blocks of the platform.

:func:`find_signals` is one SQL pass (hash joins over ``referrals`` and ``users``), each
signal a branch with the reason a reviewer reads:

- ``self_user``: the referrer referred themself;
- ``self_email``: both emails are the same once normalised (lower case, ``+tag`` removed,
  and for Gmail the dots in the name removed and googlemail.com read as gmail.com);
- ``self_name``: the same full name (case and spaces ignored);
- ``older_account``: the referred account existed before the code it signed up with;
- ``ring``: A referred B and B referred A;
- ``burst``: more than N referrals on one code within 24 hours (every referral in such a
  window is flagged);
- ``never_paid``: a qualified or rewarded referral whose referred user never paid (no
  completed or refunded purchase, no subscription, no paid booking).

:func:`scan` stores what it finds in ``admin.referral_flags`` (one per referral and signal,
so scanning again adds only new findings; a reviewed flag stays reviewed). A referral with an
open flag counts toward no threshold (:data:`data.queries.referrals.COUNTABLE_CONDITION`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.services.audit import record_change

DEFAULT_BURST_LIMIT = 5
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")


def normalised_email(email: str) -> str:
    """``J.Doe+promo@GoogleMail.com`` → ``jdoe@gmail.com`` (what :data:`_NORMALISED` does in
    SQL)."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _normalised(column: str) -> str:
    low = f"btrim({column})"
    local = f"split_part(split_part({low}, '@', 1), '+', 1)"
    domain = f"split_part({low}, '@', 2)"
    return (f"(CASE WHEN {domain} IN ('gmail.com', 'googlemail.com') "
            f"THEN replace({local}, '.', '') || '@gmail.com' ELSE {local} || '@' || {domain} END)")


def _name(column: str) -> str:
    # Case and spaces ignored ("gia  ROSSI" is "Gia Rossi"); replace() is far cheaper than
    # a regular expression over every referral.
    return f"lower(replace({column}, ' ', ''))"


SIGNALS_SQL = f"""
WITH r AS (
    SELECT r.id, r.referrer_id, r.referred_id, r.referral_code, r.referred_at, r.status
    FROM referrals r
    WHERE NOT EXISTS (SELECT FROM admin.referral_voids v WHERE v.referral_id = r.id)
),
burst_ends AS (
    SELECT referral_code, referred_at, n FROM (
        SELECT referral_code, referred_at,
               count(*) OVER (PARTITION BY referral_code ORDER BY referred_at
                              RANGE BETWEEN interval '24 hours' PRECEDING AND CURRENT ROW) AS n
        FROM r) w
    WHERE n > :burst
),
pairs AS MATERIALIZED (  -- referrer and referred side by side, read once for both signals
    SELECT r.id, a.email AS ae, b.email AS be, lower(a.email) AS la, lower(b.email) AS lb,
           a.full_name AS an, {_name('a.full_name')} AS nan, {_name('b.full_name')} AS nbn
    FROM r JOIN users a ON a.id = r.referrer_id JOIN users b ON b.id = r.referred_id
    WHERE r.referrer_id <> r.referred_id
)
SELECT r.id, 'self_user', 'The referrer referred their own account.'
FROM r WHERE r.referrer_id = r.referred_id
UNION ALL
SELECT p.id, 'self_email', 'Same email once normalised: ' || p.ae || ' and ' || p.be
FROM pairs p WHERE p.ae <> p.be AND {_normalised('p.la')} = {_normalised('p.lb')}
UNION ALL
SELECT p.id, 'self_name', 'Same full name: ' || p.an
FROM pairs p WHERE p.nan = p.nbn AND p.nan <> ''
UNION ALL
SELECT r.id, 'older_account', 'The referred account (created ' ||
       to_char(b.created_at, 'YYYY-MM-DD') || ') is older than the code (created ' ||
       to_char(c.created_at, 'YYYY-MM-DD') || ').'
FROM r JOIN users b ON b.id = r.referred_id JOIN referral_codes c ON c.code = r.referral_code
WHERE b.created_at < c.created_at AND r.referrer_id <> r.referred_id
UNION ALL
SELECT r.id, 'ring', 'A ring: the referred user also referred the referrer.'
FROM r JOIN r AS back ON back.referrer_id = r.referred_id AND back.referred_id = r.referrer_id
WHERE r.referrer_id <> r.referred_id
UNION ALL
SELECT DISTINCT ON (r.id) r.id, 'burst',
       'Burst: ' || e.n || ' referrals on code ' || r.referral_code || ' within 24 hours.'
FROM r JOIN burst_ends e ON e.referral_code = r.referral_code
     AND r.referred_at BETWEEN e.referred_at - interval '24 hours' AND e.referred_at
UNION ALL
SELECT r.id, 'never_paid', 'The referred user never paid (no purchase, subscription or '
       'paid booking), yet the referral is ' || r.status || '.'
FROM r
WHERE r.status IN ('qualified', 'rewarded')
  AND NOT EXISTS (SELECT FROM purchases p WHERE p.customer_id = r.referred_id
                  AND p.status IN ('completed', 'refunded'))
  AND NOT EXISTS (SELECT FROM subscriptions s WHERE s.customer_id = r.referred_id
                  AND s.status IN ('active', 'past_due', 'canceled'))
  AND NOT EXISTS (SELECT FROM offering_bookings o WHERE o.customer_id = r.referred_id
                  AND o.amount_paid > 0)
"""


@dataclass(frozen=True)
class Signal:
    referral_id: int
    signal: str
    reason: str


def find_signals(session: Session, *, burst_limit: int = DEFAULT_BURST_LIMIT) -> list[Signal]:
    """Every signal on every referral that is not voided (nothing written)."""
    return [Signal(*row) for row in session.execute(text(SIGNALS_SQL),
                                                    {"burst": burst_limit})]


def scan(session: Session, actor: str, *, burst_limit: int = DEFAULT_BURST_LIMIT
         ) -> dict[str, int]:
    """Store new findings as open flags; returns how many new flags per signal."""
    rows = session.execute(text(
        f"INSERT INTO admin.referral_flags (referral_id, signal, reason) "
        f"SELECT * FROM ({SIGNALS_SQL}) found "
        f"ON CONFLICT (referral_id, signal) DO NOTHING RETURNING signal"),
        {"burst": burst_limit}).scalars().all()
    added: dict[str, int] = {}
    for signal in rows:
        added[signal] = added.get(signal, 0) + 1
    record_change(session, actor=actor, action="referrals.fraud_scan",
                  entity_type="referral_flags", entity_id="scan", old_values=None,
                  new_values={"added": added, "burst_limit": burst_limit})
    return added


# -- the platform's counters against referrals -----------------------------------------------

@dataclass(frozen=True)
class CountMismatch:
    """A user whose ``referral_count``, ``was_referred`` or ``referred_by`` disagrees with
    ``referrals``: what the columns say (``has_*``) and what the referrals say."""

    user_id: Any
    email: str
    has_count: int | None
    count: int
    has_was_referred: bool | None
    was_referred: bool
    has_referred_by: Any
    referred_by: Any

    @property
    def id(self) -> Any:
        return self.user_id

    def describe(self) -> str:
        parts = []
        if (self.has_count or 0) != self.count or self.has_count is None:
            parts.append(f"referral_count {self.has_count} but {self.count} referral(s)")
        if bool(self.has_was_referred) != self.was_referred:
            parts.append(f"was_referred {self.has_was_referred} but "
                         f"{'referred' if self.was_referred else 'not referred'}")
        if self.has_referred_by != self.referred_by:
            parts.append(f"referred_by {self.has_referred_by} but {self.referred_by}")
        return f"{self.email}: " + "; ".join(parts)


_MISMATCHES = """
WITH made AS (SELECT referrer_id AS id, count(*) AS n FROM referrals GROUP BY referrer_id),
     got AS (SELECT referred_id AS id, referrer_id FROM referrals)
SELECT u.id, u.email, u.referral_count, coalesce(m.n, 0)::int, u.was_referred,
       g.id IS NOT NULL, u.referred_by, g.referrer_id
FROM users u LEFT JOIN made m ON m.id = u.id LEFT JOIN got g ON g.id = u.id
WHERE u.referral_count IS DISTINCT FROM coalesce(m.n, 0)
   OR coalesce(u.was_referred, false) <> (g.id IS NOT NULL)
   OR u.referred_by IS DISTINCT FROM g.referrer_id
ORDER BY u.email, u.id
"""


def count_mismatches(session: Session, limit: int | None = None) -> list[CountMismatch]:
    """Every user whose referral columns disagree with ``referrals``, by email."""
    sql = _MISMATCHES + (" LIMIT :limit" if limit is not None else "")
    return [CountMismatch(*r) for r in session.execute(text(sql), {"limit": limit})]


def list_mismatches_page(session: Session, _flt: Any, cursor: tuple | None, limit: int
                         ) -> tuple[list[CountMismatch], tuple | None]:
    """The mismatches as a list page (few by nature: one page, no keyset needed beyond)."""
    rows = count_mismatches(session, 5_000)
    return rows, None


_ONE_USER = """
SELECT u.referral_count, u.was_referred, u.referred_by,
       (SELECT count(*) FROM referrals r WHERE r.referrer_id = u.id)::int,
       (SELECT r.referrer_id FROM referrals r WHERE r.referred_id = u.id)
FROM users u WHERE u.id = :u FOR UPDATE
"""


def correct_counts(session: Session, actor: str) -> int:
    """Set each mismatched user's three columns from ``referrals``: the user's row is locked
    (the platform's own counter updates wait), the referrals counted again under the lock,
    and the row changed only if it still disagrees; one audit record per user. Returns how
    many users were corrected."""
    fixed = 0
    for m in count_mismatches(session):
        row = session.execute(text(_ONE_USER), {"u": m.user_id}).first()
        if row is None:
            continue
        has_count, has_was, has_by, count, referrer = row
        was = referrer is not None
        if (has_count, bool(has_was), has_by) == (count, was, referrer) and has_was is not None:
            continue
        session.execute(text(
            "UPDATE users SET referral_count = :n, was_referred = :w, referred_by = :b "
            "WHERE id = :u"), {"n": count, "w": was, "b": referrer, "u": m.user_id})
        record_change(session, actor=actor, action="referrals.correct_counts",
                      entity_type="user", entity_id=m.user_id,
                      old_values={"referral_count": has_count, "was_referred": has_was,
                                  "referred_by": has_by},
                      new_values={"referral_count": count, "was_referred": was,
                                  "referred_by": referrer})
        fixed += 1
    return fixed
