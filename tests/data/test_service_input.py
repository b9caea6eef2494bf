"""Every service against PostgreSQL with what an unkind (or unlucky) person types: NUL bytes,
lone surrogates, control, bidi and zero-width characters, huge and tiny numbers. Each is
accepted or refused with a message naming the field, and a refusal writes nothing. Email
and slug uniqueness lost to a concurrent insert gives the same field message as the check."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text

from data.db import make_engine
from data.errors import ValidationError
from data.queries.catalog import CatalogFilter, get_content, list_content_page
from data.queries.credits import BalanceFilter, list_balances_page
from data.queries.featured import get_featured, search_published_content
from data.queries.series import get_series, list_series_page, search_series_candidates
from data.queries.users import UserFilter, get_profile, list_users_page
from data.services import catalog, content_access, credits, featured, series, users
from data.services.refunds import Refundable, validate_refund
from tests.data.factories import insert_user
from tests.data.series_factories import insert_content, insert_series

ACTOR = "support_anna"
NASTY_TEXT = ["a\x00b", "\x00", "\ud800", "x\udfff", "Nina\x1b[31m", "evil\u202etxt.exe",
              "\u2066iso\u2069", "\u200b", "n\u200bina@example.com", "\x7f", "a\nb"]
NASTY_NUMBERS = ["1e30", "1E+28", "NaN", "Infinity", "-Infinity", "9" * 29, "9" * 10_000,
                 "1e-30", "-0", "-1", "\u00b2", "\u0663", "1,5", "0x10", Decimal("1e30"),
                 Decimal("-0"), Decimal("NaN"), Decimal("1e-30"), 1e30, -0.0, float("nan"),
                 2**31, -(2**31) - 1, 0, True]
PRINCIPAL = "\x00\ud800\udfff\x1b\x07\u202a\u202e\u2066\u2069\u200b\u200c\u200d\ufeff\u00ad\n\t"
nasty_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(list(PRINCIPAL))),
            max_size=12),
)
nasty_numbers = st.one_of(st.sampled_from(NASTY_NUMBERS), st.integers(),
                          st.decimals(allow_nan=True, allow_infinity=True),
                          st.floats(), nasty_text)
PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def people(engine):
    creator = insert_user(engine, "cora@example.com", "Cora Creator", role="platform_creator")
    nina = insert_user(engine, "nina@example.com", "Nina Customer")
    carl = insert_user(engine, "carl@example.com", "Carl Customer")
    return {"creator": creator, "nina": nina, "carl": carl}


@pytest.fixture
def item(engine, people):
    return insert_content(engine, people["creator"], "Morning Yoga")


@pytest.fixture
def a_series(engine, people):
    return insert_series(engine, people["creator"], "Yoga Basics")


def _snapshot(engine):
    """Every row a service here could write, with its version."""
    with engine.connect() as conn:
        return tuple(conn.execute(text(sql)).all() for sql in (
            "SELECT u.*, u.xmin::text FROM users u ORDER BY id",
            "SELECT c.*, c.xmin::text FROM content c ORDER BY id",
            "SELECT s.*, s.xmin::text FROM content_series s ORDER BY id",
            "SELECT p.*, p.xmin::text FROM platform_settings p ORDER BY id",
            "SELECT a.*, a.xmin::text FROM content_access a ORDER BY id",
            "SELECT b.*, b.xmin::text FROM credit_balances b ORDER BY id",
            "SELECT count(*) FROM credit_transactions",
            "SELECT count(*) FROM admin.audit_log",
            "SELECT count(*) FROM admin.bulk_grants",
        ))


def _refused(engine, session_factory, call, fields):
    """Run ``call(session)`` in its own transaction: it must be refused naming exactly
    ``fields``, with the database as it was."""
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        call(s)
    assert set(exc.value.field_errors) == set(fields), exc.value.field_errors
    assert all(exc.value.field_errors.values())
    assert _snapshot(engine) == before
    return exc.value.field_errors


def _accepted_or_refused(engine, session_factory, call, fields, also=()):
    """Accepted, or refused naming only ``fields`` (or with one of the expected domain
    errors ``also``) and the database unchanged."""
    before = _snapshot(engine)
    try:
        with session_factory.begin() as s:
            call(s)
    except also:
        assert _snapshot(engine) == before
    except ValidationError as exc:
        assert set(exc.field_errors) <= set(fields) and exc.field_errors, exc.field_errors
        assert all(exc.field_errors.values())
        assert _snapshot(engine) == before


def _user_version(session_factory, user_id):
    with session_factory() as s:
        return get_profile(s, user_id).version


def _content_version(session_factory, content_id):
    with session_factory() as s:
        return get_content(s, content_id).version


def _series_version(session_factory, series_id):
    with session_factory() as s:
        return get_series(s, series_id).version


# -- the cases ----------------------------------------------------------------------

@pytest.mark.parametrize("field", ["email", "full_name", "bio", "profile_image_url"])
@pytest.mark.parametrize("value", ["nina\x00@example.com", "\ud800", "https://x.example/\x00"])
def test_user_fields_refuse_nul_and_surrogates(engine, session_factory, people, field, value):
    version = _user_version(session_factory, people["carl"])
    _refused(engine, session_factory, lambda s: users.update_profile(
        s, ACTOR, people["carl"], version, {field: value}), [field])


def test_a_zero_width_email_is_not_a_second_address(engine, session_factory, people):
    version = _user_version(session_factory, people["carl"])
    errors = _refused(engine, session_factory, lambda s: users.update_profile(
        s, ACTOR, people["carl"], version, {"email": "n\u200bina@example.com"}), ["email"])
    assert "U+200B" in errors["email"]


def test_an_email_is_compared_in_nfc(engine, session_factory, people):
    insert_user(engine, "ren\u00e9@example.com", "Ren\u00e9")
    version = _user_version(session_factory, people["carl"])
    errors = _refused(engine, session_factory, lambda s: users.update_profile(
        s, ACTOR, people["carl"], version, {"email": "rene\u0301@example.com"}), ["email"])
    assert "already used" in errors["email"]


@pytest.mark.parametrize("name", ["Carl\x1b[2J", "Carl \u202eetalpmet", "\u2067Carl\u2069",
                                  "Carl\nSmith"])
def test_names_with_escape_or_bidi_controls_are_refused(engine, session_factory, people, name):
    version = _user_version(session_factory, people["carl"])
    _refused(engine, session_factory, lambda s: users.update_profile(
        s, ACTOR, people["carl"], version, {"full_name": name}), ["full_name"])


def test_a_bio_keeps_its_lines_and_a_name_its_zwnj(session_factory, people):
    version = _user_version(session_factory, people["carl"])
    with session_factory.begin() as s:
        saved = users.update_profile(s, ACTOR, people["carl"], version, {
            "bio": "Line one\n\tLine two", "full_name": "\u0645\u200c\u0627 Carl"})
    assert saved.bio == "Line one\n\tLine two" and saved.full_name == "\u0645\u200c\u0627 Carl"


CONTENT_TEXT_FIELDS = ["title", "description", "content_body", "category", "slug",
                       "media_url", "thumbnail_url"]


@pytest.mark.parametrize("field", CONTENT_TEXT_FIELDS + ["tags"])
@pytest.mark.parametrize("value", ["a\x00b", "\ud800"])
def test_content_text_refuses_nul_and_surrogates(engine, session_factory, item, field, value):
    version = _content_version(session_factory, item)
    changes = {field: [value] if field == "tags" else value}
    _refused(engine, session_factory, lambda s: catalog.update_content(
        s, ACTOR, item, version, changes), [field])


@pytest.mark.parametrize("value", ["1e30", "1E+28", "NaN", "Infinity", "9" * 29, "-1"])
def test_content_and_series_prices_get_a_sentence(engine, session_factory, item, a_series,
                                                  value):
    version = _content_version(session_factory, item)
    errors = _refused(engine, session_factory, lambda s: catalog.update_content(
        s, ACTOR, item, version, {"price": value}), ["price"])
    if value in ("1e30", "1E+28", "9" * 29):
        assert "At most 99,999,999.99" in errors["price"]
    series_version = _series_version(session_factory, a_series)
    _refused(engine, session_factory, lambda s: series.update_series(
        s, ACTOR, a_series, series_version, {"price": value}), ["price"])


@pytest.mark.parametrize(("value", "fragment"), [("\u00b2", "in whole seconds"),
                                                 ("9" * 10_000, "At most 2,147,483,647"),
                                                 ("-5", "negative")])
def test_a_duration_gets_a_sentence_not_pythons(engine, session_factory, item, value,
                                                fragment):
    version = _content_version(session_factory, item)
    errors = _refused(engine, session_factory, lambda s: catalog.update_content(
        s, ACTOR, item, version, {"media_duration_seconds": value}),
        ["media_duration_seconds"])
    assert fragment in errors["media_duration_seconds"]


@pytest.mark.parametrize("field", ["title", "description", "slug", "thumbnail_url", "status"])
@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "T\u202eitle"])
def test_series_text_refuses_nul_surrogates_and_bidi(engine, session_factory, a_series, field,
                                                    value):
    version = _series_version(session_factory, a_series)
    _refused(engine, session_factory, lambda s: series.update_series(
        s, ACTOR, a_series, version, {field: value}), [field])


def test_featured_refuses_what_is_not_an_id(engine, session_factory, item):
    with session_factory() as s:
        version = get_featured(s).version
    _refused(engine, session_factory, lambda s: featured.set_featured_content(
        s, ACTOR, version, [str(item), "abc\x00"]), ["featured_content_ids"])


def test_series_order_and_add_refuse_what_is_not_an_id(engine, session_factory, a_series):
    version = _series_version(session_factory, a_series)
    _refused(engine, session_factory, lambda s: series.reorder_series(
        s, ACTOR, a_series, version, ["\ud800"]), ["content_order"])
    _refused(engine, session_factory, lambda s: series.add_items_to_series(
        s, ACTOR, a_series, ["not-an-id"]), ["content_ids"])


def test_content_access_refuses_a_bad_person_or_date(engine, session_factory, item):
    _refused(engine, session_factory, lambda s: content_access.grant_complimentary_access(
        s, ACTOR, item, "x\x00", None), ["user_id"])
    _refused(engine, session_factory, lambda s: content_access.grant_complimentary_access(
        s, ACTOR, item, None, "2030-01-01"), ["expires_at", "user_id"])


@pytest.mark.parametrize("reason", ["\u200b", "   ", "\u200b \u200d", "a\x00b", "\ud800",
                                    "ok \u202e"])
def test_a_token_reason_needs_visible_characters(engine, session_factory, people, reason):
    errors = _refused(engine, session_factory, lambda s: credits.adjust_balance(
        s, ACTOR, people["carl"], 10, reason, uuid.uuid4()), ["reason"])
    if reason.strip("\u200b\u200d ") == "":
        assert errors["reason"] == "A reason is required."
    _refused(engine, session_factory, lambda s: credits.create_bulk_grant(
        s, ACTOR, 10, reason, [people["carl"]]), ["reason"])


@pytest.mark.parametrize("amount", [0, "0", "1.5", Decimal("1.5"), 1.0, "\u00b2", "\u0663",
                                    "9" * 10_000, credits.MAX_ADJUSTMENT_TOKENS + 1,
                                    -credits.MAX_ADJUSTMENT_TOKENS - 1, "NaN", Decimal("NaN")])
def test_a_token_amount_must_be_a_whole_number_within_the_limit(engine, session_factory,
                                                                people, amount):
    _refused(engine, session_factory, lambda s: credits.adjust_balance(
        s, ACTOR, people["carl"], amount, "Goodwill", uuid.uuid4()), ["amount"])


def test_the_adjustment_limit_is_exported_and_inclusive(session_factory, people):
    limit = credits.MAX_ADJUSTMENT_TOKENS
    assert limit == 1_000_000
    with session_factory.begin() as s:
        result = credits.adjust_balance(s, ACTOR, people["carl"], str(limit), "Goodwill",
                                        uuid.uuid4())
    assert result.balance_after == limit


SEARCHES = ["\x00", "ni\x00na", "\ud800", "nina\udfff", "\u200b", "\x1b", "a:b & c | !d",
            "x" * 3_000, "\u202e"]


@pytest.mark.parametrize("search", SEARCHES)
def test_every_search_takes_any_text(session_factory, people, item, a_series, search):
    with session_factory() as s:
        list_users_page(s, UserFilter(search=search), cursor=None, limit=10)
        list_content_page(s, CatalogFilter(search=search), cursor=None, limit=10)
        list_balances_page(s, BalanceFilter(search=search), cursor=None, limit=10)
        search_published_content(s, search)
        list_series_page(s, search, cursor=None, limit=10)
        search_series_candidates(s, a_series, search)
        credits.customer_ids_matching(s, search)


def test_a_search_with_a_nul_still_finds_the_rest(session_factory, people):
    with session_factory() as s:
        rows, _ = list_users_page(s, UserFilter(search="ni\x00na"), cursor=None, limit=10)
    assert [r.email for r in rows] == ["nina@example.com"]


# -- uniqueness lost to a concurrent insert -------------------------------------------------

@pytest.fixture
def other_engine(db_url):
    eng = make_engine(db_url, pool_size=1)
    yield eng
    eng.dispose()


def _commit_first(engine, pattern, other_engine, sql, params):
    """Just before ``engine`` runs a statement matching ``pattern``, another connection
    commits ``sql``: the service's uniqueness check has passed, its write then meets the
    committed row (a real concurrent insert, made deterministic)."""
    fired = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not fired and re.match(pattern, statement.lstrip(), re.I):
            fired.append(statement)
            with other_engine.begin() as other:
                other.execute(text(sql), params)

    event.listen(engine, "before_cursor_execute", before)
    return fired


def test_an_email_taken_meanwhile_gets_the_field_message(engine, other_engine,
                                                        session_factory, people):
    version = _user_version(session_factory, people["carl"])
    fired = _commit_first(engine, r"UPDATE users\b", other_engine,
                          "INSERT INTO users (email, password_hash, full_name, role) "
                          "VALUES ('new@example.com', 'x', 'Newcomer', 'customer')", {})
    with session_factory.begin() as s:
        with pytest.raises(ValidationError) as exc:
            users.update_profile(s, ACTOR, people["carl"], version,
                                 {"email": "new@example.com"})
        # The caller's transaction survives the refused write (a savepoint).
        assert s.execute(select(text("1"))).scalar_one() == 1
    assert fired
    assert exc.value.field_errors == {"email": "new@example.com is already used by another "
                                               "user."}
    with session_factory() as s:
        assert get_profile(s, people["carl"]).email == "carl@example.com"
        assert s.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one() == 0


def _clashing_content(creator):
    return ("INSERT INTO content (creator_id, title, slug, content_type) "
            "VALUES (:c, 'Theirs', 'evening-yoga', 'video')", {"c": creator})


def test_a_content_slug_taken_meanwhile_gets_the_field_message(engine, other_engine,
                                                              session_factory, people, item):
    fired = _commit_first(engine, r"INSERT INTO content \(", other_engine,
                          *_clashing_content(people["creator"]))
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        catalog.create_content(s, ACTOR, {"title": "Evening Yoga", "content_type": "video",
                                          "creator_id": people["creator"]})
    assert fired and list(exc.value.field_errors) == ["slug"]
    assert "already used" in exc.value.field_errors["slug"]

    version = _content_version(session_factory, item)
    _commit_first(engine, r"UPDATE content\b", other_engine,
                  "UPDATE content SET slug = 'late-yoga' WHERE title = 'Theirs'", {})
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        catalog.update_content(s, ACTOR, item, version, {"slug": "late-yoga"})
    assert "already used" in exc.value.field_errors["slug"]
    assert _content_version(session_factory, item) == version


def test_a_series_slug_taken_meanwhile_gets_the_field_message(engine, other_engine,
                                                             session_factory, people,
                                                             a_series):
    insert = ("INSERT INTO content_series (creator_id, title, slug) "
              "VALUES (:c, 'Theirs', :slug)")
    fired = _commit_first(engine, r"INSERT INTO content_series\b", other_engine, insert,
                          {"c": people["creator"], "slug": "pilates"})
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        series.create_series(s, ACTOR, {"title": "Pilates", "creator_id": people["creator"]})
    assert fired and "already used" in exc.value.field_errors["slug"]

    version = _series_version(session_factory, a_series)
    _commit_first(engine, r"UPDATE content_series\b", other_engine, insert,
                  {"c": people["creator"], "slug": "late-pilates"})
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        series.update_series(s, ACTOR, a_series, version, {"slug": "late-pilates"})
    assert "already used" in exc.value.field_errors["slug"]
    assert _series_version(session_factory, a_series) == version


# -- every service, any input ---------------------------------------------------------------

@PROPERTY
@given(field=st.sampled_from(["email", "full_name", "bio", "profile_image_url", "role"]),
       value=nasty_text)
def test_users_take_any_text(engine, session_factory, people, field, value):
    version = _user_version(session_factory, people["carl"])
    _accepted_or_refused(engine, session_factory, lambda s: users.update_profile(
        s, ACTOR, people["carl"], version, {field: value}), [field])


@PROPERTY
@given(field=st.sampled_from(CONTENT_TEXT_FIELDS + ["tags", "price", "media_duration_seconds"]),
       text_value=nasty_text, number=nasty_numbers)
def test_catalog_takes_any_text_and_number(engine, session_factory, item, field, text_value,
                                           number):
    value = {"tags": [text_value], "price": number,
             "media_duration_seconds": number}.get(field, text_value)
    version = _content_version(session_factory, item)
    _accepted_or_refused(engine, session_factory, lambda s: catalog.update_content(
        s, ACTOR, item, version, {field: value}), [field])


@PROPERTY
@given(title=nasty_text, price=nasty_numbers, slug=nasty_text)
def test_creating_content_takes_any_text(engine, session_factory, people, title, price, slug):
    _accepted_or_refused(engine, session_factory, lambda s: catalog.create_content(
        s, ACTOR, {"title": title, "slug": slug, "price": price, "content_type": "video",
                   "creator_id": people["creator"]}), ["title", "slug", "price"])


@PROPERTY
@given(field=st.sampled_from(["title", "slug", "description", "thumbnail_url", "status",
                              "price"]), text_value=nasty_text, number=nasty_numbers)
def test_series_take_any_text_and_number(engine, session_factory, a_series, field, text_value,
                                         number):
    value = number if field == "price" else text_value
    version = _series_version(session_factory, a_series)
    _accepted_or_refused(engine, session_factory, lambda s: series.update_series(
        s, ACTOR, a_series, version, {field: value}), [field])


@PROPERTY
@given(value=st.one_of(nasty_text, nasty_numbers))
def test_featured_takes_any_id(engine, session_factory, item, value):
    with session_factory() as s:
        version = get_featured(s).version
    _accepted_or_refused(engine, session_factory, lambda s: featured.set_featured_content(
        s, ACTOR, version, [value]), ["featured_content_ids"])


@PROPERTY
@given(user=st.one_of(nasty_text, nasty_numbers), expires=st.one_of(
    nasty_text, nasty_numbers, st.datetimes(min_value=dt.datetime(1900, 1, 1))))
def test_content_access_takes_any_person_and_date(engine, session_factory, item, user,
                                                  expires):
    _accepted_or_refused(engine, session_factory, lambda s: content_access
                         .grant_complimentary_access(s, ACTOR, item, user, expires),
                         ["user_id", "expires_at"])


@PROPERTY
@given(amount=nasty_numbers, reason=st.one_of(nasty_text, st.just("Goodwill")))
def test_credits_take_any_amount_and_reason(engine, session_factory, people, amount, reason):
    _accepted_or_refused(engine, session_factory, lambda s: credits.adjust_balance(
        s, ACTOR, people["carl"], amount, reason, uuid.uuid4()), ["amount", "reason"],
        also=(credits.InsufficientBalanceError,))
    _accepted_or_refused(engine, session_factory, lambda s: credits.create_bulk_grant(
        s, ACTOR, amount, reason, [people["carl"]]), ["amount", "reason"])


REFUNDABLE = Refundable(
    kind="purchase", target_id=uuid.uuid4(), customer_id=uuid.uuid4(),
    customer_email="nina@example.com", title="Morning Yoga", amount_paid=Decimal("30.00"),
    currency="usd", refunded=Decimal("0"), remaining=Decimal("30.00"), credits_paid=0,
    status="completed", open_request_id=None, refusal=None)


@settings(max_examples=80, deadline=None)
@given(amount=nasty_numbers, reason=st.one_of(nasty_text, st.just("other")), note=nasty_text)
def test_the_refund_validator_takes_any_input(amount, reason, note):
    try:
        validate_refund(REFUNDABLE, amount, reason, note)
    except ValidationError as exc:
        assert set(exc.field_errors) <= {"amount", "reason", "note"} and exc.field_errors


@pytest.mark.parametrize("action", ["publish", "set_category"])
def test_bulk_actions_refuse_what_is_not_an_id(engine, session_factory, item, action):
    value = "Yoga" if action == "set_category" else None
    _refused(engine, session_factory, lambda s: catalog.preview_bulk(
        s, [item, "x\x00"], action, value), ["content_ids"])
    _refused(engine, session_factory, lambda s: catalog.apply_bulk(
        s, ACTOR, [item, "\ud800"], action, value), ["content_ids"])


@pytest.mark.parametrize("category", ["Yo\x00ga", "\ud800", "Yoga\u202e", "Yo\nga"])
def test_bulk_set_category_refuses_bad_text(engine, session_factory, item, category):
    _refused(engine, session_factory, lambda s: catalog.apply_bulk(
        s, ACTOR, [item], "set_category", category), ["category"])


def test_revoking_refuses_what_is_not_an_id(engine, session_factory, item):
    _refused(engine, session_factory, lambda s: content_access.revoke_access(
        s, ACTOR, item, "nobody\x00"), ["user_id"])
    _refused(engine, session_factory, lambda s: content_access.grant_complimentary_access(
        s, ACTOR, "\ud800", uuid.uuid4(), None), ["content_id"])
