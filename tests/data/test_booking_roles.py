"""Bookings as a support login (``db roles`` applied): book with credits, cancel, mark and
change portal access work and are recorded as that login; the owner edits offerings and
their resources."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from data.roles import OWNER_GROUP, SUPPORT_GROUP
from data.services import bookings
from data.services import offerings as svc
from tests.data.offering_factories import add_customer, add_offering, balance, offering_state
from tests.data.test_roles import login, staffed_db  # noqa: F401 (fixtures)


def test_support_books_cancels_and_marks_as_itself(engine, login):  # noqa: F811
    name, support = login(SUPPORT_GROUP)
    oid = add_offering(engine, credit_cost=2)
    customer = add_customer(engine, balance=4)
    with support.begin() as s:
        booking = bookings.book_on_behalf(s, "x", oid, customer, "credits",
                                          uuid.uuid4()).booking_id
    with support.begin() as s:
        bookings.cancel_booking(s, "x", booking, "Unwell")
    with support.begin() as s:
        other = bookings.book_on_behalf(s, "x", oid, add_customer(engine), "complimentary",
                                        uuid.uuid4()).booking_id
    with support.begin() as s:
        bookings.mark_booking(s, "x", other, "completed")
    assert balance(engine, customer) == 4
    assert offering_state(engine, oid) == {"booking_count": 1, "canceled": 1, "completed": 1}
    with engine.connect() as c:
        actors = set(c.execute(text("SELECT actor FROM admin.audit_log")).scalars())
    assert actors == {name}


def test_owner_edits_an_offering_and_orders_its_resources(engine, login):  # noqa: F811
    _name, owner = login(OWNER_GROUP)
    oid = add_offering(engine)
    with owner.begin() as s:
        a = svc.add_resource(s, "x", oid, {"resource_type": "text", "title": "A",
                                           "text_content": "Bring a mat"})
        b = svc.add_resource(s, "x", oid, {"resource_type": "text", "title": "B",
                                           "text_content": "Bring water"})
    with owner.begin() as s:
        svc.reorder_resources(s, "x", oid, [b, a])
        svc.update_offering(s, "x", oid, None, {"title": "Renamed"})
    with engine.connect() as c:
        assert c.execute(text("SELECT title FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == "Renamed"
