"""Alembic environment: migrations run on ``Base.metadata``.

The version table lives in the app's own schema, never among the platform's tables. The
caller may hand over an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from data.db import make_engine, parse_database_url
from data.models import APP_SCHEMA, Base

config = context.config
target_metadata = Base.metadata


def _include_name(name, type_, parent_names):
    # Compare only what the app knows: the platform's tables and the app's schema.
    if type_ == "schema":
        return name in (None, APP_SCHEMA)
    if type_ == "table":
        schema = parent_names.get("schema_name")
        return f"{schema}.{name}" in target_metadata.tables if schema else (
            name in target_metadata.tables
        )
    return True


def _run(connection) -> None:
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {APP_SCHEMA}"))
    # Commit now so that Alembic owns the transactions that follow (one per migration,
    # and autocommit blocks for CREATE INDEX CONCURRENTLY).
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table="alembic_version",
        version_table_schema=APP_SCHEMA,
        include_schemas=True,
        include_name=_include_name,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # parse_database_url turns a missing URL into the same sentence as everywhere else.
    engine = make_engine(parse_database_url(config.get_main_option("sqlalchemy.url")),
                         pool_size=1)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported.")
run_migrations_online()
