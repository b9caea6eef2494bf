"""Set the featured content: which published items the home page shows, in order."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, insert, update
from sqlalchemy.orm import Session

from data.errors import ConflictError, ValidationError
from data.models import PlatformSettings
from data.queries.featured import FeaturedState, content_items, get_featured
from data.queries.series import dump_order
from data.services.audit import record_change

FIELD = "featured_content_ids"
MAX_FEATURED = 50
CONFLICT_MESSAGE = (
    "Someone else changed the featured content after you opened it. Nothing was saved; "
    "the current list is shown."
)


def set_featured_content(
    session: Session, actor: str, expected_version: int | None,
    ordered_ids: Sequence[uuid.UUID],
) -> FeaturedState:
    """Store ``ordered_ids`` as the featured list.

    ``expected_version`` is the settings row's version when the list was loaded (None if
    there was no row). Refuses a stale version (ConflictError with the current list) and,
    naming each offending item under "featured_content_ids", an item that is not published,
    is deleted, does not exist or is listed twice. Nothing is written on refusal.
    """
    ids: list[uuid.UUID] = []
    for item_id in ordered_ids:
        try:
            ids.append(item_id if isinstance(item_id, uuid.UUID) else uuid.UUID(str(item_id)))
        except (ValueError, TypeError, AttributeError):
            raise ValidationError({FIELD: f"{str(item_id)[:40]!r} is not a content id; "
                                          "nothing was saved."}) from None
    current = get_featured(session, for_update=True)
    if current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE, current=current)
    problems: list[str] = []
    if len(ids) > MAX_FEATURED:
        problems.append(f"At most {MAX_FEATURED} items can be featured (this has {len(ids)}).")
    seen: set[uuid.UUID] = set()
    for item in content_items(session, ids, lock=True):
        name = f"'{item.title}'"
        if item.id in seen:
            problems.append(f"{name} is listed twice.")
        elif item.missing:
            problems.append(f"Item {item.id} no longer exists; remove it from the list.")
        elif item.deleted:
            problems.append(f"{name} is deleted; only published items can be featured.")
        elif item.status != "published":
            problems.append(f"{name} is {item.status}; only published items can be featured.")
        seen.add(item.id)
    if problems:
        raise ValidationError({FIELD: " ".join(problems)})
    if ids == current.ids:
        return current
    if current.settings_id is None:
        session.execute(insert(PlatformSettings).values(featured_content_ids=dump_order(ids)))
    else:
        session.execute(
            update(PlatformSettings).where(PlatformSettings.id == current.settings_id)
            .values(featured_content_ids=dump_order(ids), updated_at=func.localtimestamp())
        )
    saved = get_featured(session)
    record_change(session, actor=actor, action="platform_settings.featured",
                  entity_type="platform_settings", entity_id=saved.settings_id,
                  old_values={FIELD: current.ids}, new_values={FIELD: saved.ids})
    return saved
