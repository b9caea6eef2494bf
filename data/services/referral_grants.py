"""Granting a referral reward: once per (referrer, reward, threshold), in one transaction.

:func:`grant_reward`:

1. locks the referrer's referrals (``FOR UPDATE``, in id order): a second grant for the same
   referrer, a void or a qualify of one of them waits until this one commits;
2. counts the countable ones (qualified or rewarded, not voided, no open fraud flag): fewer
   than the reward's ``required_referrals`` is refused, saying how many await review;
3. writes the claim (``user_referral_rewards``) and claims the key in
   ``admin.referral_grants``, whose unique index ``ix_referral_grants_once`` on (referrer,
   reward, threshold) is the database's guarantee: a racing second insert waits for the first
   to commit, then does nothing, and the grant is refused (or, for the same request id, the
   first result is answered again);
4. marks the counted referrals that are still ``qualified`` as ``rewarded`` / claimed;
   (steps 3, 4 and 6 are one ``SECURITY DEFINER`` function, ``admin.record_referral_grant``,
   migration 0030, when this login may run it: support writes neither table directly);
5. for a credits reward, grants the tokens through the ledger service
   (:func:`data.services.credits.adjust_balance`) with a request id derived from the grant's
   key, so even a retry after a lost answer moves tokens once;
6. audits it.

Premium days and discounts are recorded, not applied: the app changes no Stripe
subscription and makes no coupon (``applied_at`` stays empty until the platform applies it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.definer_functions import execute_minding_rights, may_run
from data.errors import ConflictError, NotFoundError, ValidationError
from data.queries.referrals import COUNTABLE_CONDITION
from data.services import credits
from data.services.audit import record_change
from data.services.text import parse_id

GRANT_FUNCTIONS = ("admin.record_referral_grant(uuid, uuid, integer, integer[])",)
"""The definer function that records a grant (migration 0030), as ``db roles`` grants it to
support. A login that may not run it (no staff roles set up) writes the same rows with its
own table rights."""
_RECORD_GRANT = text(
    "SELECT * FROM admin.record_referral_grant(:q, :u, :w, CAST(:ids AS integer[]))")

GRANT_NAMESPACE = uuid.UUID("5b0c7c1e-7f53-4d57-9a51-0c3f3c2a9e14")

WHAT_GRANTING_DOES = {
    "premium_days": "Granting records the reward (a claim in user_referral_rewards) and marks "
                    "the referrals it counts as rewarded. It does not extend a Stripe "
                    "subscription: the platform applies the premium days.",
    "discount": "Granting records the reward (a claim in user_referral_rewards) and marks the "
                "referrals it counts as rewarded. It creates no Stripe coupon and changes no "
                "price: the platform applies the discount at the next purchase.",
    "badge": "Granting records the badge (a claim in user_referral_rewards) and marks the "
             "referrals it counts as rewarded.",
    "credits": "Granting adds the tokens to the referrer's balance through the ledger (one "
               "adjustment line), records the claim and marks the referrals as rewarded.",
}


def what_granting_does(kind: str) -> str:
    return WHAT_GRANTING_DOES.get(
        kind, "Granting records the claim and marks the referrals as rewarded; the app "
              "does not know this type and applies nothing else.")


@dataclass(frozen=True)
class GrantResult:
    grant_id: int
    referrer_id: uuid.UUID
    reward_id: int
    threshold: int
    user_reward_id: int
    referral_ids: tuple[int, ...]
    tokens: int | None
    replayed: bool = False


def ledger_request_id(referrer_id: uuid.UUID, reward_id: int, threshold: int) -> uuid.UUID:
    """The token adjustment's request id: one per grant key, so tokens move once."""
    return uuid.uuid5(GRANT_NAMESPACE, f"{referrer_id}:{reward_id}:{threshold}")


def _stored(session: Session, referrer_id: uuid.UUID, reward_id: int,
            threshold: int) -> Any:
    return session.execute(text(
        "SELECT id, request_id, user_reward_id, referral_ids, tokens, actor, granted_at "
        "FROM admin.referral_grants WHERE referrer_id = :u AND reward_id = :w "
        "AND threshold = :t"), {"u": referrer_id, "w": reward_id, "t": threshold}).first()


def _refuse_or_replay(stored: Any, request_id: uuid.UUID, referrer_id: uuid.UUID,
                      reward_id: int, threshold: int) -> GrantResult:
    if stored.request_id == request_id:
        return GrantResult(stored.id, referrer_id, reward_id, threshold, stored.user_reward_id,
                           tuple(stored.referral_ids), stored.tokens, replayed=True)
    at = stored.granted_at.strftime("%Y-%m-%d %H:%M") if isinstance(
        stored.granted_at, dt.datetime) else stored.granted_at
    raise ConflictError(f"This reward was already granted to this referrer at this threshold "
                        f"({threshold}) by {stored.actor} on {at}; nothing more was done.")


