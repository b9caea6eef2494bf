"""Unique values checked, then written: the write can still lose a race.

A service checks that an email or slug is free (to say so under the field), then writes.
Another session may commit the same value in between; the write then fails with a unique
violation. :func:`unique_violation` says which constraint, so the service can raise the same
:class:`~data.errors.ValidationError` its check gives (the write runs in a SAVEPOINT,
``session.begin_nested()``, so the caller's transaction survives).
"""

from __future__ import annotations

import psycopg.errors
from sqlalchemy.exc import IntegrityError


def unique_violation(exc: IntegrityError) -> str | None:
    """The name of the unique constraint or index ``exc`` violated; None for another fault."""
    orig = exc.orig
    if isinstance(orig, psycopg.errors.UniqueViolation):
        return orig.diag.constraint_name
    return None
