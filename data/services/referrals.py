"""The referral program's actions: reward definitions, codes, and moving referrals on.

Every function takes a ``Session`` and never opens or commits one; each change is audited
(:func:`data.services.audit.record_change`) in the same transaction. Validation names the
field (:class:`~data.errors.ValidationError`) and writes nothing.

Rewards: a value per type (``premium_days`` {"days"}, ``discount`` {"percent_off"} or
{"amount_off", "currency"}, ``badge`` {"badge"}, ``credits`` {"credits"}); a type the app does
not know keeps its JSON as it is. A reward someone claimed is deactivated, never deleted.

Codes are readable (the holder's first name and five letters or digits with no look-alikes),
unique by the platform's constraint: a generated code that collides is drawn again.

Referral moves: qualify a pending one by hand (reason audited); void one (fraud, refund) in
``admin.referral_voids``: the platform's status column never gets a value of the app's.
Grants live in :mod:`data.services.referral_grants`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.errors import ConflictError, NotFoundError, ValidationError
from data.queries.referrals import CodeRow, RewardRecord, get_code_row, get_reward
from data.services.audit import record_change
from data.services.credits import MAX_ADJUSTMENT_TOKENS
from data.services.text import (
    clean_line,
    clean_multiline,
    parse_decimal,
    parse_id,
    parse_int,
    require_reason,
)
from data.services.unique import unique_violation

REWARD_TYPES = ("premium_days", "discount", "badge", "credits")
DISCOUNT_KINDS = ("percent", "amount")
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
MAX_BADGE = 100
MAX_REASON = 500
MAX_DAYS = 3_650
MAX_REQUIRED = 100_000
MAX_AMOUNT_OFF = Decimal("100000.00")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed back
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]{2,30}[A-Z0-9]")
_CURRENCY = re.compile(r"[a-z]{3}")
# The JSON keys each known type's editor manages; other keys of a stored value are kept.
_VALUE_KEYS = {"premium_days": ("days",), "discount": ("percent_off", "amount_off", "currency"),
               "badge": ("badge",), "credits": ("credits",)}


# -- rewards ---------------------------------------------------------------------------------

def reward_values(record: RewardRecord | None) -> dict[str, Any]:
    """The editor's flat values of a reward (its JSON spread over one field per kind)."""
    if record is None:
        return {"type": "premium_days", "discount_kind": "percent", "currency": "usd",
                "required_referrals": 1, "is_active": True}
    v = record.value if isinstance(record.value, dict) else {}
    amount = v.get("amount_off")
    return {
        "name": record.name, "description": record.description, "type": record.type,
        "days": v.get("days"), "discount_kind": "amount" if amount is not None else "percent",
        "percent_off": v.get("percent_off"),
        "amount_off": Decimal(str(amount)) if amount is not None else None,
        "currency": v.get("currency", "usd"), "badge": v.get("badge"),
        "credits": v.get("credits"), "required_referrals": record.required_referrals,
        "is_active": record.is_active,
    }


