"""The Refunds page: every refund request, a status filter, Retry and the pending check,
against PostgreSQL and localstripe."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from data.services.refunds import load_refundable, submit_refund, validate_refund
from desktop.pages.refunds import RefundsPage

WAIT = 20_000


def _submit(session_factory, gateway, purchase_id, amount="30.00", reason="duplicate",
            note=None):
    """A refund made by another staff member (through the service, off the page)."""
    with session_factory() as s:
        refundable = load_refundable(s, "purchase", purchase_id)
    refund = validate_refund(refundable, amount, reason, note)
    return submit_refund(session_factory, gateway, "bea", "purchase", purchase_id, refund,
                         uuid.uuid4())


def _page(qtbot, database) -> RefundsPage:
    page = RefundsPage(database)
    qtbot.addWidget(page)
    page.resize(1300, 500)
    page.show()
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    return page


def _rows(page):
    return [page.model.row_at(i) for i in range(page.model.rowCount())]


def _status_of(session_factory, request_id) -> str:
    with session_factory() as s:
        return s.execute(text("SELECT status FROM admin.refund_requests WHERE id = :id"),
                         {"id": request_id}).scalar_one()


@pytest.fixture
def three_requests(session_factory, stripe_gateway, unreachable_gateway, paid_purchase):
    """One succeeded, one failed (a payment Stripe does not know), one pending (Stripe was
    unreachable); oldest first."""
    done = _submit(session_factory, stripe_gateway, paid_purchase("30.00", title="Done"))
    unknown = paid_purchase("20.00", title="Unknown payment")
    with session_factory.begin() as s:
        s.execute(text("UPDATE purchases SET stripe_payment_intent_id = 'pi_not_in_stripe' "
                       "WHERE id = :id"), {"id": unknown})
    failed = _submit(session_factory, stripe_gateway, unknown, "20.00")
    pending = _submit(session_factory, unreachable_gateway, paid_purchase("10.00", title="Later"),
                      "10.00", reason="other", note="Customer wrote twice")
    assert (done.status, failed.status, pending.status) == ("succeeded", "failed", "pending")
    return done, failed, pending


def test_lists_every_request_newest_first_with_who_and_why(qtbot, stripe_database,
                                                           three_requests, qtmodeltester,
                                                           session_factory):
    done, failed, pending = three_requests
    with session_factory() as s:  # "By" is the database login that made it, not "bea"
        login = s.execute(text("SELECT session_user")).scalar_one()
    page = _page(qtbot, stripe_database)
    rows = _rows(page)
    assert [r.id for r in rows] == [pending.request_id, failed.request_id, done.request_id]
    assert [r.status for r in rows] == ["pending", "failed", "succeeded"]
    texts = [[page.model.index(0, c).data() for c in range(page.model.columnCount())]]
    assert "pending" in texts[0] and "10.00 USD" in texts[0] and login in texts[0]
    assert "Other: Customer wrote twice" in texts[0]
    assert "Purchase: Later" in texts[0]
    assert page.model.index(2, 8).data() == done.stripe_refund_id
    assert page.model.index(1, 6).data()  # the failure message is shown
    qtmodeltester.check(page.model)
    page.view.selectRow(2)  # the line under the list tells the whole story of the selection
    assert "Full refund." in page.details.text() and done.stripe_refund_id in page.details.text()
    page.view.selectRow(0)
    assert "Reason: Other: Customer wrote twice." in page.details.text()
    assert "Retry asks Stripe again" in page.details.text()


def test_status_filter_shows_only_that_status(qtbot, stripe_database, three_requests):
    done, failed, pending = three_requests
    page = _page(qtbot, stripe_database)
    page.status.setCurrentIndex(page.status.findData("failed"))
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() == 1,
                    timeout=WAIT)
    assert _rows(page)[0].id == failed.request_id
    page.status.setCurrentIndex(page.status.findData("open"))
    qtbot.waitUntil(lambda: not page.model.is_loading
                    and [r.id for r in _rows(page)] == [pending.request_id], timeout=WAIT)
    page.status.setCurrentIndex(page.status.findData("requested"))
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    assert page.model.rowCount() == 0 and page.view.placeholder_text() == "No refund requests"


def test_retry_is_offered_only_on_open_requests(qtbot, stripe_database, three_requests):
    page = _page(qtbot, stripe_database)
    assert not page.retry_button.isEnabled()  # nothing selected
    page.view.selectRow(1)  # failed: final
    assert not page.retry_button.isEnabled() and not page.retry_action.isEnabled()
    page.view.selectRow(0)  # pending
    assert page.retry_button.isEnabled() and page.retry_action.isEnabled()


def test_retry_button_finishes_a_pending_refund_once(qtbot, stripe_database, session_factory,
                                                     three_requests, localstripe):
    *_, pending = three_requests
    page = _page(qtbot, stripe_database)
    page.view.selectRow(0)
    with qtbot.waitSignal(page.model.rows_loaded, timeout=WAIT):
        qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
        assert not page.retry_button.isEnabled()  # no second retry while this one runs
    assert "Refunded 10.00 USD" in page.message.text()
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() == 3
                    and page.model.row_at(0).status == "succeeded", timeout=WAIT)
    assert page.view.current_row().id == pending.request_id  # the selection is kept
    assert not page.retry_button.isEnabled()
    assert _status_of(session_factory, pending.request_id) == "succeeded"
    with session_factory() as s:
        status = s.execute(text(
            "SELECT p.status FROM purchases p JOIN admin.refund_requests r "
            "ON r.purchase_id = p.id WHERE r.id = :id"), {"id": pending.request_id}).scalar()
    assert status == "refunded"


def test_return_on_a_pending_row_retries(qtbot, stripe_database, session_factory,
                                         three_requests):
    *_, pending = three_requests
    page = _page(qtbot, stripe_database)
    page.view.setFocus()
    page.view.selectRow(0)
    with qtbot.waitSignal(page.model.rows_loaded, timeout=WAIT):
        qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert _status_of(session_factory, pending.request_id) == "succeeded"


def test_check_pending_now_finishes_open_requests(qtbot, stripe_database, session_factory,
                                                  three_requests):
    *_, pending = three_requests
    page = _page(qtbot, stripe_database)
    with qtbot.waitSignal(page.model.rows_loaded, timeout=WAIT):
        qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Checked 1 open request(s) with Stripe: 1 succeeded."
    assert _status_of(session_factory, pending.request_id) == "succeeded"
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() == 3
                    and page.model.row_at(0).status == "succeeded", timeout=WAIT)


def test_retry_while_stripe_is_still_down_stays_pending(qtbot, stripe_database,
                                                        session_factory, three_requests,
                                                        unreachable_gateway):
    *_, pending = three_requests
    stripe_database.backend.gateway = unreachable_gateway
    page = _page(qtbot, stripe_database)
    page.view.selectRow(0)
    with qtbot.waitSignal(page.model.rows_loaded, timeout=WAIT):
        page.retry_selected()
    assert "Use Retry" in page.message.text()
    assert _status_of(session_factory, pending.request_id) == "pending"
    qtbot.waitUntil(lambda: not page.model.is_loading and page.model.rowCount() == 3,
                    timeout=WAIT)
    assert page.model.row_at(0).status == "pending"
    qtbot.waitUntil(page.retry_button.isEnabled, timeout=WAIT)  # still retryable


def test_periodic_check_runs_only_while_visible(qtbot, stripe_database, three_requests):
    page = _page(qtbot, stripe_database)
    assert page.pending_timer.isActive()
    page.hide()
    assert not page.pending_timer.isActive()


def test_without_stripe_nothing_can_be_retried(qtbot, demo_database):
    page = _page(qtbot, demo_database)
    assert not page.check_button.isEnabled() and not page.retry_button.isEnabled()
    assert "Stripe is not configured" in page.message.text()
    assert not page.pending_timer.isActive()
    assert page.model.rowCount() == 0


def test_amounts_are_decimal_on_screen(qtbot, stripe_database, session_factory,
                                       stripe_gateway, paid_purchase):
    _submit(session_factory, stripe_gateway, paid_purchase("1234.56"), "0.10")
    page = _page(qtbot, stripe_database)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=WAIT)
    assert page.model.row_at(0).amount == Decimal("0.10")
    assert page.model.index(0, 4).data() == "0.10 USD"


def test_the_periodic_check_finishes_pending_requests(qtbot, stripe_database, session_factory,
                                                      three_requests):
    *_, pending = three_requests
    page = _page(qtbot, stripe_database)
    page.pending_timer.setInterval(50)  # minutes in the app; no one waits that long in a test
    page.pending_timer.start()
    with qtbot.waitSignal(page.model.rows_loaded, timeout=WAIT):
        pass
    assert _status_of(session_factory, pending.request_id) == "succeeded"


def test_main_window_has_a_refunds_tab_with_its_key_and_f5(qtbot, stripe_database, settings):
    from desktop.main_window import MainWindow

    w = MainWindow(stripe_database, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=WAIT)
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())].index("Refunds") == 7
    qtbot.keyClick(w, Qt.Key.Key_8, Qt.KeyboardModifier.ControlModifier)
    page = w.tabs.currentWidget()
    assert isinstance(page, RefundsPage)
    qtbot.waitUntil(lambda: not page.model.is_loading, timeout=WAIT)
    generation = page.model.generation
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert page.model.generation == generation + 1


def test_refund_columns_show_their_titles_and_values_whole(qtbot, stripe_database,
                                                           three_requests):
    page = _page(qtbot, stripe_database)
    page.resize(1400, 900)
    qtbot.waitUntil(lambda: page.model.rowCount() == 3, timeout=WAIT)
    header = page.view.horizontalHeader()
    metrics = page.view.fontMetrics()
    for i, column in enumerate(page.model.columns):
        assert page.view.columnWidth(i) >= header.sectionSizeHint(i), column.title
        if column.title in ("Attempts", "Amount", "Status", "Requested", "Stripe refund"):
            longest = max(metrics.horizontalAdvance(column.text_for(row)) for row in _rows(page))
            assert page.view.columnWidth(i) >= longest, column.title
    # At a normal window size no column is pushed out of sight.
    assert header.length() <= page.view.viewport().width()
