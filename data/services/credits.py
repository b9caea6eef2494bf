"""Token (credit) balances: manual adjustments and bulk grants. This is money.

Guarantees, for every adjustment made through :func:`adjust_balance`:

- **Applied once.** Each request carries an id created when its dialog opened; the id is the
  primary key of ``admin.credit_adjustments``. A double click, a retry after a timeout or a
  second submit finds the stored request and answers its FIRST result (``replayed=True``).
  Two submits racing each other: the second waits on the balance row lock (or on the
  request id's unique index) until the first commits, then replays it.
- **No lost update.** The balance row is locked (``SELECT … FOR UPDATE``) before anything is
  decided, and the decision uses the row as the previous lock holder committed it; the new
  balance is computed by the database (``current_balance + amount``) under that lock.
- **Balance agrees with its ledger.** One ``adjustment`` row in ``credit_transactions`` with
  ``balance_after``, the balance, the request row and the audit record are written by one
  statement in the caller's transaction: all of it commits, or none of it.
- **Strict ledger order.** The ledger row is dated ``clock_timestamp()`` (not the
  transaction start) and never earlier than one microsecond after the balance's last change
  (``updated_at``, which each adjustment sets to its ledger time), so ordering by
  ``(created_at, id)`` is the order the balance changed in, even under contention or if the
  server clock steps back. (Looking up the customer's latest ledger row instead was measured
  to cost 10-15% of throughput under contention: the waiting transactions' index scans
  wade through the rows committed while they waited.)

The work is done in the database (migration 0010): ``SECURITY DEFINER`` functions
``admin.adjust_tokens``, ``admin.create_bulk_grant``, ``admin.grant_bulk_item`` and
``admin.finish_bulk_grant``, one call each (lock, claim, ledger, balance, request, audit), so
the balance row stays locked only for that call and the commit, and a staff login needs no
write right on any table: only EXECUTE on the functions (``platform-admin db roles``). The
functions record ``session_user`` as the actor; the ``actor`` arguments here stay for
compatibility and are not recorded. They answer business refusals as an outcome (not an
error), which this module turns back into the typed errors below, so the caller's
transaction stays usable.

A login that may not run the functions (no staff roles set up yet: e.g. a login granted
table rights by hand) takes the same steps as one plain SQL statement with its own rights, as
before 0010 (still audited: the audit table's trigger writes the actor and the chain). Which
path a connection takes is asked once per connection and asked again after any "permission
denied", so rights changed while the app runs are followed. Functions take a ``Session`` and
never open or commit one: the caller owns ``with session_factory.begin() as session:``.

Soft-deleted customers can still be adjusted: their balance and ledger survive the soft
delete (which is reversible), and support must be able to correct or claw back tokens on a
closed account. Bulk grants by filter (:func:`customer_ids_matching`) leave them out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session, sessionmaker

from data.definer_functions import execute_minding_rights, may_run
from data.errors import ConflictError, DomainError, NotFoundError, ValidationError
from data.models import CreditBalance, User
from data.queries.credits import BalanceFilter, filtered_balances
from data.services.audit import record_change
from data.services.text import parse_id, require_reason

MAX_ADJUSTMENT_TOKENS = 1_000_000
"""The largest number of tokens one adjustment (or one bulk grant, per customer) may add or
remove; dialogs show it as the amount field's limit."""
MAX_ADJUSTMENT = MAX_ADJUSTMENT_TOKENS
MAX_REASON = 500
MAX_BALANCE = 2_147_483_647
"""Balances and lifetime totals are PostgreSQL INTEGER columns."""
ADJUST_ACTION = "credits.adjust"
BULK_ACTION = "credits.bulk_grant"

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: '²' and '٣' are not numbers


class InsufficientBalanceError(DomainError):
    """A removal would take the balance below zero; ``current`` and ``amount`` say by how much."""

    def __init__(self, current: int, amount: int):
        self.current = current
        self.amount = amount
        super().__init__(insufficient_message(current, amount))


def insufficient_message(current: int, amount: int) -> str:
    return (
        f"This customer has {current:,} tokens; removing {-amount:,} would leave "
        f"{current + amount:,}. A balance cannot go below zero: remove at most "
        f"{max(current, 0):,}."
    )


