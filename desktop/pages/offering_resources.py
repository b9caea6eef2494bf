"""An offering's resources: an ordered list (drag, Ctrl+Up/Down or the buttons) whose order
is saved in one transaction; Add… (content picked from the catalog, a file, a link or a
text, with when it is available and when it unlocks) and Remove."""

from __future__ import annotations

import uuid
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from data.operations.offerings import AddResource, RemoveResource, ReorderResources
from data.queries.featured import search_published_content
from data.services.offerings import AVAILABLE_WHEN, RESOURCE_TYPES
from desktop.database import Database
from desktop.formatting import format_value
from desktop.present_error import present_error
from widgets.dialogs import ask, open_dialog
from widgets.message_line import MessageLine, error_html
from widgets.ordered_list import OrderedList
from widgets.record_form import FieldSpec, RecordForm, Section

__all__ = ["AddResourceDialog", "ResourcesPanel"]


def _text(r: tuple) -> str:
    rid, kind, title, when, unlock = r[:5]
    return f"{title} — {kind}, {when}" + (f", unlocks {format_value(unlock)}" if unlock else "")


class ResourcesPanel(QWidget):
    """The resources of the offering shown (``show_resources``)."""

    def __init__(self, database: Database, parent: QWidget | None = None):
        super().__init__(parent)
        self._db = database
        self.offering_id: uuid.UUID | None = None
        self._stored: list[Any] = []
        self.list = OrderedList(removable=True, remove_label="Re&move…")
        self.list.remove_button.clicked.disconnect()  # removing asks first, then writes
        self.list.remove_button.clicked.connect(self.remove_current)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.save_button = QPushButton("Save &order")
        self.add_button = QPushButton("&Add resource…")
        self.save_button.clicked.connect(self.save_order)
        self.add_button.clicked.connect(self.open_add)
        for button in (self.save_button, self.add_button, self.list.remove_button):
            database.rights.guard(button, "edit_offerings")
        self.list.order_changed.connect(self._on_list_order_changed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.question = None
        self._saved_note = ""
        """What a save said: kept when the reload its commit asked for shows the same list."""
        self._update()

    def show_resources(self, offering_id: uuid.UUID | None, resources: tuple = ()) -> None:
        if offering_id != self.offering_id:
            self._saved_note = ""
        self.offering_id = offering_id
        self._stored = [r[0] for r in resources]
        self.list.set_items([(r[0], _text(r)) for r in resources])
        self.note.setText(self._saved_note or ("" if resources else "No resources yet."))
        self._update()

    def _on_list_order_changed(self, _ids) -> None:
        self._saved_note = ""
        self._update()

    def _on_order_saved(self, _result) -> None:
        self._saved_note = "Order saved."
        self.note.setText(self._saved_note)

    def _update(self) -> None:
        self.save_button.setEnabled(self.offering_id is not None
                                    and self.list.ids() != self._stored)
        self.add_button.setEnabled(self.offering_id is not None)

    def save_order(self) -> None:
        if self.offering_id is None:
            return
        self.save_button.setEnabled(False)
        self._db.perform(ReorderResources(self.offering_id, tuple(self.list.ids())),
                         on_success=self._on_order_saved,
                         on_failure=self._failed, context=self)

    def remove_current(self) -> None:
        rid = self.list.current_id()
        if rid is None:
            return
        self._saved_note = ""
        self.question = ask(self, title="Remove resource", text="Remove this resource?",
                            informative="Customers no longer see it in the portal.",
                            confirm_label="Remove resource",
                            on_confirmed=lambda: self._db.perform(
                                RemoveResource(rid), on_failure=self._failed, context=self))

    def open_add(self) -> AddResourceDialog | None:
        if self.offering_id is None:
            return None
        self._saved_note = ""
        return open_dialog(AddResourceDialog(self._db, self.offering_id, self))

    def _failed(self, exc: BaseException) -> None:
        self._update()
        present_error(self._db, exc, banner=lambda text: self.note.setText(error_html(text)))


class AddResourceDialog(QDialog):
    """One new resource, checked by the service (field errors under the fields)."""

    def __init__(self, database: Database, offering_id: uuid.UUID,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add a resource")
        self.setMinimumWidth(520)
        self._db = database
        self.offering_id = offering_id

        def search(typed: str, deliver) -> None:
            database.read(lambda s: [(i.id, i.title) for i in search_published_content(s, typed)],
                          on_success=deliver, context=self)

        def of(kind):
            return lambda v: v.get("resource_type") == kind
        self.form = RecordForm([
            FieldSpec("resource_type", "&Type", "choice",
                      choices=tuple((t, t) for t in RESOURCE_TYPES)),
            FieldSpec("title", "T&itle", "text", max_length=500, required=True),
            FieldSpec("description", "&Description", "multiline", max_length=20_000),
            Section("Content", [FieldSpec("content_id", "Content", "related", search=search)],
                    visible_when=of("content")),
            Section("File", [FieldSpec("file_url", "File URL", "text", max_length=2000)],
                    visible_when=of("file")),
            Section("Link", [FieldSpec("link_url", "Link URL", "text", max_length=2000)],
                    visible_when=of("link")),
            Section("Text", [FieldSpec("text_content", "Text", "multiline",
                                       max_length=20_000)], visible_when=of("text")),
            FieldSpec("available_when", "A&vailable", "choice",
                      choices=tuple((w, w) for w in AVAILABLE_WHEN)),
            FieldSpec("unlock_at", "&Unlocks at", "datetime"),
        ])
        self.form.set_values({"resource_type": "link", "available_when": "during"})
        self.message = MessageLine()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("&Add", QDialogButtonBox.ButtonRole.AcceptRole)
        database.rights.guard(self.add_button, "edit_offerings")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def submit(self) -> None:
        self.form.clear_errors()
        self._db.perform(AddResource(self.offering_id, self.form.values()),
                         on_success=lambda _r: self.accept(), context=self,
                         on_failure=lambda exc: present_error(
                             self._db, exc, fields=self.form.set_errors,
                             banner=self.message.say_error))
