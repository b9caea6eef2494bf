"""Named operations: every write the app makes is one, and says what it changed.

An :class:`Operation` is a frozen dataclass naming a business action
(``AdjustBalance(customer_id, amount, reason, request_id)``) and holding its arguments. The
desktop runs it on its serial write worker in one transaction (``run(session, actor)``) and,
when it succeeded, announces ``changes(result)`` to every page (Anki's ``OpChanges``): a page
reloads only what shows those rows. A :class:`ConnectionOperation` is the same on a Core
connection (``run(conn, actor)``), for a hot write that needs no ORM. A
:class:`PaymentOperation` calls Stripe and owns its transactions
(``run(session_factory, gateway, actor)``); it runs on the payments queue.

Errors are translated once, where the operation's work ends
(:func:`data.db_errors.translate_db_error`): pages never see a driver exception.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["NO_CHANGES", "BatchOperation", "Changes", "ConnectionOperation", "Operation",
           "PaymentOperation", "run_in_transaction"]


@dataclass(frozen=True)
class Changes:
    """What a write changed: for each table, the ids of its changed rows.

    ``None`` for a table means "rows not known": anything showing that table reloads.
    """

    tables: Mapping[str, frozenset[Hashable] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, **tables: Iterable[Hashable] | Hashable | None) -> Changes:
        """``Changes.of(credit_balances=[customer], credit_transactions=None)``; one id
        may be given bare."""
        out: dict[str, frozenset[Hashable] | None] = {}
        for table, ids in tables.items():
            if ids is None:
                out[table] = None
            elif isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
                out[table] = frozenset((ids,))
            else:
                out[table] = frozenset(ids)
        return cls(out)

    def __bool__(self) -> bool:
        return bool(self.tables)

    def __or__(self, other: Changes) -> Changes:
        merged = dict(self.tables)
        for table, ids in other.tables.items():
            if table in merged:
                mine = merged[table]
                merged[table] = None if mine is None or ids is None else mine | ids
            else:
                merged[table] = ids
        return Changes(merged)

    def touches(self, table: str, ids: Iterable[Hashable] | None = None) -> bool:
        """Did this change ``table`` (at any of ``ids``, when given)?"""
        if table not in self.tables:
            return False
        changed = self.tables[table]
        if changed is None or ids is None:
            return True
        return not changed.isdisjoint(ids)

    def ids(self, table: str) -> frozenset[Hashable] | None:
        """The changed ids of ``table`` (empty when untouched, None when not known)."""
        return self.tables.get(table, frozenset())


NO_CHANGES = Changes()


class Operation:
    """A named database write, run in one transaction on the serial write worker.

    Subclasses are frozen dataclasses holding the arguments; ``action`` says in a few words
    what it does, for messages ("Could not adjust the token balance: …").
    """

    action: ClassVar[str] = "save the change"

    @property
    def name(self) -> str:
        return type(self).__name__

    def run(self, session: Session, actor: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def changes(self, result: Any) -> Changes:
        """What ``result`` says was changed; announced after the commit."""
        return NO_CHANGES


class ConnectionOperation:
    """A named database write that needs no ORM, run in one transaction on a Core connection
    (``run(conn, actor)``), on the serial write worker as an :class:`Operation` is.

    For the hot money paths made of one definer-function call (a token adjustment): an ORM
    Session's begin, connection bookkeeping and commit cost about as much Python as the call
    itself, and the worker does nothing else with the Session. The transaction, the locks and
    what is committed are the same (:func:`run_in_transaction`). One that is a single
    statement for this login (:meth:`is_one_statement`) runs in autocommit: that statement
    is the transaction.
    """

    action: ClassVar[str] = "save the change"

    @property
    def name(self) -> str:
        return type(self).__name__

    def run(self, conn: Connection, actor: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def changes(self, result: Any) -> Changes:
        """What ``result`` says was changed; announced after the commit."""
        return NO_CHANGES

    def is_one_statement(self, conn: Connection) -> bool:
        """Whether :meth:`run` will send this login exactly one statement that writes (a
        definer function doing the whole change). Such an operation runs in autocommit: the
        statement is its own transaction, all or nothing, and the BEGIN/COMMIT round trips
        go. Asked on the connection the operation will run on, before :meth:`run`; any
        question it sends to decide is committed before autocommit is set."""
        return False


def run_in_transaction(operation: Operation | ConnectionOperation,
                       session_factory: sessionmaker[Session], actor: str) -> Any:
    """Run ``operation`` in one transaction of its own and commit it (rolled back on an
    error): an :class:`Operation` in a Session of ``session_factory``, a
    :class:`ConnectionOperation` on a connection of the factory's engine (in autocommit when
    it is one statement; a factory bound to something else, such as a test's connection,
    lends it a Session's connection). The desktop's write worker runs every operation
    through here, and so do the benches."""
    if isinstance(operation, ConnectionOperation):
        bind = session_factory.kw.get("bind")
        if isinstance(bind, Engine):
            with bind.connect() as conn:
                one_statement = operation.is_one_statement(conn)
                conn.commit()  # ends the transaction a question autobegan, if one was asked
                if one_statement:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    return operation.run(conn, actor)
                with conn.begin():
                    return operation.run(conn, actor)
        with session_factory.begin() as session:
            return operation.run(session.connection(), actor)
    with session_factory.begin() as session:
        return operation.run(session, actor)


class PaymentOperation:
    """A named action that calls Stripe: it owns its transactions (it commits before it
    calls Stripe) and runs on the payments queue, so writes never wait behind Stripe."""

    action: ClassVar[str] = "refund"

    @property
    def name(self) -> str:
        return type(self).__name__

    def run(self, session_factory: sessionmaker[Session], gateway: Any,
            actor: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def changes(self, result: Any) -> Changes:
        return NO_CHANGES


class BatchOperation:
    """A named long write that commits batch by batch (a bulk grant to thousands): it owns
    its transactions, reports ``progress(done, total)`` and stops between batches when
    ``should_stop()`` says so, answering how far it got. Runs on the serial write worker."""

    action: ClassVar[str] = "finish the batch"

    @property
    def name(self) -> str:
        return type(self).__name__

    def run(self, session_factory: sessionmaker[Session], actor: str,
            progress: Callable[[int, int], None],
            should_stop: Callable[[], bool]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def changes(self, result: Any) -> Changes:
        return NO_CHANGES
