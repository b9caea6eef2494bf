"""The Audit page's text filter: what a text matches, and its first page fast at any size.

What matches (the same whatever the server has): a row whose reason, old values or new
values contain the typed text, ignoring case (``ILIKE``, the person's ``%`` and ``_`` taken
as they are), **and** where each word of the text starts a word of the row (``simple``
full-text words: ``"ticket 12"`` finds "Support ticket #1234", ``"icket"`` finds nothing);
or whose record id is the text exactly. A text without words (``"%"``) is matched by
containment alone.

How (never by the planner's estimates of how common a text is):

1. walk the newest :data:`WALK_ROWS` rows after the cursor in id order (merged from the
   monthly partitions' id indexes, stopping at a full page) and keep the matches: a common
   text fills its page there. Skipped when a word of the text is in none of the newest
   :data:`SAMPLE_ROWS` rows (the walk would find little; the index finds the same rows);
2. if the page is not full and older rows remain, collect the older matches through a text
   index (migration 0022): the trigram index where the server has ``pg_trgm`` (it answers
   the ``ILIKE``), else the full-text index looked up for **one** word of the text, the one
   rarest in the newest :data:`SAMPLE_ROWS` rows (counted there, ties to the longest): a
   prefix lookup of a word on most rows (``person`` in "Person 123457") builds a bitmap of
   every row of every partition (about 300 ms at 10M rows), the rare word's is a few
   entries; plus the ``(entity_id, id)`` index. Each candidate (a superset of the matches)
   is read by id and month, newest first, and checked against the whole filter, so the page
   holds exactly what a plain scan would.

Left slow: a text whose every word is common while the words together are rare (each
candidate is read). The count (:func:`count_matches`) is bounded the same way.
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
)
from sqlalchemy.orm import Session

from data.models import AuditRecord
from data.queries.bounded import CUSTOM_PLAN, planner

WALK_ROWS = 500
"""How far back the first step walks: at most this many rows are read before the index..."""
SAMPLE_HITS = 10
"""...unless it found at least this many matches there (the text is common: measured on the
rows, not estimated), then it walks on..."""
WALK_MORE = 200_000
"""...for at most this many rows, then goes to the index."""
SAMPLE_ROWS = 200
"""The newest rows where each word of the text is counted, to look up the rarest."""
COUNT_CANDIDATES = 20_000
"""The count checks at most this many candidates (beyond them it is a lower bound)."""

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


def query_words(session: Session, q: str) -> list[str]:
    """``q``'s ``simple`` full-text words (lower case), as the server splits them (asked once
    per session and text)."""
    known = session.info.setdefault("audit_query_words", {})
    if q not in known:
        known[q] = list(session.execute(select(func.tsvector_to_array(
            func.to_tsvector(text("'simple'::regconfig"), q)))).scalar_one() or [])
    return known[q]


def _prefixes(words: list[str]) -> str:
    quoted = ("'" + w.replace("\\", "\\\\").replace("'", "''") + "':*" for w in words)
    return " & ".join(quoted)


def prefix_query(session: Session, q: str) -> str | None:
    """``q``'s words as a ``simple`` tsquery, each a prefix (``'tick':* & '12':*``); None
    when it has none."""
    words = query_words(session, q)
    return _prefixes(words) if words else None


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
    if "audit_trgm" not in session.info:  # asked once a session
        session.info["audit_trgm"] = session.execute(
            text(f"SELECT to_regclass('{TRGM_INDEX}') IS NOT NULL")).scalar_one()
    return session.info["audit_trgm"]


# The walks read the partitions' id indexes merged in id order (never a sort of every row
# the planner thinks few): a page of a common text comes after a few hundred rows.
_WALK_PLAN = {"enable_sort": "off", "enable_seqscan": "off", "enable_bitmapscan": "off",
              **CUSTOM_PLAN}
# Candidates come from the text indexes (bitmaps), never from a scan.
_INDEX_PLAN = {"enable_seqscan": "off", **CUSTOM_PLAN}


def _newest(session: Session, below: int | None, rows: int) -> tuple[int | None, int]:
    """(the lowest id, how many) of the newest ``rows`` rows below ``below``."""
    newest = select(AuditRecord.id)
    if below is not None:
        newest = newest.where(AuditRecord.id < below)
    window = newest.order_by(AuditRecord.id.desc()).limit(rows).subquery()
    floor, seen = session.execute(select(func.min(window.c.id), func.count())
                                  .select_from(window)).one()
    return floor, seen


def rarest_word(session: Session, words: list[str], before: int | None) -> str:
    """Of ``words``, the one in fewest of the newest :data:`SAMPLE_ROWS` rows below
    ``before`` (as a part of their text: a superset of starting a word), ties to the
    longest: measured on rows, not the planner's estimate."""
    return _word_counts(session, words, before)[0][0]


def _word_counts(session: Session, words: list[str],
                 before: int | None) -> list[tuple[str, int]]:
    """Each word with the newest :data:`SAMPLE_ROWS` rows below ``before`` holding it, the
    rarest first (ties: the longest); asked once per session, text and cursor."""
    known = session.info.setdefault("audit_word_counts", {})
    if (tuple(words), before) in known:
        return known[tuple(words), before]
    sampled = select(_search_text().label("t")).select_from(AuditRecord)
    if before is not None:
        sampled = sampled.where(AuditRecord.id < before)
    sampled = sampled.order_by(AuditRecord.id.desc()).limit(SAMPLE_ROWS)
    t = sampled.subquery().c.t
    counts = session.execute(select(*(
        func.count().filter(t.ilike("%" + escape_like(w) + "%")) for w in words))).one()
    ranked = sorted(zip(words, counts, strict=True), key=lambda wc: (wc[1], -len(wc[0])))
    known[tuple(words), before] = ranked
    return ranked


