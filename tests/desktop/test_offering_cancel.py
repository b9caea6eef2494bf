"""The Cancel-offering dialog, driven as staff would, against PostgreSQL and localstripe: the
preview and the confirmation state the card total; the run refunds the card once, returns
the credits once, and lists a booking Stripe refused with the reason."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox
from sqlalchemy import text

from desktop.pages.offering_cancel_dialog import CancelOfferingDialog
from tests.data.offering_factories import balance, offering_state
from tests.data.test_offering_cancel import _booking, _card, _mixed_offering, _stripe_refunds

WAIT = 20_000


def _press(box: QMessageBox, label: str) -> None:
    next(b for b in box.buttons() if b.text() == label).click()


def test_the_dialog_states_the_card_total_then_refunds_it_once(
        qtbot, stripe_database, engine, session_factory, stripe_gateway, localstripe):
    offering, card, intent, credit, payer, sub = _mixed_offering(engine, session_factory,
                                                                 stripe_gateway)
    bad, _ = _card(engine, stripe_gateway, offering, "15.00", intent="pi_unknown_to_stripe")
    with engine.begin() as c:
        c.execute(text("UPDATE offerings SET booking_count = 4 WHERE id = :o"), {"o": offering})
    dialog = CancelOfferingDialog(stripe_database, offering, "Sound Bath & Gong")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: len(dialog.lines) == 4, timeout=WAIT)
    assert "55.00 USD" in dialog.summary.text() and "3 credits go back" in dialog.summary.text()
    qtbot.keyClicks(dialog.reason, "Venue closed")
    dialog.ask_to_run()
    assert "refund 55.00 USD to cards" in dialog.question.text()
    assert "Sound Bath & Gong" in dialog.question.informativeText()
    dialog.question.grab().save("/tmp/h13b-confirm.png")
    _press(dialog.question, "Cancel the bookings")
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=WAIT)
    dialog.grab().save("/tmp/h13b-done.png")
    assert "40.00 USD refunded to 1 card" in dialog.message.text()
    assert "1 booking(s) left confirmed" in dialog.message.text()
    results = dict(zip(dialog.table.keys,
                       (dialog.table.item(i, 3).text() for i in range(4)), strict=True))
    assert results[bad].startswith("still confirmed: ") and len(results[bad]) > 20
    assert [results[b] for b in (card, credit, sub)] == ["done"] * 3
    assert len(_stripe_refunds(localstripe, intent)) == 1
    assert _booking(engine, card) == ("canceled", 0) and _booking(engine, bad)[0] == "confirmed"
    assert balance(engine, payer) == 3
    assert offering_state(engine, offering) == {"booking_count": 1, "canceled": 3,
                                                "confirmed": 1}
    # Resume/rerun from the dialog: nothing is refunded or returned twice.
    dialog.result_ = None
    dialog.run()
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=WAIT)
    assert dialog.result_.already == 3 and dialog.result_.amount_refunded == 0
    assert len(_stripe_refunds(localstripe, intent)) == 1 and balance(engine, payer) == 3
