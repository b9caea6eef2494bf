"""Credits that expire soon: "where did my credits go?" for support.

A ledger row that adds credits may carry ``expires_at`` (subscription credits without
rollover, say); one without it never expires. :func:`expiring_credits` lists the customers
with credits granted that expire within the next N days, soonest first, on the app's partial
index ``ix_admin_credit_transactions_expiring``. It adds what was granted: some of it may
already be spent (the ledger does not say which credits a booking used).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.errors import ValidationError

MAX_DAYS = 3660
LIMIT = 500


@dataclass(frozen=True)
class ExpiringCredits:
    customer_id: uuid.UUID
    email: str
    credits: int
    """Granted credits expiring in the window (some may already be spent)."""
    first_expiry: dt.datetime
    current_balance: int | None


def expiring_credits(session: Session, days: int, limit: int = LIMIT) -> list[ExpiringCredits]:
    """Customers with credits expiring within ``days`` days from now (1..3660)."""
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": f"Enter a whole number of days from 1 to {MAX_DAYS}."})
    rows = session.execute(text("""
        WITH soon AS (
            SELECT t.customer_id, sum(t.amount) AS credits, min(t.expires_at) AS first_expiry
            FROM credit_transactions t
            WHERE t.amount > 0 AND t.expires_at IS NOT NULL
              AND t.expires_at >= (now() AT TIME ZONE 'UTC')
              AND t.expires_at < (now() AT TIME ZONE 'UTC') + make_interval(days => :days)
            GROUP BY t.customer_id
        )
        SELECT s.customer_id, u.email, s.credits, s.first_expiry, b.current_balance
        FROM soon s JOIN users u ON u.id = s.customer_id
        LEFT JOIN credit_balances b ON b.customer_id = s.customer_id
        ORDER BY s.first_expiry, s.customer_id LIMIT :limit"""),
        {"days": days, "limit": limit}).all()
    return [ExpiringCredits(*r) for r in rows]
