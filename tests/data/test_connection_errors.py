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
