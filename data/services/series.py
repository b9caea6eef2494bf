"""Business actions on content series: create, edit, order the items, move an item in or out.

``content.series_id`` and ``content_series.content_order`` (a JSONB array of content id
strings) say the same thing twice; every function here changes both in one transaction so
they always agree: each item naming a series appears exactly once in that series' order, and
nothing else does. Series rows are locked in id order, so two moves never deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.errors import ConflictError, NotFoundError, ValidationError
from data.models import Content, ContentSeries, User
from data.models.content import CONTENT_STATUSES
from data.queries.series import (
    CREATOR_ROLES,
    SERIES_FIELDS,
    SeriesDetail,
    dump_order,
    get_series,
    parse_order,
    series_values,
)
from data.services.audit import record_change
from data.services.prices import parse_price
from data.services.slugs import propose_slug, slug_problem
from data.services.text import (
    clean_fields,
    clean_line,
    clean_multiline,
    column_length,
    parse_id,
)
from data.services.unique import unique_violation
from data.services.urls import clean_url

MAX_TITLE = column_length(ContentSeries.__table__.c.title)
MAX_DESCRIPTION = 1_000_000
"""The description is TEXT; a million characters is far beyond any real one."""
MAX_URL = 2_000
SLUG_CONSTRAINT = "content_series_slug_key"
CONFLICT_MESSAGE = (
    "Someone else changed this series after you opened it. Nothing was saved; "
    "the current values are shown."
)
ITEMS_CHANGED_MESSAGE = (
    "Items were added to or removed from this series after you opened it. Nothing was "
    "saved; the current order is shown."
)


# -- moving one item ------------------------------------------------------------------------

def _lock_series_rows(
    session: Session, ids: set[uuid.UUID]
) -> dict[uuid.UUID, Row[*tuple[Any, ...]]]:
    """Lock the series rows in id order; by id, each row's ``content_order`` and
    ``deleted_at``."""
    if not ids:
        return {}
    rows = session.execute(
        select(ContentSeries.id, ContentSeries.content_order, ContentSeries.deleted_at)
        .where(ContentSeries.id.in_(sorted(ids)))
        .order_by(ContentSeries.id)
        .with_for_update()
    ).all()
    return {r.id: r for r in rows}


def attach_to_series(
    session: Session, content_id: uuid.UUID, series_id: uuid.UUID | None
) -> None:
    """Put one item at the end of ``series_id``'s order, or (None) out of any series.

    Keeps ``content.series_id`` and every ``content_order`` consistent, locking the item and
    then the series rows it changes (in id order). Writes no audit record: the caller does.
    An item already in ``series_id`` keeps its place.
    """
    current = session.execute(
        select(Content.series_id).where(Content.id == content_id).with_for_update()
    ).first()
    if current is None:
        raise NotFoundError("This content item no longer exists.")
    old_series = current.series_id
    touched = {s for s in (old_series, series_id) if s is not None}
    # Stale entries elsewhere (left by another writer) would break "exactly once".
    touched |= set(session.execute(
        select(ContentSeries.id).where(
            ContentSeries.content_order.contains([str(content_id)]))
    ).scalars())
    locked = _lock_series_rows(session, touched)
    if series_id is not None:
        target = locked.get(series_id)
        if target is None:
            raise ValidationError({"series_id": "This series no longer exists."})
        if target.deleted_at is not None and old_series != series_id:
            raise ValidationError({"series_id": "This series is deleted; choose another."})
    for sid, row in locked.items():
        order = parse_order(row.content_order)
        if sid == series_id:
            kept = list(dict.fromkeys(order))
            new_order = kept if content_id in kept else kept + [content_id]
        else:
            new_order = [i for i in order if i != content_id]
        if new_order != order:
            session.execute(
                update(ContentSeries).where(ContentSeries.id == sid)
                .values(content_order=dump_order(new_order), updated_at=func.localtimestamp())
            )
    if old_series != series_id:
        session.execute(
            update(Content).where(Content.id == content_id)
            .values(series_id=series_id, updated_at=func.localtimestamp())
        )


def move_content_to_series(
    session: Session, actor: str, content_id: uuid.UUID, series_id: uuid.UUID | None
) -> None:
    """:func:`attach_to_series` with its audit record, for callers that change nothing else."""
    old = session.execute(
        select(Content.series_id).where(Content.id == content_id)
    ).scalar_one_or_none()
    attach_to_series(session, content_id, series_id)
    if old != series_id:
        record_change(
            session, actor=actor, action="content.move_series", entity_type="content",
            entity_id=content_id, old_values={"series_id": old},
            new_values={"series_id": series_id},
        )


# -- create and edit ------------------------------------------------------------------------

def _clean_field(name: str, value: Any) -> Any:
    """One series field, clean; raises ValidationError naming it (see data.services.text)."""
    if name == "price":
        return parse_price(value)
    if name == "creator_id":
        return parse_id(name, value, "Choose who owns this series.")
    if value is not None and not isinstance(value, str):
        raise ValidationError({name: "Must be text."})
    if name == "title":
        return clean_line(name, value, MAX_TITLE, required="Title is required.")
    if name == "slug":
        slug = (value or "").strip()  # slug_problem refuses all but a-z, 0-9 and "-"
        if problem := slug_problem(slug):
            raise ValidationError({name: problem})
        return slug
    if name == "status":
        status = (value or "").strip()
        if status not in CONTENT_STATUSES:
            raise ValidationError({name: f"Status must be one of: {', '.join(CONTENT_STATUSES)}."})
        return status
    if name == "thumbnail_url":
        return clean_url(name, value, MAX_URL)
    return clean_multiline(name, value, MAX_DESCRIPTION) or None  # description


def validate_series_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check series fields; raises ValidationError naming each bad field."""
    return clean_fields(values, SERIES_FIELDS, _clean_field)


