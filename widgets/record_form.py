"""A form for editing one record, built from field descriptions.

The form collects values and shows errors; it does not decide what is valid. Business rules
live in the services, which raise errors carrying a field -> message map; the caller passes
that map to ``set_errors()``. Client-side the form only enforces what the widgets can
(``max_length`` on single-line fields) and says at once when typed text cannot be read as
the field's kind (a money amount, a whole number, a time): that text stays as typed and
``values()`` returns it as text, so a save sent anyway gets the service's own message.

Fields may be grouped in :class:`Section` s, which a condition on the values can hide (an
offering's schedule only for recurring offerings). The typed kinds' editors live in
:mod:`widgets.form_editors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from widgets.banner import ERROR_STYLE
from widgets.form_editors import (
    NOTE_STYLE,
    ChipsEditor,
    DateTimeEditor,
    FieldEditor,
    IntegerEditor,
    JsonEditor,
    MoneyEditor,
    RelatedEditor,
    RichTextEditor,
    SearchCallback,
)
from widgets.message_line import field_error_label

__all__ = ["FieldKind", "FieldSpec", "RecordForm", "Section", "clash_errors", "edits_to_keep",
           "kept_edits_message"]

FieldKind = Literal["text", "multiline", "choice", "bool", "readonly", "money", "integer",
                    "datetime", "date", "chips", "related", "json", "richtext"]
_KINDS = frozenset(get_args(FieldKind))
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a RecordForm.

    ``choices`` are ``(value, label)`` pairs for kind "choice" (and suggestions for
    "chips"). ``required`` decides how an empty text field is reported by ``values()``: ""
    when required (so the service can say it is missing), None when optional.

    The typed kinds and what they read:

    - "money": a Decimal with ``scale`` places, ``currency`` shown beside it, at most
      ``maximum``; never negative unless ``minimum`` says so.
    - "integer": an int within ``minimum``..``maximum``.
    - "datetime" / "date": a naive UTC datetime (shown in the form's time zone) / a date.
    - "chips": a list of strings.
    - "related": the chosen record's id; ``search(text, deliver)`` finds records (see
      :data:`~widgets.form_editors.SearchCallback`). ``set_values`` may give ``(id, label)``
      so the label shows.
    - "json": a dict edited through ``subfields``; keys they do not name are kept.
    - "richtext": an HTML string ("" or None when empty, like "multiline").
    """

    name: str
    label: str
    kind: FieldKind = "text"
    choices: Sequence[tuple[str, str]] = ()
    max_length: int | None = None
    placeholder: str = ""
    required: bool = False
    currency: str = "usd"
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    scale: int = 2
    subfields: Sequence[FieldSpec] = ()
    search: SearchCallback | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for field {self.name!r}")


@dataclass(frozen=True)
class Section:
    """A titled group of fields; ``visible_when(values)`` (every field's current value)
    decides whether it shows, re-asked whenever a value changes. Hidden fields keep their
    values but are not in ``changed_values()``: they are not saved."""

    title: str
    fields: Sequence[FieldSpec]
    visible_when: Callable[[dict[str, Any]], bool] | None = None


