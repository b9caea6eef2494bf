"""Operations on token balances: adjustments and bulk grants."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from data.definer_functions import may_run
from data.operations.base import BatchOperation, Changes, ConnectionOperation, Operation
from data.services import credits


@dataclass(frozen=True)
class AdjustBalance(ConnectionOperation):
    """Add (positive) or remove (negative) tokens by hand, once per ``request_id``: one
    definer-function call, on a Core connection (no ORM Session needed)."""

    customer_id: uuid.UUID
    amount: object
    reason: object
    request_id: uuid.UUID
    action = "adjust the token balance"

    def run(self, conn: Connection, actor: str) -> credits.AdjustmentResult:
        return credits.adjust_balance(conn, actor, self.customer_id, self.amount,
                                      self.reason, self.request_id)

    def changes(self, result: credits.AdjustmentResult) -> Changes:
        return Changes.of(credit_balances=result.customer_id,
                          credit_transactions=result.transaction_id)

    def is_one_statement(self, conn: Connection) -> bool:
        # admin.adjust_tokens does the whole adjustment; without it (a login with full
        # table rights, no roles set up) the steps are several statements in a transaction.
        return may_run(conn, credits.MONEY_FUNCTIONS)


@dataclass(frozen=True)
class CreateBulkGrant(Operation):
    """Plan a bulk grant (nobody granted yet): ``amount`` tokens to each customer."""

    amount: int
    reason: str
    customer_ids: tuple[uuid.UUID, ...]
    bulk_id: uuid.UUID
    action = "plan the bulk grant"

    def run(self, session: Session, actor: str) -> uuid.UUID:
        return credits.create_bulk_grant(session, actor, self.amount, self.reason,
                                         list(self.customer_ids), bulk_id=self.bulk_id)


@dataclass(frozen=True)
class RunBulkGrant(BatchOperation):
    """Grant a planned bulk to each of its customers, batch by batch; run again (Resume),
    it grants only those not granted yet."""

    bulk_id: uuid.UUID
    customer_ids: tuple[uuid.UUID, ...]
    action = "grant the bulk"

    def run(self, session_factory: sessionmaker[Session], actor: str,
            progress: Callable[[int, int], None],
            should_stop: Callable[[], bool]) -> credits.BulkGrantResult:
        return credits.run_bulk_grant(session_factory, actor, self.bulk_id,
                                      list(self.customer_ids), progress=progress,
                                      should_stop=should_stop)

    def changes(self, result: credits.BulkGrantResult) -> Changes:
        # Every granted customer's balance and ledger changed (committed batch by batch).
        return Changes.of(credit_balances=self.customer_ids, credit_transactions=None)