@dataclass(frozen=True)
class AdjustmentResult:
    """What an adjustment did. ``replayed`` is true when the request had already been applied
    and this is its first result answered again."""

    request_id: uuid.UUID
    customer_id: uuid.UUID
    amount: int
    balance_before: int
    balance_after: int
    transaction_id: uuid.UUID
    created_at: dt.datetime
    replayed: bool = False


@dataclass(frozen=True)
class BalancePreview:
    """The balance now and after ``amount``, and whether the adjustment would be allowed."""

    customer_id: uuid.UUID
    current: int
    after: int
    allowed: bool
    message: str


@dataclass(frozen=True)
class BulkGrantResult:
    """How far a bulk grant run got. ``already_granted`` customers had this grant from an
    earlier (interrupted) run; ``missing`` customers no longer exist; ``stopped`` is true when
    ``should_stop`` ended the run before every customer was done."""

    granted: int
    already_granted: int
    total: int
    stopped: bool
    missing: int = 0


# -- validation ---------------------------------------------------------------------------

def _amount_error(amount: object) -> tuple[int | None, str | None]:
    if isinstance(amount, bool) or amount is None:
        return None, "Enter a whole number of tokens."
    if isinstance(amount, int):
        value = amount
    elif isinstance(amount, Decimal) and amount.is_finite() and amount == amount.to_integral():
        value = int(amount)
    elif isinstance(amount, str) and _INTEGER_TEXT.fullmatch(amount.strip()):
        digits = amount.strip().lstrip("+-").lstrip("0")
        if len(digits) > len(str(MAX_ADJUSTMENT_TOKENS)):  # never int() on 10,000 digits
            return None, f"At most {MAX_ADJUSTMENT_TOKENS:,} tokens in one adjustment."
        value = int(amount.strip())
    else:
        return None, "Enter a whole number of tokens (no fractions)."
    if value == 0:
        return None, "Enter a number of tokens other than zero."
    if abs(value) > MAX_ADJUSTMENT_TOKENS:
        return None, f"At most {MAX_ADJUSTMENT_TOKENS:,} tokens in one adjustment."
    return value, None


def _reason_error(reason: object) -> tuple[str | None, str | None]:
    """The reason, clean (see :func:`data.services.text.require_reason`: visible characters
    required, NUL, lone surrogates, controls other than line breaks and tabs, and bidi
    controls refused), or the message for the "reason" field."""
    try:
        return require_reason("reason", reason, MAX_REASON), None
    except ValidationError as exc:
        message = exc.field_errors["reason"]
        return None, "The reason must be text." if message == "Must be text." else message


def validate_adjustment(amount: object, reason: object) -> tuple[int, str]:
    """Check an adjustment's amount and reason; returns them clean (int, stripped text).

    Raises :class:`ValidationError` naming ``amount`` and/or ``reason``: zero, not a whole
    number (``1.5``, floats, bools, text), beyond :data:`MAX_ADJUSTMENT`; a missing or blank
    reason, one longer than :data:`MAX_REASON`, or one with control characters.
    """
    clean_amount, amount_error = _amount_error(amount)
    clean_reason, reason_error = _reason_error(reason)
    errors = {k: v for k, v in (("amount", amount_error), ("reason", reason_error)) if v}
    if errors:
        raise ValidationError(errors)
    assert clean_amount is not None and clean_reason is not None
    return clean_amount, clean_reason


# -- one adjustment -----------------------------------------------------------------------

# The driver's SQL (run by exec_driver_sql): the hottest call of the app's money paths, and
# SQLAlchemy's compilation of a text() is about a tenth of its Python (bench/adjustment_costs.py).
_ADJUST_TOKENS = ("SELECT * FROM admin.adjust_tokens(%(request_id)s, %(customer_id)s, "
                  "%(amount)s, %(reason)s, %(transaction_id)s)")
_GRANT_BULK_ITEM = text(
    "SELECT * FROM admin.grant_bulk_item(:bulk_id, :customer_id, :request_id, :transaction_id)")
_CREATE_BULK_GRANT = text(
    "SELECT admin.create_bulk_grant(:bulk_id, :amount, :reason, :total, :digest)")
_FINISH_BULK_GRANT = text("SELECT admin.finish_bulk_grant(:bulk_id)")

