"""Bulk actions on the catalog's selected items: preview, then apply all or nothing.

The dialog previews the chosen action as soon as it is chosen: how many items change, how
many are already so, and which cannot be changed, with the reason. The apply button names
the action and the count, and stays disabled while any item is refused; applying runs the
whole action (:class:`~data.operations.catalog.ApplyBulk`) in one transaction, which checks
every item again under row locks, and announces the changed items to every page.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from data.models.content import CONTENT_VISIBILITIES
from data.operations.catalog import ApplyBulk
from data.services.catalog import BulkPreview, BulkRefusedError, preview_bulk
from desktop.database import Database
from desktop.pages.content_editor import VISIBILITY_LABELS
from desktop.present_error import present_error
from widgets.banner import ERROR_STYLE
from widgets.dialogs import ask
from widgets.latest import DebouncedRequest

ACTIONS = (("publish", "Publish"), ("archive", "Archive"), ("set_category", "Set category"),
           ("set_visibility", "Set visibility"))
VERBS = {"publish": "Publish", "archive": "Archive", "set_category": "Set category of",
         "set_visibility": "Set visibility of"}
PREVIEW_DELAY_MS = 250
STATUS_LABELS = {"draft": "Draft", "published": "Published", "archived": "Archived"}
# What a visibility change means for people, by (from, to); shown next to the count.
VISIBILITY_EFFECTS = {
    ("purchased_only", "public"): "anyone can watch them free",
    ("members_only", "public"): "anyone can watch them free, not only subscribers",
    ("private", "public"): "anyone can find and watch them",
    ("purchased_only", "members_only"): "subscribers can watch them without buying",
}
DESTRUCTIVE_VISIBILITY = {("purchased_only", "public"), ("members_only", "public"),
                          ("purchased_only", "members_only")}


def _value_label(action: str, value: object) -> str:
    if action == "set_visibility":
        return VISIBILITY_LABELS.get(str(value), str(value))
    if action in ("publish", "archive"):
        return STATUS_LABELS.get(str(value), str(value))
    return str(value) if value else "(no category)"


def describe_changes(preview: BulkPreview) -> list[str]:
    """One line per current value: "5 items: Purchased only (buyers) → Public (anyone):
    anyone can watch them free", with the editor's labels."""
    groups: dict[object, int] = {}
    news: dict[object, object] = {}
    for c in preview.changes:
        groups[c.old] = groups.get(c.old, 0) + 1
        news[c.old] = c.new
    lines = []
    for old, n in groups.items():
        line = (f"{n:,} item{'s' if n != 1 else ''}: {_value_label(preview.action, old)} → "
                f"{_value_label(preview.action, news[old])}")
        effect = VISIBILITY_EFFECTS.get((old, news[old])) if (
            preview.action == "set_visibility") else None
        lines.append(line + (f": {effect}" if effect else ""))
    return lines


def is_destructive(preview: BulkPreview) -> bool:
    """Paid items opened up for free, or published items archived: ask first."""
    if preview.action == "set_visibility":
        return any((c.old, c.new) in DESTRUCTIVE_VISIBILITY for c in preview.changes)
    if preview.action == "archive":
        return any(c.old == "published" for c in preview.changes)
    return False


