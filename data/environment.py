"""The environment variables the app reads for its database. Imports nothing: the command
line reads them before any database library is loaded (``--demo`` starts its server first)."""

from __future__ import annotations

import os

DATABASE_URL_ENV = "PLATFORM_ADMIN_DATABASE_URL"


def database_url_from_env() -> str | None:
    return os.environ.get(DATABASE_URL_ENV) or None