class RecordForm(QWidget):
    """Label/editor rows with an error line under each editor, optionally in sections.

    Ctrl+Return (or Ctrl+Enter) in any field submits. Plain Return does not: in a dialog it
    already activates the default button, and submitting twice would send the write twice.
    Times are shown and typed in ``time_zone`` (the platform's; UTC if not given).

    Signals:
        dirty_changed(bool): the values started or stopped differing from the loaded ones.
        submitted(dict): the user asked to save (Ctrl+Return) or ``submit()`` was called;
            the argument is ``values()``. Not emitted while read-only.
        value_edited(str): the user changed the named field.
    """

    dirty_changed = Signal(bool)
    submitted = Signal(dict)
    value_edited = Signal(str)

    def __init__(self, fields: Sequence[FieldSpec | Section], parent: QWidget | None = None,
                 *, time_zone: ZoneInfo | None = None) -> None:
        super().__init__(parent)
        specs = [spec for item in fields
                 for spec in (item.fields if isinstance(item, Section) else (item,))]
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        self._time_zone = time_zone or _UTC
        self._specs = {spec.name: spec for spec in specs}
        self._editors: dict[str, QWidget] = {}
        self._error_labels: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}
        self._cells: dict[str, QWidget] = {}
        self._sections: list[tuple[Section, QLabel]] = []
        self._hidden: set[str] = set()
        self._read_only = False
        self._loading = False
        self._dirty = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._form_error_label = self._make_error_label()
        self._form_error_label.setObjectName("form_error")
        outer.addWidget(self._form_error_label)

        self._layout = layout = QFormLayout()
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        outer.addLayout(layout)
        outer.addStretch(1)

        self._single_line_height = QLineEdit().sizeHint().height()
        for item in fields:
            if isinstance(item, Section):
                title = QLabel(item.title, self)
                title.setObjectName("section_title")
                title.setStyleSheet("font-weight: bold; margin-top: 8px;")
                layout.addRow(title)
                self._sections.append((item, title))
                for spec in item.fields:
                    self._add_row(spec)
            else:
                self._add_row(item)

        self._update_sections()
        self._baseline = self.values()

    # -- public API ---------------------------------------------------------------------------

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    @property
    def is_read_only(self) -> bool:
        return self._read_only

    def field_widget(self, name: str) -> QWidget:
        """The editor widget for ``name`` (KeyError for unknown names): a Qt input for the
        plain kinds, a :class:`~widgets.form_editors.FieldEditor` for the typed ones."""
        return self._editors[name]

    def is_field_shown(self, name: str) -> bool:
        """False while ``name`` sits in a section its condition hides."""
        return name not in self._hidden

    def error_text(self, name: str) -> str:
        """The error shown under ``name``, or "" if none is shown."""
        label = self._error_labels[name]
        return label.text() if not label.isHidden() and label.property("error") else ""

    def note_text(self, name: str) -> str:
        """The note shown under ``name`` (how an unusual text was read), or ""."""
        label = self._error_labels[name]
        return label.text() if not label.isHidden() and not label.property("error") else ""

    def form_error_text(self) -> str:
        """The form-level error at the top (for messages not tied to a field), or ""."""
        label = self._form_error_label
        return label.text() if not label.isHidden() else ""

    def problems(self) -> dict[str, str]:
        """The shown fields whose typed text cannot be read as their kind, with the reason
        (a page may refuse to save while there are any)."""
        found = {}
        for name, editor in self._editors.items():
            if name in self._hidden or not isinstance(editor, FieldEditor):
                continue
            if (problem := editor.problem()) is not None:
                found[name] = problem
            if isinstance(editor, JsonEditor) and isinstance(editor.sub_form, RecordForm):
                found.update({f"{name}.{sub}": message
                              for sub, message in editor.sub_form.problems().items()})
        return found

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Load a record: fill every field (missing keys mean empty), clear errors, not dirty."""
        self._loading = True
        try:
            for name, spec in self._specs.items():
                self._write_editor(spec, self._editors[name], values.get(name))
        finally:
            self._loading = False
        self._update_sections()
        self.clear_errors()
        self._baseline = self.values()
        self._update_dirty()

    def rebase(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Load a newer version of the record and keep the unsaved edits on top of it.

        For when someone else saved the record while this person was editing: their version
        becomes what the form compares against, and the fields this person changed keep
        what they typed. The fields both changed differently are marked under them
        (:func:`clash_errors`) and returned, each with the other person's value (the form
        shows this person's). See :func:`edits_to_keep`.
        """
        old_baseline, mine = dict(self._baseline), self.changed_values()
        self.set_values(values)
        keep, clashes = edits_to_keep(old_baseline, mine, self._baseline)
        self._loading = True
        try:
            for name, value in keep.items():
                self._write_editor(self._specs[name], self._editors[name], value)
        finally:
            self._loading = False
        self._update_sections()
        self._update_dirty()
        if clashes:
            self.set_errors(clash_errors(clashes))
        for name in keep:
            if name not in clashes:
                self._show_own_message(name)  # kept text that cannot be read says so again
        return clashes

    def values(self) -> dict[str, Any]:
        """Current values of the editable fields, hidden sections' included; strings
        stripped, None for empty optional."""
        return {
            name: self._read_editor(spec, self._editors[name])
            for name, spec in self._specs.items()
            if spec.kind != "readonly"
        }

    def changed_values(self) -> dict[str, Any]:
        """The shown editable fields whose value differs from what ``set_values()`` loaded."""
        baseline = self._baseline
        return {
            name: value
            for name, value in self.values().items()
            if name not in self._hidden and (name not in baseline or baseline[name] != value)
        }

    def set_errors(self, errors: Mapping[str | None, str]) -> None:
        """Show messages under the named fields; others go to the form-level label.

        The first field (in form order) with an error gets the keyboard focus, and each
        message also becomes its editor's accessible description for screen readers. A
        "json" field's subfields are named ``field.subfield``. A field in a hidden section
        cannot show its message: it goes to the form-level label after the field's label.
        """
        self.clear_errors()
        form_messages = []
        nested: dict[str, dict[str | None, str]] = {}
        for name, message in errors.items():
            head, _dot, rest = (name or "").partition(".")
            if name in self._error_labels and name not in self._hidden:
                self._show_field_error(name, message)
            elif name in self._error_labels:
                form_messages.append(f"{self._specs[name].label.replace('&', '')}: {message}")
            elif rest and isinstance(self._editors.get(head), JsonEditor):
                nested.setdefault(head, {})[rest] = message
            else:
                # The key is an internal name the user never sees; the message must stand
                # on its own.
                form_messages.append(message)
        for head, sub_errors in nested.items():
            self._editors[head].sub_form.set_errors(sub_errors)
        if form_messages:
            self._form_error_label.setText("\n".join(form_messages))
            self._form_error_label.show()
        for name in self._specs:
            if ((name in errors or name in nested) and name not in self._hidden
                    and self._editors[name].isEnabled()):
                if name in errors:
                    self._editors[name].setFocus(Qt.FocusReason.OtherFocusReason)
                break

    def clear_errors(self) -> None:
        for name in self._error_labels:
            self._hide_field_error(name)
        for editor in self._editors.values():
            if isinstance(editor, JsonEditor):
                editor.sub_form.clear_errors()
        self._form_error_label.clear()
        self._form_error_label.hide()

    def set_read_only(self, read_only: bool) -> None:
        """Lock or unlock every editor (e.g. while a save is in flight)."""
        self._read_only = read_only
        for name, spec in self._specs.items():
            editor = self._editors[name]
            if isinstance(editor, FieldEditor):
                editor.set_read_only(read_only)
            elif isinstance(editor, QLineEdit | QPlainTextEdit):
                editor.setReadOnly(read_only)
            elif spec.kind != "readonly":
                # Combo boxes and check boxes have no read-only mode.
                editor.setEnabled(not read_only)

    def submit(self) -> None:
        """Emit ``submitted`` with the current values, unless the form is read-only."""
        if not self._read_only:
            self.submitted.emit(self.values())

    # -- Qt overrides -------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # An event filter rather than a QShortcut: shortcuts need an active window, which
        # embedded forms (and offscreen tests) do not always have.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            is_enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            with_control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if is_enter and with_control:
                self.submit()
                return True
        return super().eventFilter(watched, event)

    # -- slots --------------------------------------------------------------------------------

    @Slot()
    def _on_editor_edited(self) -> None:
        if self._loading:
            return
        editor = self.sender()
        edited_name = None
        for name, candidate in self._editors.items():
            if candidate is editor:
                edited_name = name
                # The user is fixing this field: the old message no longer describes it.
                self._hide_field_error(name)
                self._show_own_message(name)
                break
        self._update_sections()
        self._update_dirty()
        if edited_name is not None:
            self.value_edited.emit(edited_name)

    # -- internals ----------------------------------------------------------------------------

    def _add_row(self, spec: FieldSpec) -> None:
        editor = self._make_editor(spec)
        editor.setObjectName(f"field_{spec.name}")
        if not isinstance(editor, FieldEditor):
            # Short editors (check box, read-only text) get a full line too, centred. (A
            # typed editor lays out its own inputs: a fixed minimum would let the layout
            # squeeze it below them.)
            editor.setMinimumHeight(min(self._single_line_height, editor.maximumHeight()))
        self._editors[spec.name] = editor

        error_label = self._make_error_label()
        error_label.setObjectName(f"error_{spec.name}")
        self._error_labels[spec.name] = error_label

        cell = QWidget(self)
        # Rows take the height they need; spare height goes to the stretch at the bottom
        # instead of opening gaps around tall editors.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        policy.setHeightForWidth(editor.sizePolicy().hasHeightForWidth())
        cell.setSizePolicy(policy)
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.setSpacing(2)
        cell_layout.addWidget(editor)
        cell_layout.addWidget(error_label)
        self._cells[spec.name] = cell

        label = QLabel(f"{spec.label}:", self)
        label.setBuddy(editor)
        # Exactly one editor line tall: QFormLayout puts a label that cannot grow at the
        # top of its row, so the text lines up with the editor's first line whatever
        # sits below it (a taller editor, an error message).
        label.setFixedHeight(self._single_line_height)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._labels[spec.name] = label
        self._layout.addRow(label, cell)

        editor.setAccessibleName(spec.label.replace("&", ""))
        if spec.kind != "readonly":
            # Typed editors are made of several inputs: Ctrl+Return works in each.
            for widget in (editor, *editor.findChildren(QWidget)):
                widget.installEventFilter(self)

    def _make_error_label(self) -> QLabel:
        label = field_error_label()
        label.setParent(self)
        label.setProperty("error", True)
        return label

    def _make_editor(self, spec: FieldSpec) -> QWidget:
        typed = self._make_typed_editor(spec)
        if typed is not None:
            typed.edited.connect(self._on_editor_edited)
            return typed
        if spec.kind == "text":
            line_edit = QLineEdit(self)
            if spec.max_length is not None:
                line_edit.setMaxLength(spec.max_length)
            line_edit.setPlaceholderText(spec.placeholder)
            line_edit.textEdited.connect(self._on_editor_edited)
            return line_edit
        if spec.kind == "multiline":
            text_edit = QPlainTextEdit(self)
            text_edit.setPlaceholderText(spec.placeholder)
            text_edit.setTabChangesFocus(True)
            line_height = text_edit.fontMetrics().lineSpacing()
            text_edit.setFixedHeight(line_height * 4 + 12)
            text_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            text_edit.textChanged.connect(self._on_editor_edited)
            return text_edit
        if spec.kind == "choice":
            combo = QComboBox(self)
            for value, label in spec.choices:
                combo.addItem(label, value)
            if spec.placeholder:
                combo.setPlaceholderText(spec.placeholder)
            combo.currentIndexChanged.connect(self._on_editor_edited)
            return combo
        if spec.kind == "bool":
            check_box = QCheckBox(self)
            check_box.toggled.connect(self._on_editor_edited)
            return check_box
        value_label = QLabel(self)
        value_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        value_label.setTextFormat(Qt.TextFormat.PlainText)
        value_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return value_label

    def _make_typed_editor(self, spec: FieldSpec) -> FieldEditor | None:
        kind, placeholder = spec.kind, spec.placeholder
        if kind == "money":
            return MoneyEditor(currency=spec.currency, minimum=spec.minimum,
                               maximum=spec.maximum, scale=spec.scale,
                               placeholder=placeholder, parent=self)
        if kind == "integer":
            return IntegerEditor(minimum=_as_int(spec.minimum), maximum=_as_int(spec.maximum),
                                 placeholder=placeholder, parent=self)
        if kind in ("datetime", "date"):
            return DateTimeEditor(time_zone=self._time_zone, date_only=kind == "date",
                                  placeholder=placeholder, parent=self)
        if kind == "chips":
            return ChipsEditor(choices=spec.choices, placeholder=placeholder,
                               max_length=spec.max_length, parent=self)
        if kind == "related":
            return RelatedEditor(search=spec.search, placeholder=placeholder, parent=self)
        if kind == "json":
            sub_form = RecordForm(spec.subfields, time_zone=self._time_zone)
            return JsonEditor(sub_form, parent=self)
        if kind == "richtext":
            return RichTextEditor(placeholder=placeholder, required=spec.required, parent=self)
        return None

    def _write_editor(self, spec: FieldSpec, editor: QWidget, value: Any) -> None:
        text = "" if value is None else str(value)
        if isinstance(editor, FieldEditor):
            editor.set_value(value)
        elif isinstance(editor, QLineEdit):
            editor.setText(text)
            editor.setCursorPosition(0)
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(text)
        elif isinstance(editor, QComboBox):
            self._select_choice(spec, editor, value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QLabel):
            editor.setText(text)

    def _select_choice(self, spec: FieldSpec, combo: QComboBox, value: Any) -> None:
        # Drop a stand-in added for an earlier record's unknown value.
        while combo.count() > len(spec.choices):
            combo.removeItem(combo.count() - 1)
        if value is None:
            combo.setCurrentIndex(-1)
            return
        index = combo.findData(value)
        if index < 0:
            # A value the choices do not know (e.g. a status added later on the server):
            # show it as it is rather than silently displaying a different choice.
            combo.addItem(str(value), value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def _read_editor(self, spec: FieldSpec, editor: QWidget) -> Any:
        if isinstance(editor, FieldEditor):
            return editor.value()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QComboBox):
            return None if editor.currentIndex() < 0 else editor.currentData()
        if isinstance(editor, QLineEdit):
            text = editor.text().strip()
        elif isinstance(editor, QPlainTextEdit):
            text = editor.toPlainText().strip()
        else:
            return None
        if not text and not spec.required:
            return None
        return text

    def _show_own_message(self, name: str) -> None:
        """Show what a typed editor says about its text (a problem or a note), if anything."""
        editor = self._editors[name]
        if not isinstance(editor, FieldEditor):
            return
        if (problem := editor.problem()) is not None:
            self._show_field_error(name, problem)
        elif (note := editor.note()) is not None:
            label = self._error_labels[name]
            label.setText(note)
            label.setStyleSheet(NOTE_STYLE)
            label.setProperty("error", False)
            label.show()

    def _show_field_error(self, name: str, message: str) -> None:
        label = self._error_labels[name]
        label.setText(message)
        label.setStyleSheet(ERROR_STYLE)
        label.setProperty("error", True)
        label.show()
        editor = self._editors[name]
        editor.setAccessibleDescription(message)
        self._set_invalid_property(editor, True)

    def _hide_field_error(self, name: str) -> None:
        label = self._error_labels[name]
        if label.isHidden():
            return
        label.clear()
        label.hide()
        editor = self._editors[name]
        editor.setAccessibleDescription("")
        self._set_invalid_property(editor, False)

    def _set_invalid_property(self, editor: QWidget, invalid: bool) -> None:
        # A dynamic property lets the application stylesheet outline invalid editors
        # (QLineEdit[invalid="true"]); re-polishing makes the change take effect.
        targets = [editor]
        if isinstance(editor, FieldEditor):
            targets += editor.findChildren(QLineEdit)
        for target in targets:
            target.setProperty("invalid", invalid)
            target.style().unpolish(target)
            target.style().polish(target)

    def _update_sections(self) -> None:
        if not self._sections:
            return
        values = self.values()
        for section, title in self._sections:
            shown = section.visible_when is None or bool(section.visible_when(values))
            self._layout.setRowVisible(title, shown)
            for spec in section.fields:
                self._layout.setRowVisible(self._cells[spec.name], shown)
                if shown:
                    self._hidden.discard(spec.name)
                else:
                    self._hidden.add(spec.name)

    def _update_dirty(self) -> None:
        dirty = bool(self.changed_values())
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)


