"""Operation: this period's subscription credits by hand (support's fix for a missed grant)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.operations.base import Changes, Operation
from data.services import period_credits


@dataclass(frozen=True)
class GrantPeriodCredits(Operation):
    """Grant the tier's monthly credits for the period starting ``period_start`` (the one
    the dialog showed), once per period whatever the clicks, retries or staff."""

    request_id: uuid.UUID
    subscription_id: uuid.UUID
    period_start: dt.datetime
    action = "grant this period's credits"

    def run(self, session: Session, actor: str) -> period_credits.PeriodGrantResult:
        return period_credits.grant_period_credits(session, self.request_id,
                                                   self.subscription_id, self.period_start)

    def changes(self, result: period_credits.PeriodGrantResult) -> Changes:
        return Changes.of(credit_balances=result.customer_id,
                          credit_transactions=result.transaction_id, users=result.customer_id)
