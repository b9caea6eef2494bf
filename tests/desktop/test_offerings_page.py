"""The Offerings page driven as a person would: list, filters, the editor with a schedule
form per type, publish refused with the reason, booking on behalf and managing bookings."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime

from desktop.pages.offerings import OfferingsPage

WAIT = 15_000


@pytest.fixture
def page(qtbot, demo_database):
    p = OfferingsPage(demo_database)
    qtbot.addWidget(p)
    p.resize(1600, 950)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def _click_row(qtbot, page, index: int):
    model_index = page.model.index(index, 0)
    page.view.scrollTo(model_index)
    rect = page.view.visualRect(model_index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _wait_detail(qtbot, page, offering_id=None):
    qtbot.waitUntil(lambda: page.detail.record is not None and (
        offering_id is None or page.detail.record.id == offering_id), timeout=WAIT)


def test_the_list_shows_next_session_seats_and_the_editor(qtbot, page):
    assert page.detail.title.text() == "Select an offering"
    _click_row(qtbot, page, 0)
    _wait_detail(qtbot, page)
    row = page.model.row_at(0)
    assert "/" in row.seats
    assert page.detail.record.id == row.id


# -- actions on known rows (a migrated database with exactly known offerings) ---------------

from PySide6.QtWidgets import QMessageBox  # noqa: E402
from sqlalchemy import text  # noqa: E402

from desktop.pages.manage_booking_dialog import ManageBookingDialog  # noqa: E402
from desktop.pages.refund_dialog import RefundDialog  # noqa: E402
from tests.data.offering_factories import (  # noqa: E402
    add_booking,
    add_customer,
    add_offering,
    balance,
    offering_state,
)


@pytest.fixture
def empty_page(qtbot, empty_database):
    p = OfferingsPage(empty_database)
    qtbot.addWidget(p)
    p.resize(1600, 950)
    return p


def _open(qtbot, page, offering_id):
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    page.detail.show(offering_id)
    _wait_detail(qtbot, page, offering_id)


def _booking_ids(detail) -> list:
    """The ids of the bookings loaded in the offering's Bookings tab, in order."""
    model = detail.bookings_tab.model
    return [model.row_at(i).id for i in range(model.rowCount())]


def _press(box: QMessageBox, label: str) -> None:
    next(b for b in box.buttons() if b.text() == label).click()


