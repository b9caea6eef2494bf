"""The app's log file, set up first (before the demo's server starts, whose initdb output
goes there). No Qt: the command line calls it before Qt is loaded."""

from __future__ import annotations

import logging
import os
from pathlib import Path


def log_file_path() -> Path:
    """The app's log file: ``$XDG_STATE_HOME/platform-admin/platform-admin.log`` (by default
    under ``~/.local/state``)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "platform-admin" / "platform-admin.log"


def set_up_logging() -> Path | None:
    """Everything (the embedded server's initdb output, each migration, ...) to the log file;
    only warnings and errors to the terminal. None when the file cannot be written (then the
    terminal still gets warnings and errors only)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    terminal = logging.StreamHandler()
    terminal.setLevel(logging.WARNING)
    terminal.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(terminal)
    logging.getLogger("stripe").setLevel(logging.WARNING)  # one INFO line per HTTP request
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path
