"""The editors behind RecordForm's typed kinds: money, integer, date and time, chips, a
related record, a JSON sub-form and rich text.

Each is a :class:`FieldEditor`: ``value()`` / ``set_value()`` / ``set_read_only()``, an
``edited`` signal for changes the person makes (never for loading), and ``problem()`` /
``note()`` for the line the form shows under the field while they type.

Numbers and times follow :class:`~widgets.amount_field.AmountField`: the text stays as
typed (nothing is clamped, no sign is flipped) and a message names the problem at once.
While the text cannot be read, ``value()`` returns the text itself, so a save the page
sends anyway is refused by the service's own validation, which names the field; the form
only saves the person the round trip.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QTextCharFormat, QTextListFormat
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from widgets.latest import LatestRequest
from widgets.search_box import SearchBox
from widgets.tag_chips import TagChips

__all__ = ["ChipsEditor", "DateTimeEditor", "FieldEditor", "IntegerEditor", "JsonEditor",
           "MoneyEditor", "RelatedEditor", "RichTextEditor", "SearchCallback"]

SearchCallback = Callable[[str, Callable[[Sequence[tuple[Any, str]]], None]], None]
"""``search(text, deliver)``: look ``text`` up (off the GUI thread, say) and call
``deliver([(value, label), ...])`` on the GUI thread when the answer is in."""

NOTE_STYLE = "color: palette(mid);"
"""Muted text for a note under a field (how a value was read), not an error."""

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_UTC = ZoneInfo("UTC")


def _quoted(text: str) -> str:
    return f"“{text}”" if len(text) <= 40 else f"“{text[:40]}…”"


class FieldEditor(QWidget):
    """What RecordForm needs from an editor of a typed kind.

    Signals:
        edited(): the person changed the value (typing, choosing, removing).
    """

    edited = Signal()

    def value(self) -> Any:
        """The value for ``RecordForm.values()``."""
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        """Show ``value`` (None: empty); never emits ``edited``."""
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        """Lock or unlock editing."""
        raise NotImplementedError

    def problem(self) -> str | None:
        """Why the current text cannot be read (shown in red under the field), or None."""
        return None

    def note(self) -> str | None:
        """How an unusual text was read (shown muted under the field), or None."""
        return None


# -- one line of text read as a value -------------------------------------------------------

class _TypedLineEditor(FieldEditor):
    """A line edit (and a suffix such as a currency) whose text is read as a value.

    A loaded value is given back unchanged while its text is untouched: a time with
    seconds, shown to the minute, does not become a change nobody made.
    """

    def __init__(self, *, suffix: str, placeholder: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.line_edit = QLineEdit(self)
        self.line_edit.setPlaceholderText(placeholder)
        self.line_edit.setMaxLength(100)
        self.suffix_label = QLabel(suffix, self)
        self.suffix_label.setVisible(bool(suffix))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.line_edit, 1)
        layout.addWidget(self.suffix_label)
        self.setFocusProxy(self.line_edit)
        self.line_edit.textEdited.connect(lambda _text: self.edited.emit())
        self._loaded: tuple[str, Any] | None = None

    def text(self) -> str:
        return self.line_edit.text()

    def value(self) -> Any:
        text = self.line_edit.text().strip()
        if self._loaded is not None and text == self._loaded[0]:
            return self._loaded[1]
        if not text:
            return None
        value, problem, _note = self._read(text)
        return text if problem else value

    def set_value(self, value: Any) -> None:
        if value is None or isinstance(value, str):
            # Text is what someone typed (kept by a rebase): shown and judged as typed.
            text, self._loaded = ("" if value is None else value), None
        else:
            text = self._format(value)
            self._loaded = (text, value)
        self.line_edit.setText(text)
        self.line_edit.setCursorPosition(0)

    def set_read_only(self, read_only: bool) -> None:
        self.line_edit.setReadOnly(read_only)

    def problem(self) -> str | None:
        return self._judge()[0]

    def note(self) -> str | None:
        return self._judge()[1]

    def _judge(self) -> tuple[str | None, str | None]:
        text = self.line_edit.text().strip()
        if not text or (self._loaded is not None and text == self._loaded[0]):
            return None, None  # empty is the service's call; a loaded value is not re-judged
        _value, problem, note = self._read(text)
        return problem, note

    def _format(self, value: Any) -> str:
        raise NotImplementedError

    def _read(self, text: str) -> tuple[Any, str | None, str | None]:
        """``(value, problem, note)`` for a non-empty stripped text."""
        raise NotImplementedError


def _decimal_places(value: Decimal) -> int:
    """Places after the point that are not trailing zeros (1.50 has 1, 1.05 has 2)."""
    digits, exponent = list(value.as_tuple().digits), int(value.as_tuple().exponent)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    return max(0, -exponent)


class MoneyEditor(_TypedLineEditor):
    """An amount of money with its currency beside it; the value is a Decimal with
    ``scale`` places. Never negative unless ``minimum`` allows it (the services refuse
    negative prices); ``maximum`` is the largest the column stores."""

    def __init__(self, *, currency: str = "usd", minimum: Decimal | int | None = None,
                 maximum: Decimal | int | None = None, scale: int = 2, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        self.currency = currency.upper()
        self.minimum = Decimal(0) if minimum is None else Decimal(minimum)
        self.maximum = None if maximum is None else Decimal(maximum)
        self.scale = scale
        example = f"9.{'9' * scale}" if scale else "10"
        self._example = example
        super().__init__(suffix=self.currency, placeholder=placeholder or f"e.g. {example}",
                         parent=parent)
        self.line_edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _format(self, value: Any) -> str:
        return f"{Decimal(value):.{self.scale}f}"

    def _shown(self, value: Decimal) -> str:
        return f"{value:,.{self.scale}f} {self.currency}"

    def _read(self, text: str) -> tuple[Any, str | None, str | None]:
        if not _DECIMAL_TEXT.fullmatch(text):
            return None, (f"{_quoted(text)} is not an amount; type e.g. {self._example} (a dot "
                          "for cents, no thousands separator)."), None
        value = Decimal(text)
        if value and value.adjusted() > 30:  # zero is zero, whatever its exponent
            return None, f"{_quoted(text)} is far more than any amount can be.", None
        if value < self.minimum:
            if self.minimum == 0:
                return None, f"An amount cannot be negative (this is {self._shown(value)}).", None
            return None, (f"At least {self._shown(self.minimum)} "
                          f"(this is {self._shown(value)})."), None
        if self.maximum is not None and value > self.maximum:
            return None, (f"At most {self._shown(self.maximum)} "
                          f"(this is {self._shown(value)})."), None
        if _decimal_places(value) > self.scale:
            cents = " (cents)" if self.scale == 2 else ""
            return None, f"At most {self.scale} decimal places{cents}: {text}.", None
        amount = value.quantize(Decimal(10) ** -self.scale)
        amount = amount.copy_abs() if amount == 0 else amount
        # An exponent or a plus sign is legal but easy to mistype: say how it was read.
        unusual = "e" in text.lower() or text.startswith("+")
        return amount, None, (f"Read as {self._shown(amount)}." if unusual else None)


class IntegerEditor(_TypedLineEditor):
    """A whole number within ``minimum``..``maximum`` (either may be None: no bound)."""

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None,
                 placeholder: str = "", parent: QWidget | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        super().__init__(suffix="", placeholder=placeholder, parent=parent)
        self.line_edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _format(self, value: Any) -> str:
        return str(int(value))

    def _read(self, text: str) -> tuple[Any, str | None, str | None]:
        if not _INTEGER_TEXT.fullmatch(text):
            return None, f"{_quoted(text)} is not a whole number; type digits only, e.g. 10.", None
        digits = text.lstrip("+-").lstrip("0") or "0"
        negative = text.startswith("-") and digits != "0"
        if len(digits) > 40:  # a paste of 10,000 digits gets the bound, not a huge number
            shown = _quoted(text)
            if negative and self.minimum is not None:
                return None, f"At least {self.minimum:,} (this is {shown}).", None
            if not negative and self.maximum is not None:
                return None, f"At most {self.maximum:,} (this is {shown}).", None
        value = -int(digits) if negative else int(digits)
        if self.minimum is not None and value < self.minimum:
            return None, f"At least {self.minimum:,} (this is {value:,}).", None
        if self.maximum is not None and value > self.maximum:
            return None, f"At most {self.maximum:,} (this is {value:,}).", None
        return value, None, None


class DateTimeEditor(_TypedLineEditor):
    """A time typed and shown in ``time_zone``; the value is a naive UTC datetime (how the
    platform stores timestamps). With ``date_only`` it is a plain ``date``, no zone.

    A wall-clock time the zone skips (clocks going forward) is refused; one it repeats
    (clocks going back) is read as its first occurrence, and a note says so.
    """

    def __init__(self, *, time_zone: ZoneInfo, date_only: bool = False, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        self.time_zone = time_zone
        self.date_only = date_only
        pattern = "YYYY-MM-DD" if date_only else "YYYY-MM-DD HH:MM"
        super().__init__(suffix="" if date_only else time_zone.key,
                         placeholder=placeholder or pattern, parent=parent)
        self.suffix_label.setToolTip("Times are typed and shown in the platform's time zone.")

    def _format(self, value: Any) -> str:
        if self.date_only:
            if isinstance(value, dt.datetime):
                value = self._local(value).date()
            return value.isoformat()
        if not isinstance(value, dt.datetime):  # a date for a time field: its midnight
            return value.isoformat() + " 00:00"
        return self._local(value).strftime("%Y-%m-%d %H:%M")

    def _local(self, value: dt.datetime) -> dt.datetime:
        aware = value.replace(tzinfo=_UTC) if value.tzinfo is None else value
        return aware.astimezone(self.time_zone)

    def _read(self, text: str) -> tuple[Any, str | None, str | None]:
        if self.date_only:
            try:
                return dt.date.fromisoformat(text), None, None
            except ValueError:
                return None, f"{_quoted(text)} is not a date; type e.g. 2026-03-29.", None
        try:
            typed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None, (f"{_quoted(text)} is not a date and time; type e.g. 2026-03-29 "
                          f"14:30 ({self.time_zone.key})."), None
        first = typed.replace(tzinfo=self.time_zone, fold=0)
        second = typed.replace(tzinfo=self.time_zone, fold=1)
        try:
            if typed.tzinfo is not None:  # an explicit offset says which instant it is
                return typed.astimezone(_UTC).replace(tzinfo=None), None, None
            utc = first.astimezone(_UTC)
        except OverflowError:  # year 1 or 9999 shifted past the calendar's end
            return None, f"{_quoted(text)} is outside the calendar's range.", None
        if utc.astimezone(self.time_zone).replace(tzinfo=None) != typed:
            return None, (f"{typed:%Y-%m-%d %H:%M} does not exist in {self.time_zone.key}: "
                          "the clocks jump forward over it. Type a time before or after "
                          "the jump."), None
        note = None
        if first.utcoffset() != second.utcoffset():
            note = (f"{typed:%Y-%m-%d %H:%M} happens twice in {self.time_zone.key} (the clocks "
                    f"go back); read as the first, {utc:%H:%M} UTC.")
        return utc.replace(tzinfo=None), None, note


# -- chips ----------------------------------------------------------------------------------

class ChipsEditor(FieldEditor):
    """A list of strings as :class:`~widgets.tag_chips.TagChips`; ``choices`` are offered
    as completions while typing (the service decides what is allowed)."""

    def __init__(self, *, choices: Sequence[tuple[str, str]] = (), placeholder: str = "",
                 max_length: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chips = TagChips(self, placeholder=placeholder or "Add…",
                              max_length=max_length or 100)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.chips)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setFocusProxy(self.chips)
        self.chips.tags_changed.connect(lambda _tags: self.edited.emit())
        if choices:
            self.set_choices(choices)

    def set_choices(self, choices: Sequence[tuple[str, str]]) -> None:
        """Offer ``choices`` as completions from now on (read from the database, say)."""
        completer = QCompleter([value for value, _label in choices], self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._on_completer_activated)
        self.chips.entry.setCompleter(completer)

    def value(self) -> list[str]:
        return self.chips.tags()

    def set_value(self, value: Any) -> None:
        self.chips.set_tags([] if value is None else [str(tag) for tag in value])

    def set_read_only(self, read_only: bool) -> None:
        self.chips.set_read_only(read_only)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self.chips.heightForWidth(width)

    def _on_completer_activated(self, text: str) -> None:
        self.chips.add_tag(text)
        # The completer writes its text into the entry after this signal: clear it after.
        QTimer.singleShot(0, self.chips.entry.clear)


# -- a related record -----------------------------------------------------------------------

class RelatedEditor(FieldEditor):
    """Pick a related record: its label is shown, a search box finds others.

    ``search(text, deliver)`` is the page's (the form knows no database). The latest search
    wins (:class:`widgets.latest.LatestRequest`): an answer for an older one is dropped, so a slow
    answer for "ad" never replaces the list for "ada". The value is the chosen record's
    id, or None. Labels are remembered for ids seen (loaded or found), so a value written
    back (a rebase) shows its label again.
    """

    def __init__(self, *, search: SearchCallback | None, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._value: Any = None
        self._labels: dict[Any, str] = {}
        self._latest = LatestRequest()  # a slow answer for "ad" never replaces "ada"'s
        self._read_only = False

        self.chosen_label = QLabel(self)
        self.chosen_label.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_button = QToolButton(self)
        self.clear_button.setText("×")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip("Clear the choice")
        self.clear_button.setAccessibleName("Clear the choice")
        self.clear_button.clicked.connect(self._on_clear_button_clicked)
        self.search_box = SearchBox(placeholder or "Search to change…", parent=self)
        self.search_box.setAccessibleName("Search")
        self.search_box.setVisible(search is not None)
        self.results = QListWidget(self)
        self.results.hide()
        self.note_label = QLabel(self)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.hide()
        self.search_box.move_down_into(self.results)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.chosen_label)
        top.addWidget(self.clear_button)
        top.addStretch(1)
        top.addWidget(self.search_box, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.results)
        layout.addWidget(self.note_label)
        self.setFocusProxy(self.search_box)
        self.search_box.search_requested.connect(self._on_search_box_search_requested)
        self.results.itemActivated.connect(self._on_results_item_chosen)
        self.results.itemClicked.connect(self._on_results_item_chosen)
        self._show_choice()

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        """``value`` is an id, or ``(id, label)`` to name it; None: nothing chosen."""
        if isinstance(value, tuple) and len(value) == 2:
            value, label = value
            self._labels[value] = str(label)
        self._value = value
        self._end_search()
        self._show_choice()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.search_box.setVisible(self._search is not None and not read_only)
        self._end_search()
        self._show_choice()

    def result_labels(self) -> list[str]:
        """The labels of the search answers shown now."""
        return [self.results.item(row).text() for row in range(self.results.count())]

    def choose(self, row: int) -> None:
        """Choose the ``row``-th answer, as a click on it would."""
        self._on_results_item_chosen(self.results.item(row))

    def _show_choice(self) -> None:
        if self._value is None:
            self.chosen_label.setText("None chosen")
            self.chosen_label.setStyleSheet(NOTE_STYLE)
        else:
            self.chosen_label.setText(self._labels.get(self._value, str(self._value)))
            self.chosen_label.setStyleSheet("")
        self.clear_button.setVisible(self._value is not None and not self._read_only)

    def _end_search(self) -> None:
        self._latest.supersede()  # whatever is still on its way is now too late
        self.search_box.cancel_pending()
        self.search_box.blockSignals(True)
        self.search_box.clear()
        self.search_box.blockSignals(False)
        self.results.clear()
        self.results.hide()
        self.note_label.hide()

    def _on_search_box_search_requested(self, text: str) -> None:
        deliver = self._latest.wrap(self._on_search_delivered)
        text = text.strip()
        if not text or self._search is None:
            self.results.clear()
            self.results.hide()
            self.note_label.hide()
            return
        self.note_label.setText("Searching…")
        self.note_label.show()
        self._search(text, deliver)

    def _on_search_delivered(self, rows: Sequence[tuple[Any, str]]) -> None:
        if not shiboken6.isValid(self):
            return  # the form is gone
        self.results.clear()
        for value, label in rows:
            item = QListWidgetItem(str(label))
            item.setData(Qt.ItemDataRole.UserRole, value)
            self.results.addItem(item)
        # As tall as the answers (up to six rows), so a short list leaves no empty box.
        row_height = self.results.sizeHintForRow(0) if rows else 0
        self.results.setFixedHeight(min(len(rows), 6) * row_height
                                    + 2 * self.results.frameWidth())
        self.results.setVisible(bool(rows))
        self.note_label.setText("" if rows else "No match.")
        self.note_label.setVisible(not rows)

    def _on_results_item_chosen(self, item: QListWidgetItem | None) -> None:
        if item is None or self._read_only:
            return
        self._value = item.data(Qt.ItemDataRole.UserRole)
        self._labels[self._value] = item.text()
        self._end_search()
        self._show_choice()
        self.edited.emit()

    def _on_clear_button_clicked(self) -> None:
        self._value = None
        self._show_choice()
        self.edited.emit()


# -- a JSON sub-form ------------------------------------------------------------------------

class JsonEditor(FieldEditor):
    """A JSON object edited through a sub-form of its known keys.

    The value is the loaded dict with the sub-form's values on top: keys the sub-form does
    not edit (added by the web app later, say, or read-only) are given back untouched.
    """

    def __init__(self, sub_form: QWidget, *, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sub_form = sub_form
        frame = QFrame(self)
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(8, 6, 8, 6)
        inner.addWidget(sub_form)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(frame)
        self.setFocusProxy(sub_form)
        self._loaded: dict[str, Any] = {}
        sub_form.value_edited.connect(lambda _name: self.edited.emit())

    def value(self) -> dict[str, Any]:
        edited = self.sub_form.values()
        merged = {key: edited.get(key, value) for key, value in self._loaded.items()}
        merged.update({key: value for key, value in edited.items() if key not in merged})
        return merged

    def set_value(self, value: Any) -> None:
        self._loaded = dict(value) if isinstance(value, Mapping) else {}
        self.sub_form.set_values(self._loaded)

    def set_read_only(self, read_only: bool) -> None:
        self.sub_form.set_read_only(read_only)


# -- rich text ------------------------------------------------------------------------------

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)


class RichTextEditor(FieldEditor):
    """HTML edited as formatted text, with bold, italic and bullet-list buttons.

    The value is the HTML inside the document's body as Qt writes it; a loaded HTML is
    given back exactly while the text is unchanged (Qt rewrites markup it reads). Empty
    text is "" when ``required`` (the service says it is missing), else None.
    """

    def __init__(self, *, placeholder: str = "", required: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._required = required
        self._loaded: tuple[str, Any] | None = None
        self.text_edit = QTextEdit(self)
        self.text_edit.setAcceptRichText(True)
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setPlaceholderText(placeholder)
        self.text_edit.setFixedHeight(self.text_edit.fontMetrics().lineSpacing() * 6 + 12)
        self.text_edit.textChanged.connect(self._on_text_edit_text_changed)
        self._loading = False

        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.setSpacing(2)
        self.bold_button = self._tool("B", "Bold", self._on_bold_button_clicked)
        self.bold_button.setStyleSheet("font-weight: bold;")
        self.italic_button = self._tool("I", "Italic", self._on_italic_button_clicked)
        self.italic_button.setStyleSheet("font-style: italic;")
        self.list_button = self._tool("•", "Bulleted list", self._on_list_button_clicked)
        for button in (self.bold_button, self.italic_button, self.list_button):
            tools.addWidget(button)
        tools.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(tools)
        layout.addWidget(self.text_edit)
        self.setFocusProxy(self.text_edit)

    def value(self) -> Any:
        if not self.text_edit.toPlainText().strip():
            return "" if self._required else None
        html = self.text_edit.toHtml()
        if self._loaded is not None and html == self._loaded[0]:
            return self._loaded[1]
        match = _BODY.search(html)
        return (match.group(1) if match else html).strip()

    def set_value(self, value: Any) -> None:
        self._loading = True
        try:
            self.text_edit.setHtml("" if value is None else str(value))
        finally:
            self._loading = False
        self._loaded = (self.text_edit.toHtml(), value) if value else None

    def set_read_only(self, read_only: bool) -> None:
        self.text_edit.setReadOnly(read_only)
        for button in (self.bold_button, self.italic_button, self.list_button):
            button.setEnabled(not read_only)

    def _tool(self, text: str, name: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(name)
        button.setAccessibleName(name)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _on_text_edit_text_changed(self) -> None:
        if not self._loading:
            self.edited.emit()

    def _on_bold_button_clicked(self) -> None:
        fmt = QTextCharFormat()
        bold = self.text_edit.fontWeight() < QFont.Weight.Bold
        fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        self.text_edit.mergeCurrentCharFormat(fmt)

    def _on_italic_button_clicked(self) -> None:
        self.text_edit.setFontItalic(not self.text_edit.fontItalic())

    def _on_list_button_clicked(self) -> None:
        self.text_edit.textCursor().createList(QTextListFormat.Style.ListDisc)
