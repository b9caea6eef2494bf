"""Offerings: create and edit them, publish with the reason when refused, and the check.

Every field a person types is validated here and refused by name (nothing written); the
schedule through :mod:`data.schedules` (unknown keys kept). An edit saves only if the row
is unchanged since it was loaded (its xmin) and locks the offering row, so a capacity
change is decided on the bookings as they are (the rule of :mod:`data.services.bookings`):
reducing ``max_participants`` below the bookings that hold places is refused unless a
reason is given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from data import schedules
from data.errors import ConflictError, NotFoundError, ValidationError
from data.models.offerings import CAPACITY_TYPES, DELIVERY_METHODS, OFFERING_TYPES
from data.queries.offerings import slug_taken
from data.services.audit import record_change
from data.services.bookings import counted_bookings
from data.services.prices import parse_price
from data.services.slugs import propose_slug, slug_problem
from data.services.text import clean_line, clean_multiline, parse_id, parse_int

__all__ = [
    "EDITABLE",
    "OfferingProblem",
    "create_offering",
    "find_offering_problems",
    "publish_problem",
    "set_offering_status",
    "update_offering",
    "validate_offering",
]

EDITABLE = (
    "creator_id", "title", "slug", "description", "offering_type", "capacity_type",
    "max_participants", "delivery_method", "location_details", "video_conference_provider",
    "schedule", "price", "credit_cost", "payment_options", "registration_deadline",
    "portal_config",
)
VIDEO_PROVIDERS = ("zoom", "google_meet", "teams", "webex", "other")
PORTAL_TABS = ("overview", "schedule", "resources", "recordings", "community")
MAX_TITLE = 500
MAX_TEXT = 20_000
MAX_PARTICIPANTS = 100_000
MAX_CREDIT_COST = 1_000_000
MAX_PORTAL_DAYS = 3650
STATUSES = ("draft", "published", "archived")
SAVE_ACTION, STATUS_ACTION = "offering.update", "offering.status"


def _choice(errors: dict, name: str, value: Any, allowed: tuple[str, ...], label: str) -> Any:
    if value not in allowed:
        errors[name] = f"Choose a {label}."
    return value


def _capture(errors: dict, fn, *args, **kw) -> Any:
    try:
        return fn(*args, **kw)
    except ValidationError as exc:
        errors.update(exc.field_errors)
        return None


def _flags(errors: dict, name: str, value: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """A JSON object of booleans (payment options), unknown keys kept."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors[name] = "Not a set of options."
        return {}
    out = dict(value)
    for key in keys:
        if key in out and out[key] is not None and not isinstance(out[key], bool):
            errors[f"{name}.{key}"] = "Yes or no."
    return out


