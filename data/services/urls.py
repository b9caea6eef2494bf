"""Web addresses typed into the forms (thumbnails, media, profile images)."""

from __future__ import annotations

import re

from data.errors import ValidationError
from data.services.text import clean_identifier

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


def url_problem(text: str | None) -> str | None:
    """What is wrong with ``text`` as a web address, or None (blank is fine: optional)."""
    if text and not _URL.match(text):
        return "Must be an http:// or https:// address."
    return None


def clean_url(field: str, value: object, max_length: int | None = None) -> str | None:
    """An optional web address as typed (trimmed, NFC), or None when blank; anything that is
    not one is refused on ``field`` (invisible characters and spaces included)."""
    url = clean_identifier(field, value, max_length)
    if problem := url_problem(url):
        raise ValidationError({field: problem})
    return url or None
