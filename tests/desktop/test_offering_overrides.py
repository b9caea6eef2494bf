"""The Offerings page's refusals and overrides, driven as staff would (qtbot, real PostgreSQL):
reducing max participants below the bookings (refused with the numbers; saved with a reason,
the reason in the audit row), booking after the registration deadline (refused; booked with a
reason, credits through the ledger), booking a customer who already holds a confirmed
booking, a full offering, publishing an offering whose schedule is incomplete, and a drag of
the resources saved and read back."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, Qt
from sqlalchemy import text

from desktop.pages.offerings import OfferingsPage
from tests.data.offering_factories import (
    add_booking,
    add_customer,
    add_offering,
    balance,
    offering_state,
)

WAIT = 15_000
PAST = dt.datetime(2020, 1, 1, 18, 0)


@pytest.fixture
def page(qtbot, empty_database):
    p = OfferingsPage(empty_database)
    qtbot.addWidget(p)
    p.resize(1600, 950)
    return p


def _open(qtbot, page, offering_id):
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    page.detail.show(offering_id)
    qtbot.waitUntil(lambda: page.detail.record is not None
                    and page.detail.record.id == offering_id, timeout=WAIT)


def _retype(qtbot, editor, typed):
    line = getattr(editor, "line_edit", editor)
    line.selectAll()
    qtbot.keyClicks(line, typed)


def _audit(engine, action, entity_id):
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT new_values, reason FROM admin.audit_log WHERE action = :a "
            "AND entity_id = :e ORDER BY id"), {"a": action, "e": str(entity_id)})]


def _max_participants(engine, offering_id):
    with engine.connect() as c:
        return c.execute(text("SELECT max_participants FROM offerings WHERE id = :o"),
                         {"o": offering_id}).scalar_one()


# -- reducing max participants ----------------------------------------------------------------

def test_reducing_seats_below_the_bookings_is_refused_then_saved_with_a_reason(
        qtbot, page, engine):
    oid = add_offering(engine, max_participants=5, booking_count=3)
    for _ in range(3):
        add_booking(engine, oid, add_customer(engine))
    _open(qtbot, page, oid)
    detail = page.detail
    _retype(qtbot, detail.form.field_widget("max_participants"), "2")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.form.error_text("max_participants") != "", timeout=WAIT)
    assert detail.form.error_text("max_participants") == (
        "Below the bookings it holds: 3 bookings not canceled (at most 2). "
        "To reduce it anyway, give a reason in “Reason for an exception” below.")
    assert _max_participants(engine, oid) == 5  # nothing written
    assert _audit(engine, "offering.update", oid) == []
    assert detail.form.is_dirty  # the change is still there to save with a reason

    qtbot.keyClicks(detail.form.field_widget("change_reason"), "Smaller room, creator agreed")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not detail.form.is_dirty, timeout=WAIT)
    assert _max_participants(engine, oid) == 2
    assert _audit(engine, "offering.update", oid) == [
        ({"max_participants": 2}, "Smaller room, creator agreed")]
    assert offering_state(engine, oid) == {"booking_count": 3, "confirmed": 3}


# -- booking on behalf --------------------------------------------------------------------------

def _book(qtbot, page, customer, *, credits=False, reason=""):
    dialog = page.detail.open_booking_dialog()
    dialog.customer.set_value((customer, "the customer"))
    if credits:
        dialog.credits.setChecked(True)
    if reason:
        qtbot.keyClicks(dialog.override_reason, reason)
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    return dialog


def _bookings_of(engine, offering_id):
    with engine.connect() as c:
        return c.execute(text(
            "SELECT id, customer_id, status, payment_method, credits_used, booking_details "
            "FROM offering_bookings WHERE offering_id = :o"), {"o": offering_id}).all()


def _ledger(engine, customer):
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT type, amount, offering_booking_id FROM credit_transactions "
            "WHERE customer_id = :c ORDER BY created_at, id"), {"c": customer})]


@pytest.mark.parametrize("credits", [False, True], ids=["complimentary", "credits"])
def test_booking_after_the_deadline_is_refused_then_made_with_a_reason(
        qtbot, page, engine, credits):
    oid = add_offering(engine, deadline=PAST, credit_cost=3)
    customer = add_customer(engine, balance=5)
    _open(qtbot, page, oid)
    dialog = _book(qtbot, page, customer, credits=credits)
    error = dialog.errors["override_reason"]
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog) and error.text() != "", timeout=WAIT)
    assert error.text() == ("Registration closed on 2020-01-01 18:00; give a reason to book "
                            "anyway.")
    assert dialog.isVisible()  # still open, to give the reason
    assert error.height() >= error.heightForWidth(error.width())  # both lines shown, not cut
    assert offering_state(engine, oid) == {"booking_count": 0}
    assert balance(engine, customer) == 5 and _ledger(engine, customer) == []

    qtbot.keyClicks(dialog.override_reason, "Creator invited her personally")
    with qtbot.waitSignal(dialog.booking_made, timeout=WAIT) as made:
        qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert made.args[0].status == "confirmed" and not made.args[0].replayed
    assert offering_state(engine, oid) == {"booking_count": 1, "confirmed": 1}
    [booking] = _bookings_of(engine, oid)
    assert booking.customer_id == customer
    assert booking.booking_details["override_reason"] == "Creator invited her personally"
    assert [reason for _new, reason in _audit(engine, "booking.create", booking.id)] == [
        "Creator invited her personally"]
    if credits:
        assert (booking.payment_method, booking.credits_used) == ("credits", 3)
        assert _ledger(engine, customer) == [("spent_offering", -3, booking.id)]
        assert balance(engine, customer) == 2
    else:
        assert booking.booking_details["complimentary"] is True
        assert booking.credits_used == 0 and _ledger(engine, customer) == []
        assert balance(engine, customer) == 5


def test_a_customer_with_a_confirmed_booking_is_not_booked_twice(qtbot, page, engine):
    oid = add_offering(engine, booking_count=1)
    customer = add_customer(engine, balance=5)
    add_booking(engine, oid, customer)
    _open(qtbot, page, oid)
    dialog = _book(qtbot, page, customer, credits=True)
    error = dialog.errors["customer"]
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog) and error.text() != "", timeout=WAIT)
    assert error.text() == "This customer already holds a confirmed booking of this offering."
    assert dialog.isVisible()
    assert error.height() >= error.heightForWidth(error.width())  # not cut
    assert offering_state(engine, oid) == {"booking_count": 1, "confirmed": 1}
    assert len(_bookings_of(engine, oid)) == 1
    assert balance(engine, customer) == 5 and _ledger(engine, customer) == []


def test_booking_a_full_offering_is_refused_with_the_sentence(qtbot, page, engine):
    oid = add_offering(engine, max_participants=2, booking_count=2, title="Gong Bath")
    add_booking(engine, oid, add_customer(engine))
    add_booking(engine, oid, add_customer(engine), status="completed")  # holds a place too
    add_booking(engine, oid, add_customer(engine), status="canceled")  # holds none
    customer = add_customer(engine, balance=5)
    _open(qtbot, page, oid)
    dialog = _book(qtbot, page, customer, credits=True)
    qtbot.waitUntil(lambda: "full" in dialog.message.text(), timeout=WAIT)
    assert "“Gong Bath” is full: all 2 places are taken. Nothing was booked." in \
        dialog.message.text()
    assert dialog.message.height() >= dialog.message.heightForWidth(dialog.message.width())
    assert offering_state(engine, oid) == {"booking_count": 2, "confirmed": 1,
                                           "completed": 1, "canceled": 1}
    assert balance(engine, customer) == 5 and _ledger(engine, customer) == []


# -- publishing ---------------------------------------------------------------------------------

def test_publishing_with_an_incomplete_schedule_is_refused_with_the_reason(
        qtbot, page, engine):
    """Everything else is there (description, video provider, price, seats): the schedule
    alone is what stops it, and the banner says what is missing."""
    oid = add_offering(engine, status="draft",
                       schedule={"date": "2030-03-15", "duration_minutes": 120})
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET description = 'Sound', "
                       "video_conference_provider = 'zoom' WHERE id = :o"), {"o": oid})
    _open(qtbot, page, oid)
    qtbot.mouseClick(page.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "schedule" in page.detail.banner.text(), timeout=WAIT)
    shown = page.detail.banner.text()
    assert "Cannot publish: The schedule is incomplete (" in shown
    assert "start time" in shown.lower() or "start_time" in shown
    with engine.connect() as c:
        assert c.execute(text("SELECT status, published_at FROM offerings WHERE id = :o"),
                         {"o": oid}).one() == ("draft", None)
    assert _audit(engine, "offering.status", oid) == []


# -- resources: a drop --------------------------------------------------------------------------

def _resource_titles(engine, offering_id):
    with engine.connect() as c:
        return c.execute(text("SELECT title FROM offering_resources WHERE offering_id = :o "
                              "ORDER BY display_order"), {"o": offering_id}).scalars().all()


@pytest.mark.parametrize("drop", ["dropMimeData", "moveRows"])
def test_resources_reordered_by_a_drop_are_saved_and_read_back(qtbot, page, engine,
                                                                session_factory, drop):
    """A drop, as the list view delivers it: a QDrag cannot be driven offscreen (its exec()
    runs the platform's own drag loop), so the test makes the calls a drop of the first row
    below the last makes on the model — ``dropMimeData`` with the dragged rows' mime data
    (any view) or ``moveRows`` (Qt's list view on an internal move). Then Save order, and
    the order read back from the database, in the table and in the panel loaded again."""
    from data.services import offerings as svc

    oid = add_offering(engine)
    other = add_offering(engine, title="Other")
    with session_factory.begin() as s:
        for title in ("Workbook", "Reading list", "Recording"):
            svc.add_resource(s, "tester", oid, {"resource_type": "link", "title": title,
                                                "link_url": "https://example.org/" + title[:4]})
    _open(qtbot, page, oid)
    panel = page.detail.resources
    qtbot.waitUntil(lambda: panel.list.model.rowCount() == 3, timeout=WAIT)
    model = panel.list.model
    assert not panel.save_button.isEnabled()
    if drop == "dropMimeData":
        mime = model.mimeData([model.index(0, 0)])
        assert model.canDropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
        assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, QModelIndex())
    else:
        assert model.moveRow(QModelIndex(), 0, QModelIndex(), 3)
    assert [t.split(" — ")[0] for t in model.texts()] == ["Reading list", "Recording",
                                                         "Workbook"]
    assert panel.save_button.isEnabled()
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.note.text() == "Order saved.", timeout=WAIT)
    assert _resource_titles(engine, oid) == ["Reading list", "Recording", "Workbook"]

    page.detail.show(other)  # away and back: the panel loads the order from the database
    qtbot.waitUntil(lambda: page.detail.record.id == other and panel.list.model.rowCount() == 0,
                    timeout=WAIT)
    page.detail.show(oid)
    qtbot.waitUntil(lambda: page.detail.record.id == oid and panel.list.model.rowCount() == 3,
                    timeout=WAIT)
    assert [t.split(" — ")[0] for t in panel.list.model.texts()] == [
        "Reading list", "Recording", "Workbook"]
    assert not panel.save_button.isEnabled()


# -- cancelling a card booking with a partial refund --------------------------------------------

def test_a_card_booking_cancelled_with_a_partial_refund(qtbot, stripe_database, card_booking,
                                                        engine, localstripe):
    """Cancel on a card booking opens the refund flow; a partial amount refunds that much
    once on localstripe, and the booking is cancelled all the same: its place freed, its
    portal access ended. The refund dialog opened again offers what is left."""
    from desktop.pages.manage_booking_dialog import ManageBookingDialog
    from desktop.pages.refund_dialog import RefundDialog
    from tests.desktop.test_refund_dialog import _refunds_in_stripe, _type

    booking = card_booking("40.00")
    with engine.connect() as c:
        oid, intent = c.execute(text("SELECT offering_id, stripe_payment_intent_id FROM "
                                     "offering_bookings WHERE id = :b"), {"b": booking}).one()
    manage = ManageBookingDialog(stripe_database, booking)
    qtbot.addWidget(manage)
    qtbot.waitUntil(lambda: manage.plan is not None, timeout=WAIT)
    manage.ask_cancel()
    refund = manage.findChild(RefundDialog)
    qtbot.waitUntil(lambda: refund.refundable is not None, timeout=WAIT)
    _type(qtbot, refund.amount, "15.00")
    qtbot.mouseClick(refund.review_button, Qt.MouseButton.LeftButton)
    assert "15.00" in refund.confirm_text.text()
    with qtbot.waitSignal(refund.refund_finished, timeout=WAIT) as done:
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "succeeded" and not done.args[0].full_refund
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [1500]
    qtbot.waitUntil(lambda: offering_state(engine, oid) == {"booking_count": 0,
                                                            "canceled": 1}, timeout=WAIT)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM offering_portal_access "
                              "WHERE booking_id = :b"), {"b": booking}).scalar() == 0
    refund.close()
    again = RefundDialog(stripe_database, "booking", booking)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.refundable is not None, timeout=WAIT)
    assert again.amount.text() == "25.00"
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [1500]


def test_a_taken_one_on_one_session_is_refused_and_another_session_is_booked(
        qtbot, page, engine):
    """A 1:1 offering is full per session: the booked slot is refused with the sentence
    naming it, a bad date is named under its field, another slot books."""
    oid = add_offering(engine, offering_type="recurring_bookable", title="Coaching",
                       capacity_type="one_on_one", max_participants=1, booking_count=1,
                       schedule={"availability": {"monday": [{"start": "09:00",
                                                              "end": "12:00"}]},
                                 "booking_window_days": 14, "buffer_minutes": 15})
    add_booking(engine, oid, add_customer(engine),
                details={"booked_sessions": [{"date": "2030-01-07", "time": "10:00"}]})
    customer = add_customer(engine)
    _open(qtbot, page, oid)
    dialog = page.detail.open_booking_dialog()
    dialog.customer.set_value((customer, "the customer"))
    qtbot.keyClicks(dialog.session_date, "2030-01-07")
    qtbot.keyClicks(dialog.session_time, "10:00")
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "full" in dialog.message.text(), timeout=WAIT)
    assert ("“Coaching” is full: its one place is taken on the session of 2030-01-07 10:00. "
            "Nothing was booked.") in dialog.message.text()
    assert offering_state(engine, oid) == {"booking_count": 1, "confirmed": 1}

    dialog.session_date.setText("2030-01-32")
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    error = dialog.errors["session_date"]
    qtbot.waitUntil(lambda: error.isVisibleTo(dialog) and error.text() != "", timeout=WAIT)
    assert error.text() == "Not a calendar date."  # under "Session date"
    assert offering_state(engine, oid) == {"booking_count": 1, "confirmed": 1}

    dialog.session_date.setText("2030-01-14")
    with qtbot.waitSignal(dialog.booking_made, timeout=WAIT):
        qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    assert offering_state(engine, oid) == {"booking_count": 2, "confirmed": 2}
    [mine] = [b for b in _bookings_of(engine, oid) if b.customer_id == customer]
    assert mine.booking_details["booked_sessions"] == [{"date": "2030-01-14", "time": "10:00"}]


def test_booking_an_unpublished_offering_is_refused_with_the_sentence(qtbot, page, engine):
    oid = add_offering(engine, status="draft", title="Gong Bath")
    customer = add_customer(engine, balance=5)
    _open(qtbot, page, oid)
    dialog = _book(qtbot, page, customer, credits=True)
    qtbot.waitUntil(lambda: "published" in dialog.message.text(), timeout=WAIT)
    assert "“Gong Bath” is not published (draft); it cannot be booked." in \
        dialog.message.text()
    assert offering_state(engine, oid) == {"booking_count": 0}
    assert balance(engine, customer) == 5 and _ledger(engine, customer) == []
