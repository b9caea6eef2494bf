"""URL slugs: propose one from a title, and say what is wrong with a typed one.

A slug is lowercase ASCII letters and digits in words joined by single hyphens
(``[a-z0-9]+(-[a-z0-9]+)*``), at most :data:`MAX_SLUG_LENGTH` characters. Uniqueness is not
checked here: each service checks it against its own table.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG_LENGTH = 500
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Letters NFKD does not split into a base letter and a mark.
_SPECIAL_LETTERS = str.maketrans({
    "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o", "đ": "d",
    "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ł": "l", "Ł": "l", "ı": "i",
    "&": " and ",
})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def propose_slug(title: str) -> str:
    """A well-formed slug for ``title`` (accents folded, words joined by hyphens).

    Returns "" when the title has no letters or digits at all; the caller must then ask for
    a slug.
    """
    folded = unicodedata.normalize("NFKD", (title or "").translate(_SPECIAL_LETTERS))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip("-")
    if len(slug) > MAX_SLUG_LENGTH:
        slug = slug[:MAX_SLUG_LENGTH].rstrip("-")
    return slug


def slug_problem(slug: str) -> str | None:
    """None if ``slug`` is well formed, else a message for the "slug" field."""
    if not slug:
        return "Slug is required."
    if len(slug) > MAX_SLUG_LENGTH:
        return f"At most {MAX_SLUG_LENGTH} characters (this has {len(slug)})."
    if SLUG_PATTERN.fullmatch(slug):
        return None
    if slug != slug.lower():
        return "Use lowercase letters only."
    if slug.startswith("-") or slug.endswith("-"):
        return "A slug cannot start or end with a hyphen."
    if "--" in slug:
        return "Use single hyphens between words."
    bad = sorted({c for c in slug if not (c.isascii() and (c.isalnum() or c == "-"))})
    shown = " ".join(repr(c) for c in bad[:5])
    return f"Only a-z, 0-9 and hyphens are allowed (found {shown})."
