"""The Audit page's text filter (data/queries/audit_search.py) on the embedded PostgreSQL:
the bounded walk and the full-text index give the pages a plain ILIKE scan gives."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from data.queries import audit_search
from data.queries.audit import AuditFilter, count_audit, list_audit_page

ROWS = 600
FILL = """
INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values, new_values,
                             reason)
SELECT 'ignored', 'user.update', 'user', 'u' || mod(g, 50),
       jsonb_build_object('full_name', 'Person ' || g),
       jsonb_build_object('full_name', 'Person ' || (g + 1)),
       CASE WHEN mod(g, 3) = 0 THEN 'Support ticket #' || g END
FROM generate_series(1, :rows) AS g
"""


@pytest.fixture
def trail(engine):
    with engine.begin() as conn:
        conn.execute(text(FILL), {"rows": ROWS})
        conn.execute(text("ANALYZE admin.audit_log"))


def plain_scan(session_factory, term: str) -> list[int]:
    """Every matching id, newest first, by a sequential ILIKE scan of the whole trail."""
    like = "%" + term + "%"
    with session_factory() as s:
        return list(s.execute(text(
            "SELECT id FROM admin.audit_log WHERE reason ILIKE :p OR old_values::text ILIKE :p "
            "OR new_values::text ILIKE :p OR entity_id = :t ORDER BY id DESC"),
            {"p": like, "t": term}).scalars())


def pages(session_factory, flt: AuditFilter, limit: int, walk: int) -> list[list[int]]:
    out, cursor = [], None
    with session_factory() as s:
        while True:
            rows, cursor = list_audit_page(s, flt, cursor, limit, walk=walk)
            out.append([r.id for r in rows])
            if cursor is None:
                return out


# walk=0: straight to the index; 10_000: the walk covers the whole trail (a plain scan);
# 40: each page walks a little, then goes to the index.
@pytest.mark.parametrize("walk", [0, 40, 10_000])
@pytest.mark.parametrize("term", ["Person 12", "ticket", "Support TICKET #59", "u7"])
def test_every_strategy_pages_what_a_plain_scan_finds(trail, session_factory, term, walk):
    expected = plain_scan(session_factory, term)
    assert expected  # each term matches something: few rows ("#59"), many ("ticket")
    got = pages(session_factory, AuditFilter(search=term), 25, walk)
    assert [i for page in got for i in page] == expected
    assert all(len(page) == 25 for page in got[:-1])
    assert got[-1] and len(got[-1]) <= 25


def test_a_rare_and_a_common_term_find_exactly_their_rows(trail, session_factory):
    with session_factory() as s:
        rare, end = list_audit_page(s, AuditFilter(search="Person 123"), None, 50, walk=40)
        common, more = list_audit_page(s, AuditFilter(search="ticket"), None, 50, walk=40)
        count = count_audit(s, AuditFilter(search="ticket"))
        rare_count = count_audit(s, AuditFilter(search="Person 123"))
    # "Person 123" is in rows 122 (new value), 123 and the 1230s… (none past 600).
    assert sorted(r.new_values["full_name"] for r in rare) == ["Person 123", "Person 124"]
    assert end is None
    assert len(common) == 50 and more is not None and all("ticket" in r.reason for r in common)
    assert count.exact and count.value == ROWS // 3
    assert rare_count.exact and rare_count.value == 2


def test_a_word_matches_from_its_start_not_inside(trail, session_factory):
    with session_factory() as s:
        inside, _ = list_audit_page(s, AuditFilter(search="icket"), None, 50, walk=0)
        walked, _ = list_audit_page(s, AuditFilter(search="icket"), None, 50, walk=10_000)
        start, _ = list_audit_page(s, AuditFilter(search="tick"), None, 50, walk=0)
    assert inside == [] and walked == []
    assert len(start) == 50


def test_other_filters_narrow_the_text_search(trail, session_factory):
    with session_factory() as s:
        rows, _ = list_audit_page(s, AuditFilter(search="ticket", record="u3"), None, 50,
                                  walk=0)
    expected = [i for i in plain_scan(session_factory, "ticket")]
    with session_factory() as s:
        of_u3 = set(s.execute(text("SELECT id FROM admin.audit_log WHERE entity_id = 'u3'"))
                    .scalars())
    assert [r.id for r in rows] == [i for i in expected if i in of_u3]
    assert rows and {r.entity_id for r in rows} == {"u3"}


# The trail over three partitions with ids interleaved between them (a row's month is its
# transaction's start, its id is taken later): half the rows a month and more back (the
# default partition: no partition for that month), a fifth next month.
_NTH = ("WITH r AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM admin.audit_log) "
        "UPDATE admin.audit_log a SET occurred_at = a.occurred_at + interval '{by}' FROM r "
        "WHERE r.id = a.id AND {which}")
SPREAD = (
    "ALTER TABLE admin.audit_log DISABLE TRIGGER USER",
    _NTH.format(by="-40 days", which="mod(r.n, 2) = 0"),
    _NTH.format(by="35 days", which="mod(r.n, 2) = 1 AND mod(r.n, 5) = 0"),
    "ALTER TABLE admin.audit_log ENABLE TRIGGER USER",
    "ANALYZE admin.audit_log",
)


@pytest.fixture
def spread_trail(trail, engine):
    with engine.begin() as conn:
        for statement in SPREAD:
            conn.execute(text(statement))
        parts = conn.execute(text("SELECT count(DISTINCT tableoid) FROM admin.audit_log")
                             ).scalar_one()
    assert parts == 3


# walk_more=30: a common text's second walk stops short, the index finds the rest.
@pytest.mark.parametrize("walk_more", [30, 200_000])
@pytest.mark.parametrize("walk", [0, 40, 10_000])
@pytest.mark.parametrize("term", ["Person 12", "ticket", "Support TICKET #59", "u7",
                                  "ticket #30", "person 5"])
def test_pages_across_partitions_are_a_plain_scans(spread_trail, session_factory, monkeypatch,
                                                   term, walk, walk_more):
    monkeypatch.setattr(audit_search, "WALK_MORE", walk_more)
    expected = plain_scan(session_factory, term)
    assert expected
    got = pages(session_factory, AuditFilter(search=term), 25, walk)
    assert [i for page in got for i in page] == expected
    assert all(len(page) == 25 for page in got[:-1])


def test_the_index_is_asked_for_the_word_rare_in_the_newest_rows(trail, session_factory):
    with session_factory() as s:
        # "person" is in every row, "59" in few: only the rare word's rows are candidates
        assert audit_search.rarest_word(s, ["person", "59"], None) == "59"
        assert audit_search.rarest_word(s, ["support", "ticket"], None) == "support"  # tie
        assert audit_search.rarest_word(s, ["nobody", "wrote"], None) == "nobody"


@pytest.mark.parametrize("term", ["Person 12", "ticket", "Support TICKET #59", "u7",
                                  "ticket #30", "Nobody wrote this"])
def test_the_count_is_a_plain_scans_count(spread_trail, session_factory, term):
    with session_factory() as s:
        count = count_audit(s, AuditFilter(search=term))
    assert count.exact and count.value == len(plain_scan(session_factory, term))


def test_a_text_with_too_many_candidates_is_counted_as_a_bound(spread_trail, session_factory,
                                                               monkeypatch):
    monkeypatch.setattr(audit_search, "COUNT_CANDIDATES", 30)
    with session_factory() as s:
        common = count_audit(s, AuditFilter(search="ticket"))
        rare = count_audit(s, AuditFilter(search="Support TICKET #59"))
    assert not common.exact and 0 < common.value <= ROWS // 3
    assert rare.exact and rare.value == len(plain_scan(session_factory, "Support TICKET #59"))