MONEY_FUNCTIONS = (
    "admin.adjust_tokens(uuid, uuid, integer, text, uuid)",
    "admin.grant_bulk_item(uuid, uuid, uuid, uuid)",
    "admin.create_bulk_grant(uuid, integer, text, integer, text)",
    "admin.finish_bulk_grant(uuid)",
)
"""The definer functions behind this module (migration 0010), as ``db roles`` grants them."""

def _from_outcome(
    request_id: uuid.UUID, customer_id: uuid.UUID, amount: int, row: Sequence[Any]
) -> AdjustmentResult:
    """The typed answer to a money function's outcome row (see migration 0010)."""
    outcome, stored_customer, stored_amount, before, after, transaction_id, created_at = row
    if outcome == "applied":
        return AdjustmentResult(request_id, customer_id, stored_amount, before, after,
                                transaction_id, created_at)
    if outcome == "replayed":
        return _stored_result(request_id, customer_id, amount, (
            stored_customer, stored_amount, before, after, transaction_id, created_at))
    if outcome == "missing":
        raise NotFoundError("This customer no longer exists; no tokens were changed.")
    if outcome == "insufficient":
        raise InsufficientBalanceError(before, stored_amount)
    if outcome == "too_large":
        raise ValidationError({"amount": "That would exceed the largest balance a customer "
                                         f"can hold ({MAX_BALANCE:,} tokens)."})
    raise RuntimeError(f"adjustment {request_id}: unknown outcome {outcome!r}")


# Without EXECUTE on the functions (no staff roles set up), the same steps in one plain SQL
# statement, with the login's own rights:
# claim the request id and, only if the claim succeeds, move the balance, append the ledger
# row and the audit record: one statement, so the balance row is locked for one round trip
# and the commit. Evaluation order follows the data: ``locked`` waits for the row lock (and
# then sees the row as the lock holder committed it), ``claim`` decides from those values,
# and the writes hang off ``claim``. A duplicate request conflicts in ``claim`` (waiting on
# the unique index while the first is uncommitted) and writes nothing.
_APPLY = text("""
WITH locked AS (
    SELECT b.id, b.current_balance, b.lifetime_earned, b.lifetime_spent,
           greatest(clock_timestamp()::timestamp,
                    b.updated_at + interval '1 microsecond') AS at
    FROM credit_balances b
    WHERE b.customer_id = :customer_id
    FOR UPDATE
),
claim AS (
    INSERT INTO admin.credit_adjustments
        (request_id, customer_id, amount, reason, actor, bulk_id, transaction_id,
         balance_before, balance_after, created_at)
    SELECT :request_id, :customer_id, CAST(:amount AS integer), :reason, session_user,
           CAST(:bulk_id AS uuid), :transaction_id, l.current_balance,
           l.current_balance + CAST(:amount AS integer), l.at::timestamptz
    FROM locked l
    WHERE (CAST(:amount AS integer) > 0 OR l.current_balance::bigint + :amount >= 0)
      AND l.current_balance::bigint + :amount <= 2147483647
      AND l.lifetime_earned::bigint + :earned <= 2147483647
      AND l.lifetime_spent::bigint + :spent <= 2147483647
    ON CONFLICT (request_id) DO NOTHING
    RETURNING balance_after, created_at
),
balance AS (
    UPDATE credit_balances b
    SET current_balance = b.current_balance + CAST(:amount AS integer),
        lifetime_earned = b.lifetime_earned + CAST(:earned AS integer),
        lifetime_spent = b.lifetime_spent + CAST(:spent AS integer),
        updated_at = l.at
    FROM locked l
    WHERE b.id = l.id AND EXISTS (SELECT FROM claim)
    RETURNING b.current_balance, b.lifetime_earned, b.lifetime_spent
),
ledger AS (
    INSERT INTO credit_transactions
        (id, customer_id, type, amount, balance_after, description, created_at)
    SELECT :transaction_id, :customer_id, 'adjustment', CAST(:amount AS integer),
           n.current_balance, :reason, l.at
    FROM balance n, locked l
    RETURNING balance_after
),
audit AS (
    INSERT INTO admin.audit_log
        (actor, action, entity_type, entity_id, old_values, new_values, reason)
    SELECT session_user, :action, 'credit_balance', CAST(:customer_id AS text),
           jsonb_build_object('current_balance', l.current_balance,
                              'lifetime_earned', l.lifetime_earned,
                              'lifetime_spent', l.lifetime_spent),
           jsonb_build_object('current_balance', n.current_balance,
                              'lifetime_earned', n.lifetime_earned,
                              'lifetime_spent', n.lifetime_spent)
               || CAST(:details AS jsonb),
           :reason
    FROM locked l, balance n
)
SELECT l.current_balance, l.lifetime_earned, l.lifetime_spent,
       c.balance_after, c.created_at, (SELECT balance_after FROM ledger)
FROM locked l LEFT JOIN claim c ON true
""")

