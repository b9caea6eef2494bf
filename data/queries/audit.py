"""Read-side queries of the audit trail: the Audit page and a record's History tab.

Newest first means id order: the trigger takes each row's id under its chain's lock
(migrations 0009, 0018), so within each of the striped chains ids follow commit order
(across chains, a transaction that commits late may hold a lower id), while ``occurred_at``
(the transaction's start) may not. Every page is a keyset on ``id`` alone, on an index that ends with ``id``
(migration 0015): never OFFSET, and the first rows come as fast at 10M rows as at 10.

What a row shows of a value goes through :func:`field_changes`, which hides the values of
secret fields (:data:`REDACTED_FIELDS`) whatever wrote them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, String, and_, cast, func, literal, or_, select, text
from sqlalchemy.orm import Session

from data.models import AuditRecord, OfferingPortalAccess
from data.queries.audit_search import WALK_ROWS, count_matches, search_page, text_condition
from data.services.text import clean_search

EXACT_COUNT_LIMIT = 10_000
REDACTED = "(hidden)"
REDACTED_FIELDS = frozenset({
    "password_hash", "password", "token", "access_token", "refresh_token", "reset_token",
    "verification_token", "api_key", "secret", "secret_key", "stripe_secret_key",
    "client_secret",
})
"""Fields whose values the audit views never show (names ending ``_token``, ``_key`` or
``_secret`` too): who changed them and when is shown, not what to."""


def is_redacted(name: str) -> bool:
    lowered = name.lower()
    return lowered in REDACTED_FIELDS or lowered.endswith(("_token", "_secret", "_key",
                                                           "_hash"))


@dataclass(frozen=True)
class AuditFilter:
    """What the Audit page shows: a text in the values or reason, a staff member (the
    database login), a table (``entity_type``), one record's id, an action, a date range
    (inclusive, in the database session's time zone)."""

    search: str = ""
    actor: str | None = None
    entity_type: str | None = None
    record: str = ""
    action: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def is_unfiltered(self) -> bool:
        return self == AuditFilter()


@dataclass(frozen=True)
class FieldChange:
    """One field of a change, before and after (``None`` where it had no value)."""

    field: str
    old: Any
    new: Any
    redacted: bool = False


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    reason: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        return field_changes(self.old_values, self.new_values)

    @property
    def summary(self) -> str:
        """The changed fields in one line: ``full_name: Ann → Anna; email: …``."""
        return "; ".join(f"{c.field}: {describe(c.old)} → {describe(c.new)}"
                         for c in self.changes)


def describe(value: Any) -> str:
    """A value as the audit views write it: nothing is ``—``, text as it is, the rest JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def field_changes(old: dict[str, Any] | None,
                  new: dict[str, Any] | None) -> tuple[FieldChange, ...]:
    """Old → new per field: every field of a creation or removal, only the fields that
    differ otherwise (fields only in ``new``, such as a request id, count as added), in the
    order the record names them. Secret fields show :data:`REDACTED`."""
    old, new = old or {}, new or {}
    names = list(dict.fromkeys([*old, *new]))
    out = []
    for name in names:
        before, after = old.get(name), new.get(name)
        if name in old and name in new and before == after:
            continue
        if is_redacted(name):
            out.append(FieldChange(name, REDACTED if name in old else None,
                                   REDACTED if name in new else None, True))
        else:
            out.append(FieldChange(name, before, after))
    return tuple(out)


_COLUMNS = (AuditRecord.id, AuditRecord.occurred_at, AuditRecord.actor, AuditRecord.action,
            AuditRecord.entity_type, AuditRecord.entity_id, AuditRecord.reason,
            AuditRecord.old_values, AuditRecord.new_values)


def _filtered(session: Session, flt: AuditFilter):
    stmt = select(*_COLUMNS)
    if flt.actor:
        stmt = stmt.where(AuditRecord.actor == flt.actor)
    if flt.entity_type:
        stmt = stmt.where(AuditRecord.entity_type == flt.entity_type)
    record = clean_search(flt.record)
    if record:
        stmt = stmt.where(AuditRecord.entity_id == record)
    if flt.action:
        stmt = stmt.where(AuditRecord.action == flt.action)
    if flt.date_from is not None:
        # timestamptz against date: the date's midnight in the session's time zone.
        stmt = stmt.where(AuditRecord.occurred_at >= literal(flt.date_from, Date))
    if flt.date_to is not None:
        end = flt.date_to + dt.timedelta(days=1)
        stmt = stmt.where(AuditRecord.occurred_at < literal(end, Date))
    q = clean_search(flt.search)
    if q:
        stmt = stmt.where(text_condition(session, q))
    return stmt


def _page(session: Session, stmt, cursor: tuple | None,
          limit: int) -> tuple[list[AuditRow], tuple | None]:
    if cursor is not None:
        stmt = stmt.where(AuditRecord.id < cursor[0])
    stmt = stmt.order_by(AuditRecord.id.desc()).limit(limit + 1)
    return _keyset([AuditRow(*r) for r in session.execute(stmt)], limit)


def _keyset(rows: list[AuditRow], limit: int) -> tuple[list[AuditRow], tuple | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ((rows[-1].id,) if more and rows else None)


def list_audit_page(session: Session, flt: AuditFilter, cursor: tuple | None, limit: int,
                    *, walk: int = WALK_ROWS) -> tuple[list[AuditRow], tuple | None]:
    """One keyset page of audit rows after ``cursor``, newest (last committed) first. A text
    filter is :mod:`data.queries.audit_search`'s (``walk``: how far it walks first)."""
    q = clean_search(flt.search)
    if not q:
        return _page(session, _filtered(session, flt), cursor, limit)
    found = search_page(session, _filtered(session, flt), q, cursor, limit, walk)
    return _keyset([AuditRow(*r) for r in found], limit)


def iter_audit(session: Session, flt: AuditFilter, batch: int = 5_000) -> Iterator[list[AuditRow]]:
    """Every audit row matching ``flt``, batch by batch, newest first (for export)."""
    cursor = None
    while True:
        rows, cursor = list_audit_page(session, flt, cursor, batch)
        if rows:
            yield rows
        if cursor is None:
            return


@dataclass(frozen=True)
class AuditCount:
    value: int
    exact: bool


def count_audit(session: Session, flt: AuditFilter) -> AuditCount:
    """The planner's estimate for the whole trail; an exact count, capped, when filtered
    (for a text, not exact when it has too many candidates: :func:`count_matches`)."""
    if flt.is_unfiltered:
        # The trail is partitioned by month (migration 0023): the sum of its partitions'.
        estimate = session.execute(text(
            "SELECT coalesce(sum(greatest(c.reltuples, 0)) FILTER (WHERE c.reltuples >= 0), "
            "-1)::bigint FROM pg_class c WHERE c.oid IN (SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = 'admin.audit_log'::regclass) "
            "OR c.oid = 'admin.audit_log'::regclass AND c.relkind = 'r'"
        )).scalar_one()
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return AuditCount(int(estimate), False)
    stmt = _filtered(session, flt)
    q = clean_search(flt.search)
    if q:  # bounded for any text: the newest rows, then the text index (audit_search)
        n, exact = count_matches(session, stmt, q, EXACT_COUNT_LIMIT)
        return AuditCount(min(n, EXACT_COUNT_LIMIT), exact and n <= EXACT_COUNT_LIMIT)
    capped = stmt.limit(EXACT_COUNT_LIMIT + 1).subquery()
    n = session.execute(select(func.count()).select_from(capped)).scalar_one()
    return AuditCount(min(n, EXACT_COUNT_LIMIT), n <= EXACT_COUNT_LIMIT)


def get_audit_row(session: Session, audit_id: int) -> AuditRow | None:
    row = session.execute(select(*_COLUMNS).where(AuditRecord.id == audit_id)).first()
    return AuditRow(*row) if row is not None else None


@dataclass(frozen=True)
class AuditChoices:
    """The filters' options: every staff member, table and action the trail names."""

    actors: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()


def _distinct(session: Session, column: str) -> tuple[str, ...]:
    # A loose index scan (one index probe per distinct value, on the ``(column, id)`` index
    # of migration 0015): DISTINCT over 10M rows would read them all.
    rows = session.execute(text(f"""
        WITH RECURSIVE seen(v) AS (
            (SELECT {column} FROM admin.audit_log ORDER BY {column} LIMIT 1)
            UNION ALL
            SELECT (SELECT a.{column} FROM admin.audit_log a WHERE a.{column} > seen.v
                    ORDER BY a.{column} LIMIT 1)
            FROM seen WHERE seen.v IS NOT NULL)
        SELECT v FROM seen WHERE v IS NOT NULL LIMIT 1000""")).scalars()
    return tuple(rows)


def audit_choices(session: Session) -> AuditChoices:
    return AuditChoices(_distinct(session, "actor"), _distinct(session, "entity_type"),
                        _distinct(session, "action"))


def list_record_history(session: Session, entity_types: Sequence[str], owner_id: Any,
                        cursor: tuple | None, limit: int) -> tuple[list[AuditRow], tuple | None]:
    """One keyset page of one record's audit rows (``owner_id`` under any of
    ``entity_types``), newest first: a History tab."""
    stmt = select(*_COLUMNS).where(AuditRecord.entity_type.in_(list(entity_types)),
                                   AuditRecord.entity_id == str(owner_id))
    return _page(session, stmt, cursor, limit)


BOOKING_ENTITY_TYPES = ("offering_booking", "offering_portal_access")
"""What a booking's audit rows are written as: the booking's own changes, and its portal
access given, extended or ended (keyed by the booking)."""


def list_booking_history(session: Session, booking_id: Any, cursor: tuple | None,
                         limit: int) -> tuple[list[AuditRow], tuple | None]:
    """One keyset page of a booking's History, newest first: its own audit rows and those of
    its portal access, whether keyed by the booking (as the app writes them) or by a portal
    access row of the booking (as the app wrote them before: the platform's row id). The
    booking's access rows are those it has now and those whose end the app recorded (their
    id is in the old values)."""
    key = str(booking_id)
    ended = (select(AuditRecord.old_values["id"].astext)
             .where(AuditRecord.entity_type == "offering_portal_access",
                    AuditRecord.entity_id == key, AuditRecord.old_values.has_key("id")))
    access_ids = (select(cast(OfferingPortalAccess.id, String))
                  .where(OfferingPortalAccess.booking_id == booking_id)
                  .union(ended))
    stmt = select(*_COLUMNS).where(or_(
        and_(AuditRecord.entity_type.in_(BOOKING_ENTITY_TYPES), AuditRecord.entity_id == key),
        and_(AuditRecord.entity_type == "offering_portal_access",
             AuditRecord.entity_id.in_(access_ids))))
    return _page(session, stmt, cursor, limit)