def _candidates(session: Session, q: str, below: int | None, cap: int | None = None,
                sample_before: int | None = None):
    """(id, occurred_at) of rows below ``below`` that may match ``q`` (a superset), from the
    indexes; None when no index helps. ``cap``: at most ``cap + 1`` of them, any.
    ``sample_before``: the words are counted in the newest rows below it
    (:func:`rarest_word`)."""
    words = query_words(session, q)
    if _has_trgm(session):
        hit = _search_text().ilike("%" + escape_like(q) + "%")
    elif words:
        word = rarest_word(session, words, sample_before)
        hit = _tsvector().op("@@")(func.to_tsquery(text("'simple'::regconfig"),
                                                   _prefixes([word])))
    else:
        return None
    # One select (a BitmapOr of both indexes per partition): each select of the trail is
    # planned for every monthly partition, a cost of its own (~5-15 ms for 29 of them).
    hits = select(AuditRecord.id, AuditRecord.occurred_at).where(
        or_(hit, AuditRecord.entity_id == q))
    if below is not None:
        hits = hits.where(AuditRecord.id < below)
    if cap is not None:
        hits = hits.limit(cap + 1)
    return hits.cte("hits").prefix_with("MATERIALIZED")


def _walk(session: Session, filtered, floor: int | None, after: int | None,
          want: int) -> list:
    """The first ``want`` rows of ``filtered`` from ``after`` down to ``floor``, newest
    first, reading the id indexes in order (stops at ``want``)."""
    stmt = filtered
    if floor is not None:
        stmt = stmt.where(AuditRecord.id >= floor)
    if after is not None:
        stmt = stmt.where(AuditRecord.id < after)
    return list(session.execute(stmt.order_by(AuditRecord.id.desc()).limit(want)))


def search_page(session: Session, filtered, q: str, cursor: tuple | None, limit: int,
                walk: int = WALK_ROWS) -> list:
    """Up to ``limit + 1`` rows of ``filtered`` (which holds :func:`text_condition`) after
    ``cursor``, newest first: the walk, then the text index (module docstring)."""
    after = cursor[0] if cursor is not None else None
    rows: list = []
    below = after
    words = query_words(session, q)
    if words and not _has_trgm(session) and _word_counts(session, words, after)[0][1] == 0:
        walk = 0  # a word of the text is in none of the newest rows: the walk would not help
    with planner(session, **_WALK_PLAN):
        if walk:
            floor, seen = _newest(session, after, walk)
            if seen:
                rows = _walk(session, filtered, floor, after, limit + 1)
                below = floor
            if len(rows) > limit or seen < walk:
                return rows
            if len(rows) >= SAMPLE_HITS and floor is not None:
                # common in the newest rows: walk on, capped by ids (the sequence leaves
                # few gaps, so about WALK_MORE rows)
                rows += _walk(session, filtered, floor - WALK_MORE, floor,
                              limit + 1 - len(rows))
                below = floor - WALK_MORE
                if len(rows) > limit or below <= session.execute(
                        select(func.min(AuditRecord.id))).scalar_one():
                    return rows
        want = limit + 1 - len(rows)
        if not query_words(session, q) and not _has_trgm(session):
            # no word to look up: the rest of the trail, read in id order
            return rows + _walk(session, filtered, None, below, want)
    with planner(session, **_INDEX_PLAN):
        hits = _candidates(session, q, below, sample_before=after)
        assert hits is not None
        stmt = _checked(filtered, hits).order_by(hits.c.id.desc()).limit(want)
        return rows + list(session.execute(stmt))


def _checked(filtered, hits):
    """Each candidate of ``hits`` read by id in its month's partition and checked against
    the whole filter."""
    # LIMIT 1 (the key is unique) keeps it a lateral lookup per candidate, by the primary key
    # in the one partition its month prunes to: pulled up into a join, the planner would
    # look the whole text up again through the text index (every word: the slow bitmap).
    one = filtered.where(AuditRecord.id == hits.c.id,
                         AuditRecord.occurred_at == hits.c.occurred_at).limit(1).lateral("one")
    return select(*one.c).select_from(hits).join(one, true())


def count_matches(session: Session, filtered, q: str, cap: int) -> tuple[int, bool]:
    """How many rows of ``filtered`` (which holds :func:`text_condition`) match, at most
    ``cap + 1``, and whether that is exact: checked among at most :data:`COUNT_CANDIDATES`
    candidates of the text index (any of them; beyond those the count is a lower bound)."""
    if not query_words(session, q) and not _has_trgm(session):  # no word to look up
        rest = filtered.limit(cap + 1).subquery()
        return session.execute(select(func.count()).select_from(rest)).scalar_one(), True
    with planner(session, **_INDEX_PLAN):
        hits = _candidates(session, q, None, cap=COUNT_CANDIDATES)
        assert hits is not None
        matched = _checked(filtered, hits).limit(cap + 1).subquery()
        candidates, n = session.execute(select(
            select(func.count()).select_from(hits).scalar_subquery(),
            select(func.count()).select_from(matched).scalar_subquery())).one()
    return n, candidates <= COUNT_CANDIDATES
