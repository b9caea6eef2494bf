"""Loading rows: COPY with progress, and the bulk-load mode that drops indexes meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

Progress = Callable[[str, int, int], None]

_PROGRESS_EVERY = 10_000


def single_value(cursor: psycopg.Cursor[Any]) -> Any:
    """The first column of the one row ``cursor``'s query returns: an aggregate, an EXISTS or
    an INSERT ... RETURNING, which always return a row (no row is a bug, not an answer)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row[0]


def chunks(items: range, size: int) -> Iterator[range]:
    """``items`` in consecutive ranges of at most ``size``."""
    for start in range(items.start, items.stop, size):
        yield range(start, min(start + size, items.stop))


TABLES = (
    "users", "content_series", "content", "purchases", "content_access", "video_playback",
    "platform_settings", "subscription_tiers", "subscriptions", "offerings", "offering_bookings",
    "credit_balances", "credit_transactions", "offering_portal_access", "offering_resources",
    "email_logs", "notifications", "events", "referral_codes", "referrals", "referral_rewards",
    "user_referral_rewards",
)


class Loader:
    """COPYs rows into tables, counts them and reports progress."""

    def __init__(self, conn: psycopg.Connection, progress: Progress | None) -> None:
        self.conn = conn
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self._progress = progress

    def report(self, stage: str, done: int, total: int) -> None:
        """Tell the caller's progress callback, if any, how far ``stage`` is."""
        if self._progress is not None:
            self._progress(stage, done, total)

    def copy(
        self, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
        *, total: int | None = None, quiet: bool = False,
    ) -> int:
        """COPY ``rows`` into ``table``. Unless quiet, report the stage (named after the
        table) at its start, every 10,000 rows and at its end; ``total`` defaults to
        ``len(rows)``."""
        query = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        if not quiet:
            total = len(rows) if total is None else total  # type: ignore[arg-type]
            self.report(table, 0, total)
        done = 0
        with self.conn.cursor().copy(query) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
                done += 1
                if not quiet and done % _PROGRESS_EVERY == 0:
                    self.report(table, done, max(total or 0, done))
        self.counts[table] += done
        if not quiet:
            self.report(table, done, done)
        return done


@contextmanager
def bulk_load_mode(conn: psycopg.Connection, tables: tuple[str, ...]) -> Iterator[None]:
    """Load the tables without their indexes and foreign keys, as pg_restore does.

    Maintaining a B-tree row by row costs a random page visit per row and index, which grows
    with the table; checking a foreign key costs a trigger and a look-up per row. Building each
    index once from the loaded rows and validating each foreign key with one join is several
    times faster. So, inside the caller's transaction: drop the tables' foreign keys, their
    primary keys and unique constraints (unless a foreign key of some other table depends on
    one) and their plain indexes; after the load, recreate them verbatim from the definitions
    the catalog gave, names included (keys first, so the foreign keys find them), and ANALYZE.
    Any failure, a duplicate key included, rolls the whole fill back and leaves the schema as
    it was. Skipped when the current role does not own every table (it could not alter them).
    """
    regclasses = list(tables)
    with conn.cursor() as cur:
        owns_all = single_value(cur.execute(
            "SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c"
            " WHERE c.oid = ANY(%s::regclass[])",
            (regclasses,),
        ))
        if not owns_all:
            yield
            return
        foreign_keys = cur.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])"
            " ORDER BY 1, 2",
            (regclasses,),
        ).fetchall()
        keys = cur.execute(
            "SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)"
            " FROM pg_constraint k WHERE k.contype IN ('p', 'u')"
            " AND k.conrelid = ANY(%(t)s::regclass[]) AND NOT EXISTS ("
            "   SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'"
            "   AND f.conindid = k.conindid AND NOT f.conrelid = ANY(%(t)s::regclass[]))"
            " ORDER BY k.contype, 1, 2",
            {"t": regclasses},
        ).fetchall()
        indexes = cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisunique"
            " AND NOT i.indisprimary AND NOT i.indisexclusion"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
            " ORDER BY 1",
            (regclasses,),
        ).fetchall()
        for table, name, _ in (*foreign_keys, *keys):
            cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.SQL(table), sql.Identifier(name)))
        for index, _ in indexes:
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(index)))
    yield
    with conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute("SET LOCAL work_mem = '64MB'")
        for table, name, definition in (*keys, *foreign_keys):
            cur.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.SQL(table), sql.Identifier(name), sql.SQL(definition)))
        for _, definition in indexes:
            cur.execute(sql.SQL(definition))
        cur.execute(sql.SQL("ANALYZE {}").format(
            sql.SQL(", ").join(map(sql.Identifier, tables))))