def grant_reward(session: Session, actor: str, referrer_id: Any, reward_id: Any,
                 request_id: Any) -> GrantResult:
    """Grant ``reward_id`` to ``referrer_id`` who reached its threshold (see the module)."""
    referrer_id = parse_id("referrer_id", referrer_id, "Choose a referrer.")
    request_id = parse_id("request_id", request_id, "Not a valid id.")
    if not isinstance(reward_id, int) or isinstance(reward_id, bool):
        raise ValidationError({"reward_id": "Choose a reward."})
    reward = session.execute(text(
        "SELECT id, name, type, value, required_referrals, is_active FROM referral_rewards "
        "WHERE id = :id"), {"id": reward_id}).first()  # no lock: support may not UPDATE it
    if reward is None:
        raise NotFoundError("This reward no longer exists.")
    threshold = reward.required_referrals
    # Lock first: whoever comes second waits here and then sees the first one's grant.
    session.execute(text("SELECT id FROM referrals WHERE referrer_id = :u ORDER BY id "
                         "FOR UPDATE"), {"u": referrer_id})
    stored = _stored(session, referrer_id, reward_id, threshold)
    if stored is not None:
        return _refuse_or_replay(stored, request_id, referrer_id, reward_id, threshold)
    if not reward.is_active:
        raise ConflictError(f"“{reward.name}” is not active; activate it before granting it.")
    platform_claim = session.execute(text(
        "SELECT c.claimed_at FROM user_referral_rewards c WHERE c.user_id = :u "
        "AND c.reward_id = :w AND NOT EXISTS (SELECT FROM admin.referral_grants g "
        "WHERE g.user_reward_id = c.id) LIMIT 1"), {"u": referrer_id, "w": reward_id}).first()
    if platform_claim is not None:
        raise ConflictError(f"This referrer already claimed “{reward.name}” on the platform "
                            f"({platform_claim.claimed_at:%Y-%m-%d}); nothing was granted.")
    counted = session.execute(text(
        f"SELECT r.id, r.status FROM referrals r WHERE r.referrer_id = :u AND "
        f"{COUNTABLE_CONDITION} ORDER BY r.referred_at, r.id LIMIT :n"),
        {"u": referrer_id, "n": threshold}).all()
    if len(counted) < threshold:
        flagged = session.execute(text(
            "SELECT count(*) FROM referrals r WHERE r.referrer_id = :u "
            "AND r.status IN ('qualified', 'rewarded') "
            "AND NOT EXISTS (SELECT FROM admin.referral_voids v WHERE v.referral_id = r.id) "
            "AND EXISTS (SELECT FROM admin.referral_flags f WHERE f.referral_id = r.id "
            "AND f.reviewed_at IS NULL)"), {"u": referrer_id}).scalar_one()
        wait = (f" {flagged} flagged referral(s) cannot count until someone reviews them."
                if flagged else "")
        raise ConflictError(f"This referrer has {len(counted)} countable referral(s); "
                            f"“{reward.name}” needs {threshold}.{wait}")
    ids = [r.id for r in counted]
    value = reward.value if isinstance(reward.value, dict) else {}
    tokens = value.get("credits") if reward.type == "credits" else None
    if reward.type == "credits" and not (isinstance(tokens, int) and tokens > 0):
        raise ValidationError({"credits": "This credits reward has no valid number of tokens; "
                                          "fix the reward first."})
    conn = session.connection()
    if may_run(conn, GRANT_FUNCTIONS):
        # The claim, the grant, the referrals marked and the audit row, as the session user.
        row = execute_minding_rights(conn, _RECORD_GRANT, {
            "q": request_id, "u": referrer_id, "w": reward_id, "ids": ids}).one()
        if row.grant_id is None:  # pragma: no cover - the referral lock orders racing grants
            raise ConflictError("This reward was granted meanwhile by someone else.")
        if row.tokens is not None:
            credits.adjust_balance(session, actor, referrer_id, row.tokens,
                                   f"Referral reward: {reward.name}",
                                   ledger_request_id(referrer_id, reward_id, threshold))
        return GrantResult(row.grant_id, referrer_id, reward_id, threshold,
                           row.user_reward_id, tuple(ids), row.tokens)
    user_reward_id = session.execute(text(
        "INSERT INTO user_referral_rewards (user_id, reward_id, claimed_at, applied_at) "
        "VALUES (:u, :w, now(), CASE WHEN :applied THEN now() END) RETURNING id"),
        {"u": referrer_id, "w": reward_id, "applied": tokens is not None}).scalar_one()
    grant_id = session.execute(text(
        "INSERT INTO admin.referral_grants (request_id, referrer_id, reward_id, threshold, "
        "user_reward_id, referral_ids, tokens) VALUES (:q, :u, :w, :t, :c, :ids, :tokens) "
        "ON CONFLICT (referrer_id, reward_id, threshold) DO NOTHING RETURNING id"),
        {"q": request_id, "u": referrer_id, "w": reward_id, "t": threshold,
         "c": user_reward_id, "ids": ids, "tokens": tokens}).scalar_one_or_none()
    if grant_id is None:  # pragma: no cover - the referral lock orders racing grants first
        raise ConflictError("This reward was granted meanwhile by someone else.")
    session.execute(text(
        "UPDATE referrals SET status = 'rewarded', reward_claimed = true, "
        "reward_claimed_at = now() WHERE id = ANY(:ids) AND status = 'qualified'"),
        {"ids": ids})
    if tokens is not None:
        credits.adjust_balance(session, actor, referrer_id, tokens,
                               f"Referral reward: {reward.name}",
                               ledger_request_id(referrer_id, reward_id, threshold))
    record_change(session, actor=actor, action="referrals.grant", entity_type="referral_grant",
                  entity_id=grant_id, old_values=None,
                  new_values={"referrer_id": referrer_id, "reward_id": reward_id,
                              "threshold": threshold, "referral_ids": ids, "tokens": tokens,
                              "user_reward_id": user_reward_id})
    return GrantResult(grant_id, referrer_id, reward_id, threshold, user_reward_id, tuple(ids),
                       tokens)