def _value_for(kind: str, values: Mapping[str, Any], errors: dict[str, str],
               kept: dict[str, Any]) -> dict[str, Any]:
    """The JSON value of a known ``kind`` from the editor's fields (errors by field)."""
    out = {k: v for k, v in kept.items() if k not in _VALUE_KEYS[kind]}

    def number(field: str, label: str, low: int, high: int, unit: str) -> int | None:
        try:
            n = parse_int(field, values.get(field), label=label, minimum=low, maximum=high,
                          unit=unit)
        except ValidationError as exc:
            errors.update(exc.field_errors)
            return None
        if n is None:
            errors[field] = f"Enter the {label.lower()}."
        return n

    if kind == "premium_days":
        out["days"] = number("days", "Premium days", 1, MAX_DAYS, "days")
    elif kind == "credits":
        out["credits"] = number("credits", "Credits", 1, MAX_ADJUSTMENT_TOKENS, "tokens")
    elif kind == "badge":
        try:
            out["badge"] = clean_line("badge", values.get("badge"), MAX_BADGE,
                                      required="Enter the badge's name.")
        except ValidationError as exc:
            errors.update(exc.field_errors)
    elif values.get("discount_kind", "percent") == "percent":
        out["percent_off"] = number("percent_off", "Percent off", 1, 100, "%")
    elif values.get("discount_kind") == "amount":
        try:
            amount = parse_decimal("amount_off", values.get("amount_off"),
                                   maximum=MAX_AMOUNT_OFF, scale=2, label="Amount off")
            if amount is None or amount == 0:
                errors["amount_off"] = "Enter the amount off (more than zero)."
            out["amount_off"] = str(amount)
        except ValidationError as exc:
            errors.update(exc.field_errors)
        currency = values.get("currency")
        if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency.strip()):
            errors["currency"] = "Enter a three-letter currency code in lower case, e.g. usd."
        else:
            out["currency"] = currency.strip()
    else:
        errors["discount_kind"] = "Choose percent off or an amount off."
    return out


def validate_reward(values: Mapping[str, Any], current: RewardRecord | None = None
                    ) -> dict[str, Any]:
    """The columns of a reward from the editor's ``values`` (for an edit: on top of
    ``current``). Raises :class:`ValidationError` naming every bad field."""
    merged = {**reward_values(current), **values} if current is not None else dict(values)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for field, clean, limit, missing in (
            ("name", clean_line, MAX_NAME, "Enter a name."),
            ("description", clean_multiline, MAX_DESCRIPTION, "Enter a description.")):
        try:
            out[field] = clean(field, merged.get(field), limit, required=missing)
        except ValidationError as exc:
            errors.update(exc.field_errors)
    kind = merged.get("type")
    unknown_kept = current is not None and kind == current.type and kind not in REWARD_TYPES
    if unknown_kept and current is not None:
        out["type"], out["value"] = current.type, current.value  # shown as JSON, kept as is
    elif kind in REWARD_TYPES:
        out["type"] = kind
        kept = current.value if current is not None and current.type == kind else {}
        out["value"] = _value_for(kind, merged, errors, kept if isinstance(kept, dict) else {})
    else:
        errors["type"] = "Choose the reward's type."
    try:
        required = parse_int("required_referrals", merged.get("required_referrals"),
                             label="Required referrals", minimum=1, maximum=MAX_REQUIRED,
                             unit="referrals")
        if required is None:
            errors["required_referrals"] = "Enter how many referrals earn this reward (1 or more)."
        out["required_referrals"] = required
    except ValidationError as exc:
        errors.update(exc.field_errors)
    active = merged.get("is_active", True)
    if not isinstance(active, bool):
        errors["is_active"] = "Active is yes or no."
    out["is_active"] = active
    if errors:
        raise ValidationError(errors)
    return out


_REWARD_JSON = "CAST(:value AS jsonb)"


def create_reward(session: Session, actor: str, values: Mapping[str, Any]) -> RewardRecord:
    """A new reward definition."""
    row = validate_reward(values)
    reward_id = session.execute(text(
        "INSERT INTO referral_rewards (name, description, type, value, required_referrals, "
        f"is_active) VALUES (:name, :description, :type, {_REWARD_JSON}, :required_referrals, "
        ":is_active) RETURNING id"), {**row, "value": json.dumps(row["value"])}).scalar_one()
    record_change(session, actor=actor, action="referrals.reward_create",
                  entity_type="referral_reward", entity_id=reward_id, old_values=None,
                  new_values=row)
    return _reward(session, reward_id)


def _reward(session: Session, reward_id: int) -> RewardRecord:
    record = get_reward(session, reward_id)
    if record is None:
        raise NotFoundError("This reward no longer exists.")
    return record


