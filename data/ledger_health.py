"""Ledger health: does every token balance agree with its ledger?

The platform writes balances and ledger rows itself, so they may disagree. For every
customer this compares, in set-based SQL (one pass of window functions over
``credit_transactions``, no per-customer loop):

- the balance with the sum of the ledger, and with the last row's ``balance_after``;
- ``lifetime_earned`` / ``lifetime_spent`` with the sums of positive / negative amounts;
- the chain of balances: each row's ``balance_after - amount`` must be the ``balance_after`` of
  a row before it (the first starting at 0), found on values, not on ``created_at`` order
  (the platform stamps rows with ``NOW()``, so concurrent transactions cross); the chain's
  end is the "last balance_after"; the first row that starts from nowhere is reported;
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


# The ledger is a chain: each row's balance before it (balance_after - amount) is the
# balance_after of the row before it, and the first starts at 0. The platform stamps rows with
# NOW(), its transaction's start, so concurrent transactions write rows whose created_at
# order is not the chain's order: the chain is checked on values, never on created_at.
# Per customer and balance value v, "surplus" counts the rows ending at v (plus the start at
# 0) minus the rows starting from v. On an unbroken chain every surplus is 0 but the chain's
# end (+1); a row starting from a value no row ended at (a tampered or deleted row before
# it) leaves a negative surplus.
_CHAIN = """
tx AS (
    SELECT customer_id, id, created_at, amount, balance_after,
           balance_after - amount AS before,
           row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, id DESC) AS rn,
           lag(balance_after) OVER (PARTITION BY customer_id ORDER BY created_at, id)
               AS prev_after
    FROM credit_transactions
    {where}
),
nodes AS (
    SELECT customer_id, v, sum(d) AS surplus
    FROM (
        SELECT customer_id, balance_after AS v, 1 AS d FROM tx
        UNION ALL SELECT customer_id, before, -1 FROM tx
        UNION ALL SELECT DISTINCT customer_id, 0, 1 FROM tx
    ) edges
    GROUP BY customer_id, v
    HAVING sum(d) <> 0
)
"""

_PER_CUSTOMER = text("WITH " + _CHAIN.format(where="") + """,
chain AS (
    SELECT customer_id,
           coalesce(-sum(surplus) FILTER (WHERE surplus < 0), 0) AS breaks,
           CASE WHEN count(*) FILTER (WHERE surplus > 0) = 1
                 AND sum(surplus) FILTER (WHERE surplus > 0) = 1
                THEN min(v) FILTER (WHERE surplus > 0) END AS chain_end
    FROM nodes
    GROUP BY customer_id
),
per AS (
    SELECT tx.customer_id,
           count(*) AS n,
           sum(amount) AS total,
           coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS earned,
           coalesce(-sum(amount) FILTER (WHERE amount < 0), 0) AS spent,
           -- The chain's end; when the chain is broken and has no one end, the newest row.
           coalesce(min(c.chain_end), min(balance_after) FILTER (WHERE rn = 1)) AS last_after,
           coalesce(min(c.breaks), 0) AS breaks
    FROM tx
    LEFT JOIN chain c ON c.customer_id = tx.customer_id
    GROUP BY tx.customer_id
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

# The oldest breaking row of each customer whose chain breaks: of the rows starting from a
# value too few rows ended at, the newest ones are the breaks. What it should have said: the
# newest dangling chain end written before it (else the row before it in time), plus its amount.
_FIRST_BREAKS = text("WITH " + _CHAIN.format(where="WHERE customer_id = ANY(:ids)") + """,
ranked AS (
    SELECT tx.*, -n.surplus AS deficit,
           row_number() OVER (PARTITION BY tx.customer_id, tx.before
                              ORDER BY tx.created_at DESC, tx.id DESC) AS k
    FROM tx
    JOIN nodes n ON n.customer_id = tx.customer_id AND n.v = tx.before AND n.surplus < 0
)
SELECT DISTINCT ON (b.customer_id) b.customer_id, b.id, b.created_at, b.balance_after,
       coalesce((SELECT t.balance_after
                 FROM tx t
                 JOIN nodes n ON n.customer_id = t.customer_id AND n.v = t.balance_after
                                 AND n.surplus > 0
                 WHERE t.customer_id = b.customer_id
                   AND (t.created_at, t.id) < (b.created_at, b.id)
                 ORDER BY t.created_at DESC, t.id DESC
                 LIMIT 1), b.prev_after, 0) + b.amount AS expected
FROM ranked b
WHERE b.k <= b.deficit
ORDER BY b.customer_id, b.created_at, b.id
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
