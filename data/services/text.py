"""Text and numbers as people type them: one set of rules for every service.

Every function takes the field's name and raises :class:`ValidationError` naming it, so a
page shows the message under the field and nothing is written. Text is normalised to NFC
before it is compared or stored (``é`` typed as ``e`` + U+0301 and as U+00E9 is one text).

What is refused, and why:

- **NUL** (U+0000) and **lone surrogates** (U+D800–U+DFFF): PostgreSQL cannot store them
  (a raw ``DataError`` or ``UnicodeEncodeError`` before these rules).
- **Control characters** (category Cc: ESC, BEL, …): never in a line (a name, a title);
  a multiline field (bio, description, body) keeps line feeds, carriage returns and tabs.
- **Bidi embeddings, overrides and isolates** (U+202A–U+202E, U+2066–U+2069): they make
  text display in another order than it is stored ("Trojan Source"); refused in all text.
- **Identifiers** (emails, slugs, web addresses) refuse every format (Cf), control (Cc) and
  space character: ``n\\u200bina@example.com`` must not pass as a second address next to
  ``nina@example.com``.

Zero-width joiner and non-joiner (U+200D, U+200C), and the other format characters
(left-to-right and right-to-left marks, soft hyphen, …) are accepted in free text (names,
titles, descriptions): Persian, Hindi and other scripts need ZWNJ/ZWJ to spell words
correctly, emoji sequences use ZWJ, and marks are how right-to-left text is written
correctly. They never count as visible, though: a required text (a title, a reason) made
only of them and spaces is missing.

Numbers: :func:`parse_decimal` and :func:`parse_int` take their bounds from the column's
type (``NUMERIC(10,2)`` → 99,999,999.99; ``INTEGER`` → 2,147,483,647). Nothing is clamped
and no sign is flipped: out of bounds is refused with the bound in the message.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, SmallInteger, String

from data.errors import ValidationError

INT4_MAX = 2**31 - 1
"""The largest PostgreSQL ``integer``."""

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MULTILINE_CONTROLS = frozenset("\n\r\t")
# Letters and symbols that render as blank space although their category says otherwise.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")

_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def _shown(char: str) -> str:
    return f"U+{ord(char):04X}"


def column_length(column: Any) -> int | None:
    """The ``n`` of a ``VARCHAR(n)`` mapped column (None for unbounded text)."""
    kind = column.type if hasattr(column, "type") else column
    return kind.length if isinstance(kind, String) else None


def is_visible(char: str) -> bool:
    """Whether ``char`` shows as something on screen (not a space, control, format
    character or a combining mark on its own)."""
    if char in _BLANK_LOOKING:
        return False
    return unicodedata.category(char)[0] not in ("Z", "C", "M")


def _as_text(field: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(field, "Must be text.")
    return unicodedata.normalize("NFC", value)


def _check_storable(field: str, value: str) -> None:
    """Refuse what PostgreSQL cannot store at all: NUL and lone surrogates."""
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise _refuse(field, f"Contains a broken character ({_shown(char)}, half of a "
                                 "character pair); type or paste the text again.")
        if char == "\x00":
            raise _refuse(field, "Contains a NUL character (U+0000), which cannot be stored; "
                                 "type or paste the text again.")


def _check_length(field: str, value: str, max_length: int | None) -> None:
    if max_length is not None and len(value) > max_length:
        raise _refuse(field, f"At most {max_length:,} characters (this has {len(value):,}).")


def _check_free_text(field: str, value: str, allowed_controls: frozenset[str]) -> None:
    _check_storable(field, value)
    for char in value:
        if char in BIDI_CONTROLS:
            raise _refuse(field, f"Contains a text-direction control character "
                                 f"({_shown(char)}) that makes text display in another "
                                 "order than it is stored; remove it.")
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed_controls:
            if allowed_controls:  # multiline: only the other controls (ESC, BEL, …) are here
                raise _refuse(field, f"Contains a control character ({_shown(char)}); "
                                     "remove it.")
            what = "a line break or tab" if char in MULTILINE_CONTROLS else "a control character"
            raise _refuse(field, f"Contains {what} ({_shown(char)}); this must be one line "
                                 "of plain text.")
        if category in ("Zl", "Zp") and not allowed_controls:
            raise _refuse(field, f"Contains a line separator ({_shown(char)}); this must be "
                                 "one line of plain text.")


def clean_line(field: str, value: Any, max_length: int | None, *,
               required: str | None = None) -> str:
    """One line of free text (a name, a title, a category): NFC, trimmed.

    Returns "" for blank (None or only spaces and invisible characters) unless
    ``required`` is given: then that message is raised. See the module docstring for what
    is refused.
    """
    text = _as_text(field, value).strip()
    _check_length(field, text, max_length)
    _check_free_text(field, text, frozenset())
    if not any(is_visible(c) for c in text):
        if required:
            raise _refuse(field, required)
        return ""
    return text


def clean_multiline(field: str, value: Any, max_length: int | None = None, *,
                    required: str | None = None) -> str:
    """Free text that may span lines (a bio, a description, a body): as :func:`clean_line`
    but line feeds, carriage returns and tabs are kept."""
    text = _as_text(field, value).strip()
    _check_length(field, text, max_length)
    _check_free_text(field, text, MULTILINE_CONTROLS)
    if not any(is_visible(c) for c in text):
        if required:
            raise _refuse(field, required)
        return ""
    return text


def clean_identifier(field: str, value: Any, max_length: int | None = None, *,
                     required: str | None = None) -> str:
    """An email, slug or web address: NFC, trimmed, and no control, format (zero-width,
    bidi) or space character anywhere in it. Returns "" for blank unless ``required``."""
    text = _as_text(field, value).strip()
    _check_length(field, text, max_length)
    _check_storable(field, text)
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Cf") or char in _BLANK_LOOKING:
            raise _refuse(field, f"Contains an invisible or control character "
                                 f"({_shown(char)}); type it again without it.")
        if category[0] == "Z":
            raise _refuse(field, "Cannot contain spaces.")
    if not text and required:
        raise _refuse(field, required)
    return text


def require_reason(field: str, value: Any, max_length: int | None = None, *,
                   multiline: bool = False) -> str:
    """A reason a person must give, with at least one visible character: a reason of only
    spaces or zero-width characters fails "A reason is required.". One line unless
    ``multiline`` (then line breaks and tabs are kept)."""
    clean = clean_multiline if multiline else clean_line
    return clean(field, value, max_length, required="A reason is required.")


def clean_search(value: Any) -> str:
    """Search text as the queries use it: NFC, with what the database cannot take (NUL,
    lone surrogates) and other control and format characters dropped, controls such as tabs
    read as spaces. Never raises: a search that cannot match finds nothing."""
    if not isinstance(value, str):
        return ""
    kept: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cs", "Cf") or char == "\x00":
            continue
        kept.append(" " if category == "Cc" else char)
    return unicodedata.normalize("NFC", "".join(kept)).strip()


# -- numbers --------------------------------------------------------------------------------

def integer_bounds(column: Any) -> tuple[int, int]:
    """The range a mapped integer column can store (``integer`` unless it says otherwise)."""
    kind = column.type if hasattr(column, "type") else column
    bits = 16 if isinstance(kind, SmallInteger) else 64 if isinstance(kind, BigInteger) else 32
    if not isinstance(kind, Integer):
        raise TypeError(f"{kind!r} is not an integer type")
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def decimal_bounds(column: Any) -> tuple[Decimal, int]:
    """The largest value of a ``NUMERIC(p, s)`` column and its scale ``s``."""
    kind = column.type if hasattr(column, "type") else column
    if not isinstance(kind, Numeric) or kind.precision is None:
        raise TypeError(f"{kind!r} is not a NUMERIC(p, s) type")
    scale = kind.scale or 0
    largest = Decimal(10) ** (kind.precision - scale) - Decimal(10) ** -scale
    return largest.quantize(Decimal(10) ** -scale), scale


def parse_decimal(field: str, value: Any, *, maximum: Decimal, scale: int, label: str,
                  example: str = "9.99", blank_hint: str = "") -> Decimal | None:
    """A non-negative amount typed by a person, as a Decimal with ``scale`` places;
    None for blank. ``1e30``, ``NaN``, ``Infinity`` or 29 digits get a sentence, never
    ``decimal.InvalidOperation``; a comma is refused rather than guessed at ("1,5" could
    mean 1.50 or 15)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float):
        raise _refuse(field, f"Enter the {label.lower()} as a decimal number, e.g. {example}.")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        typed = _as_text(field, value).strip()
        _check_storable(field, typed)
        if not _DECIMAL_TEXT.fullmatch(typed):
            shown = typed if len(typed) <= 40 else typed[:40] + "…"
            raise _refuse(field, f"“{shown}” is not a number; enter e.g. {example} "
                                 "(a dot for cents, no thousands separator).")
        try:
            value = Decimal(typed)
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise _refuse(field, f"Enter the {label.lower()} as a number, e.g. {example}.") \
                from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _refuse(field, f"Enter the {label.lower()} as a decimal number, e.g. {example}.")
    if value < 0:
        raise _refuse(field, f"The {label.lower()} cannot be negative (below zero)"
                             f"{blank_hint}.")
    if value > maximum:
        raise _refuse(field, f"At most {maximum:,}: the largest {label.lower()} that can be "
                             "stored.")
    step = Decimal(10) ** -scale
    if value != value.quantize(step):
        raise _refuse(field, f"At most {scale} decimal places"
                             f"{' (cents)' if scale == 2 else ''}.")
    result = value.quantize(step)
    return result.copy_abs() if result == 0 else result


