"""StagedBuild: steps one per turn of the event loop; finish() runs the rest in order."""

from PySide6.QtCore import QCoreApplication, QTimer

from widgets.staged_build import StagedBuild


def test_steps_run_in_order_with_other_timers_running_between_them(qtbot):
    events: list[object] = []
    ticker = QTimer()
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: events.append("tick"))
    ticker.start()
    staged = StagedBuild([lambda i=i: events.append(i) for i in range(3)])
    built: list[bool] = []
    staged.built.connect(lambda: built.append(True))
    assert events == []  # nothing in the constructor
    qtbot.waitUntil(lambda: staged.done)
    ticker.stop()
    steps = [e for e in events if e != "tick"]
    assert steps == [0, 1, 2]
    between = [events[events.index(a) + 1:events.index(b)] for a, b in ((0, 1), (1, 2))]
    assert all("tick" in part for part in between)  # the event loop had its turn
    assert built == [True]


def test_finish_runs_what_is_left_at_once_even_from_inside_a_step(qtbot):
    ran: list[str] = []
    staged: StagedBuild

    def first() -> None:
        ran.append("first")
        staged.finish()  # something in the first step needs the whole thing now

    staged = StagedBuild([first, lambda: ran.append("second"), lambda: ran.append("third")])
    built: list[bool] = []
    staged.built.connect(lambda: built.append(True))
    staged.finish()
    assert ran == ["first", "second", "third"]
    assert staged.done and built == [True]
    QCoreApplication.processEvents()
    qtbot.wait(20)
    assert ran == ["first", "second", "third"] and built == [True]  # nothing ran twice
