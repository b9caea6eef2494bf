"""``platform-admin`` as a person runs it (a subprocess): a bad URL, an unreachable server,
a missing database or role is said in one sentence, with a non-zero exit and no traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

COMMANDS = {
    "db check": ["db", "check"],
    "db upgrade": ["db", "upgrade"],
    "db roles --apply": ["db", "roles", "--apply"],
    "audit verify": ["audit", "verify"],
    "ledger check": ["ledger", "check"],
    "refunds recover": ["refunds", "recover"],
    "demo-data": ["demo-data", "--users", "5"],
}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
            ) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "desktop.cli", *args], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def _bad_urls(server) -> dict[str, tuple[str, str]]:
    """Each bad target and a word its sentence must contain."""
    host = server.socket_dir
    return {
        "not a url": ("not a url", "not a database URL"),
        "mysql": ("mysql://root@127.0.0.1/x", "PostgreSQL only"),
        "port 99999": ("postgresql://u@127.0.0.1:99999/x", "99999"),
        "port abc": ("postgresql://u@127.0.0.1:abc/x", '"abc"'),
        "closed port": (f"postgresql://u@127.0.0.1:{_closed_port()}/x", "cannot be reached"),
        "missing database": (f"postgresql://postgres@/no_such_db?host={host}",
                             'no database named "no_such_db"'),
        "missing role": (f"postgresql://nobody_here@/postgres?host={host}",
                         'no user named "nobody_here"'),
    }


@pytest.mark.parametrize("command", COMMANDS)
def test_every_bad_target_gets_one_sentence(pg_server, command):
    stripe = {"PLATFORM_ADMIN_STRIPE_SECRET_KEY": "sk_test_x"}
    extra = (["--stripe-api-base", f"http://127.0.0.1:{_closed_port()}"]
             if command == "refunds recover" else [])
    for case, (url, words) in _bad_urls(pg_server).items():
        done = run_cli(*COMMANDS[command], "--database-url", url, *extra, env=stripe)
        output = done.stdout + done.stderr
        assert done.returncode != 0, (case, output)
        assert "Traceback" not in output, (case, output)
        assert len(output.strip().splitlines()) <= 3, (case, output)
        assert words in output, (case, output)


def test_a_bad_url_in_the_environment_is_said_too():
    done = run_cli("ledger", "check", env={"PLATFORM_ADMIN_DATABASE_URL": "mysql://root@h/x"})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "PostgreSQL only" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_and_sigterm_end_the_app_while_the_start_dialog_waits(sig):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    process = subprocess.Popen([sys.executable, "-m", "desktop.cli"], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    guard = threading.Timer(60, process.kill)  # a hang guard, not a timing assertion
    guard.start()
    try:
        seen = []
        while not seen or "Ctrl+C" not in seen[-1]:  # said once the start dialog waits
            seen.append(process.stderr.readline())
            assert seen[-1], seen  # the app ended before saying it
        process.send_signal(sig)
        _, err = process.communicate(timeout=30)  # a hang guard, not a timing assertion
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err  # ended by the app itself, not by the signal
    assert "Traceback" not in err


def _start_demo(env: dict[str, str]) -> subprocess.Popen:
    """``platform-admin --demo`` with 20 users, as a person starts it, its output captured."""
    return subprocess.Popen([sys.executable, "-m", "desktop.cli", "--demo",
                             "--demo-users", "20"], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_the_demo_start_up_keeps_the_terminal_to_a_few_lines(tmp_path):
    """initdb's and each migration's output go to the app's log file, not the terminal (the
    migrations run behind the window: it is stopped once they have begun)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    env.update(QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=str(tmp_path))
    log = tmp_path / "platform-admin" / "platform-admin.log"
    process = _start_demo(env)
    guard = threading.Timer(180, process.kill)  # a hang guard, not a timing assertion
    guard.start()
    try:
        while process.poll() is None and not (
                log.exists() and "Running upgrade" in log.read_text()):
            threading.Event().wait(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate()
    finally:
        guard.cancel()
    logged = log.read_text()
    assert "Opened Demo database" in logged
    assert "initdb" in logged and "Running upgrade" in logged
    terminal = [line for line in (out + err).splitlines()
                if line.strip() and "propagateSizeHints" not in line]  # Qt offscreen plugin
    assert len(terminal) <= 3, terminal
    assert any("Ctrl+C" in line for line in terminal)
    assert process.returncode == 0, err


@pytest.mark.parametrize("base", ["not a url", "ftp://127.0.0.1/x", "http://127.0.0.1:99999"])
def test_refunds_recover_says_a_bad_stripe_address_in_one_sentence(base):
    done = run_cli("refunds", "recover", "--database-url", "postgresql://u@127.0.0.1:1/x",
                   "--stripe-api-base", base,
                   env={"PLATFORM_ADMIN_STRIPE_SECRET_KEY": "sk_test_x"})
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert "is not an address" in output


def _servers_under(directory: Path) -> list[str]:
    """The command lines of postgres processes whose data directory is under ``directory``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "postgres" in cmdline and str(directory) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.parametrize("after", ["server starting", "window up"])
def test_ctrl_c_while_the_demo_starts_leaves_no_server_behind(tmp_path, after):
    """Ctrl+C can come before the app has its signal handler (while Qt and the libraries
    load, the demo's server already starting on a thread): the server is stopped and its
    temp dir removed whenever it comes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLATFORM_ADMIN_")}
    temp = tmp_path / "tmp"
    temp.mkdir()
    env.update(QT_QPA_PLATFORM="offscreen", XDG_STATE_HOME=str(tmp_path), TMPDIR=str(temp))
    log = tmp_path / "platform-admin" / "platform-admin.log"
    process = _start_demo(env)
    guard = threading.Timer(180, process.kill)  # a hang guard, not a timing assertion
    guard.start()
    try:
        if after == "server starting":  # its temp dir made: Qt and the app still loading
            while process.poll() is None and not any(temp.iterdir()):
                threading.Event().wait(0.02)
        elif after == "window up":
            while process.poll() is None and not (
                    log.exists() and "Opened Demo database" in log.read_text()):
                threading.Event().wait(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)  # a hang guard, not a timing assertion
    finally:
        guard.cancel()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Traceback" not in err, err
    assert process.returncode in (0, 1), err  # ended by the app, not killed by the signal
    for _ in range(100):  # the temp server's files may go in a background rm
        if not _servers_under(temp) and not any(temp.glob("platform-admin-pg-*")):
            break
        threading.Event().wait(0.1)
    assert not _servers_under(temp), _servers_under(temp)
    assert not list(temp.glob("platform-admin-pg-*"))
