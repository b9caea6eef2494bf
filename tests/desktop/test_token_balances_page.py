"""The Token balances page and the adjustment dialog, driven as support staff would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from sqlalchemy import text

from desktop.pages.token_balances import TokenBalancesPage
from desktop.pages.users import UsersPage

WAIT = 20_000


def _page(qtbot, database):
    p = TokenBalancesPage(database)
    qtbot.addWidget(p)
    p.resize(1400, 800)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def _select(qtbot, page, i):
    index = page.model.index(i, 0)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.view.visualRect(index).center())
    row = page.model.row_at(i)
    qtbot.waitUntil(lambda: page.ledger_model.rowCount() > 0
                    and not page.ledger_model.is_loading, timeout=WAIT)
    return row


def _click(box, label):
    [button] = [b for b in box.buttons() if b.text() == label]
    button.click()


def _ledger(engine, customer_id):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT amount, balance_after, type, description FROM credit_transactions "
            "WHERE customer_id = :c ORDER BY created_at DESC, id DESC"), {"c": customer_id}).all()


def test_selecting_a_balance_shows_its_ledger_newest_first(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    ledger = _ledger(demo_engine, row.customer_id)
    assert page.ledger_model.rowCount() == len(ledger)
    first = page.ledger_model.row_at(0)
    assert (first.amount, first.balance_after) == ledger[0][:2]
    assert first.balance_after == row.current_balance


def test_adjustment_dialog_updates_list_and_ledger_without_reload(qtbot, demo_database,
                                                                  demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    generation = page.model.generation
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    dialog.amount.setText(str(25))
    qtbot.keyClicks(dialog.reason, "Goodwill after failed booking")
    assert f"{row.current_balance + 25:,}" in dialog.preview.text()
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: page.model.row_at(0).current_balance == row.current_balance + 25,
                    timeout=WAIT)
    assert page.model.generation == generation  # the list was not reloaded
    qtbot.waitUntil(lambda: page.ledger_model.rowCount() > 0
                    and page.ledger_model.row_at(0).type == "adjustment", timeout=WAIT)
    top = page.ledger_model.row_at(0)
    assert (top.amount, top.balance_after, top.actor) == (
        25, row.current_balance + 25, "postgres")
    assert _ledger(demo_engine, row.customer_id)[0][3] == "Goodwill after failed booking"


def test_missing_reason_is_shown_and_nothing_is_written(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 1)
    before = _ledger(demo_engine, row.customer_id)
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    dialog.amount.setText(str(5))
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=WAIT)
    assert "reason" in dialog.reason_error.text().lower()
    assert dialog.isVisible()
    assert _ledger(demo_engine, row.customer_id) == before


def test_removal_below_zero_is_refused_with_the_numbers(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    dialog.remove.setChecked(True)
    dialog.amount.setText(str(row.current_balance + 7))
    assert "below zero" in dialog.preview.text()
    qtbot.keyClicks(dialog.reason, "Clawback")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "-7" in dialog.message.text(), timeout=WAIT)
    assert f"{row.current_balance:,}" in dialog.message.text()
    assert _ledger(demo_engine, row.customer_id)[0][1] == row.current_balance


def test_double_submit_applies_once(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 2)
    before = len(_ledger(demo_engine, row.customer_id))
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    dialog.amount.setText(str(3))
    dialog.reason.setText("Double click")
    dialog.apply_button.setEnabled(True)
    dialog.submit()
    dialog.apply_button.setEnabled(True)  # as if the first answer were lost and Apply pressed
    dialog.submit()
    demo_database.runner.wait_for_done(WAIT)
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=WAIT)
    assert len(_ledger(demo_engine, row.customer_id)) == before + 1


def test_adjust_from_the_users_page(qtbot, demo_database, demo_engine):
    with demo_engine.connect() as conn:
        customer = conn.execute(text(
            "SELECT id FROM users WHERE role = 'customer' AND id NOT IN "
            "(SELECT customer_id FROM credit_balances) ORDER BY created_at DESC LIMIT 1")).scalar()
    page = UsersPage(demo_database)
    qtbot.addWidget(page)
    page.show()
    page.detail.show(customer)
    qtbot.waitUntil(lambda: page.detail.record is not None, timeout=WAIT)
    assert page.detail.balance.text() == "No token balance."
    dialog = page.detail.open_token_adjustment()
    qtbot.waitUntil(lambda: dialog.current == 0, timeout=WAIT)
    dialog.amount.setText(str(40))
    dialog.reason.setText("Welcome tokens")
    dialog.submit()
    qtbot.waitUntil(lambda: "40 tokens" in page.detail.balance.text(), timeout=WAIT)
    assert page.detail.ledger.rowCount() == 1


def test_bulk_grant_to_everyone_matching_then_resume_grants_nobody_twice(qtbot, demo_database,
                                                                         demo_engine):
    page = _page(qtbot, demo_database)
    dialog = page.open_bulk_grant()
    qtbot.waitUntil(lambda: dialog.customer_ids is not None, timeout=WAIT)
    total = len(dialog.customer_ids)
    assert total > 10
    dialog.amount.setText(str(2))
    dialog.reason.setText("Outage compensation")
    dialog.run()  # every bulk grant asks first, naming the total
    box = dialog.confirmation
    assert f"{2 * total:,} tokens in all" in box.text()
    _click(box, f"Grant {2 * total:,} tokens")
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=WAIT)
    assert dialog.result_.granted == total and not dialog.result_.stopped
    dialog.run()  # the same bulk again: everyone already has it
    demo_database.runner.wait_for_done(WAIT)
    qtbot.waitUntil(lambda: dialog.result_.already_granted == total, timeout=WAIT)
    with demo_engine.connect() as conn:
        n = conn.execute(text(
            "SELECT count(*) FROM credit_transactions WHERE description = 'Outage compensation'"
        )).scalar()
    assert n == total


def test_ledger_health_check_lists_a_planted_mismatch(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    page.check_ledger()
    qtbot.waitUntil(lambda: getattr(page, "health_dialog", None) is not None, timeout=WAIT)
    assert "agrees" in page.health_dialog.summary.text()
    page.health_dialog.close()
    with demo_engine.begin() as conn:
        conn.execute(text("UPDATE credit_balances SET current_balance = current_balance + 1 "
                          "WHERE id = (SELECT id FROM credit_balances ORDER BY id LIMIT 1)"))
    page.health_dialog = None
    page.check_ledger()
    qtbot.waitUntil(lambda: page.health_dialog is not None, timeout=WAIT)
    assert "problem" in page.health_dialog.summary.text()
    assert page.health_dialog.details.toPlainText().strip()


def test_double_click_on_the_ledger_opens_the_adjustment(qtbot, demo_database):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    index = page.ledger_model.index(0, 0)
    pos = page.ledger_view.visualRect(index).center()
    qtbot.mouseClick(page.ledger_view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(page.ledger_view.viewport(), Qt.MouseButton.LeftButton,
                      pos=page.ledger_view.visualRect(index).center())
    dialogs = [d for d in page.findChildren(QDialog) if d.isVisible()]
    assert len(dialogs) == 1 and dialogs[0].customer_id == row.customer_id
    dialogs[0].reject()


def test_typed_minus_selects_remove_and_never_adds(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    qtbot.keyClicks(dialog.amount.line_edit, "-99999999")
    assert dialog.remove.isChecked() and not dialog.add.isChecked()
    assert dialog.amount.text() == "99999999"  # what was typed, never clamped
    assert "At most 1,000,000" in dialog.amount.error_label.text()
    assert not dialog.apply_button.isEnabled()
    assert "+" not in dialog.preview.text()
    for bad in ("abc", "1.5", "1e3", ""):
        dialog.amount.setText(bad)
        assert dialog.amount.error_label.isVisible() and dialog.amount.error_label.text()
        assert not dialog.apply_button.isEnabled()
    before = _ledger(demo_engine, row.customer_id)
    dialog.reason.setText("Typed a minus")
    qtbot.keyClick(dialog.amount.line_edit, Qt.Key.Key_Return)
    assert _ledger(demo_engine, row.customer_id) == before
    dialog.reject()


def test_large_adjustment_asks_and_declining_writes_nothing(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    before = _ledger(demo_engine, row.customer_id)
    dialog = page.open_adjustment()
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=WAIT)
    qtbot.keyClicks(dialog.amount.line_edit, "5000")
    qtbot.keyClicks(dialog.reason, "Big goodwill")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    box = dialog.confirmation
    assert box is not None and "5,000 tokens" in box.text()
    assert box.defaultButton().text() == "Cancel"
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter declines
    qtbot.waitUntil(lambda: dialog.confirmation is None, timeout=WAIT)
    demo_database.runner.wait_for_done(WAIT)
    assert _ledger(demo_engine, row.customer_id) == before
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.finished, timeout=WAIT):
        _click(dialog.confirmation, "Add 5,000 tokens")
    assert _ledger(demo_engine, row.customer_id)[0][0] == 5000


def test_enter_alone_cannot_apply_a_bulk_grant(qtbot, demo_database, demo_engine):
    page = _page(qtbot, demo_database)
    dialog = page.open_bulk_grant()
    qtbot.waitUntil(lambda: dialog.customer_ids is not None, timeout=WAIT)
    qtbot.keyClicks(dialog.amount.line_edit, "500")
    qtbot.keyClicks(dialog.reason, "Enter only")
    for _ in range(3):
        qtbot.keyClick(dialog.amount.line_edit, Qt.Key.Key_Return)
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert dialog.confirmation is None and dialog.bulk_id is None
    dialog.amount.line_edit.clear()
    qtbot.keyClicks(dialog.amount.line_edit, "-500")
    assert dialog.amount.text() == "-500"
    assert "only adds" in dialog.amount.error_label.text()
    assert not dialog.run_button.isEnabled()
    demo_database.runner.wait_for_done(WAIT)
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM credit_transactions "
                              "WHERE description = 'Enter only'")).scalar()
    assert n == 0


def test_a_late_count_of_the_filter_does_not_replace_the_selected_customer(
        qtbot, demo_database, demo_engine):
    """The filter's answer is held behind a row lock taken by a second connection, so it
    arrives after the choice moved to the selected customer."""
    page = _page(qtbot, demo_database)
    row = _select(qtbot, page, 0)
    with demo_engine.connect() as locker:
        locker.execute(text("LOCK TABLE credit_balances IN ACCESS EXCLUSIVE MODE"))
        dialog = page.open_bulk_grant()
        dialog.matching.setChecked(True)  # asks for the filter's customers: held by the lock
        dialog.only_selected.setChecked(True)
        assert dialog.customer_ids == [row.customer_id]
        locker.rollback()
    demo_database.runner.wait_for_done(WAIT)
    qtbot.wait(50)
    assert dialog.customer_ids == [row.customer_id]
    assert "1 customer" in dialog.count_label.text().replace("<b>", "").replace("</b>", "")
    dialog.reject()


def test_adjusting_on_the_users_page_updates_the_token_balances_row_and_ledger_without_f5(
        qtbot, demo_database):
    """Both pages open, as in the main window: the adjustment made from Users is announced,
    and the Token balances row and its open ledger show it with no refresh."""
    balances = _page(qtbot, demo_database)
    row = balances.model.row_at(0)
    balances.view.select_row_by_key(row.customer_id)
    qtbot.waitUntil(lambda: balances.ledger_model.rowCount() > 0
                    and not balances.ledger_model.is_loading, timeout=WAIT)
    lines_before = balances.ledger_model.rowCount()
    users = UsersPage(demo_database)
    qtbot.addWidget(users)
    users.show()
    users.detail.show(row.customer_id)
    qtbot.waitUntil(lambda: users.detail.record is not None, timeout=WAIT)
    dialog = users.detail.open_token_adjustment()
    qtbot.waitUntil(lambda: dialog.current == row.current_balance, timeout=WAIT)
    dialog.amount.setText("7")
    dialog.reason.setText("Goodwill, ticket 4411")
    dialog.submit()
    qtbot.waitUntil(lambda: balances.model.row_at(balances.model.row_index(row.customer_id))
                    .current_balance == row.current_balance + 7, timeout=WAIT)
    qtbot.waitUntil(lambda: not balances.ledger_model.is_loading
                    and balances.ledger_model.rowCount() == lines_before + 1, timeout=WAIT)
    newest = balances.ledger_model.row_at(0)
    assert (newest.amount, newest.description) == (7, "Goodwill, ticket 4411")
    assert f"<b>{row.current_balance + 7:,}</b>" in balances.ledger.heading.text()
    qtbot.waitUntil(lambda: f"{row.current_balance + 7:,} tokens" in users.detail.balance.text(),
                    timeout=WAIT)


def test_export_writes_every_balance_the_filter_matches(qtbot, demo_database, demo_engine,
                                                         tmp_path):
    """The whole filtered list, not only the rows loaded on screen (xlsx, read back)."""
    import openpyxl

    page = _page(qtbot, demo_database)
    target = tmp_path / "balances.xlsx"
    handle = page.export_to(target)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    rows = list(openpyxl.load_workbook(target, read_only=True).active.iter_rows(values_only=True))
    with demo_engine.connect() as conn:
        n, total = conn.execute(text(
            "SELECT count(*), sum(current_balance) FROM credit_balances")).one()
    assert rows[0][:4] == ("customer_id", "email", "full_name", "balance")
    assert len(rows) == n + 1 and sum(r[3] for r in rows[1:]) == total
