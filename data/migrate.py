"""``db upgrade`` and ``db check``: bring a database to what the app needs, and say how far
a live database is from the models.

Upgrading never drops or rewrites the platform's tables or rows: on a database the
platform created with its own DDL it only adds what is missing (the app's schema and
indexes the app needs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from data.definer_functions import unsafe_definer_functions
from data.models import APP_SCHEMA, Base

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head",
            before_step: Callable[[int, int], None] | None = None) -> None:
    """Apply every migration up to ``revision`` on ``engine``'s database, one at a time.

    ``before_step(done, total)`` is called before each migration:
    progress, and the place for the caller to stop between migrations by raising.

    A migration is not one transaction: ``CREATE INDEX CONCURRENTLY`` needs an autocommit
    block, which commits what the migration created before it. When a migration then fails
    (e.g. run by a login that does not own the platform's tables), what it had created in the
    app's schema is dropped again, so the database is left at the previous revision and the
    next upgrade (by the owner) carries on. Invalid ``ix_admin_`` indexes a failed
    ``CONCURRENTLY`` build left are dropped before each step, so that it builds them again.
    """
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    current = current_revision(engine)
    target = script.get_current_head() if revision == "head" else revision
    steps = [s.revision for s in reversed(list(script.iterate_revisions(target, current)))]
    for done, step in enumerate(steps):
        if before_step is not None:
            before_step(done, len(steps))
        _drop_invalid_app_indexes(engine)
        before = _app_schema_objects(engine)
        try:
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, step)
                conn.commit()
        except BaseException:
            _drop_created_since(engine, before)
            raise
        finally:
            cfg.attributes.pop("connection", None)
    _keep_audit_partitions_ahead(engine)


def _keep_audit_partitions_ahead(engine: Engine) -> None:
    """Every ``db upgrade``, even with no migration left: the audit trail's partitions for
    this month and the next ones (migration 0023), where this login may make them."""
    from data.audit_partitions import add_partitions

    with engine.connect() as conn:
        may = conn.execute(text(
            "SELECT to_regprocedure('admin.audit_add_partitions(integer)') IS NOT NULL "
            "AND has_function_privilege('admin.audit_add_partitions(integer)', 'EXECUTE')"
        )).scalar()
        if may:
            add_partitions(conn)
            conn.commit()


def _app_schema_objects(engine: Engine) -> set[tuple[str, str]]:
    """(kind, name) of every relation and type in the app's schema."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relkind::text, c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s "
            "UNION ALL SELECT 'type', t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = :s "
            "AND t.typtype IN ('e', 'c', 'd') AND t.typrelid = 0"), {"s": APP_SCHEMA}).all()
    return {(kind, name) for kind, name in rows}


_DROP = {"r": "TABLE", "p": "TABLE", "m": "MATERIALIZED VIEW", "v": "VIEW", "S": "SEQUENCE",
         "i": "INDEX", "I": "INDEX", "type": "TYPE"}
_DROP_ORDER = ("m", "v", "r", "p", "S", "i", "I", "type")


def _drop_created_since(engine: Engine, before: set[tuple[str, str]]) -> None:
    """Drop what a failed migration created in the app's schema (never anything else: the
    platform's tables and what was there before it stay as they are). Best effort: when
    the database is gone, the failure itself is what the caller reports."""
    try:
        created = _app_schema_objects(engine) - before
        if not created:
            return
        with engine.begin() as conn:
            for kind in _DROP_ORDER:
                for k, name in sorted(created):
                    if k == kind:
                        conn.execute(text(
                            f'DROP {_DROP[kind]} IF EXISTS {APP_SCHEMA}."{name}" CASCADE'))
    except Exception:  # noqa: BLE001 - keep the migration's own error
        return


def _drop_invalid_app_indexes(engine: Engine) -> None:
    """Drop ``ix_admin_`` indexes a failed ``CREATE INDEX CONCURRENTLY`` left invalid
    (``IF NOT EXISTS`` would otherwise keep them, unused, for ever)."""
    with engine.connect() as conn:
        names = conn.execute(text(
            "SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT i.indisvalid AND c.relname LIKE 'ix\\_admin\\_%'")).all()
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for schema, name in names:
            conn.execute(text(f'DROP INDEX CONCURRENTLY IF EXISTS "{schema}"."{name}"'))


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # the migrations ship inside the package: none is a broken install
        raise RuntimeError("No migrations found in data/migrations/versions.")
    return head


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
    that the database does not have (or the reverse), migrations not applied, a SECURITY
    DEFINER function in the app's schema whose search_path is not pinned or that PUBLIC may
    execute (:mod:`data.definer_functions`). Warnings: a missing index the app would use.
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
    with engine.connect() as conn:
        for unsafe in unsafe_definer_functions(conn):
            findings.append(Finding("error", unsafe.signature, unsafe.problem))
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
