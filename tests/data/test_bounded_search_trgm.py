"""The bounded search's equality tests again, on a server that has ``pg_trgm`` (Debian's
PostgreSQL 15, started for this module): the migrations then build 0019's trigram index,
the Featured picker's "title contains" goes through it instead of 0024's pieces, and every
strategy still returns the same pages. Skipped, with the reason, where that server is not
installed (``.ci/run`` installs it)."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from sqlalchemy import text

from data import migrate
from data.db import make_engine, make_session_factory
from tests.data.test_bounded_search import (  # noqa: F401 - collected here, on this server
    many_items,
    many_users,
    test_catalog_search_pages_are_the_same_whichever_strategy,
    test_featured_picker_finds_published_titles_containing_the_text,
    test_featured_picker_pages_are_the_same_whichever_strategy,
    test_rare_and_common_user_terms_find_what_a_person_expects,
    test_series_picker_offers_items_outside_the_series_newest_first,
    test_user_search_pages_are_the_same_whichever_strategy,
)
from tests.debian_postgres import DebianPostgres, unavailable_reason

_reason = unavailable_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=f"PostgreSQL with pg_trgm: {_reason}")
TEMPLATE = "pa_trgm_template"
_counter = itertools.count()


@pytest.fixture(scope="module")
def trgm_server():
    server = DebianPostgres.start()
    try:
        with psycopg.connect(server.libpq_dsn(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        engine = make_engine(server.url(TEMPLATE), pool_size=1)
        migrate.upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture
def engine(trgm_server):
    name = f"pa_trgm_{next(_counter)}"
    with psycopg.connect(trgm_server.libpq_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    eng = make_engine(trgm_server.url(name))
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


def test_the_trigram_index_serves_the_featured_picker_here(engine):
    with engine.connect() as conn:
        indexes = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'content'")).scalars())
    assert "ix_admin_content_title_trgm" in indexes
    assert "ix_admin_content_title_grams" not in indexes
