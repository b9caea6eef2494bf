"""Bookings, a keyset page at a time, filtered in the database: an offering's or a customer's.

The Bookings tab of an offering and the Bookings tab of a user (the Users detail) page
newest first on ``(created_at, id)``, each off an index that starts with its owner's id
(migration 0018 for the offering, 0013 for the customer); the filters (status, payment
method, and the other side's name: the customer's name or email on an offering, the
offering's title on a customer) are part of the query, so a filter finds a booking however
deep it lies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.queries.offerings import BOOKING_SELECT, BookingLine
from data.services.text import clean_search

__all__ = ["BookingFilter", "list_customer_bookings_page", "list_offering_bookings_page"]


@dataclass(frozen=True)
class BookingFilter:
    """``customer``: part of the customer's name or email (any case); ``offering``: part of
    the offering's title (any case)."""

    status: str | None = None
    payment_method: str | None = None
    customer: str = ""
    offering: str = ""


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _bookings_page(session: Session, flt: BookingFilter,
                   owner: Literal["offering_id", "customer_id"], owner_id: uuid.UUID,
                   cursor: tuple | None, limit: int) -> tuple[list[BookingLine], tuple | None]:
    where = [f"b.{owner} = :owner"]
    params: dict[str, Any] = {"owner": owner_id, "limit": limit}
    if flt.status is not None:
        where.append("b.status = :status")
        params["status"] = flt.status
    if flt.payment_method is not None:
        where.append("b.payment_method = :method")
        params["method"] = flt.payment_method
    customer = clean_search(flt.customer)
    if customer:
        where.append("(u.email ILIKE :who OR u.full_name ILIKE :who)")
        params["who"] = _like(customer)
    offering = clean_search(flt.offering)
    if offering:
        where.append("o.title ILIKE :what")
        params["what"] = _like(offering)
    if cursor is not None:
        where.append("(b.created_at, b.id) < (:after, :after_id)")
        params.update(after=cursor[0], after_id=cursor[1])
    sql = (BOOKING_SELECT + f" WHERE {' AND '.join(where)}"
           " ORDER BY b.created_at DESC, b.id DESC LIMIT :limit")
    rows = [BookingLine(*r) for r in session.execute(text(sql), params)]
    if len(rows) < limit:
        return rows, None
    last = rows[-1]
    return rows, (last.created_at, last.id)


def list_offering_bookings_page(session: Session, flt: BookingFilter, offering_id: uuid.UUID,
                                cursor: tuple | None, limit: int
                                ) -> tuple[list[BookingLine], tuple | None]:
    """One page of ``offering_id``'s bookings matching ``flt``, newest first, after
    ``cursor`` (the last row's ``(created_at, id)``); never OFFSET."""
    return _bookings_page(session, flt, "offering_id", offering_id, cursor, limit)


def list_customer_bookings_page(session: Session, flt: BookingFilter, customer_id: uuid.UUID,
                                cursor: tuple | None, limit: int
                                ) -> tuple[list[BookingLine], tuple | None]:
    """One page of ``customer_id``'s bookings (of every offering) matching ``flt``, newest
    first, after ``cursor`` (the last row's ``(created_at, id)``); never OFFSET."""
    return _bookings_page(session, flt, "customer_id", customer_id, cursor, limit)
