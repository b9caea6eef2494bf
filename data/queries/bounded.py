"""A search's page at a bounded cost for any term, without trusting the planner's estimates.

A search is a ``base`` select (the list's columns and its other filters) plus a search
``condition``, listed in a keyset order that a sort index serves. Two ways find a page:

* **walk** the sort index, testing each row: quick when matches are common (a page of
  matches comes after few rows), slow when they are rare (it may read the whole table);
* **collect** the matches through the search indexes and sort them: quick when they are
  few, slow when they are many (every match is read and sorted).

:func:`search_page` uses both, each capped: it walks at most ``walk_rows`` rows; if those
hold no full page but at least ``sample_hits`` matches (the term is common: measured on the
rows, not estimated), it walks on for at most ``sampled_walk`` rows; failing that it collects at most ``collect_max`` matches; if there are no more than
that it sorts them, otherwise the term is common (at least ``collect_max`` matches), so the
walk finds a page soon, unless the matches go with the sort order (a title's first word,
sorting by title). ``walk_more`` caps that walk and then sorts every match; measured at 1M
on a loaded machine this was slower than walking on, so the default walks on. A walk reads
only the sort index where it covers the searched columns (migration 0024: an index-only
scan), then the page's rows by id. Each step runs with planner settings that allow only its
own plan, for that statement only. Every strategy returns the same pages: tests compare them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text, true, tuple_
from sqlalchemy.orm import Session

KeysOf = Callable[[Any], tuple[list[ColumnElement[Any]], bool]]
"""Given a column collection (a table's or a subquery's ``.c``), the keyset's key
expressions (ending with the id) and whether the order is ascending."""


@dataclass(frozen=True)
class Bounds:
    """How far each step may go. ``walk_rows=0`` skips the first walk; ``walk_more=None``
    lets the second walk go as far as it takes."""

    walk_rows: int = 2_000
    collect_max: int = 2_000
    walk_more: int | None = None
    sample_hits: int = 10
    """Matches in the first walk that show the term common enough to walk on directly..."""
    sampled_walk: int = 200_000
    """...for at most this many rows (then as when the first walk found few)."""


EVERYTHING = 2**62
AUTO = Bounds()
WALK = Bounds(walk_rows=0, collect_max=0, walk_more=None)
"""Always walk the sort index (a test's reference; slow for rare terms)."""
COLLECT = Bounds(walk_rows=0, collect_max=EVERYTHING)
"""Always collect every match and sort (a test's reference; slow for common terms)."""


# psycopg prepares a statement it has run five times, and PostgreSQL may then reuse a generic
# plan made without the term: one made for "a" is the wrong plan for "zzqx" (measured: 30 ms
# became 1.2 s after searching other terms). Each step is planned for its own term.
_CUSTOM_PLAN = {"plan_cache_mode": "force_custom_plan"}


@contextmanager
def _planner(session: Session, **settings: str) -> Iterator[None]:
    """Planner settings for the statements inside, put back afterwards (same transaction)."""
    # One round trip to read and set them all, one to put them back: on a busy server each
    # round trip costs milliseconds (the select list is evaluated left to right).
    names = list(settings)
    reads = ", ".join(f"current_setting(:n{i})" for i in range(len(names)))
    writes = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(names)))
    params = {f"n{i}": n for i, n in enumerate(names)}
    old = session.execute(text(f"SELECT {reads}, {writes}"),
                          {**params, **{f"v{i}": settings[n] for i, n in enumerate(names)}}
                          ).one()[:len(names)]
    try:
        yield
    finally:
        session.execute(text(f"SELECT {writes}"),
                        {**params, **{f"v{i}": v for i, v in enumerate(old)}})


planner = _planner
"""Planner settings for the statements inside (one transaction), for other bounded searches."""
CUSTOM_PLAN = _CUSTOM_PLAN


def ordered_after(stmt: Select, keys: list[ColumnElement[Any]], ascending: bool,
           bound: tuple | None) -> Select:
    if bound is not None:
        row, after = tuple_(*keys), tuple_(*bound)
        stmt = stmt.where(row > after if ascending else row < after)
    return stmt.order_by(*(k.asc() if ascending else k.desc() for k in keys))


