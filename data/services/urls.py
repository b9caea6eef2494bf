"""Web addresses typed into the forms (thumbnails, media, profile images)."""

from __future__ import annotations

import re

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.I)


def url_problem(text: str | None) -> str | None:
    """What is wrong with ``text`` as a web address, or None (blank is fine: optional)."""
    if text and not _URL.match(text):
        return "Must be an http:// or https:// address."
    return None
