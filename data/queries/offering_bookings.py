"""An offering's bookings, all of them, a keyset page at a time, filtered in the database.

The Bookings tab of an offering pages newest first on ``(created_at, id)`` (the index of
migration 0018); its filters (status, payment method, customer name or email) are part of the
query, so a filter finds a booking however deep it lies.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data.queries.offerings import _BOOKINGS, BookingLine
from data.services.text import clean_search

__all__ = ["BookingFilter", "list_offering_bookings_page"]


@dataclass(frozen=True)
class BookingFilter:
    """``customer``: part of the customer's name or email (any case)."""

    status: str | None = None
    payment_method: str | None = None
    customer: str = ""


def list_offering_bookings_page(session: Session, flt: BookingFilter, offering_id: uuid.UUID,
                                cursor: tuple | None, limit: int
                                ) -> tuple[list[BookingLine], tuple | None]:
    """One page of ``offering_id``'s bookings matching ``flt``, newest first, after
    ``cursor`` (the last row's ``(created_at, id)``); never OFFSET."""
    where = ["b.offering_id = :o"]
    params: dict[str, Any] = {"o": offering_id, "limit": limit}
    if flt.status is not None:
        where.append("b.status = :status")
        params["status"] = flt.status
    if flt.payment_method is not None:
        where.append("b.payment_method = :method")
        params["method"] = flt.payment_method
    search = clean_search(flt.customer)
    if search:
        like = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("(u.email ILIKE :who OR u.full_name ILIKE :who)")
        params["who"] = f"%{like}%"
    if cursor is not None:
        where.append("(b.created_at, b.id) < (:after, :after_id)")
        params.update(after=cursor[0], after_id=cursor[1])
    sql = (_BOOKINGS + f" WHERE {' AND '.join(where)}"
           " ORDER BY b.created_at DESC, b.id DESC LIMIT :limit")
    rows = [BookingLine(*r) for r in session.execute(text(sql), params)]
    if len(rows) < limit:
        return rows, None
    last = rows[-1]
    return rows, (last.created_at, last.id)
