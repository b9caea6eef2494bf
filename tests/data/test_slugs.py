"""Slugs: proposals are always well formed; malformed slugs get a message for the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.services.slugs import MAX_SLUG_LENGTH, SLUG_PATTERN, propose_slug, slug_problem


@pytest.mark.parametrize(("title", "slug"), [
    ("Hello World", "hello-world"),
    ("  Crème brûlée: the   basics!  ", "creme-brulee-the-basics"),
    ("Straße & Co", "strasse-and-co"),
    ("Yoga 101 -- Part 2", "yoga-101-part-2"),
    ("Ærø Øst", "aero-ost"),
    ("¿¡!!", ""),
])
def test_propose_slug_examples(title, slug):
    assert propose_slug(title) == slug


@given(st.text(max_size=700))
def test_proposed_slug_is_well_formed_or_empty(title):
    slug = propose_slug(title)
    assert slug == "" or slug_problem(slug) is None
    assert len(slug) <= MAX_SLUG_LENGTH


@pytest.mark.parametrize(("slug", "fragment"), [
    ("", "required"),
    ("Hello", "lowercase"),
    ("-hello", "hyphen"),
    ("hello-", "hyphen"),
    ("hello--world", "single hyphens"),
    ("hello world", "' '"),
    ("café", "'é'"),
    ("a" * 501, "At most 500"),
])
def test_slug_problem_names_the_fault(slug, fragment):
    problem = slug_problem(slug)
    assert problem is not None and fragment in problem


@given(st.text(max_size=40))
def test_slug_problem_agrees_with_pattern(slug):
    assert (slug_problem(slug) is None) == bool(SLUG_PATTERN.fullmatch(slug) and len(slug) <= 500)


def test_trailing_newline_is_not_well_formed():
    assert slug_problem("hello\n") is not None