class BulkActionsDialog(QDialog):
    """Choose an action for the selected items, see its preview, apply it.

    Signals:
        bulk_applied(object): the :class:`BulkPreview` of what was changed.
    """

    bulk_applied = Signal(object)

    def __init__(self, database: Database, content_ids: Sequence[uuid.UUID],
                 categories: Sequence[str] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Bulk actions")
        self.setMinimumSize(560, 420)
        self._db = database
        self.content_ids = list(content_ids)
        self.preview: BulkPreview | None = None
        # Typing a category previews once typing pauses, not once per letter.
        self._preview = DebouncedRequest(self.request_preview, PREVIEW_DELAY_MS, self)

        self.action = QComboBox()
        for value, label in ACTIONS:
            self.action.addItem(label, value)
        self.category = QComboBox()
        self.category.setEditable(True)
        self.category.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.category.addItems(list(categories))
        self.category.setEditText("")
        self.category.lineEdit().setPlaceholderText("blank clears the category")
        self.visibility = QComboBox()
        for v in CONTENT_VISIBILITIES:
            self.visibility.addItem(VISIBILITY_LABELS.get(v, v), v)
        self.summary = QLabel("Previewing…")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.refused = QTableWidget(0, 2)
        self.refused.setHorizontalHeaderLabels(["Cannot be changed", "Reason"])
        self.refused.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.refused.verticalHeader().setVisible(False)
        self.refused.horizontalHeader().setStretchLastSection(True)
        self.refused.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = QPushButton("&Apply")
        self.apply_button.setEnabled(False)
        database.rights.guard(self.apply_button, "edit_catalog")
        # ActionRole, not Accept: QDialogButtonBox would make it the default and Return in
        # the combo boxes would apply. Only a click (or Space) applies.
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ActionRole)
        for button in self.buttons.buttons():
            button.setAutoDefault(False)
            button.setDefault(False)
        self.apply_button.clicked.connect(self._on_apply_clicked)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self._label("&Action:", self.action), self.action)
        self._category_label = self._label("&Category:", self.category)
        self._visibility_label = self._label("&Visibility:", self.visibility)
        form.addRow(self._category_label, self.category)
        form.addRow(self._visibility_label, self.visibility)
        self._form = form
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(self.content_ids):,} item"
                                f"{'s' if len(self.content_ids) != 1 else ''} selected."))
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.refused, 4)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

        self.action.currentIndexChanged.connect(self._on_action_changed)
        self.category.editTextChanged.connect(lambda _t: self._on_category_edited())
        self.visibility.currentIndexChanged.connect(lambda _i: self.request_preview())
        self._on_action_changed()

    # -- public API ---------------------------------------------------------------------
    def chosen(self) -> tuple[str, object]:
        action = self.action.currentData()
        if action == "set_category":
            return action, self.category.currentText()
        if action == "set_visibility":
            return action, self.visibility.currentData()
        return action, None

    def request_preview(self) -> None:
        """Preview the chosen action; the latest choice's answer wins."""
        action, value = self.chosen()
        self.preview = None
        self.apply_button.setEnabled(False)
        self.summary.setText("Previewing…")
        self.message.setText("")
        on_loaded, on_failed = self._preview.wrap(self.show_preview, self._on_preview_failed)
        self._db.read(preview_bulk, self.content_ids, action, value, on_success=on_loaded,
                      on_failure=on_failed, context=self)

    # -- slots --------------------------------------------------------------------------
    def _on_category_edited(self) -> None:
        self._preview.poke()  # a preview in flight is for the old text: dropped
        self.preview = None
        self.apply_button.setEnabled(False)

    def _on_action_changed(self, *_args) -> None:
        action = self.action.currentData()
        self._form.setRowVisible(self.category, action == "set_category")
        self._form.setRowVisible(self.visibility, action == "set_visibility")
        self.request_preview()

    def _on_preview_failed(self, exc: BaseException) -> None:
        present_error(self._db, exc, banner=self.message.setText,
                      fields=self._show_field_errors)

    def _show_field_errors(self, errors: dict) -> None:
        """Bad input (a category too long, say): said instead of a preview; Apply waits."""
        self.summary.setText("")
        self.message.setText(" ".join(errors.values()))
        self.apply_button.setEnabled(False)

    def show_preview(self, preview: BulkPreview) -> None:
        self.preview = preview
        n, same, bad = len(preview.changes), len(preview.unchanged), len(preview.refused)
        parts = [f"<b>{n:,} item{'s' if n != 1 else ''} will change.</b>"]
        if same:
            parts.append(f"{same:,} already {'are' if same != 1 else 'is'} so.")
        if bad:
            parts.append(f"<b style='color:#b00020'>{bad:,} cannot be changed</b> (listed "
                         "below): fix or deselect them; nothing is changed while any is "
                         "refused.")
        if n:
            parts.append("<br>" + "<br>".join(html.escape(line)
                                              for line in describe_changes(preview)))
        if n and not bad:
            sample = ", ".join(html.escape(c.title) for c in preview.changes[:3])
            parts.append(f"For example: {sample}{'…' if n > 3 else ''}.")
        self.summary.setText(" ".join(parts))
        self.refused.setRowCount(bad)
        for i, r in enumerate(preview.refused):
            self.refused.setItem(i, 0, QTableWidgetItem(r.title))
            self.refused.setItem(i, 1, QTableWidgetItem(r.reason))
        self.refused.resizeRowsToContents()
        self.refused.setColumnWidth(0, 200)
        self.refused.setVisible(bad > 0)
        self.apply_button.setEnabled(preview.can_apply)
        self.apply_button.setText(
            f"&{VERBS[preview.action]} {n:,} item{'s' if n != 1 else ''}")

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()  # Return never applies a bulk change
            return
        super().keyPressEvent(event)

    def _on_apply_clicked(self) -> None:
        preview = self.preview
        if preview is None or not preview.can_apply:
            return
        if is_destructive(preview):
            self.apply_button.setEnabled(False)
            ask(self, title="Confirm the bulk change",
                text="\n".join(describe_changes(preview)),
                informative="This cannot be undone in one step.",
                confirm_label=VERBS[preview.action].split()[0] + f" {len(preview.changes):,}",
                on_confirmed=lambda: self._apply(preview),
                on_declined=lambda: self.apply_button.setEnabled(self.preview is preview))
            return
        self._apply(preview)

    def _apply(self, preview: BulkPreview) -> None:
        if preview is not self.preview:
            return  # the choice changed while the question was open
        # What was previewed is what is applied.
        self.apply_button.setEnabled(False)
        self.summary.setText(f"{VERBS[preview.action]} {len(preview.changes):,} items…")
        self._db.perform(ApplyBulk(tuple(self.content_ids), preview.action, preview.value),
                         on_success=self._on_applied, on_failure=self._on_apply_failed,
                         context=self)

    def _on_applied(self, plan: BulkPreview) -> None:
        self.bulk_applied.emit(plan)
        self.accept()

    def _on_apply_failed(self, exc: BaseException) -> None:
        self.apply_button.setEnabled(True)  # a refusal (lost connection, say): try again
        present_error(self._db, exc, banner=self.message.setText,
                      fields=self._show_field_errors, on_conflict=self._on_refused)

    def _on_refused(self, exc: BulkRefusedError) -> None:
        """Refused under the locks: the plan as it is now says why."""
        self.show_preview(exc.current)
        self.message.setText("Something changed since the preview; nothing was changed.")

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label
