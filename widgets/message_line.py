"""A dialog's message line (what is happening, what went wrong), the error line under a
field, and growing a dialog to the height its wrapped messages need.

Every writing dialog has one line under its form: "Working…", the outcome, or the sentence
a refusal or failure became. The text is the person's or the database's words, so it is
escaped here: a name with ``<`` in it is shown, never read as markup. A sentence the dialog
builds with its own markup (bold, italics) still goes through ``setText``: the line is a
rich-text ``QLabel``.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from widgets.banner import ERROR_STYLE

__all__ = ["MessageLine", "error_html", "field_error_label", "grow_to_fit",
           "set_field_error"]


def error_html(text: str) -> str:
    """``text`` escaped, in the red of an inline error, for a rich-text label."""
    return f"<span style='{ERROR_STYLE}'>{html.escape(text, quote=False)}</span>"


class MessageLine(QLabel):
    """A word-wrapped rich-text line for a dialog's notices and errors.

    ``hide_when_empty``: the line takes no room while it has nothing to say. In a dialog,
    a new message grows the dialog to fit it (:func:`grow_to_fit`).
    """

    def __init__(self, parent: QWidget | None = None, *, hide_when_empty: bool = False):
        super().__init__("", parent)
        self._hide_when_empty = hide_when_empty
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        # An error is copied into a ticket: it can be selected (the keyboard focus stays).
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if hide_when_empty:
            self.setVisible(False)

    def say(self, text: str) -> None:
        """Show ``text`` as a notice (plain words; "" clears the line)."""
        self._show(html.escape(text, quote=False))

    def say_error(self, text: str) -> None:
        """Show ``text`` as an error, in red."""
        self._show(error_html(text) if text else "")

    def _show(self, markup: str) -> None:
        self.setText(markup)
        if self._hide_when_empty:
            self.setVisible(bool(markup))
        window = self.window()
        if isinstance(window, QDialog):  # a page's line never resizes the main window
            grow_to_fit(window)


def grow_to_fit(window: QWidget) -> None:
    """Grow ``window`` to the height its contents need at its width; never shrink it.

    A wrapped label that gets a longer text after the window was laid out would otherwise
    lose its last lines: a window's minimum size ignores a wrapped label's height for its
    width. Shrinking is left to the person: the window never jumps under their hands.
    """
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    need = max(window.sizeHint().height(),
               layout.totalHeightForWidth(window.width()) if layout.hasHeightForWidth()
               else layout.totalSizeHint().height())
    if window.height() < need:
        window.resize(window.width(), need)


def field_error_label(name: str = "") -> QLabel:
    """The red line under a field, hidden until it has a message; plain text, wrapped.
    ``name`` names it ``error_<name>`` (style sheets and tests find it by that)."""
    label = QLabel()
    if name:
        label.setObjectName(f"error_{name}")
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def set_field_error(label: QLabel, text: str) -> None:
    """Show ``text`` on a field's error line, or hide the line when ``text`` is ""."""
    label.setText(text)
    label.setVisible(bool(text))