_STORED_REQUEST = text("""
SELECT customer_id, amount, balance_before, balance_after, transaction_id, created_at
FROM admin.credit_adjustments WHERE request_id = :request_id
""")

# Only for a customer's first balance; a customer who does not exist gets no row.
_CREATE_BALANCE = text("""
INSERT INTO credit_balances (customer_id)
SELECT id FROM users WHERE id = :customer_id
ON CONFLICT (customer_id) DO NOTHING
""")


def _stored_result(
    request_id: uuid.UUID, customer_id: uuid.UUID, amount: int, row: Sequence[Any]
) -> AdjustmentResult:
    """The first result of an already applied request; refuses a different request."""
    stored_customer, stored_amount, before, after, transaction_id, created_at = row
    result = AdjustmentResult(request_id, stored_customer, stored_amount, before, after,
                              transaction_id, created_at, replayed=True)
    if stored_customer != customer_id or stored_amount != amount:
        whom = " for another customer" if stored_customer != customer_id else ""
        raise ConflictError(
            f"This request was already applied ({stored_amount:+,} tokens{whom}); nothing "
            "more was changed. Open the adjustment again to make a new one.",
            current=result,
        )
    return result


def _replay(
    conn: Connection, request_id: uuid.UUID, customer_id: uuid.UUID, amount: int
) -> AdjustmentResult | None:
    row = conn.execute(_STORED_REQUEST, {"request_id": request_id}).first()
    return None if row is None else _stored_result(request_id, customer_id, amount, row)


def adjust_balance(
    session: Session | Connection,
    actor: str,
    customer_id: uuid.UUID,
    amount: object,
    reason: object,
    request_id: uuid.UUID,
    *,
    bulk_id: uuid.UUID | None = None,
) -> AdjustmentResult:
    """Add (positive ``amount``) or remove (negative) whole tokens, once per ``request_id``.

    Writes one ``adjustment`` ledger row with its ``balance_after``, moves the balance and
    ``lifetime_earned`` (additions) or ``lifetime_spent`` (removals, as a positive number),
    creates the balance row of a customer who has none, records the request and the audit
    record (actor, reason, before, after), all in the caller's transaction.

    Raises :class:`ValidationError` (bad amount or reason), :class:`NotFoundError` (no such
    customer), :class:`InsufficientBalanceError` (a removal below zero, with the numbers),
    :class:`ConflictError` (the request id was used for a different customer or amount; a
    different reason alone replays the first result, whose reason stands).

    ``session`` may also be a Core ``Connection`` in a transaction (the app's own adjustment,
    :class:`data.operations.credits.AdjustBalance`, runs on one: no ORM work is needed, and a
    Session's begin and commit cost as much Python as the adjustment's statement).

    The database records its session user as the actor; ``actor`` is kept for callers'
    compatibility and not recorded. With ``bulk_id``, the bulk's own amount and reason are
    granted (``admin.grant_bulk_item``); ``amount`` and ``reason`` must be the bulk's.
    """
    amount, reason = validate_adjustment(amount, reason)
    customer_id = parse_id("customer_id", customer_id, "Not a valid id.")
    request_id = parse_id("request_id", request_id, "Not a valid id.")
    transaction_id = uuid.uuid4()
    # Core execution on the session's connection: same transaction, less per-call overhead.
    conn = session if isinstance(session, Connection) else session.connection()
    if may_run(conn, MONEY_FUNCTIONS):
        if bulk_id is None:
            row = execute_minding_rights(conn, _ADJUST_TOKENS, {
                "request_id": request_id, "customer_id": customer_id, "amount": amount,
                "reason": reason, "transaction_id": transaction_id}).one()
        else:
            row = execute_minding_rights(conn, _GRANT_BULK_ITEM, {
                "bulk_id": bulk_id, "customer_id": customer_id, "request_id": request_id,
                "transaction_id": transaction_id}).one()
        return _from_outcome(request_id, customer_id, amount, row)
    return _adjust_with_own_rights(conn, customer_id, amount, reason, request_id,
                                   transaction_id, bulk_id)


