"""Subscription tiers: create and edit plans, change their prices, archive or delete them.

Rules a save keeps, whatever the page sent:

- **Validation first, nothing written on refusal.** Every field is checked and each bad one
  named (:func:`validate_tier_values`): the name (one line, at most 255 characters; two
  active tiers may not share it, compared without case and surrounding spaces), prices
  (Decimal >= 0, at most 99,999,999.99, two decimals; blank: none), categories (one line
  each), the six offering types (included or not), monthly credits (whole number >= 0).
- **No lost update.** A save names the version (xmin) it was loaded at; the tier row is
  locked and a changed row is refused with the current values (:class:`ConflictError`).
  Name uniqueness is decided under a transaction-level advisory lock, so two owners naming
  two tiers alike at once cannot both succeed.
- **Prices have a history.** A changed price writes a new ``admin.tier_prices`` version
  (effective now) with the tier row and the audit record, in the caller's transaction.
  Subscribers keep what they pay now: their rows (and Stripe) are not touched.
- **Offering rules keep what the app does not know.** The platform's JSON list
  ``[{type, included}, …]`` is edited in place: only ``included`` of the six known types
  changes; other keys and other entries stay as they were.
- **Archive, don't delete.** Archived (inactive) tiers take no new subscribers; existing
  subscriptions keep renewing. Delete is refused for a tier any subscription ever used.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, text, update
from sqlalchemy.orm import Session

from data.errors import ConflictError, DomainError, ValidationError
from data.models import SubscriptionTier
from data.models.offerings import OFFERING_TYPES
from data.queries.tiers import (
    TIER_CURRENCY,
    AccessPreview,
    SubscriberCounts,
    TierRecord,
    get_tier,
    preview_access,
    subscriber_counts,
)
from data.services.audit import record_change
from data.services.prices import parse_price
from data.services.text import (
    clean_fields,
    clean_line,
    clean_multiline,
    column_length,
    integer_bounds,
    parse_int,
)

ENTITY = "subscription_tier"
MAX_NAME = column_length(SubscriptionTier.__table__.c.name.type) or 255
MAX_DESCRIPTION = 10_000
MAX_CATEGORY = 100
MAX_CATEGORIES = 100
_, MAX_CREDITS = integer_bounds(SubscriptionTier.__table__.c.monthly_credits)
CONFLICT_MESSAGE = "Someone else changed this tier since you opened it."
OFFERING_FIELDS = {f"offering_{t}": t for t in OFFERING_TYPES}
"""The editor's one checkbox per offering type, by field name."""
PRICE_FIELDS = {"price_monthly": "monthly", "price_yearly": "yearly"}
ACCESS_FIELDS = ("category_access", "full_catalog_access", *OFFERING_FIELDS)
BOOL_FIELDS = ("full_catalog_access", "credit_rollover", "active", *OFFERING_FIELDS)
EDITABLE_FIELDS = ("name", "description", *PRICE_FIELDS, "category_access",
                   "full_catalog_access", *OFFERING_FIELDS, "monthly_credits",
                   "credit_rollover", "active")
_NAME_LOCK = "SELECT pg_advisory_xact_lock(hashtext('platform_admin.subscription_tier_name'))"


def normalise_categories(value: Any) -> list[str]:
    """The chips as a list of distinct one-line categories (first spelling kept)."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError({"category_access": "Give the categories as a list."})
    out: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise ValidationError({"category_access": "Each category must be text."})
        try:
            category = clean_line("category_access", item, MAX_CATEGORY)
        except ValidationError as exc:
            raise ValidationError({"category_access": exc.field_errors["category_access"]}) \
                from None
        if category and category not in seen:
            seen.add(category)
            out.append(category)
    if len(out) > MAX_CATEGORIES:
        raise ValidationError({"category_access": f"At most {MAX_CATEGORIES} categories."})
    return out


def _clean_tier_field(name: str, value: Any) -> Any:
    """One edited field, clean; raises ValidationError naming it."""
    if name == "name":
        return clean_line(name, value, MAX_NAME, required="Name is required.")
    if name == "description":
        return clean_multiline(name, value, MAX_DESCRIPTION) or None
    if name in PRICE_FIELDS:
        return parse_price(value, name)
    if name == "category_access":
        return normalise_categories(value)
    if name in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValidationError({name: "Must be yes or no."})
        return value
    credits = parse_int(name, value, label="Monthly credits", maximum=MAX_CREDITS,
                        unit="credits")  # monthly_credits
    return 0 if credits is None else credits


def validate_tier_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check edited fields; raises ValidationError naming each bad field."""
    return clean_fields(values, EDITABLE_FIELDS, _clean_tier_field)