def _locked_reward(session: Session, reward_id: int, version: int | None) -> RewardRecord:
    if session.execute(text("SELECT 1 FROM referral_rewards WHERE id = :id FOR UPDATE"),
                       {"id": reward_id}).first() is None:
        raise NotFoundError("This reward no longer exists.")
    current = _reward(session, reward_id)
    if version is not None and current.version != version:
        raise ConflictError("Someone else changed this reward since you opened it.",
                            current=current)
    return current


def update_reward(session: Session, actor: str, reward_id: int, version: int,
                  changes: Mapping[str, Any]) -> RewardRecord:
    """Save edited fields, if the reward is unchanged since ``version``."""
    current = _locked_reward(session, reward_id, version)
    row = validate_reward(changes, current)
    old = {"name": current.name, "description": current.description, "type": current.type,
           "value": current.value, "required_referrals": current.required_referrals,
           "is_active": current.is_active}
    session.execute(text(
        "UPDATE referral_rewards SET name = :name, description = :description, type = :type, "
        f"value = {_REWARD_JSON}, required_referrals = :required_referrals, "
        "is_active = :is_active WHERE id = :id"),
        {**row, "value": json.dumps(row["value"]), "id": reward_id})
    record_change(session, actor=actor, action="referrals.reward_update",
                  entity_type="referral_reward", entity_id=reward_id, old_values=old,
                  new_values=row)
    return _reward(session, reward_id)


def set_reward_active(session: Session, actor: str, reward_id: int, version: int,
                      active: bool) -> RewardRecord:
    """Activate or deactivate a reward (how a claimed reward is retired)."""
    current = _locked_reward(session, reward_id, version)
    session.execute(text("UPDATE referral_rewards SET is_active = :a WHERE id = :id"),
                    {"a": active, "id": reward_id})
    record_change(session, actor=actor, action="referrals.reward_" +
                  ("activate" if active else "deactivate"), entity_type="referral_reward",
                  entity_id=reward_id, old_values={"is_active": current.is_active},
                  new_values={"is_active": active})
    return _reward(session, reward_id)


def delete_reward(session: Session, actor: str, reward_id: int, version: int) -> RewardRecord:
    """Delete a reward nobody claimed; a claimed one is refused (deactivate it instead)."""
    current = _locked_reward(session, reward_id, version)
    claims = session.execute(text(
        "SELECT (SELECT count(*) FROM user_referral_rewards WHERE reward_id = :id) "
        "+ (SELECT count(*) FROM admin.referral_grants WHERE reward_id = :id)"),
        {"id": reward_id}).scalar_one()
    if claims:
        raise ConflictError(f"“{current.name}” was claimed {claims:,} time(s): it cannot be "
                            "deleted. Deactivate it instead; the claims keep it.",
                            current=current)
    session.execute(text("DELETE FROM referral_rewards WHERE id = :id"), {"id": reward_id})
    record_change(session, actor=actor, action="referrals.reward_delete",
                  entity_type="referral_reward", entity_id=reward_id,
                  old_values={"name": current.name, "type": current.type,
                              "value": current.value}, new_values=None)
    return current


# -- codes -----------------------------------------------------------------------------------

def readable_code(first_name: str, rng: random.Random | None = None) -> str:
    """``ANNA7KQ2M``: up to six letters of the first name (A-Z only) and five unambiguous
    letters or digits."""
    rng = rng or random.SystemRandom()
    head = re.sub(r"[^A-Z]", "", first_name.upper())[:6] or "REF"
    return head + "".join(rng.choice(CODE_ALPHABET) for _ in range(5))


def clean_code(value: Any) -> str:
    """A code typed by a person: capital letters, digits and inner hyphens, 4-32 long."""
    code = clean_line("code", value, 32, required="Enter a code, or leave it blank to have "
                                                  "one made up.")
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationError({"code": "Use 4 to 32 capital letters (A-Z) and digits, with "
                                       "hyphens only between them."})
    return code


