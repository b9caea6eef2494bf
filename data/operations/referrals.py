"""Operations of the Referral rewards page: rewards, codes, referral moves, grants, fraud
scan and count corrections. Each announces the tables and rows it changed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.queries.referrals import CodeRow, RewardRecord
from data.services import referral_fraud, referral_grants, referrals

__all__ = ["CorrectReferralCounts", "CreateCode", "CreateReward", "DeleteReward",
           "GrantReward", "QualifyReferral", "ReviewReferral", "ScanReferralFraud",
           "SetCodeActive", "SetCodeExpiry", "SetRewardActive", "UpdateReward", "VoidReferral"]


class _RewardOperation(Operation):
    def changes(self, result: RewardRecord) -> Changes:
        return Changes.of(referral_rewards=result.id)


@dataclass(frozen=True)
class CreateReward(_RewardOperation):
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "create the reward"

    def run(self, session: Session, actor: str) -> RewardRecord:
        return referrals.create_reward(session, actor, dict(self.values))

    def changes(self, result: RewardRecord) -> Changes:
        return Changes.of(referral_rewards=None)


@dataclass(frozen=True)
class UpdateReward(_RewardOperation):
    reward_id: int
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "save the reward"

    def run(self, session: Session, actor: str) -> RewardRecord:
        return referrals.update_reward(session, actor, self.reward_id, self.version,
                                       dict(self.values))


@dataclass(frozen=True)
class SetRewardActive(_RewardOperation):
    reward_id: int
    version: int
    active: bool
    action = "change whether the reward is active"

    def run(self, session: Session, actor: str) -> RewardRecord:
        return referrals.set_reward_active(session, actor, self.reward_id, self.version,
                                           self.active)


@dataclass(frozen=True)
class DeleteReward(_RewardOperation):
    reward_id: int
    version: int
    action = "delete the reward"

    def run(self, session: Session, actor: str) -> RewardRecord:
        return referrals.delete_reward(session, actor, self.reward_id, self.version)

    def changes(self, result: RewardRecord) -> Changes:
        return Changes.of(referral_rewards=None)


@dataclass(frozen=True)
class CreateCode(Operation):
    user_id: uuid.UUID | None
    code: str | None = None
    expires_at: Any = None
    action = "create the code"

    def run(self, session: Session, actor: str) -> CodeRow:
        return referrals.create_code(session, actor, self.user_id, self.code, self.expires_at)

    def changes(self, result: CodeRow) -> Changes:
        return Changes.of(referral_codes=None)


@dataclass(frozen=True)
class SetCodeActive(Operation):
    code_id: int
    active: bool
    action = "change whether the code is active"

    def run(self, session: Session, actor: str) -> CodeRow:
        return referrals.set_code_active(session, actor, self.code_id, self.active)

    def changes(self, result: CodeRow) -> Changes:
        return Changes.of(referral_codes=result.id)


@dataclass(frozen=True)
class SetCodeExpiry(Operation):
    code_id: int
    expires_at: Any
    action = "change the code's expiry"

    def run(self, session: Session, actor: str) -> CodeRow:
        return referrals.set_code_expiry(session, actor, self.code_id, self.expires_at)

    def changes(self, result: CodeRow) -> Changes:
        return Changes.of(referral_codes=result.id)


class _ReferralMove(Operation):
    def changes(self, result: int) -> Changes:
        return Changes.of(referrals=result, referral_flags=None)


@dataclass(frozen=True)
class QualifyReferral(_ReferralMove):
    referral_id: int
    reason: str
    action = "qualify the referral"

    def run(self, session: Session, actor: str) -> int:
        return referrals.qualify_referral(session, actor, self.referral_id, self.reason)


@dataclass(frozen=True)
class VoidReferral(_ReferralMove):
    referral_id: int
    reason: str
    action = "void the referral"

    def run(self, session: Session, actor: str) -> int:
        return referrals.void_referral(session, actor, self.referral_id, self.reason)


@dataclass(frozen=True)
class ReviewReferral(_ReferralMove):
    referral_id: int
    outcome: str
    note: str
    action = "record the review"

    def run(self, session: Session, actor: str) -> int:
        return referrals.review_referral(session, actor, self.referral_id, self.outcome,
                                         self.note)


@dataclass(frozen=True)
class GrantReward(Operation):
    """Grant a reward once per (referrer, reward, threshold); ``request_id`` made when the
    dialog opened, so a double click replays the first result."""

    referrer_id: uuid.UUID
    reward_id: int
    request_id: uuid.UUID
    action = "grant the reward"

    def run(self, session: Session, actor: str) -> referral_grants.GrantResult:
        return referral_grants.grant_reward(session, actor, self.referrer_id, self.reward_id,
                                            self.request_id)

    def changes(self, result: referral_grants.GrantResult) -> Changes:
        changed = Changes.of(referrals=result.referral_ids, referral_rewards=result.reward_id,
                             user_referral_rewards=result.user_reward_id)
        if result.tokens is not None:
            changed |= Changes.of(credit_balances=result.referrer_id, credit_transactions=None)
        return changed


@dataclass(frozen=True)
class ScanReferralFraud(Operation):
    burst_limit: int = referral_fraud.DEFAULT_BURST_LIMIT
    action = "scan the referrals for fraud signals"

    def run(self, session: Session, actor: str) -> dict[str, int]:
        return referral_fraud.scan(session, actor, burst_limit=self.burst_limit)

    def changes(self, result: dict[str, int]) -> Changes:
        return Changes.of(referral_flags=None, referrals=None)


@dataclass(frozen=True)
class CorrectReferralCounts(Operation):
    """Set every mismatched user's referral_count / was_referred / referred_by from
    ``referrals`` (audited per user)."""

    action = "correct the referral counts"

    def run(self, session: Session, actor: str) -> int:
        return referral_fraud.correct_counts(session, actor)

    def changes(self, result: int) -> Changes:
        return Changes.of(users=None, referral_consistency=None)
