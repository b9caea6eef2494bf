"""The Audit page's text filter: what a text matches, and its first page fast at any size.

What matches (the same whatever the server has): a row whose reason, old values or new
values contain the typed text, ignoring case (``ILIKE``, the person's ``%`` and ``_`` taken
as they are), **and** where each word of the text starts a word of the row (``simple``
full-text words: ``"ticket 12"`` finds "Support ticket #1234", ``"icket"`` finds nothing);
or whose record id is the text exactly. A text without words (``"%"``) is matched by
containment alone.

How (never by the planner's estimates of how common a text is):

1. walk the newest :data:`WALK_ROWS` rows after the cursor in id order and keep the matches:
   a common text fills its page there;
2. if the page is not full and older rows remain, collect the older matches through a text
   index (migration 0022): the trigram index where the server has ``pg_trgm`` (it answers
   the ``ILIKE``), else the full-text index (it answers the word condition), plus the
   ``(entity_id, id)`` index; each candidate is read by id newest first and checked against
   the whole filter, so the page holds exactly what a plain scan would.
"""

from __future__ import annotations

from sqlalchemy import (
    String,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.orm import Session

from data.models import AuditRecord

WALK_ROWS = 20_000
"""How far back the first step walks: at most this many rows are read before the index."""

SEARCH_TEXT_SQL = ("(coalesce(reason, '') || ' ' || coalesce(old_values::text, '') || ' ' || "
                   "coalesce(new_values::text, ''))")
"""The searchable text, as migration 0022 indexes it (keep in step)."""
TRGM_INDEX = "admin.ix_admin_audit_log_search_trgm"

# Qualified: the same expression as the index's (PostgreSQL matches it, not the spelling).
_QUALIFIED = SEARCH_TEXT_SQL.replace("reason", "admin.audit_log.reason").replace(
    "old_values", "admin.audit_log.old_values").replace("new_values", "admin.audit_log.new_values")


def _search_text():
    return literal_column(_QUALIFIED)


def _tsvector():
    return literal_column(f"to_tsvector('simple'::regconfig, {_QUALIFIED})")


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_query(session: Session, q: str) -> str | None:
    """``q``'s words as a ``simple`` tsquery, each a prefix (``'tick':* & '12':*``); None
    when it has none."""
    words = session.execute(select(func.tsvector_to_array(
        func.to_tsvector(text("'simple'::regconfig"), q)))).scalar_one()
    if not words:
        return None
    quoted = ("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)
    return " & ".join(quoted)


def text_condition(session: Session, q: str):
    """The documented match of ``q`` (module docstring), for any query of the trail."""
    pattern = "%" + escape_like(q) + "%"
    contains = or_(AuditRecord.reason.ilike(pattern),
                   cast(AuditRecord.new_values, String).ilike(pattern),
                   cast(AuditRecord.old_values, String).ilike(pattern))
    words = prefix_query(session, q)
    if words is not None:
        contains = and_(contains, _tsvector().op("@@")(
            func.to_tsquery(text("'simple'::regconfig"), words)))
    return or_(contains, AuditRecord.entity_id == q)


def _has_trgm(session: Session) -> bool:
    return session.execute(text(f"SELECT to_regclass('{TRGM_INDEX}') IS NOT NULL")).scalar_one()


def _candidates(session: Session, q: str, below: int | None):
    """Ids that may match ``q`` (a superset), from the indexes; None when no index helps."""
    words = prefix_query(session, q)
    if _has_trgm(session):
        hit = _search_text().ilike("%" + escape_like(q) + "%")
    elif words is not None:
        hit = _tsvector().op("@@")(func.to_tsquery(text("'simple'::regconfig"), words))
    else:
        return None
    by_text = select(AuditRecord.id).where(hit)
    by_record = select(AuditRecord.id).where(AuditRecord.entity_id == q)
    if below is not None:
        by_text = by_text.where(AuditRecord.id < below)
        by_record = by_record.where(AuditRecord.id < below)
    return union(by_text, by_record).cte("hits").prefix_with("MATERIALIZED")


def search_page(session: Session, filtered, q: str, cursor: tuple | None, limit: int,
                walk: int = WALK_ROWS) -> list:
    """Up to ``limit + 1`` rows of ``filtered`` (which holds :func:`text_condition`) after
    ``cursor``, newest first: the walk, then the text index (module docstring)."""
    after = cursor[0] if cursor is not None else None
    newest = select(AuditRecord.id)
    if after is not None:
        newest = newest.where(AuditRecord.id < after)
    window = newest.order_by(AuditRecord.id.desc()).limit(walk).subquery()
    floor, seen = session.execute(select(func.min(window.c.id), func.count())
                                  .select_from(window)).one()
    rows: list = []
    if seen:
        stmt = filtered.where(AuditRecord.id >= floor)
        if after is not None:
            stmt = stmt.where(AuditRecord.id < after)
        rows = list(session.execute(stmt.order_by(AuditRecord.id.desc()).limit(limit + 1)))
    if len(rows) > limit or seen < walk:
        return rows
    below = floor if seen else after
    hits = _candidates(session, q, below)
    want = limit + 1 - len(rows)
    if hits is None:  # no word to look up: the rest of the trail, read in id order
        stmt = filtered if below is None else filtered.where(AuditRecord.id < below)
        return rows + list(session.execute(stmt.order_by(AuditRecord.id.desc()).limit(want)))
    stmt = _checked(filtered, hits).order_by(hits.c.id.desc()).limit(want)
    return rows + list(session.execute(stmt))


def _checked(filtered, hits):
    """Each candidate of ``hits`` read by id and checked against the whole filter."""
    one = filtered.where(AuditRecord.id == hits.c.id).lateral("one")
    return select(*one.c).select_from(hits).join(one, true())


def search_matches(session: Session, filtered, q: str):
    """Every row of ``filtered`` (which holds :func:`text_condition`) through the text
    index, for counting; None when no index helps (``q`` has no word to look up)."""
    hits = _candidates(session, q, None)
    return None if hits is None else _checked(filtered, hits)