def _parse_expiry(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise ValidationError({"expires_at": "Enter a date and time, or leave it empty."})
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    if not dt.datetime(2000, 1, 1) <= value <= dt.datetime(9999, 1, 1):
        raise ValidationError({"expires_at": "Enter a date between 2000 and 9999."})
    return value


def create_code(session: Session, actor: str, user_id: Any, code: Any = None,
                expires_at: Any = None, *, attempts: int = 8,
                rng: random.Random | None = None) -> CodeRow:
    """A referral code for ``user_id`` (one per user: the platform's unique key). Blank
    ``code``: a readable one is made up, drawn again on a collision (a SAVEPOINT per try, so
    two made at once cannot fail the caller's transaction)."""
    user_id = parse_id("user_id", user_id, "Choose the user who gets the code.")
    typed = None if code is None or (isinstance(code, str) and not code.strip()) \
        else clean_code(code)
    expiry = _parse_expiry(expires_at)
    user = session.execute(text("SELECT full_name FROM users WHERE id = :u"),
                           {"u": user_id}).first()
    if user is None:
        raise ValidationError({"user_id": "This user no longer exists."})
    existing = session.execute(text("SELECT code FROM referral_codes WHERE user_id = :u"),
                               {"u": user_id}).scalar_one_or_none()
    if existing is not None:
        raise ValidationError({"user_id": f"This user already has the code {existing}."})
    first = (user.full_name or "").split(" ")[0]
    for _ in range(attempts if typed is None else 1):
        candidate = typed or readable_code(first, rng)
        try:
            with session.begin_nested():
                code_id = session.execute(text(
                    "INSERT INTO referral_codes (user_id, code, expires_at) "
                    "VALUES (:u, :c, :e) RETURNING id"),
                    {"u": user_id, "c": candidate, "e": expiry}).scalar_one()
        except IntegrityError as exc:
            which = unique_violation(exc)
            if which == "referral_codes_user_id_key":
                raise ValidationError({"user_id": "This user was given a code meanwhile."}) \
                    from None
            if which != "referral_codes_code_key":
                raise
            if typed is not None:
                raise ValidationError({"code": f"{typed} is taken; choose another."}) from None
            continue
        record_change(session, actor=actor, action="referrals.code_create",
                      entity_type="referral_code", entity_id=code_id, old_values=None,
                      new_values={"user_id": user_id, "code": candidate, "expires_at": expiry})
        row = get_code_row(session, code_id)
        assert row is not None
        return row
    raise ConflictError("Could not find a free code; try again.")


def _locked_code(session: Session, code_id: int) -> CodeRow:
    if session.execute(text("SELECT 1 FROM referral_codes WHERE id = :id FOR UPDATE"),
                       {"id": code_id}).first() is None:
        raise NotFoundError("This code no longer exists.")
    row = get_code_row(session, code_id)
    assert row is not None
    return row


def set_code_active(session: Session, actor: str, code_id: int, active: bool) -> CodeRow:
    """Deactivate or reactivate a code (its referrals stay as they are)."""
    current = _locked_code(session, code_id)
    session.execute(text("UPDATE referral_codes SET is_active = :a WHERE id = :id"),
                    {"a": active, "id": code_id})
    record_change(session, actor=actor, action="referrals.code_" +
                  ("activate" if active else "deactivate"), entity_type="referral_code",
                  entity_id=code_id, old_values={"is_active": current.is_active},
                  new_values={"is_active": active})
    return _locked_code(session, code_id)


def set_code_expiry(session: Session, actor: str, code_id: int, expires_at: Any) -> CodeRow:
    """Set (a naive UTC datetime) or clear (None) a code's expiry."""
    expiry = _parse_expiry(expires_at)
    current = _locked_code(session, code_id)
    session.execute(text("UPDATE referral_codes SET expires_at = :e WHERE id = :id"),
                    {"e": expiry, "id": code_id})
    record_change(session, actor=actor, action="referrals.code_expiry",
                  entity_type="referral_code", entity_id=code_id,
                  old_values={"expires_at": current.expires_at},
                  new_values={"expires_at": expiry})
    return _locked_code(session, code_id)


# -- moving referrals on ---------------------------------------------------------------------

def _locked_referral(session: Session, referral_id: int) -> Any:
    row = session.execute(text(
        "SELECT r.id, r.status, r.referrer_id, v.reason AS void_reason FROM referrals r "
        "LEFT JOIN admin.referral_voids v ON v.referral_id = r.id "
        "WHERE r.id = :id FOR UPDATE OF r"), {"id": referral_id}).first()
    if row is None:
        raise NotFoundError("This referral no longer exists.")
    return row


def qualify_referral(session: Session, actor: str, referral_id: int, reason: Any) -> int:
    """Pending → qualified by hand, with the reason (audited)."""
    reason = require_reason("reason", reason, MAX_REASON)
    row = _locked_referral(session, referral_id)
    if row.void_reason is not None:
        raise ConflictError(f"This referral was voided ({row.void_reason}); it cannot be "
                            "qualified.")
    if row.status != "pending":
        raise ConflictError(f"This referral is {row.status} already; only a pending one can be "
                            "qualified.")
    session.execute(text("UPDATE referrals SET status = 'qualified' WHERE id = :id"),
                    {"id": referral_id})
    record_change(session, actor=actor, action="referrals.qualify", entity_type="referral",
                  entity_id=referral_id, old_values={"status": "pending"},
                  new_values={"status": "qualified"}, reason=reason)
    return referral_id


def void_referral(session: Session, actor: str, referral_id: int, reason: Any) -> int:
    """Void a referral (fraud, refund) with the reason, in ``admin.referral_voids``: it counts
    toward no threshold from now on (a reward already granted stays granted)."""
    reason = require_reason("reason", reason, MAX_REASON)
    row = _locked_referral(session, referral_id)
    if row.void_reason is not None:
        raise ConflictError(f"This referral is voided already ({row.void_reason}).")
    session.execute(text("INSERT INTO admin.referral_voids (referral_id, reason) "
                         "VALUES (:id, :reason)"), {"id": referral_id, "reason": reason})
    # Its open fraud flags are settled by the void: they leave the review queue.
    session.execute(text(
        "UPDATE admin.referral_flags SET reviewed_at = now(), reviewed_by = session_user, "
        "outcome = 'voided', review_note = :reason "
        "WHERE referral_id = :id AND reviewed_at IS NULL"), {"id": referral_id, "reason": reason})
    record_change(session, actor=actor, action="referrals.void", entity_type="referral",
                  entity_id=referral_id, old_values={"status": row.status, "voided": False},
                  new_values={"status": row.status, "voided": True}, reason=reason)
    return referral_id


def review_referral(session: Session, actor: str, referral_id: int, outcome: str,
                    note: Any) -> int:
    """Review every open flag of a referral: ``cleared`` (it counts again) or ``voided``
    (voided with ``note`` as the reason). The review is recorded on the flags."""
    if outcome not in ("cleared", "voided"):
        raise ValidationError({"outcome": "Choose clear or void."})
    note = require_reason("note", note, MAX_REASON)
    _locked_referral(session, referral_id)
    flags = session.execute(text(
        "UPDATE admin.referral_flags SET reviewed_at = now(), reviewed_by = session_user, "
        "outcome = :o, review_note = :n WHERE referral_id = :id AND reviewed_at IS NULL "
        "RETURNING signal"), {"o": outcome, "n": note, "id": referral_id}).scalars().all()
    if not flags:
        raise ConflictError("This referral has no open flag (someone reviewed it meanwhile).")
    record_change(session, actor=actor, action="referrals.review", entity_type="referral",
                  entity_id=referral_id, old_values={"open_flags": sorted(flags)},
                  new_values={"outcome": outcome}, reason=note)
    if outcome == "voided":
        row = _locked_referral(session, referral_id)
        if row.void_reason is None:
            void_referral(session, actor, referral_id, note)
    return referral_id