def merged_offering_rules(rules: Sequence[Any], included: Mapping[str, bool]) -> list[Any]:
    """``rules`` with ``included`` set for the given offering types: entries and keys the
    app does not know are kept as they were; a type with no entry gets one."""
    out: list[Any] = []
    done: set[str] = set()
    for rule in rules:
        if isinstance(rule, Mapping) and rule.get("type") in included:
            t = rule["type"]
            out.append({**rule, "included": bool(included[t])})
            done.add(t)
        else:
            out.append(rule)
    out += [{"type": t, "included": bool(v)} for t, v in included.items() if t not in done]
    return out


def record_values(record: TierRecord) -> dict[str, Any]:
    """The editor's values of ``record`` (one checkbox per offering type)."""
    values: dict[str, Any] = {
        "name": record.name, "description": record.description,
        "price_monthly": record.price_monthly, "price_yearly": record.price_yearly,
        "category_access": list(record.category_access),
        "full_catalog_access": record.full_catalog_access,
        "monthly_credits": record.monthly_credits, "credit_rollover": record.credit_rollover,
        "active": record.active,
    }
    for field, t in OFFERING_FIELDS.items():
        values[field] = record.offering_included(t)
    return values


def _check_name_free(session: Session, name: str, tier_id: uuid.UUID | None) -> None:
    session.execute(text(_NAME_LOCK))
    taken = session.execute(text(
        "SELECT 1 FROM subscription_tiers WHERE active AND lower(btrim(name)) = lower(:n) "
        "AND id IS DISTINCT FROM :id LIMIT 1"), {"n": name.strip(), "id": tier_id}).first()
    if taken:
        raise ValidationError({"name": f"An active tier is already called “{name}”; "
                                       "choose another name or archive that tier first."})


def _db_values(current_rules: Sequence[Any], clean: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in clean.items() if k not in OFFERING_FIELDS}
    included = {OFFERING_FIELDS[k]: v for k, v in clean.items() if k in OFFERING_FIELDS}
    if included:
        out["offering_access_rules"] = merged_offering_rules(current_rules, included)
    return out


def _write_prices(session: Session, tier_id: uuid.UUID, prices: Mapping[str, Any]) -> None:
    for field, amount in prices.items():
        session.execute(text(
            "INSERT INTO admin.tier_prices (tier_id, billing_period, amount, currency, "
            "effective_from) VALUES (:t, :p, :a, :c, (now() AT TIME ZONE 'UTC'))"),
            {"t": tier_id, "p": PRICE_FIELDS[field], "a": amount, "c": TIER_CURRENCY})


