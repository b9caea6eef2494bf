"""Form fields described by the model's columns, so a page never restates a limit.

``field_for(SubscriptionTier.price_monthly, "Monthly price")`` reads the column's type once,
when the page's description is built, and gives a :class:`~widgets.record_form.FieldSpec`
with the kind and the limits the database enforces: ``VARCHAR(n)`` → ``max_length``,
``INTEGER`` and its siblings → ``minimum``/``maximum``, ``NUMERIC(p, s)`` → ``maximum`` and
``scale``. The services check the same limits with the same functions
(:mod:`data.services.text`); the form uses them to say at once what the save would refuse.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Boolean, Date, DateTime, Integer, Numeric, String, Text
from sqlalchemy.orm import QueryableAttribute

from data.services.text import column_length, decimal_bounds, integer_bounds
from widgets.record_form import FieldKind, FieldSpec

__all__ = ["field_for"]


def field_for(column: Any, label: str, kind: FieldKind | None = None, **kw: Any) -> FieldSpec:
    """The form field editing ``column`` (a mapped attribute such as ``User.email``, or a
    table column such as ``User.__table__.c.email``), labelled ``label``.

    The kind follows the column's type unless ``kind`` is given: ``Boolean`` → "bool",
    ``Text`` → "multiline", other strings → "text", integers → "integer", ``Numeric`` →
    "money", ``DateTime`` → "datetime", ``Date`` → "date", ``ARRAY(String)`` → "chips"; a
    JSON column with ``subfields`` → "json". A NOT NULL column without a default is
    ``required``. Keywords (``placeholder``, ``choices``, ``currency``, a tighter
    ``maximum``…) override what the column says. TypeError for a type with no kind.
    """
    table_column = _table_column(column)
    name = column.key if isinstance(column, QueryableAttribute) else table_column.key
    derived: dict[str, Any] = {
        "required": not table_column.nullable and table_column.server_default is None
                    and table_column.default is None,
    }
    column_type = table_column.type
    chosen = kind or _kind_of(column_type, has_subfields="subfields" in kw)
    if chosen is None:
        raise TypeError(f"no form field kind for {name} ({column_type!r}): pass kind=")
    if isinstance(column_type, String):
        derived["max_length"] = column_length(column_type)
    elif isinstance(column_type, Integer):
        derived["minimum"], derived["maximum"] = integer_bounds(column_type)
    elif isinstance(column_type, Numeric) and column_type.precision is not None:
        derived["maximum"], derived["scale"] = decimal_bounds(column_type)
    elif isinstance(column_type, ARRAY) and isinstance(column_type.item_type, String):
        derived["max_length"] = column_length(column_type.item_type)
    return FieldSpec(name, label, chosen, **{**derived, **kw})


def _table_column(column: Any) -> Any:
    if isinstance(column, QueryableAttribute):
        columns = getattr(column.property, "columns", None)
        if not columns:
            raise TypeError(f"{column} is not a column attribute (a relationship?)")
        return columns[0]
    return column


def _kind_of(column_type: Any, *, has_subfields: bool) -> FieldKind | None:
    # Order matters: Text is a String, and every integer type is an Integer.
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Text):
        return "multiline"
    if isinstance(column_type, String):
        return "text"
    if isinstance(column_type, Integer):
        return "integer"
    if isinstance(column_type, Numeric):
        return "money"
    if isinstance(column_type, DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, ARRAY) and isinstance(column_type.item_type, String):
        return "chips"
    if has_subfields:
        return "json"
    return None
