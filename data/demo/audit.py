"""The demo's audit history: the staff's past fixes that led to the data as it is now.

Written through the same path as the app's own writes: ``admin.record_audit`` (or, for a
login that may not run it, a plain INSERT), so the audit table's trigger records the session
user and the time and chains every row; ``audit verify`` checks them like any other. The
rows describe changes that end in the values the demo just loaded (a name's capitals fixed,
a mistyped email corrected, a bio added, a price or title changed), so the platform's tables
stay exactly as the fill made them (same seed, same rows, whoever fills them).

The database stamps each row with the fill's own time and login, never an invented one:
that is the trail's promise, and the demo keeps it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from data.demo.context import DemoContext

_MAY_WRITE = """
SELECT CASE WHEN to_regclass('admin.audit_log') IS NULL
            OR to_regprocedure('admin.record_audit(text, text, text, jsonb, jsonb, text)')
               IS NULL THEN false
       ELSE has_schema_privilege('admin', 'USAGE') AND (
           has_function_privilege('admin.record_audit(text, text, text, jsonb, jsonb, text)',
                                  'EXECUTE')
           OR has_table_privilege('admin.audit_log', 'INSERT')) END
"""
_MAY_RUN = ("SELECT has_function_privilege("
            "'admin.record_audit(text, text, text, jsonb, jsonb, text)', 'EXECUTE')")
_RECORD = ("SELECT admin.record_audit(%s, %s, %s, CAST(%s AS jsonb), CAST(%s AS jsonb), %s)")
_INSERT = ("INSERT INTO admin.audit_log (actor, action, entity_type, entity_id, old_values, "
           "new_values, reason) VALUES (session_user, %s, %s, %s, CAST(%s AS jsonb), "
           "CAST(%s AS jsonb), %s)")

PROFILE_REASONS = ("Customer asked by email", "Support ticket", "Typo at sign-up",
                   None, None)
PRICE_REASONS = ("Launch discount ended", "Price review", None)


def _jsonable(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps({k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()})


def _misspelt(email: str, rng) -> str:
    local, _, domain = email.partition("@")
    if len(local) > 2:
        i = rng.randrange(1, len(local))
        local = local[:i] + local[i - 1] + local[i:]  # a doubled letter
    return f"{local}@{domain}"


def load_audit_history(ctx: DemoContext) -> int:
    """Write the demo's audit rows; returns how many (0 when this login may not write the
    audit trail, or the database has no app schema yet: the demo data is then the same,
    without a history)."""
    conn = ctx.conn
    if not conn.execute(_MAY_WRITE).fetchone()[0]:  # type: ignore[index]
        return 0
    statement = _RECORD if conn.execute(_MAY_RUN).fetchone()[0] else _INSERT  # type: ignore[index]
    rng = ctx.rng("audit history")
    rows: list[tuple[str, str, str, dict | None, dict | None, str | None]] = []
    people = conn.execute(
        "SELECT id::text, full_name, email, bio FROM users WHERE role = 'customer' "
        "AND deleted_at IS NULL ORDER BY id LIMIT %s", (max(5, ctx.users // 25),)).fetchall()
    old: dict[str, Any]
    new: dict[str, Any]
    for user_id, full_name, email, bio in people:
        kind = rng.randrange(3)
        if kind == 0:
            old, new = {"full_name": full_name.lower()}, {"full_name": full_name}
        elif kind == 1:
            old, new = {"email": _misspelt(email, rng)}, {"email": email}
        elif bio:
            old, new = {"bio": None}, {"bio": bio}
        else:
            old, new = {"full_name": full_name.upper()}, {"full_name": full_name}
        rows.append(("user.update", "user", user_id, old, new, rng.choice(PROFILE_REASONS)))
    items = conn.execute(
        "SELECT id::text, title, price FROM content WHERE deleted_at IS NULL "
        "ORDER BY id LIMIT %s", (max(3, ctx.users // 50),)).fetchall()
    for content_id, title, price in items:
        if price is not None and rng.random() < 0.6:
            earlier = (price + Decimal(rng.choice((1, 2, 5)))).quantize(Decimal("0.01"))
            rows.append(("content.update", "content", content_id, {"price": earlier},
                         {"price": price}, rng.choice(PRICE_REASONS)))
        else:
            rows.append(("content.update", "content", content_id,
                         {"title": title.rstrip(".") + " (draft)"}, {"title": title}, None))
    rng.shuffle(rows)
    for action, entity_type, entity_id, before, after, reason in rows:
        conn.execute(statement, (action, entity_type, entity_id, _jsonable(before),
                                 _jsonable(after), reason))
    return len(rows)