def _update_row(session: Session, tier_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    session.execute(update(SubscriptionTier).where(SubscriptionTier.id == tier_id)
                    .values(**values, updated_at=func.now()))


def _audit(session: Session, actor: str, action: str, tier_id: uuid.UUID,
           old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
    record_change(session, actor=actor, action=action, entity_type=ENTITY, entity_id=tier_id,
                  old_values=old, new_values=new)


def _lock_and_check(session: Session, tier_id: uuid.UUID, expected_version: int) -> TierRecord:
    current = get_tier(session, tier_id, for_update=True)
    if current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE, current=current)
    return current


def create_tier(session: Session, actor: str, values: Mapping[str, Any]) -> TierRecord:
    """A new tier (active unless said otherwise), its first price versions and the audit."""
    values = {"name": None, **values}
    clean = validate_tier_values(values)
    if clean.get("active", True):
        _check_name_free(session, clean["name"], None)
    tier_id = uuid.uuid4()
    db = _db_values([], clean)
    if "category_access" in db:
        db["category_access"] = list(db["category_access"])
    session.execute(insert(SubscriptionTier).values(id=tier_id, **db))
    _write_prices(session, tier_id, {f: clean.get(f) for f in PRICE_FIELDS})
    saved = get_tier(session, tier_id)
    _audit(session, actor, "subscription_tier.create", tier_id, None, record_values(saved))
    return saved


def update_tier(session: Session, actor: str, tier_id: uuid.UUID, expected_version: int,
                changes: Mapping[str, Any]) -> TierRecord:
    """Save edited fields, if the tier is unchanged since ``expected_version``; only the
    fields that differ are written and audited. A changed price adds a history version."""
    clean = validate_tier_values(changes)
    current = _lock_and_check(session, tier_id, expected_version)
    before = record_values(current)
    diff = {k: v for k, v in clean.items() if before.get(k) != v}
    if not diff:
        return current
    name = diff.get("name", current.name)
    if ("name" in diff or diff.get("active") is True) and diff.get("active", current.active):
        _check_name_free(session, name, tier_id)
    _update_row(session, tier_id, _db_values(current.offering_access_rules, diff))
    _write_prices(session, tier_id, {f: diff[f] for f in PRICE_FIELDS if f in diff})
    saved = get_tier(session, tier_id)
    after = record_values(saved)
    _audit(session, actor, "subscription_tier.update", tier_id,
           {k: before[k] for k in diff}, {k: after[k] for k in diff})
    return saved


def set_tier_active(session: Session, actor: str, tier_id: uuid.UUID, expected_version: int,
                    active: bool) -> TierRecord:
    """Archive (no new subscribers; existing ones keep renewing) or make active again."""
    return update_tier(session, actor, tier_id, expected_version, {"active": active})


def delete_tier(session: Session, actor: str, tier_id: uuid.UUID,
                expected_version: int) -> uuid.UUID:
    """Delete a tier no subscription ever used (its price history goes with it)."""
    current = _lock_and_check(session, tier_id, expected_version)
    # The lock above makes a subscription inserted meanwhile wait (its foreign key check
    # locks the tier row), so the count below is the last word.
    used = session.execute(text("SELECT count(*) FROM subscriptions WHERE tier_id = :t"),
                           {"t": tier_id}).scalar_one()
    if used:
        raise DomainError(f"“{current.name}” has been used by {used:,} subscription(s) and "
                          "cannot be deleted; archive it instead (no new subscribers, "
                          "existing ones keep renewing).")
    session.execute(text("DELETE FROM admin.tier_prices WHERE tier_id = :t"), {"t": tier_id})
    session.execute(text("DELETE FROM subscription_tiers WHERE id = :t"), {"t": tier_id})
    _audit(session, actor, "subscription_tier.delete", tier_id, record_values(current), None)
    return tier_id


@dataclass(frozen=True)
class ChangeNotice:
    """What saving ``changes`` means for the tier's subscribers, said before the save:
    ``counts`` (for a price change: they keep what they pay now) and ``access`` (None when
    access does not change)."""

    counts: SubscriberCounts
    prices_changed: bool
    access: AccessPreview | None


def change_notice(session: Session, tier_id: uuid.UUID,
                  changes: Mapping[str, Any]) -> ChangeNotice | None:
    """None when the change needs no notice (no price or access change, or bad input: the
    save will name the field)."""
    try:
        clean = validate_tier_values(changes)
    except ValidationError:
        return None
    current = get_tier(session, tier_id)
    before = record_values(current)
    diff = {k: v for k, v in clean.items() if before.get(k) != v}
    prices = any(f in diff for f in PRICE_FIELDS)
    access = None
    if any(f in diff for f in ACCESS_FIELDS):
        new = {**before, **diff}
        rules = merged_offering_rules(current.offering_access_rules,
                                      {t: new[f] for f, t in OFFERING_FIELDS.items()})
        access = preview_access(session, tier_id, categories=new["category_access"],
                                full_catalog=new["full_catalog_access"], offering_rules=rules)
    if not prices and access is None:
        return None
    return ChangeNotice(subscriber_counts(session, tier_id), prices, access)
