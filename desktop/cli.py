"""The ``platform-admin`` command: the app, and the database chores that need no window.

    platform-admin [--demo | --database-url URL]      start the app
    platform-admin db upgrade [--database-url URL]    create what the app needs
    platform-admin db check [--database-url URL]      compare the database with the models
    platform-admin db roles [--database-url URL] [--apply]
                                                      print (or apply) the staff roles' SQL
    platform-admin demo-data --users N [--seed S]     fill a database with demo data
    platform-admin ledger check [--database-url URL]  list balances that disagree with their
                                                      ledger (exit 1 when any)
    platform-admin offerings check [--database-url URL]
                                                      list offerings whose booking count,
                                                      capacity or schedule is wrong (exit 1)
    platform-admin referrals check [--database-url URL]
                                                      list users whose referral counters
                                                      disagree with referrals (exit 1 when any)
    platform-admin refunds recover [--database-url URL] [--stripe-api-base URL]
                                                      finish refunds left open (exit 1 when
                                                      some are still open)
    platform-admin subscriptions check [--database-url URL] [--stripe-api-base URL]
                                                      list every current subscription that
                                                      differs from Stripe (exit 1 when any)
    platform-admin audit verify [--database-url URL]  walk the audit trail's hash chain (exit
                                                      1 naming the first row altered or removed)
    platform-admin audit partitions [--months-ahead N] [--database-url URL]
                                                      make the audit trail's monthly partitions
                                                      ahead and list them
    platform-admin audit detach [--keep-months N] [--database-url URL]
                                                      detach (never delete) the months older
                                                      than N (default 84) into archive tables
    platform-admin stripe set-key                     store the Stripe secret key in the OS
                                                      keyring (read without echo)

Database chores import no Qt, so they run on a server with no display.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from data.environment import DATABASE_URL_ENV, database_url_from_env


def _add_url(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # Sub-commands must not reset a URL given before them, hence SUPPRESS there.
    parser.add_argument(
        "--database-url",
        help=f"PostgreSQL URL (default: ${DATABASE_URL_ENV})",
        default=None if top else argparse.SUPPRESS,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="platform-admin", description=__doc__.split("\n")[0])
    parser.add_argument("--demo", action="store_true",
                        help="run on a throwaway embedded database filled with demo data")
    parser.add_argument("--demo-users", type=int, default=2_000, help=argparse.SUPPRESS)
    _add_url(parser, top=True)
    _add_stripe_base(parser, top=True)
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db", help="database schema chores")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    _add_url(db_sub.add_parser("upgrade", help="create the tables, schema and indexes the app needs"))
    _add_url(db_sub.add_parser("check", help="list every difference between database and models"))
    roles = db_sub.add_parser(
        "roles", help="print the SQL for the staff group roles and their rights (idempotent)")
    _add_url(roles)
    roles.add_argument("--apply", action="store_true",
                       help="run it on the database instead of printing it")
    demo = sub.add_parser("demo-data", help="fill an empty database with demo data")
    _add_url(demo)
    demo.add_argument("--users", type=int, required=True)
    demo.add_argument("--purchases", type=int, default=None)
    demo.add_argument("--seed", type=int, default=1)
    ledger = sub.add_parser("ledger", help="token ledger chores")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    _add_url(ledger_sub.add_parser(
        "check", help="list every balance that disagrees with its ledger (exit 1 when any)"))
    offerings = sub.add_parser("offerings", help="offering chores")
    offerings_sub = offerings.add_subparsers(dest="offerings_command", required=True)
    _add_url(offerings_sub.add_parser(
        "check", help="list every offering whose booking count, capacity, schedule or "
                      "confirmed bookings are wrong (exit 1 when any)"))
    referrals = sub.add_parser("referrals", help="referral program chores")
    referrals_sub = referrals.add_subparsers(dest="referrals_command", required=True)
    _add_url(referrals_sub.add_parser(
        "check", help="list users whose referral_count, was_referred or referred_by disagree "
                      "with referrals (exit 1 when any)"))
    refunds = sub.add_parser("refunds", help="refund chores")
    refunds_sub = refunds.add_subparsers(dest="refunds_command", required=True)
    recover = refunds_sub.add_parser(
        "recover", help="ask Stripe about every open refund request and finish it")
    _add_url(recover)
    _add_stripe_base(recover)
    subs = sub.add_parser("subscriptions", help="subscription chores")
    subs_sub = subs.add_subparsers(dest="subscriptions_command", required=True)
    drift = subs_sub.add_parser(
        "check", help="compare every active, trialing and past-due subscription with Stripe "
                      "(exit 1 when any differs; nothing is changed)")
    _add_url(drift)
    _add_stripe_base(drift)
    audit = sub.add_parser("audit", help="audit trail chores")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    _add_url(audit_sub.add_parser(
        "verify", help="walk the audit trail's hash chain (exit 1 when a row was altered or "
                       "removed)"))
    partitions = audit_sub.add_parser(
        "partitions", help="make the audit trail's monthly partitions ahead and list them")
    partitions.add_argument("--months-ahead", type=int, default=3)
    _add_url(partitions)
    detach = audit_sub.add_parser(
        "detach", help="detach the audit months older than --keep-months into archive tables "
                       "(nothing is deleted; archive them with pg_dump -t, then drop them)")
    detach.add_argument("--keep-months", type=int, default=84)
    _add_url(detach)
    stripe_cmd = sub.add_parser("stripe", help="Stripe configuration")
    stripe_sub = stripe_cmd.add_subparsers(dest="stripe_command", required=True)
    stripe_sub.add_parser("set-key", help="store the Stripe secret key in the OS keyring")
    return parser


def _add_stripe_base(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "--stripe-api-base",
        help="Stripe API address, e.g. a test server such as localstripe "
             "(default: https://api.stripe.com; the key comes from "
             "$PLATFORM_ADMIN_STRIPE_SECRET_KEY or the OS keyring)",
        default=None if top else argparse.SUPPRESS,
    )


def _require_url(args):
    """The database URL to use (a SQLAlchemy URL), or exit with one sentence saying what is
    wrong with it: missing, not a URL, not PostgreSQL, a bad port."""
    from data.db import database_url_problem

    url = args.database_url or database_url_from_env()
    if not url:
        sys.exit(f"platform-admin: no database: give --database-url or set {DATABASE_URL_ENV}")
    problem = database_url_problem(url)
    if problem:
        sys.exit(f"platform-admin: {problem}")
    from data.db import parse_database_url

    return parse_database_url(url)


def _engine(args):
    from data.db import make_engine

    return make_engine(_require_url(args), pool_size=1)


def _fail(exc: BaseException) -> None:
    from data.db import explain_connection_error
    from data.db_errors import translate_db_error
    from data.errors import PermissionDeniedError

    translated = translate_db_error(exc)
    if isinstance(translated, PermissionDeniedError) and translated.table:
        sys.exit(f"platform-admin: {translated}")  # names the action and the table
    sys.exit(f"platform-admin: {explain_connection_error(exc)}")


def _one_sentence(chore):
    """Run a chore; a database, connection or domain error ends it with one sentence on
    stderr and exit status 1, never a traceback."""

    def run(args) -> int:
        import psycopg
        from sqlalchemy.exc import DBAPIError

        from data.errors import DomainError, ValidationError

        try:
            return chore(args)
        except ValidationError as exc:
            sys.exit(f"platform-admin: {' '.join(exc.field_errors.values())}")
        except DomainError as exc:
            sys.exit(f"platform-admin: {exc}")
        except (DBAPIError, psycopg.Error) as exc:
            _fail(exc)
        except KeyboardInterrupt:
            sys.exit("platform-admin: interrupted.")

    run.__name__ = chore.__name__
    run.__doc__ = chore.__doc__
    return run


@_one_sentence
def run_db_upgrade(args) -> int:
    from sqlalchemy.exc import DBAPIError

    from data import migrate

    engine = _engine(args)
    try:
        migrate.upgrade(engine)
        print(f"Database is at revision {migrate.current_revision(engine)}.")
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    return 0


@_one_sentence
def run_db_check(args) -> int:
    from sqlalchemy.exc import DBAPIError

    from data import migrate

    engine = _engine(args)
    try:
        findings = migrate.check(engine)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    for finding in findings:
        print(finding)
    errors = migrate.blocking(findings)
    if errors:
        print(f"{len(errors)} problem(s): the app cannot work on this database.")
        return 1
    print("The database matches what the app needs." if not findings
          else "The app can work on this database (see the warnings).")
    return 0


@_one_sentence
def run_db_roles(args) -> int:
    """Print the roles' SQL (to review, or to run with psql), or apply it in one
    transaction; then say how to make a login a member."""
    from sqlalchemy.exc import DBAPIError

    from data.roles import apply_roles, membership_help, roles_sql

    url = _require_url(args)
    if not args.apply:
        for statement in roles_sql():
            print(f"{statement.strip()};")
        print(membership_help(url.database or "DATABASE"))
        return 0
    engine = _engine(args)
    try:
        with engine.begin() as conn:
            apply_roles(conn)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    print(f"Staff roles are set up in database {url.database}.")
    print(membership_help(url.database or "DATABASE"))
    return 0


class TerminalProgress:
    """A one-line progress bar on stderr."""

    def __init__(self) -> None:
        self._stage = None
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and done < total and now - self._last < 0.2:
            return
        self._stage, self._last = stage, now
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{stage:<24} [{bar}] {done:>10,}/{total:,}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


@_one_sentence
def run_demo_data(args) -> int:
    import psycopg

    from data.db import libpq_dsn
    from data.demo import fill_demo_data

    dsn = libpq_dsn(_require_url(args))  # as given: never another server's
    start = time.monotonic()
    try:
        with psycopg.connect(dsn) as conn:
            counts = fill_demo_data(conn, users=args.users, seed=args.seed,
                                    purchases=args.purchases, progress=TerminalProgress())
    except ValueError as exc:
        sys.exit(f"platform-admin: {exc}")
    except psycopg.Error as exc:
        _fail(exc)
    for table, n in counts.items():
        print(f"{table}={n}")
    print(f"seconds={time.monotonic() - start:.1f}")
    return 0


def _read_once(args, query):
    """``query(session)`` on the database ``args`` names, in one session; a database error
    ends the command with its sentence."""
    from sqlalchemy.exc import DBAPIError

    from data.db import make_session_factory

    engine = _engine(args)
    try:
        with make_session_factory(engine)() as session:
            return query(session)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@_one_sentence
def run_ledger_check(args) -> int:
    """Print each mismatch on one line and a summary; 1 when there is any, else 0."""
    from data.ledger_health import check_ledger

    mismatches = _read_once(args, check_ledger)
    for mismatch in mismatches:
        print(f"[{mismatch.kind}] {mismatch}")
    if mismatches:
        customers = len({m.customer_id for m in mismatches})
        print(f"{len(mismatches)} mismatch(es) in {customers} customer(s): "
              "these balances disagree with their ledger.")
        return 1
    print("Every balance agrees with its ledger.")
    return 0


@_one_sentence
def run_offerings_check(args) -> int:
    """Print each problem on one line and a summary; 1 when there is any, else 0."""
    from data.services.offerings import find_offering_problems

    problems = _read_once(args, find_offering_problems)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len({p.offering_id for p in problems})} "
              "offering(s).")
        return 1
    print("Every offering's bookings, capacity and schedule are consistent.")
    return 0


@_one_sentence
def run_referrals_check(args) -> int:
    """Print each user whose referral counters disagree with ``referrals``, by email; 1 when
    there is any, else 0."""
    from data.services.referral_fraud import count_mismatches

    mismatches = _read_once(args, count_mismatches)
    for mismatch in mismatches:
        print(mismatch.describe())
    if mismatches:
        print(f"{len(mismatches)} user(s) whose referral counters disagree with referrals.")
        return 1
    print("Every user's referral counters agree with referrals.")
    return 0


@_one_sentence
def run_audit_verify(args) -> int:
    """Print "N rows, chain intact" (0), or the first row altered or the gap where rows were
    removed (1)."""
    from data.audit_chain import verify_chain

    def progress(done: int, chains: int, rows: int) -> None:
        print(f"Checked {done} of {chains} chains ({rows:,} rows written in them)…",
              file=sys.stderr, flush=True)

    report = _read_once(args, lambda session: verify_chain(session, progress))
    print(report)
    return 0 if report.intact else 1


def _write_once(args, action):
    """``action(session)`` on the database ``args`` names, in one committed transaction; a
    database error ends the command with its sentence."""
    from sqlalchemy.exc import DBAPIError

    from data.db import make_session_factory

    engine = _engine(args)
    try:
        with make_session_factory(engine).begin() as session:
            return action(session)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@_one_sentence
def run_audit_partitions(args) -> int:
    """Make the missing monthly partitions and print each one attached."""
    from data.audit_partitions import add_partitions, list_partitions

    def run(session):
        return add_partitions(session, args.months_ahead), list_partitions(session)

    made, partitions = _write_once(args, run)
    for p in partitions:
        print(f"admin.{p.name}  {p.bounds}  ~{p.estimated_rows:,} rows")
    print(f"{made} partition(s) made; {len(partitions)} attached.")
    return 0


@_one_sentence
def run_audit_detach(args) -> int:
    """Detach the months older than ``--keep-months``; print each archive table."""
    from data.audit_partitions import detach_partitions

    archives = _write_once(args, lambda s: detach_partitions(s, args.keep_months))
    for name in archives:
        print(f"{name}: detached. Archive it (pg_dump -t {name}), then drop it yourself; "
              "audit verify keeps checking the rest.")
    print(f"{len(archives)} month(s) detached; nothing was deleted.")
    return 0


@_one_sentence
def run_refunds_recover(args) -> int:
    """Finish open refund requests; 0 when none is left open, 1 when some are, 2 when Stripe
    is not configured."""
    from sqlalchemy.exc import DBAPIError

    from data.db import connection_info, make_engine, make_session_factory
    from data.payments import StripeGateway, load_stripe_config
    from data.services.refunds import finish_open_refunds, money, summarize_outcomes

    url = _require_url(args)  # a bad URL is said before anything about Stripe
    config = load_stripe_config(args.stripe_api_base)
    if config.config is None:
        for note in config.notes:
            print(note, file=sys.stderr)
        return 2
    engine = make_engine(url, pool_size=1)
    try:
        actor = connection_info(engine).database_user
        outcomes = finish_open_refunds(make_session_factory(engine),
                                       StripeGateway(config.config), actor)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    for o in outcomes:
        print(f"{o.request_id} {o.status:<9} {money(o.amount)}  {o.message}")
    print(summarize_outcomes(outcomes))
    return 1 if any(o.status in ("requested", "pending") for o in outcomes) else 0


@_one_sentence
def run_subscriptions_check(args) -> int:
    """Print each difference from Stripe; 0 when none, 1 when any, 2 when Stripe is not
    configured. Reads only: nothing is written, here or at Stripe."""
    from sqlalchemy.exc import DBAPIError

    from data.db import make_engine, make_session_factory
    from data.payments import StripeGateway, load_stripe_config
    from data.services.subscriptions import check_drift

    url = _require_url(args)
    config = load_stripe_config(args.stripe_api_base)
    if config.config is None:
        for note in config.notes:
            print(note, file=sys.stderr)
        return 2
    engine = make_engine(url, pool_size=1)
    try:
        with make_session_factory(engine)() as session:
            drifts = check_drift(session, StripeGateway(config.config))
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    for d in drifts:
        print(d)
    print(f"{len(drifts)} difference(s) from Stripe." if drifts
          else "Every current subscription agrees with Stripe.")
    return 1 if drifts else 0


def run_stripe_set_key(args) -> int:
    """Read the key without echo and store it in the OS keyring (never on disk by us)."""
    import getpass

    from data.payments import STRIPE_KEY_ENV
    from data.payments.config import store_key_in_keyring

    key = getpass.getpass("Stripe secret key (sk_…): ").strip()
    if not key.startswith(("sk_", "rk_")):
        print("That does not look like a Stripe secret key (sk_… or rk_…); nothing stored.",
              file=sys.stderr)
        return 1
    try:
        store_key_in_keyring(key)
    except Exception as exc:  # noqa: BLE001 - any keyring backend failure
        print(f"The OS keyring could not store it ({type(exc).__name__}). Set "
              f"${STRIPE_KEY_ENV} in the app's environment instead.", file=sys.stderr)
        return 1
    print("Stored in the OS keyring (service platform-admin, user stripe-secret-key).")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db":
        chores = {"upgrade": run_db_upgrade, "check": run_db_check, "roles": run_db_roles}
        return chores[args.db_command](args)
    if args.command == "demo-data":
        return run_demo_data(args)
    if args.command == "ledger":
        return run_ledger_check(args)
    if args.command == "audit":
        return {"verify": run_audit_verify, "partitions": run_audit_partitions,
                "detach": run_audit_detach}[args.audit_command](args)
    if args.command == "offerings":
        return run_offerings_check(args)
    if args.command == "referrals":
        return run_referrals_check(args)
    if args.command == "refunds":
        return run_refunds_recover(args)
    if args.command == "subscriptions":
        return run_subscriptions_check(args)
    if args.command == "stripe":
        return run_stripe_set_key(args)
    from desktop.log_file import set_up_logging

    log_path = set_up_logging()
    # Ctrl+C or SIGTERM while Qt and the libraries load (seconds, the demo's server already
    # starting on a thread) is noted, not raised: a KeyboardInterrupt there could be
    # swallowed by a library's import or leave the server behind. The app ends at once
    # once it is up, removing the server as when its window is closed.
    interrupted = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: interrupted.set())
    demo_server = None
    if args.demo:  # its initdb runs in its own processes while Qt and the app load
        from data.embedded import EmbeddedPostgres

        demo_server = EmbeddedPostgres.start_in_background()
    from desktop.app import run_app

    return run_app(args, demo_server=demo_server, log_path=log_path,
                   interrupted=interrupted)


if __name__ == "__main__":
    sys.exit(main())