def _portal(errors: dict, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors["portal_config"] = "Not a portal configuration."
        return {}
    out = dict(value)
    for key, label in (("access_before_days", "Days before"),
                       ("access_after_days", "Days after")):
        if out.get(key) not in (None, ""):
            out[key] = _capture(errors, parse_int, f"portal_config.{key}", out[key],
                                label=label, maximum=MAX_PORTAL_DAYS, unit="days",
                                example="30")
        else:
            out.pop(key, None)
    tabs = out.get("tabs")
    if tabs is not None:
        if not isinstance(tabs, list | tuple) or not all(isinstance(t, str) for t in tabs):
            errors["portal_config.tabs"] = "Choose the portal's tabs."
        else:
            cleaned = [_capture(errors, clean_line, "portal_config.tabs", t, 50) for t in tabs]
            out["tabs"] = [t for t in cleaned if t]
    return out


def _deadline(errors: dict, value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dt.datetime):
        errors["registration_deadline"] = "Choose a date and time."
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def validate_offering(values: Mapping[str, Any], current: Mapping[str, Any] | None = None
                      ) -> dict[str, Any]:
    """The cleaned values of ``current`` (the stored row, or None for a new offering)
    changed by ``values``; raises :class:`ValidationError` naming every bad field."""
    merged = {**(current or {}), **values}
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    kind = _choice(errors, "offering_type", merged.get("offering_type"), OFFERING_TYPES,
                   "type")
    clean["offering_type"] = kind
    if "creator_id" in values or current is None:
        clean["creator_id"] = _capture(errors, parse_id, "creator_id", merged.get("creator_id"),
                                       "Choose the creator.")
    clean["title"] = _capture(errors, clean_line, "title", merged.get("title"), MAX_TITLE,
                              required="A title is required.")
    slug = merged.get("slug")
    slug = _capture(errors, clean_line, "slug", slug, 500) if slug else \
        propose_slug(clean["title"] or "")
    if slug is not None:
        problem = slug_problem(slug)
        if problem:
            errors["slug"] = problem
    clean["slug"] = slug
    clean["description"] = _capture(errors, clean_multiline, "description",
                                    merged.get("description"), MAX_TEXT) or None
    capacity = _choice(errors, "capacity_type", merged.get("capacity_type"), CAPACITY_TYPES,
                       "capacity type")
    clean["capacity_type"] = capacity
    most = _capture(errors, parse_int, "max_participants", merged.get("max_participants"),
                    label="Max participants", maximum=MAX_PARTICIPANTS, example="20")
    if capacity == "one_on_one":
        if most not in (None, 1):
            errors["max_participants"] = "A one-on-one offering has exactly 1 participant."
        most = 1
    elif capacity == "unlimited":
        if most is not None:
            errors["max_participants"] = "Unlimited capacity has no maximum; leave it blank."
    elif capacity in CAPACITY_TYPES and "max_participants" not in errors:
        if most is None:
            errors["max_participants"] = "A group needs its maximum number of participants."
        elif most < 1:
            errors["max_participants"] = "At least 1."
    clean["max_participants"] = most
    delivery = _choice(errors, "delivery_method", merged.get("delivery_method"),
                       DELIVERY_METHODS, "delivery")
    clean["delivery_method"] = delivery
    clean["location_details"] = _capture(errors, clean_multiline, "location_details",
                                         merged.get("location_details"), 2000) or None
    provider = merged.get("video_conference_provider") or None
    if provider is not None and provider not in VIDEO_PROVIDERS:
        provider = _capture(errors, clean_line, "video_conference_provider", provider, 50)
    clean["video_conference_provider"] = provider
    clean["price"] = _capture(errors, parse_price, merged.get("price"))
    clean["credit_cost"] = _capture(errors, parse_int, "credit_cost", merged.get("credit_cost"),
                                    label="Credit cost", minimum=1, maximum=MAX_CREDIT_COST,
                                    unit="credits", example="3")
    clean["payment_options"] = _flags(errors, "payment_options", merged.get("payment_options"),
                                      ("installments", "pay_per_session"))
    clean["registration_deadline"] = _deadline(errors, merged.get("registration_deadline"))
    clean["portal_config"] = _portal(errors, merged.get("portal_config"))
    if kind in OFFERING_TYPES:
        stored = (current or {}).get("schedule")
        changes = values.get("schedule")
        if changes is None and current is None:
            changes = {}
        if changes is not None and not isinstance(changes, Mapping):
            errors["schedule"] = "The schedule is not a set of values."
        else:
            clean["schedule"] = _capture(
                errors, schedules.edit, kind, stored,
                schedules.form_changes(kind, changes or {}), partial=True)
    if errors:
        raise ValidationError(errors)
    return clean


def publish_problem(values: Mapping[str, Any]) -> str | None:
    """Why an offering cannot be published as it is, in words; None when it can."""
    kind = values["offering_type"]
    problem = schedules.schedule_problem(kind, values.get("schedule"))
    if problem:
        return f"The schedule is incomplete ({problem})."
    if not values.get("description"):
        return "A description is required to publish."
    if values.get("price") is None and not values.get("credit_cost"):
        return "Give a price or a credit cost (or both) to publish."
    delivery = values["delivery_method"]
    if delivery in ("in_person", "hybrid") and not values.get("location_details"):
        return "An in-person or hybrid offering needs its location to publish."
    if delivery in ("online", "hybrid") and not values.get("video_conference_provider"):
        return "An online or hybrid offering needs its video provider to publish."
    if values["capacity_type"] != "unlimited" and not values.get("max_participants"):
        return "Give the maximum number of participants to publish."
    return None


_COLUMNS = ", ".join(EDITABLE)
_JSON = ("schedule", "payment_options", "portal_config")


def _params(clean: Mapping[str, Any]) -> dict[str, Any]:
    import json

    return {k: (json.dumps(v) if k in _JSON else v) for k, v in clean.items()}


def create_offering(session: Session, actor: str, values: Mapping[str, Any]) -> uuid.UUID:
    """A new draft offering from a form's values; returns its id."""
    clean = validate_offering(values)
    if slug_taken(session, clean["slug"]):
        raise ValidationError({"slug": "Another offering already uses this slug."})
    offering_id = uuid.uuid4()
    cols = [c for c in EDITABLE if c in clean]
    placeholders = ", ".join(f"CAST(:{c} AS jsonb)" if c in _JSON else f":{c}" for c in cols)
    session.execute(text(f"INSERT INTO offerings (id, {', '.join(cols)}, status) "
                         f"VALUES (:id, {placeholders}, 'draft')"),
                    {"id": offering_id, **_params(clean)})
    record_change(session, actor=actor, action="offering.create", entity_type="offering",
                  entity_id=offering_id, old_values=None, new_values=clean)
    return offering_id


def _locked(session: Session, offering_id: uuid.UUID, version: int | None) -> dict[str, Any]:
    row = session.execute(text(
        f"SELECT {_COLUMNS}, status, xmin::text::bigint AS version, deleted_at "
        "FROM offerings WHERE id = :id FOR UPDATE"), {"id": offering_id}).mappings().first()
    if row is None:
        raise NotFoundError("This offering no longer exists.")
    if version is not None and row["version"] != version:
        raise ConflictError("Someone else changed this offering since you opened it; "
                            "nothing was saved.")
    return dict(row)


def update_offering(session: Session, actor: str, offering_id: Any, version: int | None,
                    changes: Mapping[str, Any], override_reason: Any = None) -> uuid.UUID:
    """Save ``changes`` if the offering is unchanged since ``version``; the row stays locked
    until commit. Reducing max participants below the bookings holding places needs
    ``override_reason``; a published offering must stay publishable."""
    offering_id = parse_id("offering", offering_id)
    current = _locked(session, offering_id, version)
    stored = {k: current[k] for k in EDITABLE}
    changes = {k: v for k, v in changes.items() if k in EDITABLE}
    clean = validate_offering(changes, stored)
    changed = {k: v for k, v in clean.items() if stored.get(k) != v}
    if not changed:
        return offering_id
    reason = clean_line("change_reason", override_reason, 500) or None
    if "slug" in changed and slug_taken(session, clean["slug"], offering_id):
        raise ValidationError({"slug": "Another offering already uses this slug."})
    if {"max_participants", "capacity_type", "offering_type"} & changed.keys():
        full = schedules.capacity_problems(clean["offering_type"], clean["max_participants"],
                                           counted_bookings(session, offering_id))
        if full and reason is None:
            raise ValidationError({"max_participants": f"Below the bookings it holds: {full[0]}."
                                   " To reduce it anyway, give a reason in “Reason for an"
                                   " exception” below."})
    if current["status"] == "published" and publish_problem(stored) is None:
        # A published offering stays publishable (one the platform published incomplete
        # may still be edited).
        problem = publish_problem({**stored, **clean})
        if problem:
            raise ValidationError({"schedule" if problem.startswith("The schedule")
                                   else "status": f"It is published: {problem}"})
    sets = ", ".join(f"{c} = CAST(:{c} AS jsonb)" if c in _JSON else f"{c} = :{c}"
                     for c in changed)
    session.execute(text(f"UPDATE offerings SET {sets}, updated_at = now()::timestamp "
                         "WHERE id = :id"), {"id": offering_id, **_params(changed)})
    record_change(session, actor=actor, action=SAVE_ACTION, entity_type="offering",
                  entity_id=offering_id, old_values={k: stored.get(k) for k in changed},
                  new_values=changed, reason=reason)
    return offering_id


def set_offering_status(session: Session, actor: str, offering_id: Any, version: int | None,
                        status: str) -> uuid.UUID:
    """Publish (refused with the reason when incomplete), archive, or back to draft."""
    offering_id = parse_id("offering", offering_id)
    if status not in STATUSES:
        raise ValidationError({"status": "Unknown status."})
    current = _locked(session, offering_id, version)
    if current["deleted_at"] is not None:
        raise ConflictError("This offering is deleted.")
    if current["status"] == status:
        return offering_id
    if status == "published":
        problem = publish_problem(current)
        if problem:
            raise ConflictError(f"Cannot publish: {problem}")
    session.execute(text("UPDATE offerings SET status = :s, updated_at = now()::timestamp, "
                         "published_at = CASE WHEN :publish THEN "
                         "coalesce(published_at, now()::timestamp) ELSE published_at END "
                         "WHERE id = :id"), {"s": status, "id": offering_id,
                                            "publish": status == "published"})
    record_change(session, actor=actor, action=STATUS_ACTION, entity_type="offering",
                  entity_id=offering_id, old_values={"status": current["status"]},
                  new_values={"status": status})
    return offering_id


# -- the check --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OfferingProblem:
    offering_id: uuid.UUID
    title: str
    problem: str

    def __str__(self) -> str:
        return f"{self.offering_id} “{self.title}”: {self.problem}"


def find_offering_problems(session: Session) -> list[OfferingProblem]:
    """Every offering whose ``booking_count`` differs from its bookings not canceled, that
    holds more bookings than its capacity allows, whose schedule cannot be read, or where a
    customer holds two confirmed bookings; one line each, named."""
    found: list[OfferingProblem] = []
    rows = session.execute(text("""
        SELECT o.id, o.title, o.offering_type, o.max_participants, o.schedule,
               o.booking_count,
               count(b.id) FILTER (WHERE b.status <> 'canceled')::int,
               count(b.id) FILTER (WHERE b.status = 'confirmed')::int
        FROM offerings o LEFT JOIN offering_bookings b ON b.offering_id = o.id
        WHERE o.deleted_at IS NULL
        GROUP BY o.id ORDER BY o.title, o.id
    """)).all()
    for oid, title, kind, most, schedule, count, held, confirmed in rows:
        if count != held:
            found.append(OfferingProblem(oid, title, f"booking_count is {count:,} but "
                                         f"{held:,} bookings are not canceled"))
        if most is not None:
            if kind == "recurring_bookable":
                details = session.execute(text(
                    "SELECT status, booking_details FROM offering_bookings WHERE "
                    "offering_id = :o AND status <> 'canceled'"), {"o": oid}).all()
                over = schedules.capacity_problems(kind, most, [tuple(d) for d in details])
            else:
                n = confirmed if kind == "recurring_fixed" else held
                over = schedules.capacity_problems(kind, most, [("confirmed", None)] * n) \
                    if n > most else []
            found += [OfferingProblem(oid, title, f"over capacity: {p}") for p in over]
        problem = schedules.readable_problem(kind, schedule)
        if problem is not None:
            found.append(OfferingProblem(oid, title, f"schedule cannot be read: {problem}"))
    doubles = session.execute(text("""
        SELECT o.id, o.title, u.email, count(*)::int
        FROM offering_bookings b JOIN offerings o ON o.id = b.offering_id
        JOIN users u ON u.id = b.customer_id
        WHERE b.status = 'confirmed' AND o.deleted_at IS NULL
        GROUP BY o.id, o.title, u.email HAVING count(*) > 1 ORDER BY o.title, u.email
    """)).all()
    found += [OfferingProblem(oid, title, f"{email} holds {n} confirmed bookings")
              for oid, title, email, n in doubles]
    return found


# -- resources --------------------------------------------------------------------------------

RESOURCE_TYPES = ("content", "file", "link", "text")
AVAILABLE_WHEN = ("before", "during", "after", "always")
RESOURCE_ACTION = "offering.resources"


def reorder_resources(session: Session, actor: str, offering_id: Any,
                      resource_ids: list[Any]) -> uuid.UUID:
    """Put the offering's resources in ``resource_ids``' order, in one transaction; refused
    when the list is not exactly the offering's resources (one was added or removed since)."""
    offering_id = parse_id("offering", offering_id)
    ids = [parse_id("resources", r) for r in resource_ids]
    _locked(session, offering_id, None)
    stored = session.execute(text("SELECT id, display_order FROM offering_resources "
                                  "WHERE offering_id = :o ORDER BY display_order, id"),
                             {"o": offering_id}).all()
    if sorted(ids) != sorted(r[0] for r in stored) or len(set(ids)) != len(ids):
        raise ConflictError("The resources changed since you opened them; nothing was "
                            "reordered. Look at the list again.")
    session.execute(text("""
        UPDATE offering_resources r SET display_order = o.n - 1, updated_at = now()::timestamp
        FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS o(id, n)
        WHERE r.id = o.id AND r.display_order IS DISTINCT FROM o.n - 1
    """), {"ids": ids})
    record_change(session, actor=actor, action=RESOURCE_ACTION, entity_type="offering",
                  entity_id=offering_id, old_values={"order": [r[0] for r in stored]},
                  new_values={"order": ids})
    return offering_id


def add_resource(session: Session, actor: str, offering_id: Any, values: Mapping[str, Any]
                 ) -> uuid.UUID:
    """A resource at the end of the offering's list: content (picked), file, link or text,
    with ``available_when`` and an optional ``unlock_at``."""
    from data.services.urls import clean_url

    offering_id = parse_id("offering", offering_id)
    errors: dict[str, str] = {}
    kind = _choice(errors, "resource_type", values.get("resource_type"), RESOURCE_TYPES,
                   "resource type")
    when = _choice(errors, "available_when", values.get("available_when") or "during",
                   AVAILABLE_WHEN, "time it is available")
    title = _capture(errors, clean_line, "title", values.get("title"), 500,
                     required="A title is required.")
    description = _capture(errors, clean_multiline, "description", values.get("description"),
                           MAX_TEXT) or None
    unlock = values.get("unlock_at")
    if unlock is not None and not isinstance(unlock, dt.datetime):
        errors["unlock_at"] = "Choose a date and time."
    cols: dict[str, Any] = {"content_id": None, "file_url": None, "link_url": None,
                            "text_content": None}
    if kind == "content":
        cols["content_id"] = _capture(errors, parse_id, "content_id", values.get("content_id"),
                                      "Choose the content.")
    elif kind in ("file", "link"):
        name = f"{kind}_url"
        url = _capture(errors, clean_url, name, values.get(name), 2000)
        if not url and name not in errors:
            errors[name] = "A web address is required."
        cols[name] = url
    elif kind == "text":
        cols["text_content"] = _capture(errors, clean_multiline, "text_content",
                                        values.get("text_content"), MAX_TEXT,
                                        required="The text is required.")
    if errors:
        raise ValidationError(errors)
    _locked(session, offering_id, None)
    rid = uuid.uuid4()
    session.execute(text("""
        INSERT INTO offering_resources (id, offering_id, resource_type, content_id, file_url,
            link_url, text_content, title, description, available_when, unlock_at,
            display_order)
        SELECT :id, :o, :kind, :content_id, :file_url, :link_url, :text_content, :title,
               :description, :when, :unlock,
               coalesce((SELECT max(display_order) + 1 FROM offering_resources
                         WHERE offering_id = :o), 0)
    """), {"id": rid, "o": offering_id, "kind": kind, "title": title,
           "description": description, "when": when, "unlock": unlock, **cols})
    record_change(session, actor=actor, action=RESOURCE_ACTION,
                  entity_type="offering_resource", entity_id=rid, old_values=None,
                  new_values={"offering_id": offering_id, "resource_type": kind,
                              "title": title, "available_when": when, **cols})
    return rid


def remove_resource(session: Session, actor: str, resource_id: Any) -> uuid.UUID:
    resource_id = parse_id("resource", resource_id)
    row = session.execute(text("DELETE FROM offering_resources WHERE id = :id "
                               "RETURNING offering_id, resource_type, title"),
                          {"id": resource_id}).first()
    if row is None:
        raise NotFoundError("This resource no longer exists.")
    record_change(session, actor=actor, action=RESOURCE_ACTION,
                  entity_type="offering_resource", entity_id=resource_id,
                  old_values={"offering_id": row[0], "resource_type": row[1],
                              "title": row[2]}, new_values=None)
    return row[0]
