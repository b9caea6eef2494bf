"""Rows inserted with plain SQL, for tests that need exactly known users."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.engine import Engine

BASE_TIME = dt.datetime(2025, 1, 1, 12, 0, 0)


def insert_user(
    engine: Engine,
    email: str,
    full_name: str,
    *,
    role: str = "customer",
    created_at: dt.datetime | None = None,
    verified: bool = True,
    deleted: bool = False,
) -> uuid.UUID:
    user_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, password_hash, full_name, role, created_at, "
                "email_verified_at, deleted_at) VALUES (:id, :email, 'x', :name, :role, "
                ":created, :verified, :deleted)"
            ),
            {
                "id": user_id,
                "email": email,
                "name": full_name,
                "role": role,
                "created": created_at or BASE_TIME,
                "verified": BASE_TIME if verified else None,
                "deleted": BASE_TIME if deleted else None,
            },
        )
    return user_id