def _walk(session: Session, base: Select, condition: ColumnElement[bool], keys_of: KeysOf,
          bound: tuple | None, limit: int, max_rows: int | None) -> list[tuple]:
    """The first ``limit + 1`` matches in the sort index's order, reading at most
    ``max_rows`` rows of it (None: as many as it takes).

    The walk selects only the keys, the id and the test, from the table alone, so that a
    sort index that includes the searched columns (0024's) answers it without reading the
    table (an index-only scan: the rows walked are cheap); the page's rows are then read
    by id."""
    table = base.selected_columns[0].table
    keys, ascending = keys_of(table.c)
    inner = select(table.c.id.label("wid"), condition.label("hit"),
                   *(k.label(f"key{i}") for i, k in enumerate(keys))).select_from(table)
    if base.whereclause is not None:
        inner = inner.where(base.whereclause)
    inner = ordered_after(inner, keys, ascending, bound)
    if max_rows is not None:
        inner = inner.limit(max_rows)
    walked = inner.subquery("walked")
    walked_keys = [walked.c[f"key{i}"] for i in range(len(keys))]
    hits = (select(walked.c.wid, *walked_keys).where(walked.c.hit)
            .order_by(*(k.asc() if ascending else k.desc() for k in walked_keys))
            .limit(limit + 1).subquery("hits"))
    hit_keys = [hits.c[f"key{i}"] for i in range(len(keys))]
    stmt = (base.join(hits, hits.c.wid == table.c.id)
            .order_by(*(k.asc() if ascending else k.desc() for k in hit_keys)))
    with _planner(session, enable_seqscan="off", enable_bitmapscan="off", **_CUSTOM_PLAN):
        return [tuple(r) for r in session.execute(stmt)]


def _collect(session: Session, base: Select, condition: ColumnElement[bool], keys_of: KeysOf,
             bound: tuple | None, limit: int, max_matches: int) -> tuple[int, list[tuple]]:
    """(matches found, capped at ``max_matches + 1``; the page among them when no more)."""
    matches = (base.where(condition).limit(max_matches + 1)
               .cte("matches").prefix_with("MATERIALIZED"))
    found = select(func.count().label("found")).select_from(matches).subquery("found")
    keys, ascending = keys_of(matches.c)
    page = ordered_after(select(matches), keys, ascending, bound).limit(limit + 1).lateral("page")
    page_keys, _ = keys_of(page.c)
    stmt = (select(found.c.found, page).select_from(found.outerjoin(page, true()))
            .order_by(*(k.asc() if ascending else k.desc() for k in page_keys)))
    # Only the search indexes (bitmap scans): never a walk the planner thinks is cheaper.
    with _planner(session, enable_seqscan="off", enable_indexscan="off", **_CUSTOM_PLAN):
        raw = session.execute(stmt).all()
    count = raw[0][0]
    rows = [tuple(r[1:]) for r in raw if r[1] is not None]
    return count, rows


def search_page(session: Session, base: Select, condition: ColumnElement[bool],
                keys_of: KeysOf, bound: tuple | None, limit: int,
                bounds: Bounds = AUTO) -> list[tuple]:
    """Up to ``limit + 1`` rows of ``base`` matching ``condition`` after ``bound`` (the
    cursor's key values as SQL values), in ``keys_of``'s order. ``base`` selects from one
    table, whose first selected column belongs to it; its sort index serves the order."""
    rows = []
    if bounds.walk_rows:
        rows = _walk(session, base, condition, keys_of, bound, limit, bounds.walk_rows)
        if len(rows) > limit:
            return rows
    if bounds.walk_rows and len(rows) >= bounds.sample_hits:
        # The first rows held matches often enough (a measured density, not an estimate)
        # that walking on is cheaper than collecting them all: walk on, capped.
        rows = _walk(session, base, condition, keys_of, bound, limit, bounds.sampled_walk)
        if len(rows) > limit:
            return rows
    found, rows = _collect(session, base, condition, keys_of, bound, limit, bounds.collect_max)
    if found <= bounds.collect_max:
        return rows
    rows = _walk(session, base, condition, keys_of, bound, limit, bounds.walk_more)
    if len(rows) > limit or bounds.walk_more is None:
        return rows
    # Many matches, but not where the walk looked (a term that goes with the sort order,
    # such as a title's first word when sorting by title): sort them all.
    return _collect(session, base, condition, keys_of, bound, limit, EVERYTHING)[1]
