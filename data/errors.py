"""Typed errors: expected failures a person can act on, apart from bugs.

Pages show a :class:`DomainError` inline, near the field or action; anything else is a bug
and goes to the crash dialog and the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """An expected failure with a message a support person can act on."""


class ValidationError(DomainError):
    """Bad input. ``field_errors`` maps each offending field name to its message; the key
    None holds a message about the input as a whole (no one field to blame)."""

    def __init__(self, field_errors: Mapping[Any, str]):
        # Keys are field names (str), or None; typed Any because Mapping's key is invariant
        # and the services build dict[str, str].
        self.field_errors: dict[Any, str] = dict(field_errors)
        super().__init__("; ".join(v if k is None else f"{k}: {v}"
                                   for k, v in self.field_errors.items()))


class NotFoundError(DomainError):
    """The record asked for does not exist (any more)."""


class ConflictError(DomainError):
    """The record changed since it was loaded; ``current`` holds its values now."""

    def __init__(self, message: str, current: Any = None):
        super().__init__(message)
        self.current = current


class ConnectionLostError(DomainError):
    """The database cannot be reached or refused us; ``reason`` is in plain words."""


class IncompatibleSchemaError(DomainError):
    """The database lacks what the app needs; ``findings`` lists every difference."""

    def __init__(self, message: str, findings: list[str]):
        super().__init__(message)
        self.findings = findings


class PermissionDeniedError(DomainError):
    """The database login lacks a privilege (a read-only login saving, say). ``table`` names
    what was refused (a table, schema, sequence or function), ``action`` what it would have
    done ("change token balances"). Built by :func:`data.db_errors.translate_db_error`."""

    def __init__(self, message: str, *, table: str | None = None, action: str | None = None):
        super().__init__(message)
        self.table = table
        self.action = action
