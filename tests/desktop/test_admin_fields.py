"""field_for: a form field's kind and limits come from the model's column, once."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from sqlalchemy.exc import DataError

from data.errors import ValidationError
from data.models.content import Content
from data.models.subscriptions import SubscriptionTier
from data.models.users import User
from data.services.prices import parse_price
from desktop.admin.fields import field_for
from widgets.record_form import RecordForm


def test_string_column_gives_its_length_as_attribute_or_table_column():
    by_attribute = field_for(User.email, "&Email")
    by_table_column = field_for(User.__table__.c.email, "&Email")
    assert by_attribute == by_table_column
    assert (by_attribute.name, by_attribute.kind, by_attribute.max_length) == ("email", "text", 255)
    assert by_attribute.required          # NOT NULL without a default
    assert not field_for(User.stripe_customer_id, "Stripe customer").required


def test_numeric_price_column_is_money_with_its_maximum_and_scale():
    monthly = field_for(SubscriptionTier.price_monthly, "Monthly price", currency="eur")
    assert monthly.kind == "money"
    assert (monthly.maximum, monthly.scale, monthly.currency) == (
        Decimal("99999999.99"), 2, "eur")
    assert field_for(Content.price, "Price").maximum == Decimal("99999999.99")


def test_integer_column_gives_its_bounds_and_keywords_override_them():
    credits = field_for(SubscriptionTier.monthly_credits, "Monthly credits")
    assert credits.kind == "integer"
    assert (credits.minimum, credits.maximum) == (-2**31, 2**31 - 1)
    assert field_for(SubscriptionTier.monthly_credits, "Credits", minimum=0).minimum == 0


def test_boolean_text_and_timestamp_columns_get_their_kinds():
    assert field_for(SubscriptionTier.active, "Active").kind == "bool"
    assert field_for(SubscriptionTier.description, "Description").kind == "multiline"
    assert field_for(User.deleted_at, "Deleted").kind == "datetime"
    assert field_for(User.email, "Email", kind="readonly").kind == "readonly"


def test_array_of_strings_is_chips_and_an_unknown_type_asks_for_a_kind():
    tags = sa.Table("t", sa.MetaData(), sa.Column("tags", sa.ARRAY(sa.String(40))))
    chips = field_for(tags.c.tags, "Tags")
    assert (chips.kind, chips.max_length) == ("chips", 40)
    with pytest.raises(TypeError, match="pass kind="):
        field_for(SubscriptionTier.category_access, "Categories")   # JSONB: chips or json?
    assert field_for(SubscriptionTier.category_access, "Categories", kind="chips").kind == "chips"
    with pytest.raises(TypeError, match="not a column"):
        field_for(User.purchases, "Purchases")


def test_the_limits_are_what_the_database_stores(engine):
    """The largest price and credit count field_for allows are stored; one more is not."""
    price = field_for(SubscriptionTier.price_monthly, "Monthly price")
    credits = field_for(SubscriptionTier.monthly_credits, "Monthly credits")
    insert = sa.insert(SubscriptionTier)
    with engine.connect() as conn:
        conn.execute(insert.values(name="Top", price_monthly=price.maximum,
                                   monthly_credits=credits.maximum))
        for too_big in ({"price_monthly": price.maximum + Decimal("0.01")},
                        {"monthly_credits": credits.maximum + 1}):
            with pytest.raises(DataError), conn.begin_nested():
                conn.execute(insert.values(name="Over", **too_big))
        conn.rollback()


def test_a_form_from_the_model_says_what_the_column_cannot_store(qtbot):
    form = RecordForm([field_for(User.email, "Email"),
                       field_for(SubscriptionTier.price_monthly, "Monthly price")])
    qtbot.addWidget(form)
    form.show()
    qtbot.keyClicks(form.field_widget("email"), "a" * 300)
    assert len(form.values()["email"]) == 255
    qtbot.keyClicks(form.field_widget("price_monthly").line_edit, "123456789")
    assert form.error_text("price_monthly") == (
        "At most 99,999,999.99 USD (this is 123,456,789.00 USD).")
    qtbot.keyClick(form.field_widget("price_monthly").line_edit, Qt.Key.Key_Backspace)
    assert form.values()["price_monthly"] == Decimal("12345678.00")


@pytest.fixture(scope="module")
def price_form(qapp):
    form = RecordForm([field_for(Content.price, "Price")])
    form.set_values({})
    yield form
    form.deleteLater()


@settings(max_examples=200, deadline=None)
@given(typed=st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.text(alphabet="0123456789.-+eE, ", min_size=1, max_size=12),
    st.text(max_size=6)))
def test_the_price_field_reads_what_the_price_service_reads(price_form, typed):
    """Whatever is typed, the text stays as typed; the form reads a Decimal exactly when
    parse_price does (the same one), and otherwise shows a message and gives the text back
    for the service to refuse."""
    line_edit = price_form.field_widget("price").line_edit
    line_edit.setText(typed)
    price_form.field_widget("price").edited.emit()
    assert line_edit.text() == typed[:line_edit.maxLength()]
    value = price_form.values()["price"]
    try:
        expected = parse_price(line_edit.text())
    except ValidationError:
        assert value == line_edit.text().strip()
        assert price_form.error_text("price")
    else:
        assert value == expected and type(value) is type(expected)
        assert price_form.error_text("price") == ""
