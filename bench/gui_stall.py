"""GUI stalls on the Users page: the longest gaps between the ticks of a 5 ms timer while the
page is built, scrolled, searched and filtered, and the memory held after scrolling.

    python bench/gui_stall.py                 # 1,000,000 users, scrolls 100,000 rows
    python bench/gui_stall.py --quick         # 50,000 users, scrolls 20,000 rows: minutes
    python bench/gui_stall.py --keep-dir /tmp/stall-1m   # build once, reuse on later runs

Builds its own embedded PostgreSQL and demo data (bench/users_page.py's builder); prints one
``name=value`` per line. ``*_max_gap_gui_cpu_ms`` is the GUI thread's own CPU time within the
largest gap: the rest of that gap it was waiting (another process on the core under load, or
a worker holding the GIL). ``*_max_gap_gui_run_queue_ms`` (Linux) is the part of that gap it
was ready to run while the cores ran something else (load); what is left beyond the 5 ms
tick is mostly waiting for the GIL. Targets: every ``*_max_gap_ms`` <= 50; ``rss_ratio`` <= 1.2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # read when QApplication is built
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.users_page import (  # noqa: E402
    build_users_database,
    reuse_users_database,
    rss_mb,
    wait_until,
)
from data.db import connection_info, make_session_factory  # noqa: E402
from data.embedded import EmbeddedPostgres  # noqa: E402
from desktop.database import Backend, Database  # noqa: E402
from desktop.pages.users import UsersPage  # noqa: E402
from widgets.garbage_collector import GarbageCollector  # noqa: E402
from widgets.gui_thread import favour_gui_thread  # noqa: E402
from widgets.operations import OperationRunner  # noqa: E402

TICK_MS = 5
TERMS = ("a", "smith", "zq", "12", "no-such-user-xyz")


class TickGaps:
    """A 5 ms timer on the GUI thread; the gaps between its ticks are the stalls."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        # The GUI thread's own CPU time in each gap: a gap far longer than it was spent
        # waiting (another process on the core, a worker holding the GIL), not working.
        self.cpu: list[float] = []
        # And the time it was ready to run but another thread or process had the core (the
        # kernel's run-queue delay): the rest of a gap is neither, e.g. waiting for the GIL.
        self.runq: list[float] = []
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._last_runq = run_queue_ms()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_tick)
        self.timer.start()

    def _on_tick(self) -> None:
        now, cpu, runq = time.perf_counter(), time.thread_time(), run_queue_ms()
        self.gaps.append((now - self._last) * 1000)
        self.cpu.append((cpu - self._last_cpu) * 1000)
        self.runq.append(runq - self._last_runq)
        self._last, self._last_cpu, self._last_runq = now, cpu, runq

    @contextmanager
    def phase(self, name: str, summary: dict[str, list[float]]):
        self.gaps, self.cpu, self.runq = [], [], []
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._last_runq = run_queue_ms()
        yield
        spin(20)  # the gap that ends the phase counts too
        longest = max(range(len(self.gaps)), key=self.gaps.__getitem__, default=None)
        gaps = sorted(self.gaps) or [0.0]
        summary[name] = gaps
        print(f"{name}_max_gap_ms={gaps[-1]:.1f}")
        if longest is not None:
            print(f"{name}_max_gap_gui_cpu_ms={self.cpu[longest]:.1f}")
            if HAS_SCHEDSTAT:
                print(f"{name}_max_gap_gui_run_queue_ms={self.runq[longest]:.1f}")
        print(f"{name}_p99_gap_ms={gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]:.1f}")


SCHEDSTAT = Path("/proc/thread-self/schedstat")  # Linux: run time, run-queue delay (ns), …
HAS_SCHEDSTAT = SCHEDSTAT.exists()


def run_queue_ms() -> float:
    """The calling thread's time spent ready to run but waiting for a core, in ms (0 where
    the kernel does not say)."""
    return int(SCHEDSTAT.read_text().split()[1]) / 1e6 if HAS_SCHEDSTAT else 0.0


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def scroll_to(app, page, rows: int) -> None:
    """Scroll down as a person dragging the bar to the end would, until ``rows`` are listed."""
    model, bar = page.model, page.view.verticalScrollBar()
    while model.rowCount() < rows and not model.is_exhausted:
        bar.setValue(bar.maximum())
        spin(TICK_MS)
    wait_until(app, lambda: not model.is_loading)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--scroll", type=int, default=100_000, help="rows to scroll")
    parser.add_argument("--quick", action="store_true", help="50,000 users, 20,000 rows")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-dir", help="keep the server's data here and reuse the users "
                        "built there by an earlier run (bench/users_page.py's option)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures show as they come, even in a file
    if args.quick:
        args.users, args.scroll = 50_000, 20_000
    small = max(args.scroll // 10, 1)
    app = QApplication.instance() or QApplication([])
    collector = GarbageCollector(app)  # as desktop/app.py does
    favour_gui_thread()  # as desktop/app.py does

    server = EmbeddedPostgres.start(args.keep_dir)
    try:
        engine = reuse_users_database(server) if args.keep_dir else None
        if engine is None:
            engine = build_users_database(server, args.users, args.seed)
        runner = OperationRunner()
        sf = make_session_factory(engine)
        database = Database(Backend(engine, sf, connection_info(engine), "bench"), runner)
        print(f"scroll_rows={args.scroll}")
        ticks = TickGaps()
        summary: dict[str, list[float]] = {}

        with ticks.phase("build", summary):
            page = UsersPage(database)
            page.resize(1400, 800)
            page.show()
            collector.freeze()  # as desktop/app.py does once the window is shown
            wait_until(app, lambda: page.model.rowCount() > 0 and not page.model.is_loading)

        with ticks.phase("scroll", summary):
            scroll_to(app, page, small)
            spin(600)  # let the collector's timer run at this size
            rss_small = rss_mb()
            scroll_to(app, page, args.scroll)
            spin(600)
            rss_large = rss_mb()
        print(f"rss_at_{small}_rows_mb={rss_small:.1f}")
        print(f"rss_at_{args.scroll}_rows_mb={rss_large:.1f}")
        print(f"rss_ratio={rss_large / rss_small:.3f}")
        print(f"rows_held={page.model.rows_held}")

        with ticks.phase("scroll_back", summary):
            page.view.scrollToTop()
            spin(200)
            wait_until(app, lambda: page.model.row_at(0) is not None)

        with ticks.phase("search", summary):
            for term in TERMS:
                page.search.setText(term)
                page.refresh()
                wait_until(app, lambda: not page.model.is_loading)
            page.search.setText("")

        with ticks.phase("filters", summary):
            for name, value in (("role", None), ("status", "deleted"), ("sort", "email"),
                                ("status", "all"), ("sort", "created")):
                combo = page.filters.widget(name)
                index = combo.findData(value) if value is not None else combo.count() - 1
                combo.setCurrentIndex(max(index, 0))
                spin(50)
                wait_until(app, lambda: not page.model.is_loading)

        everything = [gap for gaps in summary.values() for gap in gaps]
        print(f"max_gap_ms={max(everything):.1f}")
        print(f"median_gap_ms={statistics.median(everything):.1f}")
        ticks.timer.stop()
        page.close()
        runner.cancel_all()
        runner.wait_for_done(30_000)
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
