"""Business actions on the content catalog: create and edit items, the publishing workflow,
soft delete and restore, and bulk actions on a selection.

Each action validates its input, locks the row(s), refuses to overwrite a change made since
the item was loaded (``expected_version`` is the row's xmin when it was read), applies the
change and writes the audit record (old and new values) in the caller's transaction.

Publishing rules (:func:`publish_problems`): a video or audio item needs a media URL and a
duration, a written item a body, and a ``purchased_only`` item a price. A published item
keeps obeying them: an edit or a bulk change that would break them is refused.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from data.errors import ConflictError, DomainError, ValidationError
from data.models import Content, ContentSeries, User
from data.models.content import CONTENT_TYPES, CONTENT_VISIBILITIES
from data.queries.catalog import (
    CREATOR_ROLES,
    EDITABLE_FIELDS,
    ContentRecord,
    get_content,
    get_contents,
    get_contents_for_update,
    record_values,
    slug_taken,
)
from data.services.audit import record_change
from data.services.prices import parse_price
from data.services.series import attach_to_series
from data.services.slugs import propose_slug, slug_problem
from data.services.text import (
    NOT_EDITABLE,
    clean_fields,
    clean_line,
    clean_multiline,
    column_length,
    integer_bounds,
    parse_int,
)
from data.services.unique import unique_violation
from data.services.urls import clean_url

_COLUMNS = Content.__table__.c
MAX_TITLE = column_length(_COLUMNS.title)
MAX_CATEGORY = column_length(_COLUMNS.category)
MAX_SLUG = column_length(_COLUMNS.slug)
MAX_TAG = 100
MAX_TAGS = 50
MAX_URL = 2_000
MAX_TEXT = 1_000_000
"""Description and body are TEXT; a million characters is far beyond any real one."""
MAX_DURATION = integer_bounds(_COLUMNS.media_duration_seconds)[1]
SLUG_CONSTRAINT = "content_slug_key"
_TAG_MARKUP = re.compile(r"<[^>]*>")
CONFLICT_MESSAGE = (
    "Someone else changed this item after you opened it. Nothing was saved; "
    "the current values are shown."
)
DELETED_MESSAGE = "This item is deleted; restore it first."
ENTITY = "content"
TYPE_LABELS = {"video": "A video", "audio": "An audio item", "written": "Written content"}


class PublishRefusedError(ValidationError):
    """The item is incomplete for publishing; ``field_errors`` names what is missing."""

    def __init__(self, title: str, problems: Mapping[str, str]):
        super().__init__(problems)
        self.args = (f"“{title}” cannot be published: " + " ".join(problems.values()),)


# -- validation ----------------------------------------------------------------------------

def _duration(value: Any) -> int | None:
    return parse_int("media_duration_seconds", value, label="Duration", maximum=MAX_DURATION,
                     unit="seconds", example="930")


def _uuid(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def normalise_tags(value: Any) -> tuple[str, ...]:
    """Trimmed, non-empty, without case-insensitive duplicates, in the given order;
    raises ValueError with a message."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError("Tags must be a list of words.")
    seen: set[str] = set()
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise ValueError("Each tag must be text.")
        try:
            tag = clean_line("tags", " ".join(tag.split()), None)
        except ValidationError as exc:
            raise ValueError(exc.field_errors["tags"]) from None
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise ValueError(f"A tag has at most {MAX_TAG} characters (“{tag[:20]}…”).")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"At most {MAX_TAGS} tags (this has {len(tags)}).")
    return tuple(tags)


