"""``audit verify``: walk each of the audit trail's hash chains and name the first break.

The trail is striped into chains (migration 0018) so that audited writers do not queue on one
head. Each row of ``admin.audit_log`` carries its ``chain``, ``prev_hash`` (its predecessor's
``row_hash`` in that chain) and ``row_hash = sha256(canonical row || prev_hash)``, all computed
by the database's trigger on every insert, whoever wrote it. So, in any chain:

- a row changed afterwards (even by a superuser) no longer hashes to its ``row_hash``;
- a row removed leaves its successor's ``prev_hash`` pointing at nothing before it;
- rows removed at a chain's end (or a TRUNCATE) leave that chain's head
  (``admin.audit_chains``: the last id and hash the trigger wrote in it) ahead of the table;
- a head row removed, or a row moved to another chain, is named too.

After the retention detached old months (migration 0023), the walk starts, per chain, at the
hash skeleton kept of the archived rows (``admin.audit_archive_links``): what remains is
checked as before, and removing that skeleton shows as rows removed before the first one left.

The check is set-based (one pass with ``lag()`` in id order per chain, one statement per chain
on the ``(chain, id)`` index: at 10M rows one statement over every chain sorted 860 MB to disk
and said nothing for minutes; a chain at a time sorts a sixteenth and reports its progress),
not a row-by-row loop. It cannot catch someone who rewrites every hash after the change
too (a superuser can); that needs the heads' hashes kept somewhere else, which
:func:`chain_heads` makes easy to print.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = bytes(32)
"""The ``prev_hash`` of the first row ever written."""

CHAINS = 16
"""How many chains the trigger stripes the trail into (migration 0018)."""

# The live rows and, after a retention detach (migration 0023), the hash skeleton of the
# archived rows they link to: an archived row is trusted as recorded (its content is in the
# archive), the first one of a chain's skeleton being where that chain's check starts.
_BREAKS = text("""
WITH links AS (
    SELECT id, chain, prev_hash, row_hash,
           row_hash = sha256(admin.audit_canonical(
               id, occurred_at, actor, action, entity_type, entity_id,
               old_values, new_values, reason) || prev_hash) AS intact,
           false AS archived
    FROM admin.audit_log WHERE chain = :chain
    UNION ALL
    SELECT id, chain, prev_hash, row_hash, true, true FROM admin.audit_archive_links
    WHERE chain = :chain
), walk AS (
    SELECT id, chain, prev_hash, row_hash, intact, archived,
           lag(id) OVER w AS prev_id,
           coalesce(lag(row_hash) OVER w,
                    CASE WHEN archived THEN prev_hash ELSE CAST(:genesis AS bytea) END)
               AS expected_prev
    FROM links
    WINDOW w AS (ORDER BY id)
)
SELECT id, chain, prev_id, intact
FROM walk
WHERE NOT intact OR prev_hash <> expected_prev
ORDER BY id
LIMIT 1
""")

# Per chain number: its head (if any) against the chain's last row in the table (if any), or
# in the archived skeleton when every row of that chain was archived.
_HEADS = text("""
SELECT n.chain, h.chain IS NOT NULL AS has_head, h.last_id, h.last_hash, t.id, t.row_hash
FROM (SELECT generate_series(0, :chains - 1) AS chain
      UNION SELECT DISTINCT chain FROM admin.audit_chains) AS n
LEFT JOIN admin.audit_chains h ON h.chain = n.chain
LEFT JOIN LATERAL (SELECT x.id, x.row_hash FROM (
                       (SELECT l.id, l.row_hash FROM admin.audit_log l WHERE l.chain = n.chain
                        ORDER BY l.id DESC LIMIT 1)
                       UNION ALL
                       (SELECT a.id, a.row_hash FROM admin.audit_archive_links a
                        WHERE a.chain = n.chain ORDER BY a.id DESC LIMIT 1)) AS x
                   ORDER BY x.id DESC LIMIT 1) AS t ON true
