"""A booking's History in the Manage booking dialog: each change made through the app, with
who, what and why, shown as it happens."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt

from data.db import make_session_factory
from data.services import bookings
from desktop.pages.manage_booking_dialog import ManageBookingDialog
from tests.data.offering_factories import add_customer, add_offering

WAIT = 15_000


def _history(dialog) -> list[tuple[str, str]]:
    model = dialog.history.model
    return [(model.row_at(i).action, model.row_at(i).reason or "")
            for i in range(model.rowCount())]


def test_after_cancelling_a_booking_its_history_shows_the_cancel_with_the_reason(
        qtbot, empty_database, engine):
    oid = add_offering(engine, credit_cost=2)
    customer = add_customer(engine, balance=2)
    with make_session_factory(engine).begin() as s:
        booking = bookings.book_on_behalf(s, "tester", oid, customer, "credits",
                                          uuid.uuid4()).booking_id
    dialog = ManageBookingDialog(empty_database, booking)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None and not dialog.history.model.is_loading,
                    timeout=WAIT)
    assert _history(dialog) == [("booking.create", "")]
    qtbot.keyClicks(dialog.reason, "Feeling unwell")
    dialog.cancel()
    qtbot.waitUntil(lambda: _history(dialog)[:1] == [("booking.cancel", "Feeling unwell")],
                    timeout=WAIT)
    # The portal access ended with it, in the same History.
    assert [action for action, _ in _history(dialog)] == ["booking.cancel",
                                                          "booking.portal_access",
                                                          "booking.create"]
    cancel = dialog.history.model.row_at(0)
    assert {(c.field, c.new) for c in cancel.changes} >= {("status", "canceled")}


def test_extending_and_revoking_portal_access_both_show_in_the_bookings_history(
        qtbot, empty_database, engine):
    oid = add_offering(engine)
    customer = add_customer(engine)
    with make_session_factory(engine).begin() as s:
        booking = bookings.book_on_behalf(s, "tester", oid, customer, "complimentary",
                                          uuid.uuid4()).booking_id
    dialog = ManageBookingDialog(empty_database, booking)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.plan is not None and not dialog.history.model.is_loading,
                    timeout=WAIT)
    qtbot.keyClicks(dialog.reason, "Needs the recordings a while longer")
    qtbot.mouseClick(dialog.extend_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _history(dialog)[:1] == [
        ("booking.portal_access", "Needs the recordings a while longer")], timeout=WAIT)
    dialog.reason.clear()
    qtbot.keyClicks(dialog.reason, "Shared the login")
    qtbot.mouseClick(dialog.revoke_button, Qt.MouseButton.LeftButton)
    next(b for b in dialog.confirmation.buttons() if b.text() == "Revoke access").click()
    qtbot.waitUntil(lambda: _history(dialog)[:1] == [("booking.portal_access",
                                                      "Shared the login")], timeout=WAIT)
    assert _history(dialog) == [("booking.portal_access", "Shared the login"),
                                ("booking.portal_access", "Needs the recordings a while longer"),
                                ("booking.create", "")]
    revoked, extended = dialog.history.model.row_at(0), dialog.history.model.row_at(1)
    assert {c.field for c in extended.changes} >= {"expires_at"}
    assert ("expires_at", None) in {(c.field, c.new) for c in revoked.changes}
