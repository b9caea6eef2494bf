"""Which ``SECURITY DEFINER`` functions in the app's schema are unsafe to leave as they are.

A definer function runs with its owner's rights, so (PostgreSQL's own advice) it must pin
``search_path`` with ``pg_temp`` last (otherwise a caller's temporary or earlier-schema
objects shadow what it calls) and must not be executable by PUBLIC (otherwise every login
gets its owner's rights through it). ``db check`` lists every function that breaks either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from data.models import APP_SCHEMA

_DEFINER_FUNCTIONS = text("""
SELECT p.oid::regprocedure::text AS signature,
       (SELECT c FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\\_path=%') AS search_path,
       p.proacl IS NULL OR EXISTS (
           SELECT FROM aclexplode(p.proacl) a
           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_may_run
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = :schema AND p.prosecdef
ORDER BY 1
""")


@dataclass(frozen=True)
class UnsafeDefinerFunction:
    """A definer function and what is wrong with it, in a sentence."""

    signature: str
    problem: str

    def __str__(self) -> str:
        return f"{self.signature}: {self.problem}"


def _pinned(setting: str | None) -> bool:
    """Whether a ``search_path=…`` setting names its schemas and puts ``pg_temp`` last."""
    if not setting:
        return False
    schemas = [s.strip().strip('"') for s in setting.split("=", 1)[1].split(",")]
    return bool(schemas) and schemas[-1] == "pg_temp" and "$user" not in schemas


def unsafe_definer_functions(conn: Connection,
                             schema: str = APP_SCHEMA) -> list[UnsafeDefinerFunction]:
    """Every SECURITY DEFINER function in ``schema`` whose search_path is not pinned (with
    ``pg_temp`` last) or that PUBLIC may execute."""
    found = []
    for signature, search_path, public_may_run in conn.execute(_DEFINER_FUNCTIONS,
                                                               {"schema": schema}):
        problems = []
        if not _pinned(search_path):
            problems.append("its search_path is not pinned (SET search_path = …, pg_temp)")
        if public_may_run:
            problems.append("PUBLIC may execute it (REVOKE EXECUTE … FROM PUBLIC)")
        if problems:
            found.append(UnsafeDefinerFunction(
                signature, "SECURITY DEFINER but " + " and ".join(problems)))
    return found


# -- which path a login takes ---------------------------------------------------------------

_MAY_RUN = text("SELECT bool_and(has_function_privilege(f, 'EXECUTE')) "
                "FROM unnest(CAST(:functions AS text[])) AS f")
_RIGHTS_KEY = "platform_admin.may_run_functions"


def may_run(conn: Connection, signatures: tuple[str, ...]) -> bool:
    """Whether this login may run every function in ``signatures``. Asked once per
    connection (kept in the pooled connection's ``info``) and asked again after any
    "permission denied" (:func:`execute_minding_rights`), so rights changed while the app
    runs are followed."""
    known: dict[tuple[str, ...], bool] = conn.info.setdefault(_RIGHTS_KEY, {})
    if signatures not in known:
        known[signatures] = bool(conn.execute(_MAY_RUN, {"functions": list(signatures)})
                                 .scalar())
    return known[signatures]


def execute_minding_rights(conn: Connection, statement: Any, params: dict[str, Any]) -> Any:
    """``conn.execute``; a refused right makes the next :func:`may_run` ask again.

    A ``str`` statement is the driver's own SQL (psycopg's ``%(name)s`` parameters), run by
    ``conn.exec_driver_sql``: no SQLAlchemy compilation, still its error wrapping, events
    and invalidation of a lost connection. For a hot call whose SQL never varies."""
    try:
        if isinstance(statement, str):
            return conn.exec_driver_sql(statement, params)
        return conn.execute(statement, params)
    except DBAPIError as exc:
        if isinstance(exc.orig, psycopg.errors.InsufficientPrivilege):
            conn.info.pop(_RIGHTS_KEY, None)
        raise