def _adjust_with_own_rights(
    conn: Connection,
    customer_id: uuid.UUID,
    amount: int,
    reason: str,
    request_id: uuid.UUID,
    transaction_id: uuid.UUID,
    bulk_id: uuid.UUID | None,
) -> AdjustmentResult:
    """:func:`adjust_balance` for a login that may not run the money functions: the same
    steps as one plain SQL statement (``_APPLY``), with the login's own table rights."""
    details: dict[str, Any] = {
        "amount": amount, "request_id": str(request_id), "transaction_id": str(transaction_id),
    }
    if bulk_id is not None:
        details["bulk_id"] = str(bulk_id)
    params = {
        "request_id": request_id,
        "customer_id": customer_id,
        "amount": amount,
        "earned": max(amount, 0),
        "spent": max(-amount, 0),
        "reason": reason,
        "action": ADJUST_ACTION,
        "bulk_id": bulk_id,
        "transaction_id": transaction_id,
        "details": json.dumps(details),
    }
    row = execute_minding_rights(conn, _APPLY, params).first()
    if row is None:
        # No balance row: a customer's first adjustment (or no such customer). Rare, so the
        # extra statements are fine.
        replay = _replay(conn, request_id, customer_id, amount)
        if replay is not None:
            return replay
        if conn.execute(_CREATE_BALANCE, params).rowcount == 1:
            params["details"] = json.dumps({**details, "balance_created": True})
        row = conn.execute(_APPLY, params).first()
        if row is None:
            raise NotFoundError("This customer no longer exists; no tokens were changed.")
    before, earned, spent, after, created_at, ledger_after = row
    if created_at is None:
        # Not claimed: applied before (answer its first result), or refused by the checks.
        replay = _replay(conn, request_id, customer_id, amount)
        if replay is not None:
            return replay
        if amount < 0 and before + amount < 0:
            raise InsufficientBalanceError(before, amount)
        if max(before + amount, earned + max(amount, 0), spent + max(-amount, 0)) > MAX_BALANCE:
            raise ValidationError({"amount": "That would exceed the largest balance a customer "
                                             f"can hold ({MAX_BALANCE:,} tokens)."})
        raise RuntimeError(f"adjustment {request_id} was neither applied nor refused")
    if ledger_after != after:  # pragma: no cover - the lock makes this impossible
        raise RuntimeError(f"balance moved under the lock: {ledger_after} != {after}")
    return AdjustmentResult(request_id, customer_id, amount, before, after, transaction_id,
                            created_at)


def preview_adjustment(session: Session, customer_id: uuid.UUID, amount: object) -> BalancePreview:
    """The balance now and after ``amount`` (no lock, nothing written), for the dialog.

    ``amount`` 0 just reads the current balance. Raises :class:`NotFoundError` for an
    unknown customer; a customer without a balance row has 0.
    """
    customer_id = parse_id("customer_id", customer_id, "Not a valid id.")
    row = session.execute(
        select(User.id, CreditBalance.current_balance)
        .outerjoin(CreditBalance, CreditBalance.customer_id == User.id)
        .where(User.id == customer_id)
    ).first()
    if row is None:
        raise NotFoundError("This customer no longer exists.")
    current = row[1] or 0
    value, error = _amount_error(amount)
    if value is None:
        zero = type(amount) is int and amount == 0  # just reading the current balance
        return BalancePreview(customer_id, current, current, False, "" if zero else error or "")
    after = current + value
    if value < 0 and after < 0:
        return BalancePreview(customer_id, current, after, False,
                              insufficient_message(current, value))
    return BalancePreview(customer_id, current, after, True,
                          f"New balance will be {after:,} tokens ({value:+,}).")


# -- bulk grants --------------------------------------------------------------------------

