"""The Referral rewards page, driven as owners and support would: define a reward, create a
code, qualify a referral, review a flag, grant the reward."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QPlainTextEdit
from sqlalchemy import text

import widgets.actions as actions_module
from desktop.pages.referrals import ReferralsPage
from tests.data.factories import insert_user
from tests.data.referral_factories import insert_paid_purchase_row, insert_referral

WAIT = 20_000
# The friends sign up after the code the test creates (else: "account older than the code").
LATER = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)


def _scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _loaded(qtbot, view, rows=None):
    qtbot.waitUntil(lambda: not view.model.is_loading and (
        rows is None or view.model.rowCount() == rows), timeout=WAIT)


@pytest.fixture
def page(qtbot, empty_database):
    p = ReferralsPage(empty_database)
    qtbot.addWidget(p)
    p.resize(1400, 820)
    p.show()
    return p


@pytest.fixture
def people(engine):
    creator = insert_user(engine, "cora@example.com", "Cora Creator", role="platform_creator")
    ann = insert_user(engine, "ann@example.com", "Ann Referrer")
    friends = [insert_user(engine, f"f{i}@example.com", f"Friend Number{i}",
                           created_at=LATER) for i in range(3)]
    for f in friends[:2]:
        insert_paid_purchase_row(engine, f, creator)
    return {"ann": ann, "friends": friends}


def _tab(qtbot, page, view):
    page.tabs.setCurrentWidget(view)
    _loaded(qtbot, view)


def test_with_no_rewards_yet_new_is_on_screen_as_the_placeholder_says(qtbot, page):
    _tab(qtbot, page, page.rewards)
    assert page.rewards.model.rowCount() == 0
    # The placeholder says "New… defines one": the button must be there to press, not in a
    # detail body that stays hidden until a reward is selected.
    qtbot.waitUntil(lambda: page.reward_detail.new_button.isVisible(), timeout=WAIT)
    assert page.reward_detail.new_button.isEnabled()


def test_define_code_qualify_review_and_grant(qtbot, page, engine, people, monkeypatch):
    # -- define a credits reward needing 2 referrals
    detail = page.reward_detail
    _tab(qtbot, page, page.rewards)
    assert detail.new_button.isVisible()
    qtbot.mouseClick(detail.new_button, Qt.MouseButton.LeftButton)
    form = detail.form
    qtbot.keyClicks(form.field_widget("name"), "Two friends, five tokens")
    form.field_widget("description").setPlainText("Bring two friends")
    combo: QComboBox = form.field_widget("type")
    combo.setCurrentIndex(combo.findData("credits"))
    assert form.is_field_shown("credits") and not form.is_field_shown("days")
    form.field_widget("credits").set_value(5)
    form.field_widget("required_referrals").set_value(2)
    with qtbot.waitSignal(detail.record_created, timeout=WAIT):
        qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    _loaded(qtbot, page.rewards, rows=1)
    reward = page.rewards.model.row_at(0)
    assert (reward.type, reward.value, reward.required_referrals) == ("credits", {"credits": 5}, 2)

    # -- create a code for Ann (made up from her first name)
    _tab(qtbot, page, page.codes)
    dialog = page.codes.open_new_code()
    dialog.form.field_widget("user_id").set_value((people["ann"], "Ann <ann@example.com>"))
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.submit()
    _loaded(qtbot, page.codes, rows=1)
    code = page.codes.model.row_at(0).code
    assert code.startswith("ANN")

    # -- the platform records three sign-ups with the code: two qualified, one pending
    f0, f1, f2 = people["friends"]
    insert_referral(engine, people["ann"], f0, code, status="qualified",
                    at=LATER + dt.timedelta(hours=1))
    insert_referral(engine, people["ann"], f2, code, status="qualified",
                    at=LATER + dt.timedelta(hours=2))  # f2 never paid: flagged
    pending = insert_referral(engine, people["ann"], f1, code, status="pending",
                              at=LATER + dt.timedelta(hours=3))

    # -- qualify the pending one by hand, with a reason
    _tab(qtbot, page, page.referrals)
    page.referrals.refresh()
    _loaded(qtbot, page.referrals, rows=3)
    row = next(page.referrals.model.row_at(i) for i in range(3)
               if page.referrals.model.row_at(i).id == pending)
    dialog = page.referrals.open_qualify(row)
    qtbot.keyClicks(dialog.form.field_widget("reason"), "Paid by invoice")
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.submit()
    assert _scalar(engine, "SELECT status FROM referrals WHERE id = :i", i=pending) == "qualified"

    # -- scan, then review the flag (clear it)
    _tab(qtbot, page, page.review)
    page.review.actions.run(page.review.actions.action("scan"))
    _loaded(qtbot, page.review)
    qtbot.waitUntil(lambda: page.review.model.rowCount() == 1, timeout=WAIT)
    flag = page.review.model.row_at(0)
    assert flag.signal == "never_paid" and "never paid" in flag.reason
    dialog = page.review.open_clear(flag)
    qtbot.keyClicks(dialog.form.field_widget("note"), "Paid in cash at the studio")
    with qtbot.waitSignal(dialog.done, timeout=WAIT):
        dialog.submit()
    qtbot.waitUntil(lambda: page.review.model.rowCount() == 0 and
                    not page.review.model.is_loading, timeout=WAIT)

    # -- the referrer's view: the reward is ready; grant it (the confirmation says the total)
    asked: list[dict] = []
    monkeypatch.setattr(actions_module, "ask_to_confirm",
                        lambda *a, **k: asked.append(k) or True)
    view = page.referrals.open_referrer(row)
    qtbot.waitUntil(lambda: view.summary is not None, timeout=WAIT)
    assert view.summary.countable == 3
    view.select_reward(reward.id)
    assert view.grant_button.isEnabled()
    assert "ledger" in view.grant_note.text()
    with qtbot.waitSignal(view.reward_granted, timeout=WAIT):
        view.grant_button.click()
    assert "(5 tokens)" in asked[0]["text"]
    qtbot.waitUntil(lambda: view.summary.progress[0].granted, timeout=WAIT)
    assert not view.grant_button.isEnabled()
    assert _scalar(engine, "SELECT current_balance FROM credit_balances WHERE customer_id = :u",
                   u=people["ann"]) == 5
    assert _scalar(engine, "SELECT count(*) FROM referrals WHERE status = 'rewarded'") == 2
    view.close()


def test_a_bad_reward_value_is_shown_under_its_field_and_nothing_is_saved(qtbot, page, engine):
    detail = page.reward_detail
    _tab(qtbot, page, page.rewards)
    qtbot.mouseClick(detail.new_button, Qt.MouseButton.LeftButton)
    form = detail.form
    qtbot.keyClicks(form.field_widget("name"), "Half off")
    form.field_widget("description").setPlainText("d")
    combo = form.field_widget("type")
    combo.setCurrentIndex(combo.findData("discount"))
    form.field_widget("percent_off").set_value("150")
    qtbot.mouseClick(detail.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.error_text("percent_off") != "", timeout=WAIT)
    assert "100" in form.error_text("percent_off")
    assert _scalar(engine, "SELECT count(*) FROM referral_rewards") == 0
    assert isinstance(form.field_widget("name"), QLineEdit)
    assert isinstance(form.field_widget("description"), QPlainTextEdit)


def test_the_charts_show_referrals_per_week_top_referrers_and_conversion(qtbot,
                                                                       demo_database,
                                                                       demo_engine):
    page = ReferralsPage(demo_database)
    qtbot.addWidget(page)
    page.resize(1400, 820)
    page.show()
    page.tabs.setCurrentWidget(page.charts)
    qtbot.waitUntil(lambda: page.charts.data is not None, timeout=WAIT)
    total = _scalar(demo_engine, "SELECT count(*) FROM referrals "
                                 "WHERE referred_at >= date_trunc('week', now()) - "
                                 "interval '104 weeks'")
    shown = sum(sum(page.charts.weekly.series_data(s)[1]) for s in
                ("pending", "qualified", "rewarded", "voided"))
    assert shown == total
    top = _scalar(demo_engine, "SELECT max(n) FROM (SELECT count(*) AS n FROM referrals "
                               "GROUP BY referrer_id) t")
    assert page.charts.top.values[0] == top
    assert page.charts.conversion.values[0] == _scalar(demo_engine,
                                                         "SELECT count(*) FROM referrals")
    assert "referred users paid" in page.charts.conversion_note.text()


def test_consistency_lists_a_mismatch_by_email_and_corrects_it(qtbot, page, engine, people,
                                                               monkeypatch):
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET referral_count = 3 WHERE id = :u"),
                     {"u": people["ann"]})
    _tab(qtbot, page, page.consistency)
    qtbot.waitUntil(lambda: page.consistency.model.rowCount() == 1, timeout=WAIT)
    row = page.consistency.model.row_at(0)
    assert row.email == "ann@example.com" and "referral_count 3 but 0" in row.describe()
    monkeypatch.setattr(actions_module, "ask_to_confirm", lambda *a, **k: True)
    page.consistency.actions.run(page.consistency.actions.action("correct"))
    qtbot.waitUntil(lambda: page.consistency.model.rowCount() == 0
                    and not page.consistency.model.is_loading, timeout=WAIT)
    assert _scalar(engine, "SELECT referral_count FROM users WHERE id = :u",
                   u=people["ann"]) == 0
