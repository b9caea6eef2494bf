"""Declarative base shared by every model.

The platform's tables live in the default schema and are mapped by their exact names.
The app's own tables live in the ``admin`` schema (see :mod:`data.models.admin`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import DeclarativeBase, mapped_column

APP_SCHEMA = "admin"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}
"""PostgreSQL's own default names, so that the names the models produce are the names a
database created from the platform's DDL already has."""

Money = Numeric(10, 2, asdecimal=True)
Timestamp = TIMESTAMP(timezone=False)


class Base(DeclarativeBase):
    """Base of all models. ``X | None`` annotations are the only way to say nullable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: PG_UUID(as_uuid=True),
        dt.datetime: Timestamp,
        Decimal: Money,
        dict[str, Any]: JSONB(),
        list[Any]: JSONB(),
        str: Text(),
    }


def uuid_pk():
    """``id UUID PRIMARY KEY DEFAULT gen_random_uuid()``."""
    return mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))


def created_at():
    return mapped_column(Timestamp, server_default=text("now()"))


def updated_at():
    return mapped_column(Timestamp, server_default=text("now()"))


def varchar(n: int) -> String:
    return String(n)