def _check_slug_free(session: Session, slug: str, series_id: uuid.UUID | None) -> None:
    stmt = select(ContentSeries.id).where(ContentSeries.slug == slug)
    if series_id is not None:
        stmt = stmt.where(ContentSeries.id != series_id)
    if session.execute(stmt).first():
        raise _slug_taken_error(slug)


def _slug_taken_error(slug: str) -> ValidationError:
    return ValidationError({"slug": f"'{slug}' is already used by another series."})


def _write_with_slug(session: Session, statement: Any, slug: str | None) -> Any:
    """Run the write in a savepoint: a concurrent insert of the same slug (committed after
    :func:`_check_slug_free`) is refused like the check refuses it, and the caller's
    transaction carries on."""
    try:
        with session.begin_nested():
            return session.execute(statement)
    except IntegrityError as exc:
        if slug is not None and unique_violation(exc) == SLUG_CONSTRAINT:
            raise _slug_taken_error(slug) from None
        raise


def _check_creator(session: Session, creator_id: uuid.UUID) -> None:
    row = session.execute(
        select(User.role, User.deleted_at).where(User.id == creator_id)
    ).first()
    if row is None or row.deleted_at is not None:
        raise ValidationError({"creator_id": "This person no longer exists."})
    if row.role not in CREATOR_ROLES:
        raise ValidationError({"creator_id": "A customer cannot own a series."})


def create_series(session: Session, actor: str, values: Mapping[str, Any]) -> SeriesDetail:
    """A new, empty series. ``title`` and ``creator_id`` are required; a blank slug is
    proposed from the title; status defaults to draft."""
    values = dict(values)
    slug, title = values.get("slug"), values.get("title")
    if not slug or (isinstance(slug, str) and not slug.strip()):
        values["slug"] = propose_slug(title if isinstance(title, str) else "")
    values.setdefault("status", "draft")
    values.setdefault("title", "")
    if values.get("creator_id") is None:
        values["creator_id"] = ""
    clean = validate_series_values(values)
    _check_slug_free(session, clean["slug"], None)
    _check_creator(session, clean["creator_id"])
    extra: dict[str, Any] = {}
    if clean["status"] != "draft":
        extra["published_at"] = func.localtimestamp()
    new_id = _write_with_slug(
        session, insert(ContentSeries)
        .values(**clean, **extra, content_order=[])
        .returning(ContentSeries.id), clean["slug"],
    ).scalar_one()
    saved = get_series(session, new_id)
    record_change(session, actor=actor, action="series.create", entity_type="content_series",
                  entity_id=new_id, old_values=None, new_values=series_values(saved))
    return saved