def _clean_content_field(name: str, value: Any) -> Any:
    """One edited field, clean; raises ValidationError naming it."""
    if name == "title":
        return clean_line(name, value, MAX_TITLE, required="Title is required.")
    if name == "slug":
        if value is not None and not isinstance(value, str):
            raise ValidationError({name: "Must be text."})
        text = (value or "").strip()  # slug_problem refuses all but a-z, 0-9, "-"
        if problem := slug_problem(text):
            raise ValidationError({name: problem})
        return text
    if name in ("description", "content_body"):
        return clean_multiline(name, value, MAX_TEXT) or None
    if name in ("media_url", "thumbnail_url"):
        return clean_url(name, value, MAX_URL)
    if name == "category":
        return clean_line(name, value, MAX_CATEGORY) or None
    if name == "content_type":
        if value not in CONTENT_TYPES:
            raise ValidationError({name: f"Type must be one of: {', '.join(CONTENT_TYPES)}."})
        return value
    if name == "visibility":
        if value not in CONTENT_VISIBILITIES:
            raise ValidationError({name: "Visibility must be one of: "
                                         f"{', '.join(CONTENT_VISIBILITIES)}."})
        return value
    if name == "price":
        return parse_price(value)
    try:
        if name == "media_duration_seconds":
            return _duration(value)
        if name == "tags":
            return normalise_tags(value)
    except ValueError as exc:
        raise ValidationError({name: str(exc)}) from None
    if name in ("series_id", "creator_id"):
        try:
            return _uuid(value)
        except (ValueError, TypeError, AttributeError):
            raise ValidationError({name: "Not a known id."}) from None
    raise ValidationError({name: NOT_EDITABLE})


def validate_content_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise and check edited fields; raises ValidationError naming each bad field.

    Empty optional text becomes None; tags become a tuple; price a 2-decimal Decimal or
    None (free).
    """
    return clean_fields(values, EDITABLE_FIELDS, _clean_content_field)


def _body_is_empty(body: str | None) -> bool:
    if not body:
        return True
    if re.search(r"<(img|video|audio|iframe)\b", body, re.I):
        return False
    text = html.unescape(_TAG_MARKUP.sub(" ", _strip_head(body)))
    return not text.replace("\xa0", " ").strip()


def _strip_head(body: str) -> str:
    # Qt's rich-text HTML carries a <head> with a style sheet: not part of the body's text.
    return re.sub(r"<head\b.*?</head>", " ", body, flags=re.I | re.S)


def publish_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Why an item with these values cannot be published (field -> reason); {} if it can."""
    problems: dict[str, str] = {}
    kind = values.get("content_type")
    label = TYPE_LABELS.get(kind, "This item") if isinstance(kind, str) else "This item"
    if kind in ("video", "audio"):
        if not values.get("media_url"):
            problems["media_url"] = f"{label} needs a media URL before it can be published."
        duration = values.get("media_duration_seconds")
        if duration is None or duration <= 0:
            problems["media_duration_seconds"] = (
                f"{label} needs a duration before it can be published.")
    elif kind == "written" and _body_is_empty(values.get("content_body")):
        problems["content_body"] = f"{label} needs a body before it can be published."
    price = values.get("price")
    if values.get("visibility") == "purchased_only" and (price is None or price <= 0):
        problems["price"] = ("An item sold to buyers only (purchased_only) needs a price "
                             "before it can be published.")
    return problems


# -- shared steps ---------------------------------------------------------------------------

def _lock_and_check(
    session: Session, content_id: uuid.UUID, expected_version: int
) -> ContentRecord:
    current = get_content(session, content_id, for_update=True)
    if current.version != expected_version:
        raise ConflictError(CONFLICT_MESSAGE, current=current)
    return current


def _check_references(session: Session, clean: Mapping[str, Any]) -> None:
    errors: dict[str, str] = {}
    series_id = clean.get("series_id")
    if series_id is not None:
        found = session.execute(
            select(ContentSeries.deleted_at).where(ContentSeries.id == series_id)).first()
        if found is None or found.deleted_at is not None:
            errors["series_id"] = "This series no longer exists."
    if "creator_id" in clean:
        creator_id = clean["creator_id"]
        role = None if creator_id is None else session.execute(
            select(User.role).where(User.id == creator_id, User.deleted_at.is_(None))
        ).scalar_one_or_none()
        if creator_id is None:
            errors["creator_id"] = "Choose the creator."
        elif creator_id is not None and role not in CREATOR_ROLES:
            errors["creator_id"] = "The creator must be a platform owner, creator or media owner."
    if errors:
        raise ValidationError(errors)


