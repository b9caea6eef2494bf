"""The audit trail's monthly partitions (migration 0023): made ahead, and detached for retention.

``admin.audit_log`` is partitioned by UTC month on ``occurred_at``, with a default partition
so that a write never fails for want of its month. :func:`add_partitions` makes this month's
and the next months' partitions (moving any rows of theirs out of the default one);
``db upgrade`` and ``platform-admin audit partitions`` call it. :func:`detach_partitions` is
the retention: the months wholly older than ``keep_months`` are detached (never deleted),
renamed ``admin.audit_archive_YYYY_MM`` and recorded in ``admin.audit_archives``, with the hash
skeleton ``audit verify`` needs to keep checking what remains.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from data.errors import ValidationError

MONTHS_AHEAD = 3
"""How many months after this one ``db upgrade`` keeps partitioned ahead."""

RETENTION_MONTHS = 84
"""Seven years: money records are kept that long (README, "Size and retention")."""

_PARTITIONS = text("""
SELECT c.relname, pg_get_expr(c.relpartbound, c.oid),
       greatest(c.reltuples, 0)::bigint
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'admin.audit_log'::regclass
ORDER BY c.relname = 'audit_log_default', c.relname
""")


@dataclass(frozen=True)
class AuditPartition:
    """One attached partition: its name, bounds as PostgreSQL states them, estimated rows."""

    name: str
    bounds: str
    estimated_rows: int


@dataclass(frozen=True)
class AuditArchive:
    """One month the retention detached: the table that holds it and how many rows."""

    name: str
    range_from: dt.datetime
    range_to: dt.datetime
    rows: int


def add_partitions(conn: Session | Connection, months_ahead: int = MONTHS_AHEAD) -> int:
    """Create the missing partitions of this month and the next ``months_ahead``; how many
    were made. The caller commits."""
    if not 0 <= months_ahead <= 120:
        raise ValidationError({"months_ahead": "Months ahead must be between 0 and 120."})
    return int(conn.execute(text("SELECT admin.audit_add_partitions(:n)"),
                            {"n": months_ahead}).scalar_one())


def detach_partitions(session: Session, keep_months: int = RETENTION_MONTHS) -> list[str]:
    """Detach every monthly partition wholly older than ``keep_months`` months, oldest first;
    the archive tables' names. Nothing is deleted. The caller commits."""
    if keep_months < 1:
        raise ValidationError({"keep_months": "Keep at least one month of the audit trail."})
    return list(session.execute(text("SELECT admin.audit_detach_partitions(:n)"),
                                {"n": keep_months}).scalars())


def list_partitions(session: Session) -> list[AuditPartition]:
    """The attached partitions, months in order, the default one last."""
    return [AuditPartition(n, b, r) for n, b, r in session.execute(_PARTITIONS)]


def list_archives(session: Session) -> list[AuditArchive]:
    """The months detached so far, oldest first."""
    rows = session.execute(text("SELECT name, range_from, range_to, rows "
                                "FROM admin.audit_archives ORDER BY range_from"))
    return [AuditArchive(*r) for r in rows]
