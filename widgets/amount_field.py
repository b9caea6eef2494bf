"""A whole-number field that shows what was typed and says why it is refused.

QSpinBox clamps (``-99999999`` became ``999999``) and drops what it cannot parse (``abc``
vanished): for money that turns a slip into a wrong amount. This field keeps the text as
typed, and a message under it names the problem until the text is a number in range.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from widgets.banner import ERROR_STYLE

__all__ = ["AmountField"]

_PLAIN = re.compile(r"\d+")
_GROUPED = re.compile(r"\d{1,3}(,\d{3})+")  # 1,000 or 12,345,678; 1,5 is refused
HINT_STYLE = "color: palette(mid);"


class AmountField(QWidget):
    """A line edit for a positive whole number up to ``maximum``, with its message below.

    A leading minus is never taken as part of the number: with ``minus_flips`` the minus is
    taken off the text and :attr:`minus_typed` is emitted (the dialog switches to Remove and
    says so); otherwise the text is refused with ``minus_message``.

    Signals:
        value_changed(object): the number (int) or None while the text is refused.
        minus_typed(): a minus sign was typed and taken off (``minus_flips`` only).
    """

    value_changed = Signal(object)
    minus_typed = Signal()

    def __init__(self, *, maximum: int, unit: str = "tokens", minus_flips: bool = False,
                 minus_message: str = "Enter a positive number.",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.maximum = maximum
        self.unit = unit
        self._minus_flips = minus_flips
        self._minus_message = minus_message
        self._touched = False
        self.line_edit = QLineEdit()
        self.line_edit.setPlaceholderText(f"a whole number of {unit}, at most {maximum:,}")
        self.line_edit.setMaxLength(40)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.line_edit)
        layout.addWidget(self.error_label)
        self.setFocusProxy(self.line_edit)
        self.line_edit.textEdited.connect(self._on_line_edit_text_edited)
        self.line_edit.textChanged.connect(lambda _t: self._update())
        self._update()

    # -- public API ---------------------------------------------------------------------
    def text(self) -> str:
        return self.line_edit.text()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt naming, like QLineEdit)
        self._touched = True
        self.line_edit.setText(text)
        self._flip_minus()

    def value(self) -> int | None:
        """The number typed, or None while the text is refused."""
        return self._parse()[0]

    def problem(self) -> str | None:
        """Why the text is refused (shown under the field), or None."""
        return self._parse()[1]

    # -- internals ----------------------------------------------------------------------
    def _parse(self) -> tuple[int | None, str | None]:
        text = self.line_edit.text().strip()
        if not text:
            return None, f"Enter the number of {self.unit}."
        if text[0] in "-\u2212":
            return None, self._minus_message
        if text[0] == "+":
            text = text[1:]
        if _PLAIN.fullmatch(text):
            digits = text
        elif _GROUPED.fullmatch(text):
            digits = text.replace(",", "")
        else:
            return None, (f"“{self.line_edit.text().strip()}” is not a whole number of "
                          f"{self.unit}: type digits only, e.g. 250.")
        if len(digits.lstrip("0")) > len(str(self.maximum)):
            return None, f"At most {self.maximum:,} {self.unit}."
        value = int(digits)
        if value == 0:
            return None, f"Enter a number of {self.unit} above zero."
        if value > self.maximum:
            return None, f"At most {self.maximum:,} {self.unit} (this is {value:,})."
        return value, None

    def _on_line_edit_text_edited(self, _text: str) -> None:
        self._touched = True
        self._flip_minus()

    def _flip_minus(self) -> None:
        text = self.line_edit.text()
        stripped = text.lstrip()
        if self._minus_flips and stripped[:1] in ("-", "\u2212"):
            self.line_edit.setText(stripped[1:].lstrip())
            self.minus_typed.emit()

    def _update(self) -> None:
        value, problem = self._parse()
        self.error_label.setText(problem or "")
        self.error_label.setVisible(bool(problem))
        # Untouched and empty is a hint, not yet an error.
        self.error_label.setStyleSheet(ERROR_STYLE if self._touched else HINT_STYLE)
        self.value_changed.emit(value)
