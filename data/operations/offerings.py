"""Operations on offerings: create, edit, publish/archive/draft."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from data.errors import ValidationError
from data.operations.base import Changes, Operation
from data.queries.offerings import OfferingRecord, get_offering_record
from data.services import offerings

SCHEDULE_FORM_FIELD = "schedule_{}"
"""The form field of each type's schedule (``schedule_one_time_event``); its subfields are
the schedule's keys."""


def from_form(values: Mapping[str, Any]) -> dict[str, Any]:
    """A form's values as the service takes them: the schedule of the chosen type."""
    out = {k: v for k, v in values.items() if not k.startswith("schedule_")
           and k != "change_reason"}
    kind = values.get("offering_type")
    own = SCHEDULE_FORM_FIELD.format(kind)
    if own in values:
        out["schedule"] = values[own]
    return out


def _errors_for_form(exc: ValidationError, kind: Any) -> ValidationError:
    """``schedule.date`` → ``schedule_one_time_event.date`` (the form's field)."""
    own = SCHEDULE_FORM_FIELD.format(kind)
    return ValidationError({(own + k[len("schedule"):] if isinstance(k, str)
                             and k.startswith("schedule") else k): m
                            for k, m in exc.field_errors.items()})


@dataclass(frozen=True)
class CreateOffering(Operation):
    """A new draft offering from the editor's values."""

    values: Mapping[str, Any] = field(default_factory=dict)
    action = "create the offering"

    def run(self, session: Session, actor: str) -> OfferingRecord:
        try:
            offering_id = offerings.create_offering(session, actor, from_form(self.values))
        except ValidationError as exc:
            raise _errors_for_form(exc, self.values.get("offering_type")) from None
        return get_offering_record(session, offering_id)

    def changes(self, result: OfferingRecord) -> Changes:
        return Changes.of(offerings=result.id)


@dataclass(frozen=True)
class UpdateOffering(Operation):
    """Save the editor's changes if the offering is unchanged since ``version``."""

    offering_id: uuid.UUID
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    offering_type: str = ""
    action = "save the offering"

    def run(self, session: Session, actor: str) -> OfferingRecord:
        kind = self.values.get("offering_type", self.offering_type)
        changes = from_form({**self.values, "offering_type": kind})
        if "offering_type" not in self.values:
            changes.pop("offering_type", None)
        try:
            offerings.update_offering(session, actor, self.offering_id, self.version, changes,
                                      self.values.get("change_reason"))
        except ValidationError as exc:
            raise _errors_for_form(exc, kind) from None
        return get_offering_record(session, self.offering_id)

    def changes(self, result: OfferingRecord) -> Changes:
        return Changes.of(offerings=result.id)


@dataclass(frozen=True)
class SetOfferingStatus(Operation):
    """Publish (refused with the reason when incomplete), archive or back to draft."""

    offering_id: uuid.UUID
    version: int
    status: str
    action = "change the offering's status"

    def run(self, session: Session, actor: str) -> OfferingRecord:
        offerings.set_offering_status(session, actor, self.offering_id, self.version,
                                      self.status)
        return get_offering_record(session, self.offering_id)

    def changes(self, result: OfferingRecord) -> Changes:
        return Changes.of(offerings=result.id)


@dataclass(frozen=True)
class ReorderResources(Operation):
    """Save the order of an offering's resources (one transaction)."""

    offering_id: uuid.UUID
    resource_ids: tuple[uuid.UUID, ...]
    action = "reorder the resources"

    def run(self, session: Session, actor: str) -> uuid.UUID:
        return offerings.reorder_resources(session, actor, self.offering_id,
                                           list(self.resource_ids))

    def changes(self, result: uuid.UUID) -> Changes:
        return Changes.of(offering_resources=None, offerings=result)


@dataclass(frozen=True)
class AddResource(Operation):
    """Add a resource at the end of an offering's list."""

    offering_id: uuid.UUID
    values: Mapping[str, Any] = field(default_factory=dict)
    action = "add the resource"

    def run(self, session: Session, actor: str) -> uuid.UUID:
        offerings.add_resource(session, actor, self.offering_id, self.values)
        return self.offering_id

    def changes(self, result: uuid.UUID) -> Changes:
        return Changes.of(offering_resources=None, offerings=result)


@dataclass(frozen=True)
class RemoveResource(Operation):
    """Remove one resource."""

    resource_id: uuid.UUID
    action = "remove the resource"

    def run(self, session: Session, actor: str) -> uuid.UUID:
        return offerings.remove_resource(session, actor, self.resource_id)

    def changes(self, result: uuid.UUID) -> Changes:
        return Changes.of(offering_resources=None, offerings=result)
