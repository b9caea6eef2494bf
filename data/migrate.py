"""``db upgrade`` and ``db check``: bring a database to what the app needs, and say how far
a live database is from the models.

Upgrading never drops or rewrites the platform's tables or rows: on a database the
platform created with its own DDL it only adds what is missing (the app's schema and
indexes the app needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from data.models import APP_SCHEMA, Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` on ``engine``'s database."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        has_schema = conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": APP_SCHEMA}
        ).first()
        if not has_schema:
            return None
        ctx = MigrationContext.configure(
            conn, opts={"version_table_schema": APP_SCHEMA, "version_table": "alembic_version"}
        )
        return ctx.get_current_revision()


@dataclass(frozen=True)
class Finding:
    """One difference between the live database and the models."""

    severity: str  # "error": the app cannot work; "warning": it works, less well
    table: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper():7} {self.table}: {self.message}"


def _type_signature(type_: TypeEngine) -> str:
    """A comparable name for a column type: VARCHAR(255), NUMERIC(10,2), UUID, JSONB..."""
    compiled = type_.compile(dialect=postgresql.dialect()).upper()
    compiled = compiled.replace(" WITHOUT TIME ZONE", "").replace(", ", ",")
    aliases = {"DOUBLE PRECISION": "FLOAT", "TIMESTAMP(6)": "TIMESTAMP", "SERIAL": "INTEGER"}
    return aliases.get(compiled, compiled)


def check(engine: Engine) -> list[Finding]:
    """Compare the live database with the models and list every difference.

    Errors: a missing table or column, a type that differs, a NOT NULL the models rely on
    that the database does not have (or the reverse), migrations not applied. Warnings: a
    missing index the app would use.
    """
    findings: list[Finding] = []
    insp = inspect(engine)
    schemas = set(insp.get_schema_names())
    for table in Base.metadata.sorted_tables:
        name = table.fullname
        if table.schema and table.schema not in schemas:
            findings.append(Finding("error", name, f"schema {table.schema} is missing"))
            continue
        if not insp.has_table(table.name, schema=table.schema):
            findings.append(Finding("error", name, "table is missing"))
            continue
        live = {c["name"]: c for c in insp.get_columns(table.name, schema=table.schema)}
        for column in table.columns:
            found = live.get(column.name)
            if found is None:
                findings.append(Finding("error", name, f"column {column.name} is missing"))
                continue
            want, have = _type_signature(column.type), _type_signature(found["type"])
            if want != have:
                findings.append(
                    Finding("error", name, f"column {column.name} is {have}, expected {want}")
                )
            if bool(found["nullable"]) != bool(column.nullable) and not column.primary_key:
                have_null = "NULL" if found["nullable"] else "NOT NULL"
                want_null = "NULL" if column.nullable else "NOT NULL"
                findings.append(
                    Finding(
                        "error", name,
                        f"column {column.name} is {have_null}, expected {want_null}",
                    )
                )
        live_indexes = {
            tuple(i["column_names"]) for i in insp.get_indexes(table.name, schema=table.schema)
        }
        live_indexes |= {
            tuple(u["column_names"])
            for u in insp.get_unique_constraints(table.name, schema=table.schema)
        }
        for index in table.indexes:
            cols = tuple(c.name for c in index.columns)
            if cols and cols not in live_indexes:
                findings.append(
                    Finding("warning", name, f"index {index.name} on ({', '.join(cols)}) is missing")
                )
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        findings.append(
            Finding(
                "error", f"{APP_SCHEMA}.alembic_version",
                f"migrations are at {current or 'nothing'}, the app needs {head}: "
                "run 'platform-admin db upgrade'",
            )
        )
    return findings


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]
