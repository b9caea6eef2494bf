"""``audit verify``: walk the audit trail's hash chain and name the first place it breaks.

Each row of ``admin.audit_log`` carries ``prev_hash`` (its predecessor's ``row_hash``) and
``row_hash = sha256(canonical row || prev_hash)``, both computed by the database's trigger
(migration 0009) on every insert, whoever wrote it. So:

- a row changed afterwards (even by a superuser) no longer hashes to its ``row_hash``;
- a row removed leaves its successor's ``prev_hash`` pointing at nothing before it;
- rows removed at the end (or a TRUNCATE) leave the chain head (``admin.audit_chain_head``,
  the last id and hash the trigger wrote) ahead of the table.

The check is set-based (one pass with ``lag()`` in id order), not a row-by-row loop. It
cannot catch someone who rewrites every hash after the change too (a superuser can); that
needs the head's hash kept somewhere else, which this module makes easy to print.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = bytes(32)
"""The ``prev_hash`` of the first row ever written."""

_BREAKS = text("""
WITH walk AS (
    SELECT id, prev_hash, row_hash,
           row_hash = sha256(admin.audit_canonical(
               id, occurred_at, actor, action, entity_type, entity_id,
               old_values, new_values, reason) || prev_hash) AS intact,
           lag(id) OVER w AS prev_id,
           coalesce(lag(row_hash) OVER w, CAST(:genesis AS bytea)) AS expected_prev
    FROM admin.audit_log
    WINDOW w AS (ORDER BY id)
)
SELECT id, prev_id, intact, prev_hash = expected_prev AS linked
FROM walk
WHERE NOT intact OR prev_hash <> expected_prev
ORDER BY id
LIMIT 1
""")

_TOTALS = text("""
SELECT (SELECT count(*) FROM admin.audit_log),
       (SELECT max(id) FROM admin.audit_log),
       (SELECT row_hash FROM admin.audit_log ORDER BY id DESC LIMIT 1),
       h.last_id, h.last_hash, h.rows_written
FROM admin.audit_chain_head h
""")


@dataclass(frozen=True)
class ChainReport:
    """What ``audit verify`` found: ``problem`` is None when the chain is intact."""

    rows: int
    problem: str | None
    last_hash: bytes | None

    @property
    def intact(self) -> bool:
        """True when every row hashes to its ``row_hash`` and links to its predecessor."""
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is None:
            head = f" (last hash {self.last_hash.hex()})" if self.last_hash else ""
            return f"{self.rows:,} rows, chain intact{head}."
        return self.problem


def verify_chain(session: Session) -> ChainReport:
    """Walk the whole chain; the first altered row, or the first gap where rows were
    removed, is the report's ``problem``."""
    totals = session.execute(_TOTALS).first()
    if totals is None:
        return ChainReport(0, "The audit chain head is missing (admin.audit_chain_head has no "
                              "row): the chain cannot be checked.", None)
    rows, max_id, table_last_hash, head_id, head_hash, _written = totals
    broken = session.execute(_BREAKS, {"genesis": GENESIS}).first()
    if broken is not None:
        row_id, prev_id, intact, linked = broken
        if not intact:
            return ChainReport(rows, f"Audit row {row_id} was altered after it was written: "
                                     "its content no longer matches its hash.", None)
        where = (f"between audit rows {prev_id} and {row_id}" if prev_id is not None
                 else f"before audit row {row_id}, the first one left")
        return ChainReport(rows, f"Audit rows were removed {where}: row {row_id} does not "
                                 "follow the row before it.", None)
    if head_id is not None and (max_id is None or max_id < head_id
                                or bytes(table_last_hash) != bytes(head_hash)):
        after = f"after audit row {max_id}" if max_id is not None else "(the table is empty)"
        return ChainReport(rows, f"Audit rows were removed at the end {after}: the last row "
                                 f"written was {head_id}.", None)
    return ChainReport(rows, None, bytes(table_last_hash) if table_last_hash else None)
