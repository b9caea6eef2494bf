"""The ``platform-admin`` command: the app, and the database chores that need no window.

    platform-admin [--demo | --database-url URL]      start the app
    platform-admin db upgrade [--database-url URL]    create what the app needs
    platform-admin db check [--database-url URL]      compare the database with the models
    platform-admin demo-data --users N [--seed S]     fill a database with demo data
    platform-admin ledger check [--database-url URL]  list balances that disagree with their
                                                      ledger (exit 1 when any)

Database chores import no Qt, so they run on a server with no display.
"""

from __future__ import annotations

import argparse
import sys
import time

from data.db import DATABASE_URL_ENV, database_url_from_env


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
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db", help="database schema chores")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    _add_url(db_sub.add_parser("upgrade", help="create the tables, schema and indexes the app needs"))
    _add_url(db_sub.add_parser("check", help="list every difference between database and models"))
    demo = sub.add_parser("demo-data", help="fill an empty database with demo data")
    _add_url(demo)
    demo.add_argument("--users", type=int, required=True)
    demo.add_argument("--purchases", type=int, default=None)
    demo.add_argument("--seed", type=int, default=1)
    ledger = sub.add_parser("ledger", help="token ledger chores")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", required=True)
    _add_url(ledger_sub.add_parser(
        "check", help="list every balance that disagrees with its ledger (exit 1 when any)"))
    return parser


def _require_url(args) -> str:
    url = args.database_url or database_url_from_env()
    if not url:
        sys.exit(f"platform-admin: no database: give --database-url or set {DATABASE_URL_ENV}")
    return url


def _engine(args):
    from data.db import make_engine

    return make_engine(_require_url(args), pool_size=1)


def _fail(exc: BaseException) -> None:
    from data.db import explain_connection_error

    sys.exit(f"platform-admin: {explain_connection_error(exc)}")


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


def run_demo_data(args) -> int:
    import psycopg

    from data.db import normalise_url
    from data.demo_data import fill_demo_data

    url = normalise_url(_require_url(args)).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
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


def run_ledger_check(args) -> int:
    """Print each mismatch on one line and a summary; 1 when there is any, else 0."""
    from sqlalchemy.exc import DBAPIError

    from data.db import make_session_factory
    from data.ledger_health import check_ledger

    engine = _engine(args)
    try:
        with make_session_factory(engine)() as session:
            mismatches = check_ledger(session)
    except DBAPIError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    for mismatch in mismatches:
        print(f"[{mismatch.kind}] {mismatch}")
    if mismatches:
        customers = len({m.customer_id for m in mismatches})
        print(f"{len(mismatches)} mismatch(es) in {customers} customer(s): "
              "these balances disagree with their ledger.")
        return 1
    print("Every balance agrees with its ledger.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db":
        return run_db_upgrade(args) if args.db_command == "upgrade" else run_db_check(args)
    if args.command == "demo-data":
        return run_demo_data(args)
    if args.command == "ledger":
        return run_ledger_check(args)
    from desktop.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
