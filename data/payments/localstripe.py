"""A private ``localstripe`` server for the demo and the tests, run as a separate process.

localstripe is GPL: the app never imports it, it only starts its command-line program. It
listens on every interface (it has no ``--host`` option); the app talks to it on loopback,
on a free port found by binding port 0 on 127.0.0.1. ``--from-scratch`` keeps it from
loading the state another run left in ``/tmp/localstripe.pickle`` (localstripe writes that
file after every change; nothing the app needs lives there).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from data.errors import DomainError
from data.payments.config import StripeConfig

TEST_API_KEY = "sk_test_platform_admin_demo"
"""localstripe takes any ``sk_test_…`` key."""


class LocalStripeError(DomainError):
    """localstripe could not be started."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_CHILD_ENV = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


def child_environment(parent: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean, minimal environment for the localstripe process: the path, home, temp dir
    and locale, never the app's secrets (``PLATFORM_ADMIN_STRIPE_SECRET_KEY``, database URL,
    anything else the app's environment holds)."""
    source = os.environ if parent is None else parent
    env = {k: source[k] for k in _CHILD_ENV if source.get(k)}
    env.setdefault("PATH", os.defpath)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def localstripe_executable() -> str | None:
    """The ``localstripe`` program next to this interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("localstripe")
    if beside.exists():
        return str(beside)
    return shutil.which("localstripe")


class LocalStripe:
    """A running localstripe process: ``api_base`` to give Stripe clients, ``stop()`` to end it.

    ``LocalStripe.start()`` waits until it answers HTTP.
    """

    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.port = port
        self.api_base = f"http://127.0.0.1:{port}"
        self.api_key = TEST_API_KEY

    @classmethod
    def launch(cls, *, executable: str | None = None) -> LocalStripe:
        """Start the process and return at once; :meth:`wait_until_up` before using it."""
        exe = executable or localstripe_executable()
        if exe is None:
            raise LocalStripeError("localstripe is not installed: the demo cannot take "
                                   "payments ('pip install localstripe').")
        port = _free_port()
        process = subprocess.Popen(
            [exe, "--port", str(port), "--from-scratch"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_environment(),
        )
        server = cls(process, port)
        atexit.register(server.stop)  # also when the app ends without closing its backend
        return server

    @classmethod
    def start(cls, *, timeout: float = 20.0, executable: str | None = None) -> LocalStripe:
        """Start it and wait until it answers HTTP (a few tries, in case another process
        takes the free port first)."""
        last: Exception | None = None
        for _ in range(3):
            server = cls.launch(executable=executable)
            try:
                server.wait_until_up(timeout)
                return server
            except LocalStripeError as exc:
                last = exc
                server.stop()
        raise LocalStripeError(f"localstripe did not start: {last}")

    def wait_until_up(self, timeout: float = 20.0) -> None:
        """Return once it answers HTTP; raises :class:`LocalStripeError` if it does not."""
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(
            f"{self.api_base}/v1/customers?limit=1",
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        while True:
            if self.process.poll() is not None:
                raise LocalStripeError(f"it exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(request, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers HTTP
            except OSError:
                if time.monotonic() > deadline:
                    raise LocalStripeError(f"no answer on port {self.port} after "
                                           f"{timeout:.0f} s") from None
                time.sleep(0.05)

    def config(self) -> StripeConfig:
        """A Stripe config for this server (test key; ``reason`` kept out of requests, since
        localstripe rejects it)."""
        return StripeConfig(self.api_key, self.api_base, source="localstripe",
                            send_reason=False)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate it, and kill it if it does not end within ``timeout`` seconds."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def __enter__(self) -> LocalStripe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
