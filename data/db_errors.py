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

from data.errors import DomainError, PermissionDeniedError

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


def translate_db_error(exc: BaseException) -> BaseException:
    """A :class:`PermissionDeniedError` for a refused privilege (from any depth of the
    exception chain), else ``exc`` itself. Domain errors pass through unchanged."""
    if isinstance(exc, DomainError):
        return exc
    denied = _privilege_error(exc)
    if denied is None:
        return exc
    primary = getattr(getattr(denied, "diag", None), "message_primary", None) or str(denied)
    sentence, name, action = permission_sentence(primary, _statement(exc))
    translated = PermissionDeniedError(sentence, table=name or None, action=action)
    translated.__cause__ = exc
    return translated
