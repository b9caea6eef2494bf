"""Start-up: ``--demo`` to the main window shown, against the floor, in one run.

    python bench/startup.py --demo-users 2000 --runs 1

(a) spawns the real app (``python -m desktop.cli --demo``) offscreen with
``PLATFORM_ADMIN_REPORT_SHOWN=ready``: it prints the moment its main window is first exposed
(the ratio's numerator), then the moment the demo's data, made behind the window, is there
and the first page asks for its rows (``demo_to_data_ready_s``, for information), and quits. (b) the floor: a fresh Python process that starts the embedded PostgreSQL and
shows an empty QMainWindow. Both are timed from just before the process is spawned, so both
include the interpreter's start. Prints one ``name=value`` per line (the median of
``--runs`` for each, and their ratio; target ratio <= 2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]

FLOOR = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
from data.embedded import EmbeddedPostgres

app = QApplication([])
server = EmbeddedPostgres.start()
window = QMainWindow()
window.resize(1400, 860)
window.show()


class Probe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Expose and watched.isExposed():
            print(f"window_shown={time.time():.6f}", flush=True)
            watched.removeEventFilter(self)
            QTimer.singleShot(0, app.quit)
        return False


probe = Probe()
window.windowHandle().installEventFilter(probe)
if window.windowHandle().isExposed():
    probe.eventFilter(window.windowHandle(), QEvent(QEvent.Type.Expose))
app.exec()
server.stop()
"""


def _env(state: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=state, XDG_CONFIG_HOME=state,
               PLATFORM_ADMIN_REPORT_SHOWN="ready")
    return env


def _seconds_to_shown(argv: list[str], env: dict[str, str]) -> tuple[float, dict[str, str]]:
    """Seconds from spawning to the window shown; and the process's ``name=value`` lines,
    ``demo_data_ready`` made seconds from the spawn too."""
    start = time.time()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if "window_shown" not in lines:
        raise SystemExit(f"no window_shown from {argv[:3]}: {done.stdout}\n{done.stderr}")
    if "demo_data_ready" in lines:
        lines["demo_data_ready"] = f"{float(lines['demo_data_ready']) - start:.3f}"
    return float(lines["window_shown"]) - start, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-users", type=int, default=2_000,
                        help="the demo's users (the app's default: 2000)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each; medians printed")
    args = parser.parse_args()
    demo, floor, ready, loaded = [], [], [], ""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as state:
        env = _env(state)
        for _ in range(args.runs):
            seconds, lines = _seconds_to_shown(
                [sys.executable, "-m", "desktop.cli", "--demo", "--demo-users",
                 str(args.demo_users)], env)
            demo.append(seconds)
            if "demo_data_ready" in lines:
                ready.append(float(lines["demo_data_ready"]))
            loaded = lines.get("loaded_at_shown", "")
            floor.append(_seconds_to_shown([sys.executable, "-c", FLOOR, str(ROOT)], env)[0])
    a, b = statistics.median(demo), statistics.median(floor)
    print(f"demo_users={args.demo_users}")
    print(f"runs={args.runs}")
    print(f"demo_to_window_s={a:.3f}")
    print(f"floor_pg_start_plus_empty_window_s={b:.3f}")
    print(f"ratio={a / b:.2f}")
    if ready:
        print(f"demo_to_data_ready_s={statistics.median(ready):.3f}")
    print(f"heavy_modules_loaded_at_window={loaded}")


if __name__ == "__main__":
    main()
