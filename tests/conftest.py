"""Test fixtures: one embedded PostgreSQL per run, template databases, a fresh database
per test (``CREATE DATABASE ... TEMPLATE``), so tests commit for real and never see each
other's rows.

No Qt here: tests/data runs with Qt refused (tests/qt_import_guard.py); what the Qt tests
share is in tests/qt_support.py, imported by the widgets' and the pages' conftests."""

from __future__ import annotations

import itertools
import os

import psycopg
import pytest

from data import migrate
from data.db import make_engine, make_session_factory
from data.embedded import EmbeddedPostgres
from tests import connection_origins  # noqa: F401  (names a leaked connection's origin)

MIGRATED_TEMPLATE = "pa_template_migrated"
DEMO_TEMPLATE = "pa_template_demo"
DEMO_USERS = 300
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    server = EmbeddedPostgres.start()
    yield server
    server.stop(remove_in_background=True)


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
    from data.demo import fill_demo_data

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


# -- Stripe (localstripe, a real HTTP server in a process of its own) ----------------------

@pytest.fixture(scope="session")
def localstripe():
    """A localstripe server for the whole run, on a free loopback port (``.api_base``,
    ``.config()`` for a :class:`StripeConfig`)."""
    from data.payments import LocalStripe

    server = LocalStripe.start()
    yield server
    server.stop()


@pytest.fixture
def stripe_gateway(localstripe):
    """A gateway on localstripe; retries back off without sleeping."""
    from data.payments import StripeGateway

    return StripeGateway(localstripe.config(), sleep=lambda _s: None)


@pytest.fixture
def paid_purchase(session_factory, stripe_gateway):
    """Factory: a completed purchase of ``amount`` paid by a real PaymentIntent on
    localstripe, with its ``content_access``; returns the purchase id."""
    from tests.data.payment_factories import insert_paid_purchase

    def make(amount="30.00", **kwargs):
        return insert_paid_purchase(session_factory, stripe_gateway, amount, **kwargs)

    return make


@pytest.fixture
def card_booking(session_factory, stripe_gateway):
    """Factory: a confirmed offering booking paid by card (a real PaymentIntent)."""
    from tests.data.payment_factories import insert_booking

    def make(amount="40.00", **kwargs):
        return insert_booking(session_factory, stripe_gateway, amount=amount, **kwargs)

    return make


@pytest.fixture
def credit_booking(session_factory):
    """Factory: a confirmed offering booking paid with ``credits`` tokens; the customer has
    a balance row. Returns the booking id."""
    from tests.data.payment_factories import insert_booking

    def make(credits=30, **kwargs):
        return insert_booking(session_factory, None, credits=credits, **kwargs)

    return make


@pytest.fixture
def stripe_demo_db_url(demo_db_url, localstripe):
    """A fresh demo database whose most recent purchases and card bookings (60 of each) are
    real PaymentIntents on the session's localstripe (see ``data.payments.demo``)."""
    from data.payments import StripeGateway
    from data.payments.demo import make_payments_real

    engine = make_engine(demo_db_url, pool_size=2)
    try:
        make_payments_real(make_session_factory(engine), StripeGateway(localstripe.config()),
                           purchases=60)
    finally:
        engine.dispose()
    return demo_db_url