ORDER BY n.chain
""")

_STRAYS = text("""
SELECT min(l.id), l.chain FROM admin.audit_log l
WHERE l.chain < 0 OR l.chain >= :chains
   OR NOT EXISTS (SELECT FROM admin.audit_chains h WHERE h.chain = l.chain)
GROUP BY l.chain ORDER BY 1 LIMIT 1
""")

_ROWS = text("SELECT count(*) FROM admin.audit_log")
_CHAIN_ROWS = text("SELECT chain, rows_written FROM admin.audit_chains ORDER BY chain")

Progress = Callable[[int, int, int], None]
"""Called after each chain: (chains checked, chains in all, rows written in those)."""


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
            head = f" (heads digest {self.last_hash.hex()})" if self.last_hash else ""
            return f"{self.rows:,} rows, chain intact{head}."
        return self.problem


def chain_heads(session: Session) -> list[tuple[int, int | None, bytes]]:
    """Each chain's (number, last id, last hash): what to keep elsewhere to catch a rewrite
    of every hash."""
    rows = session.execute(text(
        "SELECT chain, last_id, last_hash FROM admin.audit_chains ORDER BY chain"))
    return [(c, i, bytes(h)) for c, i, h in rows]


def _digest(heads: list[tuple[int, int | None, bytes]]) -> bytes | None:
    """One hash over every chain's head, in chain order (None when nothing was written)."""
    if all(i is None for _c, i, _h in heads):
        return None
    return hashlib.sha256(b"".join(h for _c, _i, h in heads)).digest()


def _head_problem(session: Session) -> str | None:
    for chain, has_head, head_id, head_hash, last_id, last_hash in session.execute(
            _HEADS, {"chains": CHAINS}):
        if not has_head:
            return (f"The head of audit chain {chain} is missing (admin.audit_chains has no "
                    "row for it): that chain cannot be checked.")
        if head_id is None:
            if last_id is not None:
                return (f"Audit chain {chain} holds row {last_id} that its head never "
                        "recorded.")
            continue
        if last_id is None or last_id < head_id or bytes(last_hash) != bytes(head_hash):
            after = (f"after audit row {last_id}" if last_id is not None
                     else "(none of its rows is left)")
            return (f"Audit rows were removed at the end of chain {chain} {after}: the last "
                    f"row written in it was {head_id}.")
    return None


def verify_chain(session: Session, progress: Progress | None = None) -> ChainReport:
    """Walk every chain, one at a time (``progress`` hears after each); the first altered
    row, the first gap where rows were removed (the lowest id of any chain), or a chain
    whose head is ahead of its rows is the report's ``problem``."""
    rows = session.execute(_ROWS).scalar_one()
    stray = session.execute(_STRAYS, {"chains": CHAINS}).first()
    if stray is not None:
        return ChainReport(rows, f"Audit row {stray[0]} is in chain {stray[1]}, which has "
                                 "no head: it was moved or its head removed.", None)
    chains = list(session.execute(_CHAIN_ROWS))
    breaks = []
    done_rows = 0
    for n, (chain, written) in enumerate(chains, 1):
        found = session.execute(_BREAKS, {"genesis": GENESIS, "chain": chain}).first()
        if found is not None:
            breaks.append(found)
        done_rows += written or 0
        if progress is not None:
            progress(n, len(chains), done_rows)
    broken = min(breaks, key=lambda b: b[0]) if breaks else None
    if broken is not None:
        row_id, chain, prev_id, intact = broken
        if not intact:
            return ChainReport(rows, f"Audit row {row_id} was altered after it was written: "
                                     "its content no longer matches its hash.", None)
        where = (f"between audit rows {prev_id} and {row_id}" if prev_id is not None
                 else f"before audit row {row_id}, the first one left in it")
        return ChainReport(rows, f"Audit rows were removed from chain {chain} {where}: row "
                                 f"{row_id} does not follow the row before it.", None)
    problem = _head_problem(session)
    if problem is not None:
        return ChainReport(rows, problem, None)
    return ChainReport(rows, None, _digest(chain_heads(session)))