def grant_key(bulk_id: uuid.UUID, customer_id: uuid.UUID) -> uuid.UUID:
    """The request id of one customer's grant within a bulk: the same on every run."""
    return uuid.uuid5(bulk_id, str(customer_id))


def _planned(customer_ids: Iterable[object]) -> list[uuid.UUID]:
    """Distinct ids in a stable order (also the order rows are locked in: no deadlocks
    between two bulk runs)."""
    return sorted({parse_id("customers", c, "Not a valid id.") for c in customer_ids})


def _digest(ids: list[uuid.UUID]) -> str:
    h = hashlib.sha256()
    for i in ids:
        h.update(i.bytes)
    return h.hexdigest()


_INSERT_BULK = text("""
INSERT INTO admin.bulk_grants (bulk_id, amount, reason, actor, total, customers_digest)
VALUES (:bulk_id, :amount, :reason, session_user, :total, :digest)
ON CONFLICT (bulk_id) DO NOTHING
RETURNING bulk_id
""")

_FINISH_BULK = text("UPDATE admin.bulk_grants SET finished_at = now() "
                    "WHERE bulk_id = :bulk_id AND finished_at IS NULL")

_READ_BULK = text("""
SELECT amount, reason, total, customers_digest FROM admin.bulk_grants WHERE bulk_id = :bulk_id
""")


