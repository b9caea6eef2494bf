"""Database errors a person can act on, translated once at the operation boundary.

Driver exceptions (psycopg's, wrapped by SQLAlchemy) say what the server refused in its own
words. :func:`translate_db_error` turns the ones a person can do something about into a
:class:`~data.errors.DomainError` with a sentence, and leaves every other exception as it is
(a bug still reaches the crash dialog). No Qt: the desktop's ``Database`` and the command
line use the same translation.
"""

from __future__ import annotations

import re

import psycopg
from sqlalchemy.exc import DBAPIError

from data.db import explain_connection_error, is_connection_error
from data.errors import ConnectionLostError, DomainError, PermissionDeniedError, ValidationError

__all__ = [
    "TABLE_SUBJECTS",
    "PermissionDeniedError",
    "permission_sentence",
    "translate_db_error",
]

TABLE_SUBJECTS: dict[str, str] = {
    "credit_balances": "token balances",
    "credit_transactions": "the token ledger",
    "credit_adjustments": "token adjustments",
    "bulk_grants": "bulk token grants",
    "content": "the content catalog",
    "content_series": "content series",
    "content_access": "who has access to content",
    "users": "users",
    "purchases": "purchases",
    "subscriptions": "subscriptions",
    "subscription_tiers": "subscription tiers",
    "offerings": "offerings",
    "offering_bookings": "offering bookings",
    "offering_portal_access": "offering portal access",
    "offering_resources": "offering resources",
    "platform_settings": "platform settings",
    "referral_codes": "referral codes",
    "referrals": "referrals",
    "referral_rewards": "referral rewards",
    "user_referral_rewards": "referral rewards given",
    "refund_requests": "refund requests",
    "audit_log": "the audit log",
    "notifications": "notifications",
    "email_logs": "the email log",
    "events": "events",
    "video_playback": "video playback records",
}
"""What each table holds, in the words of the page that changes it."""

_DENIED = re.compile(
    r"permission denied for (?P<kind>table|relation|schema|sequence|function|view)\s+"
    r"\"?(?P<name>[\w.]+)\"?", re.IGNORECASE)
_READ_ONLY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


def _privilege_error(exc: BaseException) -> psycopg.errors.InsufficientPrivilege | None:
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 10:
        if isinstance(current, psycopg.errors.InsufficientPrivilege):
            return current
        if isinstance(current, DBAPIError) and isinstance(
                current.orig, psycopg.errors.InsufficientPrivilege):
            return current.orig
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _statement(exc: BaseException) -> str:
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            break
        if isinstance(current, DBAPIError) and current.statement:
            return current.statement
        current = current.__cause__ or current.__context__
    return ""


def _writes(statement: str) -> bool:
    if not statement:
        return True  # unknown: a refused write is the common case for a read-only login
    return not _READ_ONLY.match(statement) or bool(
        re.search(r"\bfor\s+(update|no\s+key\s+update|share)\b|\b(insert|update|delete)\b",
                  statement, re.IGNORECASE))


def permission_sentence(server_message: str, statement: str = "") -> tuple[str, str, str]:
    """(sentence, refused object, action) for a server's "permission denied for …"."""
    match = _DENIED.search(server_message or "")
    name = match.group("name") if match else ""
    kind = match.group("kind").lower() if match else ""
    table = name.rsplit(".", 1)[-1]
    verb = "change" if _writes(statement) else "read"
    if kind == "schema":
        action = f"use the {name} schema"
    elif kind == "function":
        action = f"run {name}"
    elif kind == "sequence":
        action = f"{verb} {TABLE_SUBJECTS.get(table.rsplit('_', 2)[0], name)}"
    elif table:
        action = f"{verb} {TABLE_SUBJECTS.get(table, table)}"
    else:
        action = f"{verb} this"
    what = f"permission denied on {name}" if name else (server_message or "permission denied")
    return f"Your database login may not {action} ({what}).", name, action


_UNIQUE_KEY = re.compile(r"Key \((?P<columns>[^)]*)\)=")
_BAD_TEXT = ("cannot contain NUL", "invalid byte sequence", "character with byte sequence",
             "surrogates not allowed", "has no equivalent in encoding")
BAD_CHARACTERS = ("contains characters the database cannot store (a NUL byte, or half of an "
                  "emoji); remove them and try again.")


def _in_chain(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            return None
        if isinstance(current, kinds):
            return current
        if isinstance(current, DBAPIError) and isinstance(current.orig, kinds):
            return current.orig
        current = current.__cause__ or current.__context__
    return None


def _unique_error(exc: BaseException) -> ValidationError | None:
    """A unique violation names the column(s) in its detail: the error goes under that field."""
    found = _in_chain(exc, (psycopg.errors.UniqueViolation,))
    if found is None:
        return None
    detail = getattr(getattr(found, "diag", None), "message_detail", None) or ""
    match = _UNIQUE_KEY.search(detail)
    column = match.group("columns").split(",")[-1].strip() if match else None
    subject = column.replace("_", " ") if column else "value"
    return ValidationError({column: f"Another record already has this {subject}."})


def _bad_text_error(exc: BaseException) -> ValidationError | None:
    """Text the database cannot store (a NUL byte, a lone surrogate) or a value longer than
    its column: the statement does not say which field, so the form says it as a whole."""
    found = _in_chain(exc, (psycopg.errors.StringDataRightTruncation,))
    if found is not None:
        return ValidationError({None: "A value is longer than the database allows; shorten "
                                      "it and try again."})
    found = _in_chain(exc, (psycopg.DataError, UnicodeEncodeError, ValueError))
    if found is not None and any(part in str(found) for part in _BAD_TEXT):
        return ValidationError({None: f"The text {BAD_CHARACTERS}"})
    return None


def _connection_lost(exc: BaseException) -> ConnectionLostError | None:
    if isinstance(exc, DomainError) or not is_connection_error(exc):
        return None
    return ConnectionLostError(explain_connection_error(exc))


def translate_db_error(exc: BaseException) -> BaseException:
    """The driver's error as a :class:`~data.errors.DomainError` a person can act on, else
    ``exc`` itself (a bug still reaches the crash dialog). Looks at any depth of the chain:

    - permission denied → :class:`PermissionDeniedError`, a sentence naming the action;
    - unique violation → :class:`ValidationError` under the column's field;
    - text the database cannot store, or too long → :class:`ValidationError` for the form;
    - connection loss → :class:`ConnectionLostError`.

    Domain errors pass through unchanged."""
    if isinstance(exc, DomainError):
        return exc
    for translate in (_unique_error, _bad_text_error, _connection_lost):
        translated_error = translate(exc)
        if translated_error is not None:
            translated_error.__cause__ = exc
            return translated_error
    denied = _privilege_error(exc)
    if denied is None:
        return exc
    primary = getattr(getattr(denied, "diag", None), "message_primary", None) or str(denied)
    sentence, name, action = permission_sentence(primary, _statement(exc))
    translated = PermissionDeniedError(sentence, table=name or None, action=action)
    translated.__cause__ = exc
    return translated