def _whole_number(label: str, unit: str, example: str) -> str:
    if unit:
        return f"Enter the {label.lower()} in whole {unit}, e.g. {example}."
    return f"Enter the {label.lower()} as a whole number, e.g. {example}."


def parse_int(field: str, value: Any, *, label: str, minimum: int = 0,
              maximum: int = INT4_MAX, unit: str = "", example: str = "10") -> int | None:
    """A whole number typed by a person, within ``minimum``..``maximum`` (from the column:
    :func:`integer_bounds`); None for blank. Only ASCII digits count (``'²'`` is not 2),
    and 10,000 digits get the bound, not Python's own message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    units = f" {unit}" if unit else ""
    if isinstance(value, bool):
        raise _refuse(field, _whole_number(label, unit, example))
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        # A huge exponent (1E+999999) is out of bounds either way: no need to expand it.
        value = int(value) if value.adjusted() < 40 else (minimum - 1 if value < 0
                                                          else maximum + 1)
    if isinstance(value, str):
        typed = _as_text(field, value).strip()
        _check_storable(field, typed)
        if not _INTEGER_TEXT.fullmatch(typed):
            raise _refuse(field, _whole_number(label, unit, example))
        digits = typed.lstrip("+-").lstrip("0") or "0"
        negative = typed.startswith("-") and digits != "0"
        if len(digits) > len(str(max(abs(minimum), abs(maximum)))) + 1:
            value = minimum - 1 if negative else maximum + 1
        else:
            value = -int(digits) if negative else int(digits)
    if not isinstance(value, int):
        raise _refuse(field, _whole_number(label, unit, example))
    if value < minimum:
        if minimum == 0:
            raise _refuse(field, f"The {label.lower()} cannot be negative.")
        raise _refuse(field, f"At least {minimum:,}{units}.")
    if value > maximum:
        raise _refuse(field, f"At most {maximum:,}{units}: the largest {label.lower()} "
                             "that can be stored.")
    return value


def parse_id(field: str, value: Any, message: str = "Not a known id.") -> uuid.UUID:
    """A record's id as given (a UUID or its text); anything else is refused on ``field``."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise _refuse(field, message) from None


NOT_EDITABLE = "This field cannot be edited here."


def clean_fields(values: Mapping[str, Any], editable: Collection[str],
                 clean_field: Callable[[str, Any], Any]) -> dict[str, Any]:
    """Every edited field through ``clean_field`` (which raises :class:`ValidationError`
    naming its field); one ValidationError naming every bad field, so a form shows them all
    at once. A field not in ``editable`` is refused, never silently dropped."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in editable:
            errors[name] = NOT_EDITABLE
            continue
        try:
            clean[name] = clean_field(name, value)
        except ValidationError as exc:
            errors.update(exc.field_errors)
    if errors:
        raise ValidationError(errors)
    return clean
