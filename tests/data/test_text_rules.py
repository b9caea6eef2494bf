"""The text and number rules every service uses (data.services.text): what a person types is
refused with a sentence naming the field, or kept as typed (NFC); never clamped."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.errors import ValidationError
from data.models import Content
from data.services import text as rules
from data.services.prices import MAX_PRICE, parse_price


def _price_message(typed) -> str:
    with pytest.raises(ValidationError) as exc:
        parse_price(typed)
    assert list(exc.value.field_errors) == ["price"]
    return exc.value.field_errors["price"]


NASTY = ["\x00", "\ud800", "\udfff", "\x1b", "\u202e", "\u2066", "\u2069", "\u202a"]


def _message(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as exc:
        call(*args, **kwargs)
    [(field, message)] = exc.value.field_errors.items()
    assert field == args[0] and message
    return message


@pytest.mark.parametrize("char", NASTY)
def test_a_line_refuses_nul_surrogates_escape_and_bidi_controls(char):
    message = _message(rules.clean_line, "full_name", f"Nina{char}Smith", 255)
    assert f"U+{ord(char):04X}" in message


@pytest.mark.parametrize("char", ["\n", "\t", "\r"])
def test_a_line_refuses_line_breaks_but_multiline_keeps_them(char):
    assert "one line" in _message(rules.clean_line, "title", f"a{char}b", 500)
    assert rules.clean_multiline("bio", f"a{char}b") == f"a{char}b"


@pytest.mark.parametrize("char", NASTY)
def test_multiline_text_refuses_the_same_characters(char):
    _message(rules.clean_multiline, "bio", f"Hello{char}there")


def test_text_is_normalised_to_nfc():
    decomposed = "Rene\u0301e"
    assert rules.clean_line("full_name", decomposed, 255) == "Ren\u00e9e"
    assert rules.clean_identifier("email", "rene\u0301@example.com") == "ren\u00e9@example.com"


def test_zwj_and_zwnj_are_kept_in_free_text():
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a ZWNJ
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert rules.clean_line("full_name", persian, 255) == persian
    assert rules.clean_line("title", family, 500) == family


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u200e", "\ufeff", "\u00ad", "\u2060",
                                  "\x1b", " ", "\u00a0", "\u3164"])
def test_an_identifier_refuses_invisible_format_control_and_space_characters(char):
    _message(rules.clean_identifier, "email", f"n{char}ina@example.com")


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u200b \u200b", "\u200d\u200c",
                                    "\u3164", None])
def test_a_reason_needs_visible_characters(reason):
    assert _message(rules.require_reason, "reason", reason, 500) == "A reason is required."


def test_a_required_title_of_invisible_characters_is_missing():
    assert _message(rules.clean_line, "title", "\u200b\u200b", 500,
                    required="Title is required.") == "Title is required."


def test_length_counts_characters_after_nfc():
    assert rules.clean_line("title", "e\u0301" * 500, 500) == "\u00e9" * 500
    assert "At most 500" in _message(rules.clean_line, "title", "x" * 501, 500)


def test_limits_come_from_the_column_types():
    assert rules.column_length(Content.__table__.c.title) == 500
    assert rules.integer_bounds(Content.__table__.c.media_duration_seconds) == (
        -2_147_483_648, 2_147_483_647)
    assert rules.decimal_bounds(Content.__table__.c.price) == (Decimal("99999999.99"), 2)
    assert Decimal("99999999.99") == MAX_PRICE


@pytest.mark.parametrize("typed", ["1e30", "1E+28", "9" * 29, "100000000", "1e999999999"])
def test_a_price_too_large_names_the_bound(typed):
    assert "At most 99,999,999.99" in _price_message(typed)


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "-Infinity", "sNaN", "1,5", "\u0663",
                                   "1_000", "12 50", "\x00", "\ud800"])
def test_a_price_that_is_not_a_number_gets_a_sentence(typed):
    with pytest.raises(ValidationError) as exc:
        parse_price(typed)
    assert list(exc.value.field_errors) == ["price"]


def test_a_negative_price_is_refused_not_flipped():
    assert "negative" in _message(rules.parse_decimal, "price", "-5", maximum=MAX_PRICE,
                                  scale=2, label="Price")


def test_tiny_and_negative_zero_prices():
    assert "decimal places" in _price_message("1e-30")
    assert str(parse_price("-0")) == "0.00"
    assert parse_price("1E+2") == Decimal("100.00")


@pytest.mark.parametrize("typed", ["\u00b2", "\u0663", "1.5", "ten", "1e3", "", None])
def test_a_duration_must_be_ascii_digits(typed):
    if typed in ("", None):
        assert rules.parse_int("media_duration_seconds", typed, label="Duration") is None
        return
    message = _message(rules.parse_int, "media_duration_seconds", typed, label="Duration",
                       unit="seconds")
    assert "in whole seconds" in message


@pytest.mark.parametrize("typed", ["9" * 10_000, str(2**31), Decimal("1E+400"), 2**40])
def test_a_huge_integer_names_the_bound_not_pythons_limit(typed):
    message = _message(rules.parse_int, "media_duration_seconds", typed, label="Duration",
                       unit="seconds")
    assert "At most 2,147,483,647 seconds" in message


@pytest.mark.parametrize("typed", ["-1", "-" + "9" * 10_000, -3])
def test_a_negative_integer_is_refused(typed):
    assert "negative" in _message(rules.parse_int, "media_duration_seconds", typed,
                                  label="Duration")


def test_search_drops_what_cannot_match():
    assert rules.clean_search("ni\x00na\ud800") == "nina"
    assert rules.clean_search("n\u200bina") == "nina"
    assert rules.clean_search("a\tb") == "a b"
    assert rules.clean_search(None) == ""


@given(st.text())
def test_any_line_is_accepted_as_stored_or_refused_with_a_message(value):
    try:
        clean = rules.clean_line("title", value, 500)
    except ValidationError as exc:
        assert list(exc.field_errors) == ["title"] and exc.field_errors["title"]
        return
    typed = unicodedata.normalize("NFC", value).strip()
    assert clean == (typed if any(rules.is_visible(c) for c in typed) else "")
    clean.encode("utf-8")  # storable
    assert "\x00" not in clean and not any(c in rules.BIDI_CONTROLS for c in clean)
