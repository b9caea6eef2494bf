"""Opening a database, run on a worker thread by the start dialog.

Both paths end in a :class:`Backend` or a :class:`DomainError` whose message says what is
wrong in plain words (unreachable, bad password, no such database, incompatible schema).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from data import migrate
from data.db import (
    connection_info,
    explain_connection_error,
    forbid_sql_on_thread,
    make_engine,
    make_session_factory,
    normalise_url,
)
from data.embedded import EmbeddedPostgres
from data.errors import ConnectionLostError, IncompatibleSchemaError
from desktop.database import Backend, is_gui_thread

Progress = Callable[[int, int | None, str], None]
DEMO_SEED = 1


def _guard(engine) -> None:
    forbid_sql_on_thread(engine, is_gui_thread)


def open_demo(users: int, progress: Progress) -> Backend:
    """Start an embedded server in a temp dir, migrate it and fill it with demo data."""
    from data.demo_data import fill_demo_data

    progress(0, None, "Starting the embedded PostgreSQL…")
    server = EmbeddedPostgres.start()
    try:
        engine = make_engine(server.url())
        progress(0, None, "Creating the schema…")
        migrate.upgrade(engine)

        def on_fill(stage: str, done: int, total: int) -> None:
            progress(done, total, f"Demo data: {stage}")

        with psycopg.connect(server.libpq_dsn()) as conn:
            fill_demo_data(conn, users=users, seed=DEMO_SEED, progress=on_fill)
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        info = connection_info(engine)
    except BaseException:
        server.stop()
        raise
    _guard(engine)
    return Backend(engine, make_session_factory(engine), info, "Demo database", embedded=server)


def describe_url(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


def open_url(url: str | URL, progress: Progress) -> Backend:
    """Connect to a real database and check that the app can work on it."""
    u = normalise_url(url)
    progress(0, None, f"Connecting to {describe_url(u)}…")
    engine = make_engine(u)
    try:
        info = connection_info(engine)
        progress(0, None, "Checking the schema…")
        try:
            findings = migrate.check(engine)
        except DBAPIError as exc:
            raise ConnectionLostError(explain_connection_error(exc)) from exc
        errors = migrate.blocking(findings)
        if errors:
            raise IncompatibleSchemaError(
                "This database is not compatible with Platform Admin. "
                "'platform-admin db upgrade' may fix it.",
                [str(f) for f in errors],
            )
    except BaseException:
        engine.dispose()
        raise
    _guard(engine)
    backend = Backend(engine, make_session_factory(engine), info, describe_url(u))
    backend.notes = [str(f) for f in findings]
    return backend
