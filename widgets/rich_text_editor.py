"""A small rich-text (HTML) editor: bold, italic, heading, bulleted list, and a preview.

The preview renders what is typed as a reader would see it; its links are shown, never
followed. :meth:`RichTextEditor.html` is the body as stored: the HTML inside ``<body>``, or
"" when nothing was written.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextCharFormat, QTextListFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["RichTextEditor", "body_html"]

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.I | re.S)


def body_html(editor: QTextEdit) -> str:
    """The body as stored: the HTML inside <body>, or "" when the document is empty."""
    doc = editor.document()
    if not doc.toPlainText().strip() and "<img" not in doc.toHtml():
        return ""
    html = doc.toHtml()
    found = _BODY.search(html)
    return (found.group(1) if found else html).strip()


class RichTextEditor(QWidget):
    """``body`` (a QTextEdit) beside its ``preview``, with formatting buttons above.

    Edits arrive as the body's ``textChanged``; :meth:`show_preview` renders HTML in the
    preview (the owner decides when: it may keep stored HTML apart from what is typed).
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.body = QTextEdit()
        self.body.setAcceptRichText(True)
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(160)
        self.preview = QTextBrowser()
        self.preview.setOpenLinks(False)  # a preview: links are shown, never followed
        self.preview.setPlaceholderText("Preview")
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        self.format_buttons: list[QToolButton] = []
        for text, tip, handler in (
            ("B", "Bold (Ctrl+B)", self._toggle_bold),
            ("I", "Italic (Ctrl+I)", self._toggle_italic),
            ("H", "Heading", self._make_heading),
            ("•", "Bulleted list", self._make_list),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(tip)
            button.clicked.connect(handler)
            tools.addWidget(button)
            self.format_buttons.append(button)
        self.format_buttons[0].setShortcut("Ctrl+B")
        self.format_buttons[1].setShortcut("Ctrl+I")
        tools.addStretch()
        tools.addWidget(QLabel("Preview:"))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.body)
        splitter.addWidget(self.preview)
        splitter.setChildrenCollapsible(False)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(tools)
        box.addWidget(splitter, 1)

    def html(self) -> str:
        """The body as stored (see :func:`body_html`)."""
        return body_html(self.body)

    def set_html(self, html: str) -> None:
        """Replace the body with ``html`` (not an edit: the document is unmodified)."""
        self.body.setHtml(html)
        self.body.document().setModified(False)

    def show_preview(self, html: str) -> None:
        """Render ``html`` in the preview."""
        self.preview.setHtml(html)

    def set_read_only(self, read_only: bool) -> None:
        """No typing and no formatting while ``read_only``."""
        self.body.setReadOnly(read_only)
        for button in self.format_buttons:
            button.setEnabled(not read_only)

    def _toggle_bold(self) -> None:
        fmt = QTextCharFormat()
        bold = self.body.fontWeight() != QFont.Weight.Bold
        fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        self.body.mergeCurrentCharFormat(fmt)

    def _toggle_italic(self) -> None:
        fmt = QTextCharFormat()
        fmt.setFontItalic(not self.body.fontItalic())
        self.body.mergeCurrentCharFormat(fmt)

    def _make_heading(self) -> None:
        cursor = self.body.textCursor()
        block = cursor.blockFormat()
        block.setHeadingLevel(0 if block.headingLevel() else 2)
        cursor.setBlockFormat(block)
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold if block.headingLevel() else QFont.Weight.Normal)
        cursor.select(cursor.SelectionType.BlockUnderCursor)
        cursor.mergeCharFormat(fmt)

    def _make_list(self) -> None:
        self.body.textCursor().createList(QTextListFormat.Style.ListDisc)
