"""Generic read-only keyset listing of one table: a page that only shows its table, or the
inline list of one record's rows (a user's email log) inside a detail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, SQLColumnExpression, select, text, tuple_
from sqlalchemy.orm import QueryableAttribute, Session


@dataclass(frozen=True)
class TableListing:
    """A page described by its columns: (title, column) pairs, newest first by ``sort``.

    The columns are SQL column expressions: mapped attributes (``EmailLog.created_at``) or
    Core ones (``literal_column(...)``). ``id_column`` must belong to the listed table (a
    ``Column`` or the mapped attribute of one): the listing reads ``FROM`` its table.
    """

    title: str
    columns: tuple[tuple[str, SQLColumnExpression[Any]], ...]
    sort: SQLColumnExpression[Any]
    id_column: Column[Any] | QueryableAttribute[Any]
    joins: tuple[tuple[Any, ColumnElement[bool]], ...] = ()
    """(table, on-clause) pairs for columns shown from other tables (e.g. a customer's email)."""
    owner: SQLColumnExpression[Any] | None = None
    """For an inline list: the column holding the owning record's id (``EmailLog.user_id``);
    an index on it (and the few rows per owner) keeps the newest-first read quick."""

    @property
    def table_name(self) -> str:
        return self.id_column.table.name


def list_page(
    session: Session, listing: TableListing, cursor: tuple | None, limit: int,
    *, owner_id: Any = None,
) -> tuple[list[tuple], tuple | None]:
    """One page after ``cursor`` ordered by (sort, id) descending: never OFFSET. With
    ``owner_id``, only the rows of that owner (``listing.owner``)."""
    cols = [c for _, c in listing.columns]
    stmt = select(*cols, listing.sort, listing.id_column).select_from(listing.id_column.table)
    for target, onclause in listing.joins:
        stmt = stmt.join(target, onclause)
    if owner_id is not None:
        if listing.owner is None:
            raise ValueError(f"{listing.title} has no owner column")
        stmt = stmt.where(listing.owner == owner_id)
    if cursor is not None:
        stmt = stmt.where(tuple_(listing.sort, listing.id_column) < tuple_(*cursor))
    stmt = stmt.order_by(listing.sort.desc(), listing.id_column.desc()).limit(limit + 1)
    raw = session.execute(stmt).all()
    more = len(raw) > limit
    raw = raw[:limit]
    rows = [tuple(r[: len(cols)]) + (r[-1],) for r in raw]  # last item: the id
    next_cursor = (raw[-1][-2], raw[-1][-1]) if more and raw else None
    return rows, next_cursor


def estimated_rows(session: Session, listing: TableListing) -> int:
    """The planner's row estimate (``pg_class.reltuples``): instant on any size."""
    n = session.execute(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = CAST(:t AS regclass)"),
        {"t": listing.table_name},
    ).scalar_one()
    return max(int(n or 0), 0)


def list_owned_page(
    session: Session, listing: TableListing, owner_id: Any, cursor: tuple | None, limit: int
) -> tuple[list[tuple], tuple | None]:
    """One keyset page of ``owner_id``'s rows of ``listing``, newest first."""
    return list_page(session, listing, cursor, limit, owner_id=owner_id)
