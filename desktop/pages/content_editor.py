"""The editor for one content item: common fields, and the fields its type needs.

Video and audio show media URL, duration and thumbnail; written content shows a rich-text
body (HTML) with a rendered preview. The slug is proposed from the title until the user
edits it, and a slug already used by another item is reported under the field while typing
(the service checks again when saving). The editor decides nothing: the services validate,
and their field errors are shown under the fields by ``set_errors()``. It offers a record
form's editing API (``set_values``/``rebase``/``values``/``changed_values``…), so a
:class:`~desktop.admin.record_detail.RecordDetail` runs it in place of a form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QCompleter, QLineEdit, QPlainTextEdit, QWidget

from data.models.content import CONTENT_TYPES, CONTENT_VISIBILITIES
from data.queries.catalog import (
    EDITABLE_FIELDS,
    CatalogChoices,
    ContentRecord,
    record_values,
    slug_taken,
)
from data.services.slugs import propose_slug, slug_problem
from desktop.database import Database
from desktop.read_failures import report_read_failure
from widgets.form_rows import FormRows
from widgets.id_choice import IdChoice
from widgets.latest import DebouncedRequest
from widgets.record_form import clash_errors, edits_to_keep
from widgets.rich_text_editor import RichTextEditor, body_html
from widgets.tag_chips import TagChips

__all__ = ["FIELD_LABELS", "VISIBILITY_LABELS", "ContentEditor", "body_html"]

SLUG_CHECK_DELAY_MS = 300
MEDIA_FIELDS = ("media_url", "media_duration_seconds", "thumbnail_url")
BODY_FIELDS = ("content_body",)
FIELD_LABELS = {  # mnemonics unique across the catalog page (toolbar and buttons too)
    "content_type": "T&ype", "creator_id": "Creator", "title": "&Title", "slug": "S&lug",
    "description": "Description", "media_url": "&Media URL",
    "media_duration_seconds": "Dur&ation (s)", "thumbnail_url": "Thumbnail URL",
    "content_body": "&Body", "category": "&Category", "tags": "Ta&gs", "series_id": "Ser&ies",
    "visibility": "&Visibility", "price": "Pric&e",
}
VISIBILITY_LABELS = {
    "public": "Public (anyone)", "private": "Private (hidden)",
    "members_only": "Members only (subscribers)", "purchased_only": "Purchased only (buyers)",
}


def _line_edit(placeholder: str = "") -> QLineEdit:
    line = QLineEdit()
    line.setPlaceholderText(placeholder)
    return line


class ContentEditor(FormRows):
    """Fields of one item, with an error line under each.

    Signals:
        dirty_changed(bool): the values started or stopped differing from the loaded ones.
        submitted(): the user asked to save (Ctrl+Return).
    """

    dirty_changed = Signal(bool)
    submitted = Signal()

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self._record: ContentRecord | None = None
        self._baseline: dict[str, Any] = {}
        self._loading = False
        self._dirty = False
        self._slug_edited = False
        self._body_edited = False
        self._slug_check = DebouncedRequest(self._check_slug, SLUG_CHECK_DELAY_MS, self)

        self.content_type = QComboBox()
        for kind in CONTENT_TYPES:
            self.content_type.addItem(kind.capitalize(), kind)
        self.creator = IdChoice()
        self.title = QLineEdit()
        self.slug = _line_edit("proposed from the title")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.description.fontMetrics().lineSpacing() * 3 + 12)
        self.media_url = _line_edit("https://…")
        self.duration = _line_edit("seconds, e.g. 930")
        self.thumbnail_url = _line_edit("https://…")
        self._body_panel = RichTextEditor()
        self.body, self.preview = self._body_panel.body, self._body_panel.preview
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.category.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.category.lineEdit().setPlaceholderText("choose or type a new category")
        self.tags = TagChips()
        self.series = IdChoice()
        self.visibility = QComboBox()
        for v in CONTENT_VISIBILITIES:
            self.visibility.addItem(VISIBILITY_LABELS[v], v)
        self.price = _line_edit("Free")

        editors: dict[str, QWidget] = {
            "content_type": self.content_type, "creator_id": self.creator, "title": self.title,
            "slug": self.slug, "description": self.description, "media_url": self.media_url,
            "media_duration_seconds": self.duration, "thumbnail_url": self.thumbnail_url,
            "content_body": self._body_panel, "category": self.category, "tags": self.tags,
            "series_id": self.series, "visibility": self.visibility, "price": self.price,
        }
        focus = {"content_body": self.body, "tags": self.tags.entry}
        self._row_editors = editors
        for name, editor in editors.items():
            self.add_row(name, FIELD_LABELS[name], editor, focus=focus.get(name),
                         grow=name == "content_body")

        self.content_type.currentIndexChanged.connect(self._on_content_type_changed)
        self.title.textEdited.connect(self._on_title_edited)
        self.slug.textEdited.connect(self._on_slug_edited)
        self.body.textChanged.connect(self._on_body_changed)
        for w in (self.media_url, self.duration, self.thumbnail_url, self.price):
            w.textEdited.connect(partial(self._on_field_edited, w))
        self.description.textChanged.connect(partial(self._on_field_edited, self.description))
        self.category.editTextChanged.connect(partial(self._on_field_edited, self.category))
        for combo in (self.creator, self.series, self.visibility):
            combo.currentIndexChanged.connect(partial(self._on_field_edited, combo))
        self.tags.tags_changed.connect(partial(self._on_field_edited, self.tags))
        for w in (self.title, self.slug, self.media_url, self.duration, self.thumbnail_url,
                  self.price, self.description, self.body, self.category, self.tags.entry):
            w.installEventFilter(self)
        self._show_type_rows()
        self.setFocusProxy(self.title)  # a new item starts with its title

    # -- public API ---------------------------------------------------------------------
    @property
    def record(self) -> ContentRecord | None:
        return self._record

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @property
    def is_new(self) -> bool:
        return self._record is None

    def set_choices(self, choices: CatalogChoices) -> None:
        """Fill the category, series and creator choices (keeps what is selected)."""
        self._loading = True
        try:
            text = self.category.currentText()
            self.category.clear()
            self.category.addItems(list(choices.categories))
            self.category.setEditText(text)
            self.series.set_choices([(None, "(no series)")]
                                    + [(c.value, c.label) for c in choices.series])
            self.creator.set_choices([(c.value, c.label) for c in choices.creators])
        finally:
            self._loading = False

    def load(self, record: ContentRecord | None, *, defaults: Mapping[str, Any] | None = None
             ) -> None:
        """Show ``record`` (None: a new item, with ``defaults``); clears errors, not dirty."""
        self._record = record
        values = record_values(record) if record is not None else {
            "content_type": "video", "visibility": "purchased_only", "tags": (),
            **(defaults or {})}
        self._loading = True
        try:
            self._fill({name: values.get(name) for name in EDITABLE_FIELDS})
            self.creator.setEnabled(record is None)
            self.body.document().setModified(False)
            self._body_panel.show_preview(values.get("content_body") or "")
        finally:
            self._loading = False
        self._slug_edited = record is not None
        self._body_edited = False
        self._slug_check.cancel()
        self.clear_errors()
        self._show_type_rows()
        self._baseline = self.values()
        self._update_dirty()

    def set_values(self, record: ContentRecord | None) -> None:
        """As a record form's ``set_values``: show ``record`` (None: a new item)."""
        self.load(record)

    def rebase(self, record: ContentRecord) -> dict[str, Any]:
        """Show someone else's newer ``record`` and keep the unsaved edits on top of it.

        The fields both changed differently are marked under them and returned, with the
        other person's value (the editor shows this person's); see
        ``widgets.record_form.edits_to_keep``.
        """
        old_baseline, mine = dict(self._baseline), self.changed_values()
        self.load(record)
        keep, clashes = edits_to_keep(old_baseline, mine, self._baseline)
        self._loading = True
        try:
            self._fill(keep)
        finally:
            self._loading = False
        if "content_body" in keep:
            self._body_edited = True
            self._body_panel.show_preview(self._body_value() or "")
        self._show_type_rows()
        self._update_dirty()
        if clashes:
            self.set_errors(clash_errors(clashes))
        return clashes

    def values(self) -> dict[str, Any]:
        """Every field, as the services take them (text as typed; the service parses)."""
        values: dict[str, Any] = {
            "content_type": self.content_type.currentData(),
            "title": self.title.text(),
            "slug": self.slug.text().strip(),
            "description": self.description.toPlainText().strip() or None,
            "media_url": self.media_url.text().strip() or None,
            "media_duration_seconds": self.duration.text().strip() or None,
            "thumbnail_url": self.thumbnail_url.text().strip() or None,
            "content_body": self._body_value(),
            "category": self.category.currentText().strip() or None,
            "tags": tuple(self.tags.tags()),
            "series_id": _as_uuid(self.series.currentData()),
            "visibility": self.visibility.currentData(),
            "price": self.price.text().strip() or None,
        }
        if self._record is None:
            values["creator_id"] = _as_uuid(self.creator.currentData())
        return values

    def changed_values(self) -> dict[str, Any]:
        """The fields that differ from what was loaded (all of them for a new item)."""
        current = self.values()
        if self._record is None:
            return current
        return {k: v for k, v in current.items() if self._baseline.get(k) != v}

    def set_read_only(self, read_only: bool) -> None:
        for w in (self.title, self.slug, self.media_url, self.duration, self.thumbnail_url,
                  self.price):
            w.setReadOnly(read_only)
        self.description.setReadOnly(read_only)
        self._body_panel.set_read_only(read_only)
        for w in (self.content_type, self.series, self.visibility, self.category):
            w.setEnabled(not read_only)
        self.creator.setEnabled(not read_only and self._record is None)
        self.tags.set_read_only(read_only)

    def field_row_visible(self, name: str) -> bool:
        return self.row_visible(name)

    # -- Qt overrides -------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.submitted.emit()
            return True
        return super().eventFilter(watched, event)

    # -- slots --------------------------------------------------------------------------
    def _on_content_type_changed(self, _index: int) -> None:
        self._show_type_rows()
        self._on_field_edited(self.content_type)

    def _on_title_edited(self, text: str) -> None:
        if not self._slug_edited:
            self.slug.setText(propose_slug(text))
            self._slug_check.poke()
        self._on_field_edited(self.title)

    def _on_slug_edited(self, _text: str) -> None:
        self._slug_edited = True
        self._slug_check.poke()
        self._on_field_edited(self.slug)

    def _on_body_changed(self) -> None:
        if self._loading:
            return
        self._body_edited = True
        self._body_panel.show_preview(self._body_value() or "")
        self._on_field_edited(self._body_panel)

    def _on_field_edited(self, editor: QWidget, *_args: Any) -> None:
        if self._loading:
            return
        for name, candidate in self._row_editors.items():
            if candidate is editor and name != "slug":
                self.hide_error(name)
        self._update_dirty()

    def _check_slug(self) -> None:
        slug = self.slug.text().strip()
        problem = slug_problem(slug) if slug else None
        if problem:
            self.show_error("slug", problem)
            return
        self.hide_error("slug")
        if not slug:
            return
        except_id = self._record.id if self._record else None
        # The latest check wins: the slug may change again while this one is answered.
        on_checked, on_failed = self._slug_check.wrap(
            partial(self._on_slug_checked, slug), self._on_slug_check_failed)
        self._db.read(slug_taken, slug, except_id, on_success=on_checked,
                      on_failure=on_failed, context=self)

    def _on_slug_check_failed(self, exc: BaseException) -> None:
        # Only advice while typing (saving checks again): logged, and the field says nothing.
        report_read_failure(self._db, "whether the slug is free", exc)

    def _on_slug_checked(self, slug: str, taken: bool) -> None:
        if slug != self.slug.text().strip():
            return  # the slug changed again while this was checked
        if taken:
            self.show_error("slug", f"“{slug}” is already used by another item.")
        else:
            self.hide_error("slug")

    # -- internals ----------------------------------------------------------------------
    def _fill(self, values: Mapping[str, Any]) -> None:
        """Write the fields named in ``values`` (record values, or ``values()``'s own)."""
        for name, combo in (("content_type", self.content_type),
                            ("visibility", self.visibility)):
            if name in values:
                combo.setCurrentIndex(max(combo.findData(values[name]), 0))
        if "creator_id" in values:
            self.creator.select(values["creator_id"])
        for name, line in (("title", self.title), ("slug", self.slug),
                           ("media_url", self.media_url), ("thumbnail_url", self.thumbnail_url),
                           ("media_duration_seconds", self.duration), ("price", self.price)):
            if name in values:
                line.setText("" if values[name] is None else str(values[name]))
                line.setCursorPosition(0)  # show the start of long URLs, not the end
        if "description" in values:
            self.description.setPlainText(values["description"] or "")
        if "content_body" in values:
            self.body.setHtml(values["content_body"] or "")
        if "category" in values:
            self.category.setEditText(values["category"] or "")
        if "tags" in values:
            self.tags.set_tags(values["tags"] or ())
        if "series_id" in values:
            self.series.select(values["series_id"])

    def _body_value(self) -> str | None:
        if not self._body_edited and self._record is not None:
            return self._record.content_body  # untouched: keep the stored HTML as it was
        return self._body_panel.html() or None

    def _show_type_rows(self) -> None:
        kind = self.content_type.currentData()
        for name in MEDIA_FIELDS:
            self.set_row_visible(name, kind in ("video", "audio"))
        for name in BODY_FIELDS:
            self.set_row_visible(name, kind == "written")

    def _update_dirty(self) -> None:
        dirty = self._record is None or self.values() != self._baseline
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)


def _as_uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
