"""Latest request wins: a late answer to a superseded request is dropped."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from widgets.latest import DebouncedRequest, LatestRequest, OneInFlight


def test_only_the_newest_requests_callbacks_run():
    latest, shown = LatestRequest(), []
    old = latest.wrap(shown.append)
    new = latest.wrap(shown.append)
    new("newer answer")
    old("late answer to the older request")
    assert shown == ["newer answer"]


def test_success_and_failure_of_one_request_share_its_turn():
    latest, shown = LatestRequest(), []
    ok, failed = latest.wrap(shown.append, lambda exc: shown.append(f"failed: {exc}"))
    failed("boom")
    latest.wrap(shown.append)
    ok("too late")
    assert shown == ["failed: boom"]


def test_keys_are_independent_streams():
    latest, shown = LatestRequest(), []
    anna = latest.wrap(shown.append, key="anna")
    bob_old = latest.wrap(shown.append, key="bob")
    latest.wrap(shown.append, key="bob")
    anna("anna's balance")
    bob_old("bob's older balance")
    assert shown == ["anna's balance"]


def test_supersede_drops_every_pending_answer():
    latest, shown = LatestRequest(), []
    pending = latest.wrap(shown.append)
    latest.supersede()
    pending("answer for a plan that was fixed meanwhile")
    assert shown == []


def test_one_in_flight_runs_a_burst_as_two_reads_and_drops_the_stale_answer():
    started = []
    loads = OneInFlight(lambda: started.append(len(started) + 1))
    loads.request()
    loads.request()  # the range changed twice while the first read ran
    loads.request()
    assert started == [1] and loads.busy
    assert loads.finished() is False  # the first answer is stale: the newer read starts
    assert started == [1, 2] and loads.busy
    assert loads.finished() is True and not loads.busy


def test_a_debounced_request_is_sent_once_typing_pauses_and_a_late_answer_is_dropped(qtbot):
    """As the catalog's slug check: typing "a", "ab", "abc" sends one check, for "abc"; an
    answer still out when the user types on is for the old text and is never shown."""
    field = QLineEdit()
    qtbot.addWidget(field)
    sent, shown = [], []

    def start():
        sent.append((field.text(), check.wrap(shown.append)))

    check = DebouncedRequest(start, 50, field)
    field.textEdited.connect(lambda _text: check.poke())
    qtbot.keyClicks(field, "abc")
    assert check.is_waiting and sent == []
    qtbot.waitUntil(lambda: len(sent) == 1)
    assert sent[0][0] == "abc" and not check.is_waiting

    qtbot.keyClicks(field, "d")  # typed on while "abc" is being checked
    sent[0][1]("abc is taken")  # the late answer for the old text
    assert shown == []
    qtbot.waitUntil(lambda: len(sent) == 2)
    sent[1][1]("abcd is free")
    assert shown == ["abcd is free"]

    qtbot.keyClicks(field, "e")
    check.cancel()  # another record was loaded: nothing more is sent for this text
    qtbot.wait(120)
    assert len(sent) == 2
