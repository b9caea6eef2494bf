"""A hand-built form's rows: each editor with its label and an error line under it.

For forms a :class:`~widgets.record_form.RecordForm` cannot describe (chips, rich text,
rows shown by type). :class:`FormRows` keeps the labels, the error lines and a line at the
top for errors no field owns; it shows a service's field errors (``set_errors``) and knows
nothing about what is valid.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from widgets.message_line import field_error_label

__all__ = ["FormRows"]


class FormRows(QWidget):
    """Rows added with :meth:`add_row`, under a line for errors of no field."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        # A grid, not a QFormLayout: QFormLayout shares a row's height out wrongly when a
        # field's wrapped error line needs two lines (the line was cut off).
        self.form = QGridLayout()
        self.form.setColumnStretch(1, 1)
        self.form_error = field_error_label()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.form_error)
        layout.addLayout(self.form)
        layout.addStretch(1)  # spare height under the rows, unless a shown row grows
        self._outer = layout
        self._cells: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._labels: dict[str, QLabel] = {}
        self._grow_rows: dict[str, int] = {}
        self._line_height = QLineEdit().sizeHint().height()

    def add_row(self, name: str, label: str, editor: QWidget, *,
                focus: QWidget | None = None, grow: bool = False) -> None:
        """A row ``label`` (with its mnemonic) for ``editor``; ``focus`` is what the label
        and an error focus (default: the editor); ``grow``: the row takes spare height."""
        caption = QLabel(label + ":")
        caption.setBuddy(focus or editor)
        # Level with the editor's first line, as a form layout puts it.
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        caption.setMinimumHeight(min((focus or editor).sizeHint().height(), self._line_height))
        cell = QWidget()
        cell.setSizePolicy(QSizePolicy.Policy.Preferred,
                           QSizePolicy.Policy.Expanding if grow else QSizePolicy.Policy.Maximum)
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(editor)
        error = field_error_label(name)
        box.addWidget(error)
        editor.setObjectName(f"field_{name}")
        editor.setAccessibleName(label.replace("&", ""))
        self._cells[name], self._errors[name], self._labels[name] = cell, error, caption
        row = self.form.rowCount()
        self.form.addWidget(caption, row, 0,
                            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.addWidget(cell, row, 1)
        if grow:
            self._grow_rows[name] = row
            self.form.setRowStretch(row, 1)
            self._update_stretch()

    def error_label(self, name: str) -> QLabel:
        """The line under the row where its error is said."""
        return self._errors[name]

    def cell(self, name: str) -> QWidget:
        """The row's editor with its error line (what is shown or hidden)."""
        return self._cells[name]

    def set_row_visible(self, name: str, visible: bool) -> None:
        """Show or hide the whole row (label, editor and error line)."""
        self._labels[name].setVisible(visible)
        self._cells[name].setVisible(visible)
        if name in self._grow_rows:  # a hidden row takes no spare height
            self.form.setRowStretch(self._grow_rows[name], 1 if visible else 0)
            self._update_stretch()

    def _update_stretch(self) -> None:
        """The rows take the spare height when a shown row grows; else it stays under them."""
        grows = any(not self._cells[name].isHidden() for name in self._grow_rows)
        self._outer.setStretch(1, 1 if grows else 0)  # the rows
        self._outer.setStretch(2, 0 if grows else 1)  # the space under them

    def row_visible(self, name: str) -> bool:
        """Whether the row is shown (its editor is not hidden)."""
        return not self._cells[name].isHidden()

    def set_errors(self, errors: Mapping[str | None, str]) -> None:
        """Messages under the named fields; the others at the top. Focus the first field
        (in row order) that has one."""
        self.clear_errors()
        loose = []
        for name, message in errors.items():
            if name in self._errors:
                self.show_error(name, message)
            else:
                loose.append(message)
        if loose:
            self.form_error.setText("\n".join(loose))
            self.form_error.show()
        for name in self._cells:
            if name in errors and self._errors[name].isVisible():
                self._labels[name].buddy().setFocus(Qt.FocusReason.OtherFocusReason)
                break

    def error_text(self, name: str) -> str:
        """The error shown under the row ("" when none)."""
        label = self._errors[name]
        return label.text() if not label.isHidden() else ""

    def clear_errors(self) -> None:
        """Hide every error line and the top line."""
        for name in self._errors:
            self.hide_error(name)
        self.form_error.clear()
        self.form_error.hide()

    def show_error(self, name: str, message: str) -> None:
        """Say ``message`` under the row (and to screen readers)."""
        self._errors[name].setText(message)
        self._errors[name].show()
        self._cells[name].setAccessibleDescription(message)

    def hide_error(self, name: str) -> None:
        """Take the row's error away."""
        if not self._errors[name].isHidden():
            self._errors[name].clear()
            self._errors[name].hide()
            self._cells[name].setAccessibleDescription("")
