"""The offering editor's fields: common ones, the delivery's own, and one schedule form per
type (shown for the chosen type only), each a typed form over the schedule JSON whose
unknown keys are kept."""

from __future__ import annotations

from typing import Any

from data import schedules
from data.models.offerings import CAPACITY_TYPES, DELIVERY_METHODS, OFFERING_TYPES, Offering
from data.operations.offerings import SCHEDULE_FORM_FIELD
from data.queries.catalog import search_creators
from data.queries.offerings import OfferingRecord
from data.services.offerings import PORTAL_TABS, VIDEO_PROVIDERS
from desktop.admin.fields import field_for
from desktop.database import Database
from desktop.read_failures import report_read_failure
from widgets.record_form import FieldSpec, RecordForm, Section

__all__ = ["IMPACT_FIELDS", "TYPE_LABELS", "make_offering_form", "new_offering_values", "offering_values"]

TYPE_LABELS = {"one_time_event": "One-time event", "multi_day_program": "Multi-day program",
               "recurring_fixed": "Recurring class", "recurring_bookable": "1:1 sessions",
               "cohort_course": "Cohort course", "retreat": "Retreat"}
IMPACT_FIELDS = ("price", "portal_config", "registration_deadline",
                 *(SCHEDULE_FORM_FIELD.format(k) for k in OFFERING_TYPES))
"""Changing these on an offering with confirmed bookings shows the impact first."""

_HINTS = {"time": "HH:MM, e.g. 19:00",
          "sessions": "one per line: date start minutes, e.g. 2026-05-04 09:30 90",
          "availability": "one weekday per line, e.g. monday 09:00-12:00, 14:00-17:00"}


def _subfield(key: schedules.Key) -> FieldSpec:
    label = key.label + ("" if key.required else " (optional)")
    if key.kind == "date":
        return FieldSpec(key.name, label, "date")
    if key.kind == "count":
        return FieldSpec(key.name, label, "integer", minimum=-(2 ** 31), maximum=2 ** 31 - 1)
    if key.kind == "weekday":
        return FieldSpec(key.name, label, "choice",
                         choices=tuple((d, d.capitalize()) for d in schedules.WEEKDAYS))
    if key.kind == "choice":
        return FieldSpec(key.name, label, "choice", choices=tuple((c, c) for c in key.choices))
    if key.kind in ("sessions", "availability"):
        return FieldSpec(key.name, label, "multiline", placeholder=_HINTS[key.kind])
    return FieldSpec(key.name, label, "text", placeholder=_HINTS["time"], max_length=5)


def _schedule_section(kind: str) -> Section:
    subfields = [_subfield(k) for k in schedules.SHAPES[kind]]
    subfields.append(FieldSpec("time_zone", "Time zone (optional)", "text", max_length=64,
                               placeholder="the platform's, unless named: Europe/Berlin"))
    return Section(f"Schedule ({TYPE_LABELS[kind]})",
                   [FieldSpec(SCHEDULE_FORM_FIELD.format(kind), "Schedule", "json",
                              subfields=subfields)],
                   visible_when=lambda v, kind=kind: v.get("offering_type") == kind)


def _fields(search) -> list[Any]:
    choice = lambda values, labels=None: tuple((v, (labels or {}).get(v, v.replace("_", " ")))  # noqa: E731
                                               for v in values)
    return [
        FieldSpec("creator_id", "Creator", "related", search=search, required=True),
        field_for(Offering.title, "&Title"),
        field_for(Offering.slug, "S&lug", required=False, placeholder="proposed from the title"),
        FieldSpec("description", "&Description", "multiline", max_length=20_000),
        field_for(Offering.offering_type, "T&ype", "choice",
                  choices=choice(OFFERING_TYPES, TYPE_LABELS)),
        field_for(Offering.capacity_type, "&Capacity", "choice", choices=choice(CAPACITY_TYPES)),
        field_for(Offering.max_participants, "&Max participants",
                  placeholder="1 for one-on-one, blank for unlimited"),
        field_for(Offering.delivery_method, "Deli&very", "choice",
                  choices=choice(DELIVERY_METHODS)),
        Section("In person", [FieldSpec("location_details", "Location", "multiline",
                                        max_length=2000)],
                visible_when=lambda v: v.get("delivery_method") in ("in_person", "hybrid")),
        Section("Online", [FieldSpec("video_conference_provider", "Video provider", "choice",
                                     choices=(("", "—"), *choice(VIDEO_PROVIDERS)))],
                visible_when=lambda v: v.get("delivery_method") in ("online", "hybrid")),
        Section("Pricing", [
            field_for(Offering.price, "&Price", placeholder="blank: no card price"),
            field_for(Offering.credit_cost, "C&redit cost",
                      placeholder="blank: cannot be booked with credits"),
            FieldSpec("payment_options", "Payment options", "json", subfields=(
                FieldSpec("installments", "Installments", "bool"),
                FieldSpec("pay_per_session", "Pay per session", "bool"))),
            field_for(Offering.registration_deadline, "Registration &deadline")]),
        Section("Portal", [FieldSpec("portal_config", "Portal", "json", subfields=(
            FieldSpec("access_before_days", "Opens (days before)", "integer",
                      minimum=-(2 ** 31), maximum=2 ** 31 - 1),
            FieldSpec("access_after_days", "Stays open (days after)", "integer",
                      minimum=-(2 ** 31), maximum=2 ** 31 - 1),
            FieldSpec("tabs", "Tabs", "chips", choices=tuple((t, t) for t in PORTAL_TABS))))]),
        *(_schedule_section(kind) for kind in OFFERING_TYPES),
        Section("Exception", [FieldSpec(
            "change_reason", "Reason for an exception", "text", max_length=500,
            placeholder="needed only to reduce seats below the bookings")]),
    ]


def make_offering_form(database: Database) -> RecordForm:
    def search(typed: str, deliver) -> None:
        database.read(search_creators, typed, on_success=deliver,
                      on_failure=lambda exc: report_read_failure(database, "the search", exc))
    return RecordForm(_fields(search))


def _empty_schedules(kind: str | None, stored: Any) -> dict[str, Any]:
    return {SCHEDULE_FORM_FIELD.format(k): schedules.form_values(k, stored if k == kind
                                                                  else {})
            for k in OFFERING_TYPES}


def offering_values(r: OfferingRecord) -> dict[str, Any]:
    return {
        "creator_id": (r.creator_id, r.creator), "title": r.title, "slug": r.slug,
        "description": r.description, "offering_type": r.offering_type,
        "capacity_type": r.capacity_type, "max_participants": r.max_participants,
        "delivery_method": r.delivery_method, "location_details": r.location_details,
        "video_conference_provider": r.video_conference_provider or "", "price": r.price,
        "credit_cost": r.credit_cost, "payment_options": r.payment_options or {},
        "registration_deadline": r.registration_deadline,
        "portal_config": r.portal_config or {}, "change_reason": "",
        **_empty_schedules(r.offering_type, r.schedule),
    }


def new_offering_values() -> dict[str, Any]:
    return {"offering_type": "one_time_event", "capacity_type": "small_group",
            "delivery_method": "online", "payment_options": {}, "portal_config": {},
            "change_reason": "", **_empty_schedules(None, {})}