def _slug_taken_error(slug: str) -> ValidationError:
    return ValidationError({"slug": f"“{slug}” is already used by another item."})


def _check_slug_free(session: Session, slug: str, content_id: uuid.UUID | None) -> None:
    if slug_taken(session, slug, content_id):
        raise _slug_taken_error(slug)


def _write_with_slug(session: Session, statement: Any, slug: str | None) -> None:
    """Run the write in a savepoint: a concurrent insert of the same slug (committed after
    :func:`_check_slug_free`) is refused like the check refuses it, and the caller's
    transaction carries on."""
    try:
        with session.begin_nested():
            session.execute(statement)
    except IntegrityError as exc:
        if slug is not None and unique_violation(exc) == SLUG_CONSTRAINT:
            raise _slug_taken_error(slug) from None
        raise


def _db_values(values: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "tags" in out:
        out["tags"] = list(out["tags"])
    return out


def _audit(session: Session, actor: str, action: str, before: ContentRecord | None,
           after: ContentRecord, fields: Iterable[str]) -> None:
    fields = list(fields)
    record_change(
        session, actor=actor, action=action, entity_type=ENTITY, entity_id=after.id,
        old_values=None if before is None else {k: getattr(before, k) for k in fields},
        new_values={k: getattr(after, k) for k in fields},
    )


def _apply(session: Session, actor: str, action: str, current: ContentRecord,
           values: Mapping[str, Any]) -> ContentRecord:
    """Write ``values`` (not the series) and the audit record in this transaction."""
    session.execute(update(Content).where(Content.id == current.id)
                    .values(**_db_values(values), updated_at=func.now()))
    saved = get_content(session, current.id)
    _audit(session, actor, action, current, saved, values)
    return saved


# -- create and edit ------------------------------------------------------------------------

def create_content(session: Session, actor: str, values: Mapping[str, Any]) -> ContentRecord:
    """A new draft item. ``slug`` defaults to one proposed from the title."""
    values = dict(values)
    slug = values.get("slug")
    if (not slug or (isinstance(slug, str) and not slug.strip())) and isinstance(
            values.get("title"), str):
        values["slug"] = propose_slug(values["title"])
    values.setdefault("content_type", None)
    values.setdefault("visibility", "purchased_only")
    values.setdefault("creator_id", None)
    clean = validate_content_values(values)
    _check_references(session, clean)
    _check_slug_free(session, clean["slug"], None)
    series_id = clean.pop("series_id", None)
    new_id = uuid.uuid4()
    _write_with_slug(session, insert(Content).values(id=new_id, status="draft",
                                                     **_db_values(clean)), clean["slug"])
    if series_id is not None:
        attach_to_series(session, new_id, series_id)
    saved = get_content(session, new_id)
    _audit(session, actor, "content.create", None, saved,
           [*clean, "series_id", "status"] if series_id else [*clean, "status"])
    return saved


def update_content(
    session: Session, actor: str, content_id: uuid.UUID, expected_version: int,
    changes: Mapping[str, Any],
) -> ContentRecord:
    """Save edited fields; only the fields that differ are written and audited.

    A published item must stay publishable: an edit that would break the publishing rules
    is refused, naming the field.
    """
    clean = validate_content_values(changes)
    current = _lock_and_check(session, content_id, expected_version)
    if current.deleted_at is not None:
        raise DomainError(DELETED_MESSAGE)
    before = record_values(current)
    diff = {k: v for k, v in clean.items() if before.get(k) != v}
    if not diff:
        return current
    _check_references(session, diff)
    if "slug" in diff:
        _check_slug_free(session, diff["slug"], content_id)
    if current.status == "published":
        problems = publish_problems({**before, **diff})
        if problems:
            raise ValidationError({k: v.replace("before it can be published",
                                                "while it is published")
                                   for k, v in problems.items()})
    series_changed = "series_id" in diff
    new_series = diff.pop("series_id", None)
    if diff:
        _write_with_slug(session, update(Content).where(Content.id == content_id)
                         .values(**_db_values(diff), updated_at=func.now()), diff.get("slug"))
    if series_changed:
        attach_to_series(session, content_id, new_series)
        if not diff:
            session.execute(update(Content).where(Content.id == content_id)
                            .values(updated_at=func.now()))
    saved = get_content(session, content_id)
    _audit(session, actor, "content.update", current, saved,
           [*diff, "series_id"] if series_changed else diff)
    return saved


# -- publishing workflow --------------------------------------------------------------------

def _transition(session: Session, actor: str, content_id: uuid.UUID, expected_version: int,
                action: str) -> ContentRecord:
    current = _lock_and_check(session, content_id, expected_version)
    if current.deleted_at is not None:
        raise DomainError(DELETED_MESSAGE)
    values: dict[str, Any]
    if action == "publish":
        if current.status == "published":
            return current
        problems = publish_problems(record_values(current))
        if problems:
            raise PublishRefusedError(current.title, problems)
        values = {"status": "published", "published_at": func.now()}
    elif action == "archive":
        if current.status == "archived":
            return current
        values = {"status": "archived"}
    else:
        if current.status == "draft":
            return current
        values = {"status": "draft", "published_at": None}
    session.execute(update(Content).where(Content.id == content_id)
                    .values(**values, updated_at=func.now()))
    saved = get_content(session, content_id)
    _audit(session, actor, f"content.{action}", current, saved, values)
    return saved


def publish_content(session: Session, actor: str, content_id: uuid.UUID,
                    expected_version: int) -> ContentRecord:
    """Draft (or archived) -> published, setting ``published_at``; refused with the reasons
    (:class:`PublishRefusedError`) when the item is incomplete."""
    return _transition(session, actor, content_id, expected_version, "publish")


def archive_content(session: Session, actor: str, content_id: uuid.UUID,
                    expected_version: int) -> ContentRecord:
    """Published (or draft) -> archived: no longer offered; buyers keep their access."""
    return _transition(session, actor, content_id, expected_version, "archive")


def return_to_draft(session: Session, actor: str, content_id: uuid.UUID,
                    expected_version: int) -> ContentRecord:
    """Published or archived -> draft; the published date is cleared (the audit keeps it)."""
    return _transition(session, actor, content_id, expected_version, "draft")


# -- soft delete ----------------------------------------------------------------------------

def soft_delete_content(session: Session, actor: str, content_id: uuid.UUID,
                        expected_version: int) -> ContentRecord:
    """Mark the item deleted (``deleted_at``); its purchases and access records stay."""
    current = _lock_and_check(session, content_id, expected_version)
    if current.deleted_at is not None:
        return current
    return _apply(session, actor, "content.soft_delete", current, {"deleted_at": func.now()})


def restore_content(session: Session, actor: str, content_id: uuid.UUID,
                    expected_version: int) -> ContentRecord:
    current = _lock_and_check(session, content_id, expected_version)
    if current.deleted_at is None:
        return current
    return _apply(session, actor, "content.restore", current, {"deleted_at": None})


# -- bulk actions ---------------------------------------------------------------------------

BulkAction = Literal["publish", "archive", "set_category", "set_visibility"]
BULK_ACTIONS: tuple[BulkAction, ...] = ("publish", "archive", "set_category", "set_visibility")
BULK_FIELD = {"publish": "status", "archive": "status", "set_category": "category",
              "set_visibility": "visibility"}


@dataclass(frozen=True)
class BulkChange:
    id: uuid.UUID
    title: str
    old: Any
    new: Any


@dataclass(frozen=True)
class BulkRefusal:
    id: uuid.UUID
    title: str
    reason: str


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk action would do: the items that change, those it refuses (and why), and
    those already as asked."""

    action: BulkAction
    value: Any
    changes: tuple[BulkChange, ...]
    refused: tuple[BulkRefusal, ...]
    unchanged: tuple[BulkChange, ...]

    @property
    def can_apply(self) -> bool:
        return not self.refused and bool(self.changes)


class BulkRefusedError(ConflictError):
    """Some items break a rule (they changed since the preview): nothing was changed.
    ``preview`` (also ``current``: the plan as it is now) lists them with reasons."""

    def __init__(self, preview: BulkPreview):
        n = len(preview.refused)
        super().__init__(f"{n} item{'s' if n != 1 else ''} cannot be changed; nothing was "
                         "changed. " + " ".join(f"{r.title}: {r.reason}"
                                                for r in preview.refused[:5]),
                         current=preview)
        self.preview = preview


def _bulk_value(action: BulkAction, value: Any) -> Any:
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": f"Unknown bulk action {action!r}."})
    if action == "set_category":
        return validate_content_values({"category": value})["category"]
    if action == "set_visibility":
        return validate_content_values({"visibility": value})["visibility"]
    return None


def _plan(records: list[ContentRecord], wanted: list[uuid.UUID], action: BulkAction,
          value: Any) -> BulkPreview:
    by_id = {r.id: r for r in records}
    changes: list[BulkChange] = []
    refused: list[BulkRefusal] = []
    unchanged: list[BulkChange] = []
    for content_id in dict.fromkeys(wanted):
        r = by_id.get(content_id)
        if r is None:
            refused.append(BulkRefusal(content_id, str(content_id), "No longer exists."))
            continue
        field = BULK_FIELD[action]
        old = getattr(r, field)
        new = {"publish": "published", "archive": "archived"}.get(action, value)
        if r.deleted_at is not None:
            refused.append(BulkRefusal(r.id, r.title, DELETED_MESSAGE))
            continue
        if old == new:
            unchanged.append(BulkChange(r.id, r.title, old, new))
            continue
        after = {**record_values(r), field: new}
        problems = publish_problems(after) if action == "publish" or (
            r.status == "published") else {}
        if problems:
            reason = " ".join(problems.values())
            if action != "publish":
                reason = reason.replace("before it can be published", "while it is published")
            refused.append(BulkRefusal(r.id, r.title, reason))
            continue
        changes.append(BulkChange(r.id, r.title, old, new))
    return BulkPreview(action, value, tuple(changes), tuple(refused), tuple(unchanged))


def _content_ids(content_ids: Iterable[Any]) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for content_id in content_ids:
        try:
            ids.append(content_id if isinstance(content_id, uuid.UUID)
                       else uuid.UUID(str(content_id)))
        except (ValueError, TypeError, AttributeError):
            raise ValidationError({"content_ids": f"{str(content_id)[:40]!r} is not a content "
                                                  "id; nothing was changed."}) from None
    return ids


def preview_bulk(session: Session, content_ids: list[uuid.UUID], action: BulkAction,
                 value: Any = None) -> BulkPreview:
    """What :func:`apply_bulk` would do now; changes nothing."""
    clean = _bulk_value(action, value)
    content_ids = _content_ids(content_ids)
    return _plan(get_contents(session, content_ids), content_ids, action, clean)


def apply_bulk(session: Session, actor: str, content_ids: list[uuid.UUID], action: BulkAction,
               value: Any = None) -> BulkPreview:
    """Apply a bulk action to every item, all or nothing.

    The items are locked (in id order) and the plan is made again under the locks: if any
    item now breaks a rule, :class:`BulkRefusedError` is raised and nothing changes.
    Each changed item gets its own audit record.
    """
    clean = _bulk_value(action, value)
    content_ids = _content_ids(content_ids)
    records = get_contents_for_update(session, content_ids)
    plan = _plan(records, content_ids, action, clean)
    if plan.refused:
        raise BulkRefusedError(plan)
    by_id = {r.id: r for r in records}
    field = BULK_FIELD[action]
    for change in plan.changes:
        values: dict[str, Any] = {field: change.new}
        if action == "publish":
            values["published_at"] = func.now()
        _apply(session, actor, f"content.bulk_{action}", by_id[change.id], values)
    return plan

