"""Engines, sessions and the translation of connection failures into plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from data.environment import DATABASE_URL_ENV as DATABASE_URL_ENV  # re-exported
from data.environment import database_url_from_env as database_url_from_env  # re-exported
from data.errors import ConnectionLostError, ValidationError

DATABASE_URL_FIELD = "database_url"
URL_SHAPE = "postgresql://user@host:port/database"
# The schemes the app takes; each means PostgreSQL through psycopg 3 (psycopg2 is not used,
# but a URL written for it names the same server).
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


def database_url_problem(url: str | URL | None) -> str | None:
    """What is wrong with a database URL, in one sentence, or None when the app can use it.

    The same words on the command line and in the start dialog. A URL is used as given or
    refused: never turned into another server's.
    """
    if url is None or (isinstance(url, str) and not url.strip()):
        return f"No database URL given: expected {URL_SHAPE}."
    if isinstance(url, str):
        text_url = url.strip()
        scheme = text_url.split("://", 1)[0] if "://" in text_url else None
        if scheme is not None and scheme.lower() not in _POSTGRES_SCHEMES and re.fullmatch(
                r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            return (f"That is a {scheme} URL; Platform Admin works on PostgreSQL only: "
                    f"expected {URL_SHAPE}.")
        port = re.match(r"[^:/]+://(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/?]*):([^/?]*)", text_url)
        if port and port.group(1) and not port.group(1).isdigit():
            return f'The port "{port.group(1)}" is not a number: expected {URL_SHAPE}.'
        try:
            u = make_url(text_url)
        except Exception:  # noqa: BLE001 - ArgumentError, ValueError: any unparsable text
            return f"That is not a database URL: expected {URL_SHAPE}."
    else:
        u = url
    if u.drivername.lower() not in _POSTGRES_SCHEMES:
        return (f"That is a {u.drivername} URL; Platform Admin works on PostgreSQL only: "
                f"expected {URL_SHAPE}.")
    if u.port is not None and not 1 <= u.port <= 65535:
        return f"The port {u.port} is not a port number (1 to 65535): expected {URL_SHAPE}."
    return None


def parse_database_url(url: str | URL | None) -> URL:
    """The URL to connect with (psycopg 3), or :class:`ValidationError` on
    ``database_url`` saying in words what is wrong (see :func:`database_url_problem`)."""
    problem = database_url_problem(url)
    if problem:
        raise ValidationError({DATABASE_URL_FIELD: problem})
    assert url is not None  # for mypy: database_url_problem(None) is never None
    u = make_url(url.strip()) if isinstance(url, str) else url
    return u.set(drivername="postgresql+psycopg")


def normalise_url(url: str | URL) -> URL:
    """Accept ``postgresql://`` URLs as people write them and use the psycopg 3 driver;
    anything else raises :class:`ValidationError` (never rewritten to another server)."""
    return parse_database_url(url)


def libpq_dsn(url: str | URL) -> str:
    """The URL as libpq (``psycopg.connect``) takes it; validated like :func:`parse_database_url`."""
    u = parse_database_url(url).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def make_engine(url: str | URL, *, pool_size: int = 5,
                application_name: str = "platform-admin") -> Engine:
    """An engine for the app: psycopg 3, pre-ping, and a name that shows in pg_stat_activity."""
    u = normalise_url(url)
    return create_engine(
        u,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"application_name": application_name, "connect_timeout": 10},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: results handed to the GUI thread must not lazy-load later.
    return sessionmaker(engine, expire_on_commit=False)


@dataclass(frozen=True)
class ConnectionInfo:
    """What the status bar shows about the database the app is connected to."""

    database_user: str
    database: str
    host: str
    server_version: str
    time_zone: str = "UTC"
    """The platform's time zone (``admin.platform_timezone()``; UTC before the app's schema
    exists): every time on screen is shown in it."""


def connection_info(engine: Engine) -> ConnectionInfo:
    """Connect once and say who we are there; raises :class:`ConnectionLostError`."""
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT current_user, current_database(), "
                     "current_setting('server_version'), "
                     "to_regprocedure('admin.platform_timezone()') IS NOT NULL")
            ).one()
            time_zone = (conn.execute(text("SELECT admin.platform_timezone()")).scalar_one()
                         if row[3] else "UTC")
    except DBAPIError as exc:
        raise ConnectionLostError(explain_connection_error(exc)) from exc
    u = engine.url
    host = u.host or (u.query.get("host") if u.query else None) or "local socket"
    if isinstance(host, tuple):
        host = host[0]
    return ConnectionInfo(row[0], row[1], str(host), row[2], time_zone)


_EXPLANATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"password authentication failed|no password supplied|"
                r"authentication failed", re.I),
     "The database refused the user name or password."),
    (re.compile(r'database "([^"]+)" does not exist', re.I),
     'There is no database named "{0}" on that server.'),
    (re.compile(r'role "([^"]+)" does not exist', re.I),
     'The server has no user named "{0}".'),
    (re.compile(r"could not translate host name|Name or service not known|"
                r"nodename nor servname", re.I),
     "The server's host name could not be found. Check the host."),
    (re.compile(r"Connection refused|No such file or directory|could not connect|"
                r"connection to server .* failed|timeout expired|Network is unreachable", re.I),
     "The database server cannot be reached. Check the host and port, and that it is running."),
    (re.compile(r"terminating connection|server closed the connection|"
                r"connection is closed|SSL connection has been closed", re.I),
     "The connection to the database was lost."),
    (re.compile(r"must be owner of (?:table|relation|materialized view) (\S+)", re.I),
     'The database user does not own the table "{0}": run this as the owner of the '
     "platform's tables."),
    (re.compile(r"permission denied", re.I),
     "The database user is not allowed to do this."),
]


def explain_connection_error(exc: BaseException) -> str:
    """Turn a driver error into one sentence a person understands (never a traceback)."""
    original = getattr(exc, "orig", None) or exc
    message = str(original)
    for pattern, explanation in _EXPLANATIONS:
        m = pattern.search(message)
        if m:
            return explanation.format(*m.groups())
    if isinstance(original, psycopg.OperationalError) or isinstance(exc, OperationalError):
        first = message.strip().splitlines()[0] if message.strip() else "unknown error"
        return f"The database could not be used: {first}"
    return message.strip().splitlines()[0] if message.strip() else type(exc).__name__


def is_connection_error(exc: BaseException) -> bool:
    """True when an error means the database connection failed, not the statement."""
    if isinstance(exc, ConnectionLostError):
        return True
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc.orig, psycopg.OperationalError)
    return isinstance(exc, psycopg.OperationalError)


def forbid_sql_on_thread(engine: Engine, is_forbidden) -> None:
    """Raise if a statement is about to run where ``is_forbidden()`` says it must not.

    The desktop app passes "am I on the GUI thread?": a statement there would freeze the
    window, so it fails loudly instead.
    """

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn, cursor, statement, parameters, context, executemany):
        if is_forbidden():
            raise RuntimeError(f"SQL on a forbidden thread: {statement[:80]}")
