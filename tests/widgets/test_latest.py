"""Latest request wins: a late answer to a superseded request is dropped."""

from __future__ import annotations

from widgets.latest import LatestRequest, OneInFlight


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