def test_publish_is_refused_with_the_reason(qtbot, empty_page, engine):
    oid = add_offering(engine, status="draft")
    _open(qtbot, empty_page, oid)
    qtbot.mouseClick(empty_page.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "description is required" in empty_page.detail.banner.text(),
                    timeout=WAIT)
    assert offering_state(engine, oid)["booking_count"] == 0
    with engine.connect() as c:
        assert c.execute(text("SELECT status FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == "draft"


def test_editing_one_schedule_field_keeps_platform_keys_after_the_impact_notice(
        qtbot, empty_page, engine):
    stored = {"date": "2030-03-15", "start_time": "19:00", "duration_minutes": 120,
              "doors_open": "18:30"}
    oid = add_offering(engine, schedule=stored, booking_count=1)
    add_booking(engine, oid, add_customer(engine))
    with engine.begin() as c:
        c.execute(text("INSERT INTO offering_portal_access (booking_id, user_id, offering_id) "
                       "SELECT id, customer_id, offering_id FROM offering_bookings "
                       "WHERE offering_id = :o"), {"o": oid})
    _open(qtbot, empty_page, oid)
    sub = empty_page.detail.form.field_widget("schedule_one_time_event").sub_form
    start = sub.field_widget("start_time")
    start.selectAll()
    qtbot.keyClicks(start, "19:30")
    qtbot.mouseClick(empty_page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: empty_page.detail.impact_question is not None, timeout=WAIT)
    box = empty_page.detail.impact_question
    assert box.text() == "1 confirmed booking; the portal access of 1 person changes."
    _press(box, "Save the change")
    qtbot.waitUntil(lambda: not empty_page.detail.form.is_dirty, timeout=WAIT)
    with engine.connect() as c:
        assert c.execute(text("SELECT schedule FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == {**stored, "start_time": "19:30"}


def test_a_bad_schedule_value_shows_under_its_field_and_saves_nothing(qtbot, empty_page,
                                                                       engine):
    oid = add_offering(engine)
    _open(qtbot, empty_page, oid)
    sub = empty_page.detail.form.field_widget("schedule_one_time_event").sub_form
    start = sub.field_widget("start_time")
    start.selectAll()
    qtbot.keyClicks(start, "7pm")
    qtbot.mouseClick(empty_page.detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "HH:MM" in sub.error_text("start_time"), timeout=WAIT)
    with engine.connect() as c:
        assert c.execute(text("SELECT schedule ->> 'start_time' FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == "19:00"


def _book(qtbot, page, customer, *, credits=False):
    dialog = page.detail.open_booking_dialog()
    dialog.customer.set_value((customer, "the customer"))
    if credits:
        dialog.credits.setChecked(True)
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    return dialog


def test_book_with_credits_then_cancel_returns_them_once_under_a_double_click(
        qtbot, empty_page, engine):
    oid = add_offering(engine, credit_cost=3)
    customer = add_customer(engine, balance=5)
    _open(qtbot, empty_page, oid)
    _book(qtbot, empty_page, customer, credits=True)
    qtbot.waitUntil(lambda: balance(engine, customer) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: len(_booking_ids(empty_page.detail)) == 1, timeout=WAIT)
    booking = _booking_ids(empty_page.detail)[0]
    manage = empty_page.detail.manage_booking(booking)
    qtbot.waitUntil(lambda: manage.plan is not None, timeout=WAIT)
    assert "3 credits go back" in manage.what_happens.text()
    qtbot.keyClicks(manage.reason, "Feeling unwell")
    manage.cancel()
    manage.cancel()  # a double click: the second answers the first
    qtbot.waitUntil(lambda: manage.booking is not None and manage.booking.status == "canceled",
                    timeout=WAIT)
    assert balance(engine, customer) == 5
    assert offering_state(engine, oid) == {"booking_count": 0, "canceled": 1}


def test_booking_refusals_show_in_the_dialog(qtbot, empty_page, engine):
    oid = add_offering(engine, max_participants=1, booking_count=1)
    add_booking(engine, oid, add_customer(engine))
    _open(qtbot, empty_page, oid)
    dialog = _book(qtbot, empty_page, add_customer(engine))
    qtbot.waitUntil(lambda: "is full" in dialog.message.text(), timeout=WAIT)
    dialog.close()
    assert offering_state(engine, oid) == {"booking_count": 1, "confirmed": 1}


def test_mark_no_show_and_revoke_access(qtbot, empty_page, engine):
    oid = add_offering(engine)
    _open(qtbot, empty_page, oid)
    _book(qtbot, empty_page, add_customer(engine))
    qtbot.waitUntil(lambda: len(_booking_ids(empty_page.detail)) == 1, timeout=WAIT)
    manage = empty_page.detail.manage_booking(_booking_ids(empty_page.detail)[0])
    qtbot.waitUntil(lambda: manage.booking is not None, timeout=WAIT)
    qtbot.mouseClick(manage.no_show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: manage.booking.status == "no_show", timeout=WAIT)
    qtbot.mouseClick(manage.revoke_button, Qt.MouseButton.LeftButton)
    box = manage.confirmation
    _press(box, "Revoke access")
    qtbot.waitUntil(lambda: "reason is required" in manage.errors["reason"].text(),
                    timeout=WAIT)
    qtbot.keyClicks(manage.reason, "Shared the login")
    qtbot.mouseClick(manage.revoke_button, Qt.MouseButton.LeftButton)
    _press(manage.confirmation, "Revoke access")
    qtbot.waitUntil(lambda: manage.booking is not None and not manage.booking.has_portal,
                    timeout=WAIT)
    assert offering_state(engine, oid) == {"booking_count": 1, "no_show": 1}


def test_portal_access_is_extended_in_the_platforms_time_zone(qtbot, empty_page, engine,
                                                             monkeypatch):
    """The end of portal access is shown and typed in the platform's zone, like every time
    on screen, and stored as the platform's naive UTC."""
    from zoneinfo import ZoneInfo

    from desktop import formatting

    monkeypatch.setattr(formatting, "_time_zone", ZoneInfo("America/New_York"))
    oid = add_offering(engine)
    _open(qtbot, empty_page, oid)
    _book(qtbot, empty_page, add_customer(engine))
    qtbot.waitUntil(lambda: len(_booking_ids(empty_page.detail)) == 1, timeout=WAIT)
    manage = empty_page.detail.manage_booking(_booking_ids(empty_page.detail)[0])
    qtbot.waitUntil(lambda: manage.booking is not None, timeout=WAIT)
    manage.expires.setDateTime(QDateTime(QDate(2027, 1, 15), QTime(9, 0)))  # 9:00 in New York
    qtbot.mouseClick(manage.extend_button, Qt.MouseButton.LeftButton)
    with engine.connect() as conn:
        qtbot.waitUntil(lambda: conn.execute(text(
            "SELECT max(expires_at) FROM offering_portal_access")).scalar()
            == dt.datetime(2027, 1, 15, 14, 0), timeout=WAIT)  # EST is UTC-5
    qtbot.waitUntil(lambda: manage.booking.portal_expires_at == dt.datetime(2027, 1, 15, 14, 0),
                    timeout=WAIT)
    assert manage.expires.dateTime().time() == QTime(9, 0)  # shown again as typed
    assert manage.message.text() == "Portal access until 2027-01-15 09:00."


def test_a_card_booking_is_cancelled_through_the_refund_dialog(
        qtbot, stripe_database, card_booking, engine, localstripe):
    """Cancel on a card booking opens the refund dialog; a double click on Refund refunds
    once through localstripe, cancels the booking, frees its place and ends its access;
    the refund dialog opened again has nothing left to refund."""
    from tests.desktop.test_refund_dialog import _refunds_in_stripe

    booking = card_booking("40.00")
    with engine.connect() as c:
        oid, intent = c.execute(text("SELECT offering_id, stripe_payment_intent_id FROM "
                                     "offering_bookings WHERE id = :b"), {"b": booking}).one()
    manage = ManageBookingDialog(stripe_database, booking)
    qtbot.addWidget(manage)
    qtbot.waitUntil(lambda: manage.plan is not None, timeout=WAIT)
    assert "refund dialog" in manage.what_happens.text()
    manage.ask_cancel()
    refund = manage.findChild(RefundDialog)
    qtbot.waitUntil(lambda: refund.refundable is not None, timeout=WAIT)
    assert refund.amount.text() == "40.00"
    qtbot.mouseClick(refund.review_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(refund.refund_finished, timeout=WAIT) as done:
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(refund.refund_button, Qt.MouseButton.LeftButton)  # a double click
    assert done.args[0].status == "succeeded"
    qtbot.wait(500)
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [4000]
    assert offering_state(engine, oid) == {"booking_count": 0, "canceled": 1}
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM offering_portal_access "
                              "WHERE booking_id = :b"), {"b": booking}).scalar() == 0
    refund.close()
    again = RefundDialog(stripe_database, "booking", booking)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.refundable is not None, timeout=WAIT)
    assert again.refusal.text() and not again.review_button.isEnabled()
    assert [r.amount for r in _refunds_in_stripe(localstripe, intent)] == [4000]


def test_a_booking_is_managed_from_the_users_detail(qtbot, empty_database, engine):
    from desktop.pages.users import UserDetailPane

    oid = add_offering(engine, booking_count=1)
    customer = add_customer(engine)
    booking = add_booking(engine, oid, customer)
    pane = UserDetailPane(empty_database)
    qtbot.addWidget(pane)
    pane.show(customer)
    qtbot.waitUntil(lambda: pane.bookings_tab.model.rowCount() == 1
                    and pane.bookings_tab.model.row_at(0).id == booking, timeout=WAIT)
    assert pane.manage_selected_booking() is None  # nothing selected
    pane.bookings.selectRow(0)
    manage = pane.manage_selected_booking()
    qtbot.waitUntil(lambda: manage.plan is not None, timeout=WAIT)
    assert "subscription: nothing to return" in manage.what_happens.text()
    qtbot.keyClicks(manage.reason, "Moved away")
    manage.cancel()
    qtbot.waitUntil(lambda: offering_state(engine, oid) == {"booking_count": 0,
                                                            "canceled": 1}, timeout=WAIT)


def test_resources_are_added_reordered_by_keyboard_and_saved_in_one_go(qtbot, empty_page,
                                                                        engine):
    oid = add_offering(engine)
    _open(qtbot, empty_page, oid)
    panel = empty_page.detail.resources
    for title in ("Workbook", "Reading list"):
        dialog = panel.open_add()
        dialog.form.field_widget("title").setText(title)
        dialog.form.field_widget("link_url").setText("https://example.org/" + title[:4])
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda t=title: any(t in x for x in panel.list.model.texts()),
                        timeout=WAIT)
    dialog = panel.open_add()
    dialog.form.field_widget("title").setText("Bad link")
    dialog.form.field_widget("link_url").setText("javascript:alert(1)")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "http" in dialog.form.error_text("link_url"), timeout=WAIT)
    dialog.close()
    panel.list.select_row(1)
    qtbot.keyClick(panel.list.view, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert panel.save_button.isEnabled()
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.note.text() == "Order saved.", timeout=WAIT)
    qtbot.wait(500)  # the reload the commit asked for shows the saved order, still saying so
    assert panel.note.text() == "Order saved."
    with engine.connect() as c:
        titles = c.execute(text("SELECT title FROM offering_resources WHERE offering_id = :o "
                                "ORDER BY display_order"), {"o": oid}).scalars().all()
    assert titles == ["Reading list", "Workbook"]


def test_cancelling_an_offering_previews_then_runs_the_bulk(qtbot, empty_page, engine):
    from desktop.pages.offering_cancel_dialog import CancelOfferingDialog

    oid = add_offering(engine, credit_cost=2)
    payer = add_customer(engine, balance=2)
    _open(qtbot, empty_page, oid)
    _book(qtbot, empty_page, payer, credits=True)
    qtbot.waitUntil(lambda: balance(engine, payer) == 0, timeout=WAIT)
    add_booking(engine, oid, add_customer(engine))
    empty_page.detail.run_action(
        next(a for a in empty_page.detail.spec.actions if a.name == "cancel_offering"),
        empty_page.detail.record)
    dialog = empty_page.detail.findChild(CancelOfferingDialog)
    qtbot.waitUntil(lambda: len(dialog.lines) == 2, timeout=WAIT)
    assert "2 credits go back" in dialog.summary.text()
    dialog.ask_to_run()
    _press(dialog.question, "Cancel the bookings")
    qtbot.waitUntil(lambda: "reason is required" in dialog.reason_error.text(), timeout=WAIT)
    qtbot.keyClicks(dialog.reason, "Venue closed")
    dialog.ask_to_run()
    _press(dialog.question, "Cancel the bookings")
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=WAIT)
    assert balance(engine, payer) == 2
    with engine.connect() as c:
        assert c.execute(text("SELECT status FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == "archived"


def test_the_bookings_tab_filters_by_status(qtbot, empty_page, engine):
    oid = add_offering(engine, booking_count=1)
    add_booking(engine, oid, add_customer(engine))
    cancelled = add_booking(engine, oid, add_customer(engine), status="canceled")
    _open(qtbot, empty_page, oid)
    detail = empty_page.detail
    qtbot.waitUntil(lambda: len(_booking_ids(detail)) == 2, timeout=WAIT)
    status = detail.booking_filter.widget("status")
    status.setCurrentIndex(status.findData("canceled"))
    qtbot.waitUntil(lambda: _booking_ids(detail) == [cancelled]
                    and not detail.bookings_tab.model.is_loading, timeout=WAIT)
    detail.tabs.setCurrentWidget(detail.bookings_tab)


def test_the_agenda_lists_sessions_and_opens_the_offering(qtbot, empty_page, engine):
    import datetime as dt

    from desktop.pages.offering_agenda import AgendaDialog

    weekly = add_offering(engine, offering_type="recurring_fixed", title="Evening Flow",
                          schedule={"pattern": "weekly", "day": "monday", "time": "18:00",
                                    "duration_minutes": 60}, max_participants=12)
    add_booking(engine, weekly, add_customer(engine))
    _open(qtbot, empty_page, add_offering(engine, title="Other"))
    dialog = AgendaDialog(empty_page._db, empty_page, start=dt.datetime(2030, 1, 1,
                                                                       tzinfo=dt.UTC))
    dialog.offering_chosen.connect(empty_page.detail.show)
    qtbot.waitUntil(lambda: len(dialog.entries) > 0, timeout=WAIT)
    rows = [e for e in dialog.entries if e.title == "Evening Flow"]
    assert len(rows) == 4 and rows[0].seats == "1 / 12"
    assert rows[0].start.strftime("%H:%M") == "18:00"
    dialog.view.selectRow(dialog.entries.index(rows[0]))
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    _wait_detail(qtbot, empty_page, weekly)


def _retype(qtbot, editor, text_):
    line = getattr(editor, "line_edit", editor)
    line.selectAll()
    qtbot.keyClicks(line, text_)


@pytest.mark.parametrize(("field", "typed", "column", "stored"), [
    ("price", "30.00", "price::text", "30.00"),
    ("portal_config.access_after_days", "60", "portal_config ->> 'access_after_days'", "60"),
    ("schedule_one_time_event.date", "2030-03-22", "schedule ->> 'date'", "2030-03-22"),
])
def test_changing_price_portal_window_or_date_shows_the_impact_first(
        qtbot, empty_page, engine, field, typed, column, stored):
    """14 confirmed bookings with portal access (and one cancelled, which counts for
    neither): Cancel on the question saves nothing; saving again and confirming saves."""
    oid = add_offering(engine, max_participants=20, booking_count=14,
                       portal_config={"access_after_days": 30})
    for _ in range(14):
        add_booking(engine, oid, add_customer(engine))
    add_booking(engine, oid, add_customer(engine), status="canceled")
    with engine.begin() as c:
        c.execute(text("INSERT INTO offering_portal_access (booking_id, user_id, offering_id) "
                       "SELECT id, customer_id, offering_id FROM offering_bookings "
                       "WHERE offering_id = :o AND status = 'confirmed'"), {"o": oid})
        before = c.execute(text(f"SELECT {column} FROM offerings WHERE id = :o"),
                           {"o": oid}).scalar()
    _open(qtbot, empty_page, oid)
    detail = empty_page.detail
    outer, _, inner = field.partition(".")
    editor = detail.form.field_widget(outer)
    _retype(qtbot, editor.sub_form.field_widget(inner) if inner else editor, typed)
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.impact_question is not None, timeout=WAIT)
    assert detail.impact_question.text() == \
        "14 confirmed bookings; the portal access of 14 people changes."
    _press(detail.impact_question, "Cancel")
    qtbot.wait(300)
    with engine.connect() as c:
        assert c.execute(text(f"SELECT {column} FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == before != stored
    assert detail.form.is_dirty  # the change is still there to save
    detail.impact_question = None
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.impact_question is not None, timeout=WAIT)
    _press(detail.impact_question, "Save the change")
    qtbot.waitUntil(lambda: not detail.form.is_dirty, timeout=WAIT)
    with engine.connect() as c:
        assert c.execute(text(f"SELECT {column} FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == stored


def test_a_change_reaching_no_one_or_no_booked_field_saves_without_asking(
        qtbot, empty_page, engine):
    oid = add_offering(engine, booking_count=1)
    add_booking(engine, oid, add_customer(engine))
    _open(qtbot, empty_page, oid)
    detail = empty_page.detail
    _retype(qtbot, detail.form.field_widget("title"), "Gong Bath")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not detail.form.is_dirty, timeout=WAIT)
    assert detail.impact_question is None
    with engine.connect() as c:
        assert c.execute(text("SELECT title FROM offerings WHERE id = :o"),
                         {"o": oid}).scalar() == "Gong Bath"


# -- built over several turns ----------------------------------------------------------------

def _tab_titles(detail) -> list[str]:
    return [detail.tabs.tabText(i) for i in range(detail.tabs.count())]


def test_the_page_is_built_over_several_turns_with_the_same_tabs_as_built_at_once(
        qtbot, demo_database):
    stepped = OfferingsPage(demo_database)
    qtbot.addWidget(stepped)
    stepped.resize(1600, 950)
    stepped.show()
    # The list and the toolbar at once; the editor and the detail's tabs on later turns.
    assert not stepped.built
    assert stepped.new_button.isVisible() and stepped.agenda_button.isVisible()
    qtbot.waitUntil(lambda: stepped.built, timeout=WAIT)
    at_once = OfferingsPage(demo_database)
    qtbot.addWidget(at_once)
    assert _tab_titles(at_once.detail) == _tab_titles(stepped.detail)  # read: built now
    assert at_once.built
    assert _tab_titles(stepped.detail) == ["Editor", "Bookings", "History", "Resources"]
    # Built in steps, it shows an offering as one built at once does.
    qtbot.waitUntil(lambda: stepped.model.rowCount() > 0 and not stepped.model.is_loading,
                    timeout=WAIT)
    row = stepped.model.row_at(0)
    _click_row(qtbot, stepped, 0)
    _wait_detail(qtbot, stepped, row.id)
    assert stepped.detail.form.field_widget("title").text() == row.title
    assert stepped.detail.resources.offering_id == row.id
    assert stepped.detail.bookings_tab.note.text() != ""
