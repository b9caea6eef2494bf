"""Ledger health: does every token balance agree with its ledger?

The platform writes balances and ledger rows itself, so they may disagree. For every
customer this compares, in set-based SQL (one pass of window functions over
``credit_transactions``, no per-customer loop):

- the balance with the sum of the ledger, and with the last row's ``balance_after``;
- ``lifetime_earned`` / ``lifetime_spent`` with the sums of positive / negative amounts;
- each row's ``balance_after`` with the previous row's plus its amount (in ``created_at``,
  ``id`` order), reporting the first row where the running total breaks;
- ledger rows of a customer who has no balance row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

BALANCE_VS_LEDGER_SUM = "balance_vs_ledger_sum"
BALANCE_VS_LAST_BALANCE_AFTER = "balance_vs_last_balance_after"
LIFETIME_EARNED_VS_LEDGER = "lifetime_earned_vs_ledger"
LIFETIME_SPENT_VS_LEDGER = "lifetime_spent_vs_ledger"
RUNNING_TOTAL_BREAK = "running_total_break"
LEDGER_WITHOUT_BALANCE = "ledger_without_balance"

KIND_LABELS = {
    BALANCE_VS_LEDGER_SUM: "balance differs from the sum of its ledger",
    BALANCE_VS_LAST_BALANCE_AFTER: "balance differs from the ledger's last balance_after",
    LIFETIME_EARNED_VS_LEDGER: "lifetime_earned differs from the ledger's additions",
    LIFETIME_SPENT_VS_LEDGER: "lifetime_spent differs from the ledger's removals",
    RUNNING_TOTAL_BREAK: "balance_after breaks the running total",
    LEDGER_WITHOUT_BALANCE: "ledger rows but no balance row",
}


@dataclass(frozen=True)
class LedgerMismatch:
    """One disagreement: what the ledger says (``expected``) and what was found (``actual``)."""

    customer_id: uuid.UUID
    email: str | None
    kind: str
    expected: int | None
    actual: int | None
    detail: str

    def __str__(self) -> str:
        who = f"{self.email} ({self.customer_id})" if self.email else str(self.customer_id)
        found = "nothing" if self.actual is None else f"{self.actual:,}"
        line = (f"{who}: {KIND_LABELS.get(self.kind, self.kind)}: "
                f"expected {self.expected:,}, found {found}")
        return f"{line} ({self.detail})" if self.detail else line


# Per customer, over the ledger newest first: lead() is the previous (older) row.
_PER_CUSTOMER = text("""
WITH t AS (
    SELECT customer_id, amount, balance_after,
           balance_after - coalesce(lead(balance_after) OVER w, 0) - amount AS drift,
           row_number() OVER w AS rn
    FROM credit_transactions
    WINDOW w AS (PARTITION BY customer_id ORDER BY created_at DESC, id DESC)
),
per AS (
    SELECT customer_id,
           count(*) AS n,
           sum(amount) AS total,
           coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS earned,
           coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS spent,
           min(balance_after) FILTER (WHERE rn = 1) AS last_after,
           count(*) FILTER (WHERE drift <> 0) AS breaks
    FROM t
    GROUP BY customer_id
)
SELECT coalesce(b.customer_id, p.customer_id) AS customer_id, u.email,
       b.id IS NOT NULL AS has_balance, b.current_balance, b.lifetime_earned, b.lifetime_spent,
       coalesce(p.n, 0) AS n, coalesce(p.total, 0) AS total, coalesce(p.earned, 0) AS earned,
       coalesce(p.spent, 0) AS spent, p.last_after, coalesce(p.breaks, 0) AS breaks
FROM credit_balances b
FULL JOIN per p ON p.customer_id = b.customer_id
LEFT JOIN users u ON u.id = coalesce(b.customer_id, p.customer_id)
WHERE b.id IS NULL
   OR b.current_balance <> coalesce(p.total, 0)
   OR b.lifetime_earned <> coalesce(p.earned, 0)
   OR b.lifetime_spent <> coalesce(p.spent, 0)
   OR b.current_balance <> p.last_after
   OR p.breaks > 0
ORDER BY u.email NULLS LAST, 1
""")

# The oldest breaking row of each customer whose running total breaks.
_FIRST_BREAKS = text("""
SELECT DISTINCT ON (customer_id) customer_id, id, created_at, expected, balance_after
FROM (
    SELECT customer_id, id, created_at, balance_after,
           coalesce(lag(balance_after) OVER w, 0) + amount AS expected
    FROM credit_transactions
    WHERE customer_id = ANY(:ids)
    WINDOW w AS (PARTITION BY customer_id ORDER BY created_at, id)
) s
WHERE balance_after <> expected
ORDER BY customer_id, created_at, id
""")


def _when(value: dt.datetime) -> str:
    return value.isoformat(sep=" ", timespec="seconds")


def check_ledger(session: Session) -> list[LedgerMismatch]:
    """Every disagreement between balances and ledgers, ordered by customer email."""
    rows = session.execute(_PER_CUSTOMER).all()
    broken = [r.customer_id for r in rows if r.breaks]
    first_breaks = {
        b.customer_id: b
        for b in (session.execute(_FIRST_BREAKS, {"ids": broken}) if broken else ())
    }
    found: list[LedgerMismatch] = []
    for r in rows:
        def add(kind: str, expected: int | None, actual: int | None, detail: str = "",
                r=r) -> None:
            found.append(LedgerMismatch(r.customer_id, r.email, kind, expected, actual, detail))

        rows_text = f"{r.n:,} ledger row(s)"
        if not r.has_balance:
            add(LEDGER_WITHOUT_BALANCE, r.total, None, rows_text)
        else:
            if r.current_balance != r.total:
                add(BALANCE_VS_LEDGER_SUM, r.total, r.current_balance, rows_text)
            if r.last_after is not None and r.current_balance != r.last_after:
                add(BALANCE_VS_LAST_BALANCE_AFTER, r.last_after, r.current_balance)
            if r.lifetime_earned != r.earned:
                add(LIFETIME_EARNED_VS_LEDGER, r.earned, r.lifetime_earned)
            if r.lifetime_spent != r.spent:
                add(LIFETIME_SPENT_VS_LEDGER, r.spent, r.lifetime_spent)
        first = first_breaks.get(r.customer_id)
        if first is not None:
            add(RUNNING_TOTAL_BREAK, first.expected, first.balance_after,
                f"first at transaction {first.id} of {_when(first.created_at)}; "
                f"{r.breaks:,} break(s)")
    return found
