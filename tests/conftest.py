"""Test fixtures: one embedded PostgreSQL per run, template databases, a fresh database
per test (``CREATE DATABASE ... TEMPLATE``), so tests commit for real and never see each
other's rows."""

from __future__ import annotations

import itertools
import os

import psycopg
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from data import migrate  # noqa: E402
from data.db import make_engine, make_session_factory  # noqa: E402
from data.embedded import EmbeddedPostgres  # noqa: E402

MIGRATED_TEMPLATE = "pa_template_migrated"
DEMO_TEMPLATE = "pa_template_demo"
DEMO_USERS = 300
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    server = EmbeddedPostgres.start()
    yield server
    server.stop()


def _admin_execute(server: EmbeddedPostgres, sql: str) -> None:
    with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
        conn.execute(sql)


def create_database(server: EmbeddedPostgres, template: str | None = None) -> str:
    name = f"pa_test_{os.getpid()}_{next(_counter)}"
    _admin_execute(
        server, f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    )
    return name


@pytest.fixture(scope="session")
def migrated_template(pg_server):
    _admin_execute(pg_server, f"CREATE DATABASE {MIGRATED_TEMPLATE}")
    engine = make_engine(pg_server.url(MIGRATED_TEMPLATE), pool_size=1)
    migrate.upgrade(engine)
    engine.dispose()
    return MIGRATED_TEMPLATE


@pytest.fixture(scope="session")
def demo_template(pg_server, migrated_template):
    from data.demo_data import fill_demo_data

    _admin_execute(pg_server, f"CREATE DATABASE {DEMO_TEMPLATE} TEMPLATE {migrated_template}")
    with psycopg.connect(pg_server.libpq_dsn(DEMO_TEMPLATE)) as conn:
        fill_demo_data(conn, users=DEMO_USERS, seed=7)
    with psycopg.connect(pg_server.libpq_dsn(DEMO_TEMPLATE), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return DEMO_TEMPLATE


@pytest.fixture
def empty_db(pg_server):
    """A brand-new empty database (no tables); its SQLAlchemy URL."""
    return pg_server.url(create_database(pg_server))


@pytest.fixture
def db_url(pg_server, migrated_template):
    """A fresh database with every migration applied and no rows."""
    return pg_server.url(create_database(pg_server, migrated_template))


@pytest.fixture
def demo_db_url(pg_server, demo_template):
    """A fresh database with demo data (DEMO_USERS users, seed 7)."""
    return pg_server.url(create_database(pg_server, demo_template))


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def demo_engine(demo_db_url):
    eng = make_engine(demo_db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def demo_session_factory(demo_engine):
    return make_session_factory(demo_engine)