def create_bulk_grant(
    session: Session,
    actor: str,
    amount: object,
    reason: object,
    customer_ids: Iterable[object],
    *,
    bulk_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Record a bulk grant of ``amount`` tokens each to ``customer_ids``; returns its id.

    Nothing is granted yet: :func:`run_bulk_grant` does that. Pass the ``bulk_id`` the
    dialog created when it opened to make creating idempotent too (a retry returns the same
    bulk; the same id with a different plan raises :class:`ConflictError`).
    """
    clean_amount, amount_error = _amount_error(amount)
    clean_reason, reason_error = _reason_error(reason)
    if clean_amount is not None and clean_amount < 0:
        amount_error = "A bulk grant adds tokens: enter a positive number."
    ids = _planned(customer_ids)
    errors = {k: v for k, v in (("amount", amount_error), ("reason", reason_error),
                                ("customers", None if ids else "Choose at least one customer."))
              if v}
    if errors:
        raise ValidationError(errors)
    assert clean_amount is not None and clean_reason is not None
    amount, reason = clean_amount, clean_reason
    bulk_id = uuid.uuid4() if bulk_id is None else parse_id("bulk_id", bulk_id, "Not a valid id.")
    digest = _digest(ids)
    params = {"bulk_id": bulk_id, "amount": amount, "reason": reason, "total": len(ids),
              "digest": digest}
    conn = session.connection()
    if may_run(conn, MONEY_FUNCTIONS):
        created = bool(execute_minding_rights(conn, _CREATE_BULK_GRANT, params).scalar())
    else:
        created = execute_minding_rights(conn, _INSERT_BULK, params).first() is not None
        if created:
            record_change(
                session, actor=actor, action=BULK_ACTION, entity_type="bulk_grant",
                entity_id=bulk_id, old_values=None,
                new_values={"amount": amount, "total": len(ids)}, reason=reason,
            )
    if not created:
        stored = session.execute(_READ_BULK, {"bulk_id": bulk_id}).one()
        if tuple(stored) != (amount, reason, len(ids), digest):
            raise ConflictError("This bulk grant was already created with other settings.")
    return bulk_id


def run_bulk_grant(
    session_factory: sessionmaker[Session],
    actor: str,
    bulk_id: uuid.UUID,
    customer_ids: Iterable[object],
    *,
    batch_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BulkGrantResult:
    """Grant the bulk's tokens to each planned customer, batch by batch, resumably.

    Each batch commits in its own transaction; each customer goes through
    :func:`adjust_balance` with ``request_id=grant_key(bulk_id, customer)``, so running an
    interrupted (stopped, crashed, disconnected) bulk again grants only the rest and never
    anyone twice. ``should_stop()`` is asked before each batch; ``progress(done, total)`` is
    called after each. ``customer_ids`` must be the list the bulk was created with
    (:class:`ConflictError` otherwise).
    """
    ids = _planned(customer_ids)
    with session_factory() as session:
        stored = session.execute(_READ_BULK, {"bulk_id": bulk_id}).first()
    if stored is None:
        raise NotFoundError("This bulk grant does not exist.")
    amount, reason, total, digest = stored
    if len(ids) != total or _digest(ids) != digest:
        raise ConflictError(
            f"This bulk grant was planned for {total:,} customers; the list given now differs. "
            "Nothing was granted."
        )
    granted = already = missing = done = 0
    if progress is not None:
        progress(0, total)
    for start in range(0, total, batch_size):
        if should_stop is not None and should_stop():
            return BulkGrantResult(granted, already, total, True, missing)
        with session_factory.begin() as session:
            for customer_id in ids[start:start + batch_size]:
                try:
                    result = adjust_balance(session, actor, customer_id, amount, reason,
                                            grant_key(bulk_id, customer_id), bulk_id=bulk_id)
                except NotFoundError:
                    missing += 1  # deleted since the bulk was planned; nothing was written
                    continue
                if result.replayed:
                    already += 1
                else:
                    granted += 1
            done = min(start + batch_size, total)
            if done == total:
                conn = session.connection()
                finish = _FINISH_BULK_GRANT if may_run(conn, MONEY_FUNCTIONS) else _FINISH_BULK
                execute_minding_rights(conn, finish, {"bulk_id": bulk_id})
        if progress is not None:
            progress(done, total)
    return BulkGrantResult(granted, already, total, False, missing)


def customer_ids_matching(session: Session, flt: str | BalanceFilter = "") -> list[uuid.UUID]:
    """Ids of the customers a bulk grant by filter reaches: those with a balance row that the
    balances list shows for ``flt`` (a search text or a whole filter), not soft-deleted."""
    if isinstance(flt, str):
        flt = BalanceFilter(search=flt)
    stmt = filtered_balances(flt).where(User.deleted_at.is_(None))
    sub = stmt.subquery()
    return list(session.execute(select(sub.c.customer_id).order_by(sub.c.customer_id)).scalars())


# -- a booking's credits (migration 0017) ---------------------------------------------------

BOOKING_CREDIT_FUNCTIONS = ("admin.move_booking_credits(uuid, text, uuid, uuid, text)",)
"""The definer function that spends and returns a booking's credits, as ``db roles`` grants
it (to support)."""
_MOVE_BOOKING_CREDITS = text(
    "SELECT * FROM admin.move_booking_credits(:booking_id, :direction, :request_id, "
    ":transaction_id, :reason)")


def move_booking_credits(
    session: Session, actor: str, booking_id: uuid.UUID, direction: str,
    customer_id: uuid.UUID, amount: int, reason: str, request_id: uuid.UUID,
) -> AdjustmentResult:
    """Spend (``direction="spend"``, ``amount`` negative) or return (``"return"``, positive)
    a booking's credits once, in the caller's transaction, as the platform's own ledger rows:
    ``spent_offering`` and, for the return, ``adjustment``, both with ``offering_booking_id``.
    The function reads the amount and the customer from the booking; ``amount`` and
    ``customer_id`` are what the caller expects (a different stored request is refused as in
    :func:`adjust_balance`). ``request_id`` is the booking's key (``spend_key`` /
    ``return_key``).

    A login that may not run the function (no staff roles set up) takes
    :func:`adjust_balance`'s path: an ``adjustment`` row without the booking reference.
    """
    amount, reason = validate_adjustment(amount, reason)
    conn = session.connection()
    if not may_run(conn, BOOKING_CREDIT_FUNCTIONS):
        return adjust_balance(session, actor, customer_id, amount, reason, request_id)
    row = execute_minding_rights(conn, _MOVE_BOOKING_CREDITS, {
        "booking_id": booking_id, "direction": direction, "request_id": request_id,
        "transaction_id": uuid.uuid4(), "reason": reason}).one()
    if row[0] == "missing_booking":
        raise NotFoundError("This booking no longer exists; no tokens were changed.")
    if row[0] == "not_applicable":
        raise ConflictError("This booking is not paid with credits in a state that "
                            f"allows it; no tokens were {'taken' if amount < 0 else 'returned'}.")
    return _from_outcome(request_id, customer_id, amount, row)