def _lock_and_check(session: Session, series_id: uuid.UUID, expected_version: int
                    ) -> SeriesDetail:
    current = get_series(session, series_id, for_update=True)
    if current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE, current=current)
    return current


def update_series(
    session: Session, actor: str, series_id: uuid.UUID, expected_version: int,
    changes: Mapping[str, Any],
) -> SeriesDetail:
    """Save edited series fields; only the fields that differ are written and audited.
    Publishing sets ``published_at`` the first time."""
    clean = validate_series_values(changes)
    current = _lock_and_check(session, series_id, expected_version)
    before = series_values(current)
    diff = {k: v for k, v in clean.items() if before.get(k) != v}
    if not diff:
        return current
    if "slug" in diff:
        _check_slug_free(session, diff["slug"], series_id)
    if "creator_id" in diff:
        _check_creator(session, diff["creator_id"])
    extra: dict[str, Any] = {}
    if diff.get("status") == "published" and current.published_at is None:
        extra["published_at"] = func.localtimestamp()
    _write_with_slug(
        session, update(ContentSeries).where(ContentSeries.id == series_id)
        .values(**diff, **extra, updated_at=func.localtimestamp()), diff.get("slug"),
    )
    saved = get_series(session, series_id)
    record_change(session, actor=actor, action="series.update", entity_type="content_series",
                  entity_id=series_id, old_values={k: before[k] for k in diff},
                  new_values={k: getattr(saved, k) for k in diff})
    return saved


def reorder_series(
    session: Session, actor: str, series_id: uuid.UUID, expected_version: int,
    ordered_content_ids: Sequence[uuid.UUID],
) -> SeriesDetail:
    """Store a new order of the series' items.

    Refused (ConflictError with the current series) if the series changed since it was
    loaded, or if ``ordered_content_ids`` is not exactly the series' items now.
    """
    ordered = [parse_id("content_order", i) for i in ordered_content_ids]
    if len(set(ordered)) != len(ordered):
        raise ValidationError({"content_order": "An item appears twice in the new order."})
    current = _lock_and_check(session, series_id, expected_version)
    if set(ordered) != set(current.item_ids):
        raise ConflictError(ITEMS_CHANGED_MESSAGE, current=current)
    stored = session.execute(
        select(ContentSeries.content_order).where(ContentSeries.id == series_id)
    ).scalar_one()
    old_order = parse_order(stored)
    if old_order == ordered:
        return current
    session.execute(
        update(ContentSeries).where(ContentSeries.id == series_id)
        .values(content_order=dump_order(ordered), updated_at=func.localtimestamp())
    )
    record_change(session, actor=actor, action="series.reorder", entity_type="content_series",
                  entity_id=series_id, old_values={"content_order": old_order},
                  new_values={"content_order": ordered})
    return get_series(session, series_id)


def add_items_to_series(
    session: Session, actor: str, series_id: uuid.UUID, content_ids: Sequence[uuid.UUID],
) -> SeriesDetail:
    """Append items to the end of the series, in the order given, in one transaction.

    An item in another series leaves it (each move is audited as ``content.move_series``);
    an item already in this one keeps its place. A deleted or unknown item refuses the whole
    change, naming it, so nothing is half done.
    """
    ids = list(dict.fromkeys(parse_id("content_ids", i) for i in content_ids))
    if not ids:
        raise ValidationError({"content_ids": "Choose at least one item to add."})
    series = session.execute(
        select(ContentSeries.deleted_at).where(ContentSeries.id == series_id)
    ).first()
    if series is None or series.deleted_at is not None:
        raise NotFoundError("This series no longer exists.")
    found = dict(session.execute(
        select(Content.id, Content.title).where(Content.id.in_(ids),
                                                Content.deleted_at.is_(None))
    ).all())
    gone = [i for i in ids if i not in found]
    if gone:
        raise ValidationError({"content_ids": f"{len(gone)} of the chosen items were deleted "
                                              "meanwhile; nothing was added."})
    for content_id in ids:
        move_content_to_series(session, actor, content_id, series_id)
    return get_series(session, series_id)