def _as_int(bound: int | Decimal | None) -> int | None:
    return None if bound is None else int(bound)


def edits_to_keep(before: Mapping[str, Any], mine: Mapping[str, Any],
                  theirs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Three-way merge of one record's fields after a conflicting save.

    ``before`` is what this person loaded, ``mine`` the fields they changed since, ``theirs``
    the record as someone else saved it. Returns the edits to re-apply on top of ``theirs``
    (those that still differ from it) and the clashes: fields both changed to different
    values, with the other person's value.
    """
    keep = {name: value for name, value in mine.items() if theirs.get(name) != value}
    clashes = {name: theirs.get(name) for name in keep
               if theirs.get(name) != before.get(name)}
    return keep, clashes


def clash_errors(clashes: Mapping[str, Any]) -> dict[str, str]:
    """A message for each field both people changed, to show under it."""
    def shown(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        if not text:
            return "empty"
        return f"“{text[:60]}…”" if len(text) > 60 else f"“{text}”"

    return {name: f"Someone else changed this to {shown(value)}. Yours is shown: Save keeps "
                  "yours, Revert takes theirs."
            for name, value in clashes.items()}


def kept_edits_message(conflict: str, clashes: Mapping[str, Any]) -> str:
    """The banner after a conflicting save whose unsaved edits were kept."""
    both = (f" You both changed {len(clashes)} field(s); they are marked."
            if clashes else "")
    return (f"{conflict} Your unsaved changes are kept on top of them.{both} Check and Save "
            "again, or Revert to drop your changes.")
