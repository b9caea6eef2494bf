"""Opening a database, run on a worker thread by the start dialog.

Both paths end in a :class:`Backend` or a :class:`DomainError` whose message says what is
wrong in plain words (unreachable, bad password, no such database, incompatible schema).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

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
from data.payments import (
    LocalStripe,
    LocalStripeError,
    StripeConfig,
    StripeGateway,
    load_stripe_config,
)
from data.payments.localstripe import TEST_API_KEY
from desktop.database import Backend, is_gui_thread

Progress = Callable[[int, int | None, str], None]
DEMO_SEED = 1


def _guard(engine) -> None:
    forbid_sql_on_thread(engine, is_gui_thread)


def _demo_stripe(stripe_api_base: str | None, launched: LocalStripe | None,
                 ) -> tuple[StripeGateway, LocalStripe | None]:
    """The demo's Stripe: a test server given on the command line, or our own localstripe
    (``launched`` earlier if given; started here otherwise, or if it did not come up)."""
    if stripe_api_base:
        return StripeGateway(StripeConfig(TEST_API_KEY, stripe_api_base.rstrip("/"),
                                          "demo test key", send_reason=False)), None
    try:
        if launched is None:
            raise LocalStripeError("not launched")
        launched.wait_until_up()
        local = launched
    except LocalStripeError:
        if launched is not None:
            launched.stop()  # e.g. another process took its port
        local = LocalStripe.start()
    return StripeGateway(local.config()), local


@dataclass(frozen=True)
class DemoData:
    """The demo's data still to make once its window is shown (:func:`prepare_demo_data`)."""

    server: EmbeddedPostgres
    users: int


@dataclass(frozen=True)
class DemoPayments:
    """What is left to do for the demo once its window is shown (:func:`prepare_demo_payments`)."""

    server: EmbeddedPostgres
    stripe_api_base: str | None
    real_payments: int
    real_bookings: int


def open_demo(users: int, progress: Progress, *, stripe_api_base: str | None = None,
              real_payments: int | None = None, real_bookings: int | None = None,
              server: EmbeddedPostgres | None = None) -> Backend:
    """Start an embedded server in a temp dir (or take ``server``, started earlier) and connect
    to it: the main window opens on this. Its schema and demo data come afterwards, behind
    the window (``backend.demo_data``, see :func:`prepare_demo_data`), then the demo's Stripe
    (localstripe) and its payments (``backend.demo_payments``, see
    :func:`prepare_demo_payments`): until then the backend has no gateway. (localstripe is not
    launched alongside PostgreSQL: on a busy 2-core machine its start takes CPU from the path
    to the window.)"""
    from data.payments.demo import DEMO_REAL_BOOKINGS, DEMO_REAL_PAYMENTS

    if server is None:
        progress(0, None, "Starting the embedded PostgreSQL…")
        server = EmbeddedPostgres.start()
    try:
        engine = make_engine(server.url())
        info = connection_info(engine)
    except BaseException:
        server.stop()
        raise
    _guard(engine)
    backend = Backend(engine, make_session_factory(engine), info, "Demo database",
                      embedded=server)
    backend.demo_data = DemoData(server, users)
    backend.demo_payments = DemoPayments(
        server, stripe_api_base,
        DEMO_REAL_PAYMENTS if real_payments is None else real_payments,
        DEMO_REAL_BOOKINGS if real_bookings is None else real_bookings)
    return backend


def prepare_demo_data(backend: Backend, progress: Progress | None = None) -> None:
    """The demo's schema and data, behind the window, on a worker thread: migrate the empty
    database, fill it (one transaction, COPY), and read the connection's facts again (the
    platform's time zone is in the demo's settings). ``progress`` may raise to stop between
    migrations or fill stages; the fill's transaction is then rolled back."""
    from data import migrate  # alembic and the models: not needed before the window
    from data.demo import fill_demo_data

    plan = backend.demo_data
    if plan is None:
        return
    report: Progress = progress or (lambda done, total, message: None)

    def on_migration(done: int, total: int) -> None:
        report(done, total, "the schema")

    def on_fill(stage: str, done: int, total: int) -> None:
        report(done, total, stage)

    migrate.upgrade(backend.engine, before_step=on_migration)
    with psycopg.connect(plan.server.libpq_dsn()) as conn:
        fill_demo_data(conn, users=plan.users, seed=DEMO_SEED, progress=on_fill)
    backend.info = connection_info(backend.engine)
    backend.demo_data = None


def open_filled_demo(users: int, progress: Progress | None = None, **options) -> Backend:
    """:func:`open_demo` and :func:`prepare_demo_data` in one call (tests, scripts): a demo
    whose data is there, its payments still to make. The data is made on a thread of its
    own, as the app makes it on a worker (the engine refuses SQL on the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    backend = open_demo(users, progress or (lambda *a: None), **options)
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(prepare_demo_data, backend, progress).result()
    except BaseException:
        backend.close()
        raise
    return backend


def prepare_demo_payments(backend: Backend,
                          progress: Callable[[int, int], None] | None = None,
                          cancelled: Callable[[], bool] | None = None) -> str | None:
    """The demo's work left for behind the window, on a worker thread: make the most recent
    card payments real PaymentIntents in the demo's Stripe (and its subscriptions real
    subscriptions), so demo refunds take the production path, then VACUUM ANALYZE. Sets
    ``backend.gateway`` last, so nothing calls Stripe before its payments exist. Returns
    why refunds are disabled when the demo's Stripe did not start (the demo runs without).
    Once ``cancelled()`` says so (the app is closing) it stops after the payment in hand."""
    from data.payments.demo import make_payments_real
    from data.payments.subscriptions import make_subscriptions_real

    plan = backend.demo_payments
    if plan is None:
        return None
    note: str | None = None
    gateway: StripeGateway | None = None
    try:
        gateway, backend.local_stripe = _demo_stripe(plan.stripe_api_base, backend.local_stripe)
        make_payments_real(backend.session_factory, gateway, purchases=plan.real_payments,
                           bookings=plan.real_bookings, progress=progress, cancelled=cancelled)
        if cancelled is not None and cancelled():
            return "The app closed before the demo's payments were made."
        make_subscriptions_real(backend.session_factory, gateway)
    except LocalStripeError as exc:
        note = f"Refunds are disabled in this demo: {exc}"
        backend.stripe_notes.append(note)
        gateway = None
    with psycopg.connect(plan.server.libpq_dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    backend.demo_payments = None
    backend.gateway = gateway
    return note


def describe_url(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    port = f":{url.port}" if url.port else ""
    return f"{host}{port}/{url.database or ''}"


def open_url(url: str | URL, progress: Progress, *,
             stripe_api_base: str | None = None) -> Backend:
    """Connect to a real database and check that the app can work on it; find the Stripe
    key (environment or OS keyring; without one, refunds are disabled and a note says so)."""
    from data import migrate

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
    stripe_config = load_stripe_config(stripe_api_base)
    gateway = StripeGateway(stripe_config.config) if stripe_config.config else None
    backend = Backend(engine, make_session_factory(engine), info, describe_url(u),
                      gateway=gateway)
    backend.notes = [str(f) for f in findings]
    backend.stripe_notes = list(stripe_config.notes)
    return backend
