"""A failed connection is said in words a person understands, never a traceback."""

from __future__ import annotations

import pytest

from data.db import connection_info, make_engine
from data.errors import ConnectionLostError


def test_unreachable_server():
    engine = make_engine("postgresql://someone:pw@127.0.0.1:1/platform")
    with pytest.raises(ConnectionLostError, match="cannot be reached"):
        connection_info(engine)


def test_no_such_database(pg_server):
    engine = make_engine(pg_server.url("no_such_db"))
    with pytest.raises(ConnectionLostError, match='no database named "no_such_db"'):
        connection_info(engine)


def test_unknown_user(pg_server):
    engine = make_engine(pg_server.url().set(username="nobody_here"))
    with pytest.raises(ConnectionLostError, match='no user named "nobody_here"'):
        connection_info(engine)


def test_connected_says_who_we_are(engine):
    info = connection_info(engine)
    assert info.database_user == "postgres"
    assert info.database.startswith("pa_test_")


@pytest.mark.parametrize("url, words", [
    ("not a url", "That is not a database URL: expected postgresql://user@host:port/database"),
    ("mysql://root@127.0.0.1/x", "That is a mysql URL; Platform Admin works on PostgreSQL only"),
    ("postgresql://u@127.0.0.1:99999/x", "The port 99999 is not a port number"),
    ("postgresql://u@127.0.0.1:abc/x", 'The port "abc" is not a number'),
])
def test_a_url_the_app_cannot_use_is_refused_on_its_field(url, words):
    from data.db import make_engine, parse_database_url
    from data.errors import ValidationError

    with pytest.raises(ValidationError) as raised:
        parse_database_url(url)
    assert words in raised.value.field_errors["database_url"]
    with pytest.raises(ValidationError):
        make_engine(url)  # refused, never rewritten to postgresql on some other server


@pytest.mark.parametrize("url", ["postgresql://u@h:5433/d", "postgres://u@h:5433/d",
                                 "postgresql+psycopg2://u@h:5433/d"])
def test_postgresql_urls_are_used_as_given(url):
    from data.db import parse_database_url

    u = parse_database_url(url)
    assert (u.drivername, u.host, u.port, u.database) == ("postgresql+psycopg", "h", 5433, "d")
