"""Catalog services against PostgreSQL: edits audited in the same transaction, no lost update,
publishing rules, soft delete, per-item figures and all-or-nothing bulk actions."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, DomainError, ValidationError
from data.queries.catalog import get_content, get_content_figures
from data.services import catalog as service
from data.services.catalog import BulkRefusedError, PublishRefusedError
from tests.data.catalog_factories import add_item, add_purchase
from tests.data.factories import insert_user

ACTOR = "owner_olga"
SESSION_USER = "postgres"  # the test login: audit rows name it, whatever actor is passed
QT_EMPTY_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.0//EN" "http://www.w3.org/TR/REC-html40/strict.dtd">'
    '<html><head><meta name="qrichtext" content="1" /><style type="text/css">p, li '
    '{ white-space: pre-wrap; }</style></head><body style=" font-family:\'Sans\';">'
    '<p style="-qt-paragraph-type:empty; margin-top:0px;"><br /></p></body></html>'
)


@pytest.fixture
def creator(engine):
    return insert_user(engine, "cora@example.com", "Cora Creator", role="platform_creator")


@pytest.fixture
def item(engine, creator):
    return add_item(engine, creator, "Morning Yoga", slug="morning-yoga", category="Yoga",
                    tags=["calm"])


def _audit(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT actor, action, entity_id, old_values, new_values FROM admin.audit_log "
            "ORDER BY id")).all()


def _snapshot(engine):
    with engine.connect() as conn:
        return (conn.execute(text("SELECT c.*, c.xmin::text FROM content c ORDER BY id")).all(),
                conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one())


def _version(session_factory, content_id):
    with session_factory() as s:
        return get_content(s, content_id).version


def _insert_series(engine, creator, title="Yoga Basics"):
    series_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO content_series (id, creator_id, title, slug) VALUES (:id, :c, :t, :s)"),
            {"id": series_id, "c": creator, "t": title, "s": f"series-{series_id.hex[:8]}"})
    return series_id


def _series_order(engine, series_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT content_order FROM content_series WHERE id = :id"),
                            {"id": series_id}).scalar_one()


# -- create and edit ------------------------------------------------------------------------

def test_create_proposes_slug_and_audits(session_factory, engine, creator):
    with session_factory.begin() as s:
        saved = service.create_content(s, ACTOR, {
            "title": "Crème Brûlée Basics", "content_type": "written", "creator_id": creator,
            "price": "4.5", "tags": ["Cooking", "cooking ", "french"]})
    assert saved.slug == "creme-brulee-basics" and saved.status == "draft"
    assert saved.price == Decimal("4.50") and saved.tags == ("Cooking", "french")
    [(actor, action, entity, old, new)] = _audit(engine)
    assert (actor, action, entity, old) == (SESSION_USER, "content.create", str(saved.id), None)
    assert new["title"] == "Crème Brûlée Basics" and new["price"] == "4.50"
    assert new["status"] == "draft"


def test_create_requires_type_and_creator(session_factory, engine):
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.create_content(s, ACTOR, {"title": "Untyped"})
    assert set(exc.value.field_errors) == {"content_type"}
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.create_content(s, ACTOR, {"title": "Orphan", "content_type": "video"})
    assert "creator" in exc.value.field_errors["creator_id"].lower()
    assert _audit(engine) == []


def test_customer_cannot_be_the_creator(session_factory, engine):
    customer = insert_user(engine, "cus@example.com", "Cus Tomer")
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.create_content(s, ACTOR, {"title": "X", "content_type": "video",
                                          "creator_id": customer})
    assert "creator_id" in exc.value.field_errors


def test_update_writes_only_changed_fields_with_audit(session_factory, engine, item):
    version = _version(session_factory, item)
    with session_factory.begin() as s:
        saved = service.update_content(s, ACTOR, item, version, {
            "title": "Morning Yoga", "category": "Wellness", "tags": ["calm", "morning"],
            "price": "12.00"})
    assert saved.category == "Wellness" and saved.tags == ("calm", "morning")
    assert saved.version != version
    [(_, action, _, old, new)] = _audit(engine)
    assert action == "content.update"
    assert old == {"category": "Yoga", "tags": ["calm"], "price": "9.99"}
    assert new == {"category": "Wellness", "tags": ["calm", "morning"], "price": "12.00"}
    with engine.connect() as conn:
        tags = conn.execute(text("SELECT tags FROM content WHERE id = :id"),
                            {"id": item}).scalar_one()
    assert tags == ["calm", "morning"]


def test_blank_price_means_free(session_factory, engine, creator):
    free = add_item(engine, creator, "Free talk", visibility="public")
    with session_factory.begin() as s:
        saved = service.update_content(s, ACTOR, free, get_content(s, free).version,
                                       {"price": "  "})
    assert saved.price is None


def test_series_change_keeps_series_and_items_consistent(session_factory, engine, creator,
                                                         item):
    first, second = _insert_series(engine, creator, "A"), _insert_series(engine, creator, "B")
    with session_factory.begin() as s:
        saved = service.update_content(s, ACTOR, item, get_content(s, item).version,
                                       {"series_id": first})
    assert saved.series_id == first and _series_order(engine, first) == [str(item)]
    with session_factory.begin() as s:
        saved = service.update_content(s, ACTOR, item, saved.version,
                                       {"series_id": str(second), "category": "Moved"})
    assert saved.series_id == second and saved.category == "Moved"
    assert _series_order(engine, first) == [] and _series_order(engine, second) == [str(item)]
    with session_factory.begin() as s:
        saved = service.update_content(s, ACTOR, item, saved.version, {"series_id": None})
    assert saved.series_id is None and _series_order(engine, second) == []
    audit = _audit(engine)
    assert [a[4].get("series_id") for a in audit] == [str(first), str(second), None]
    assert audit[1][3] == {"category": "Yoga", "series_id": str(first)}


def test_slug_clash_is_reported_on_the_slug_field(session_factory, engine, creator, item):
    other = add_item(engine, creator, "Evening Yoga", slug="evening-yoga")
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.update_content(s, ACTOR, other, get_content(s, other).version,
                               {"slug": "morning-yoga"})
    assert "already used" in exc.value.field_errors["slug"]
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.create_content(s, ACTOR, {"title": "Morning yoga!", "content_type": "video",
                                          "creator_id": creator})
    assert "morning-yoga" in exc.value.field_errors["slug"]
    assert _snapshot(engine) == before


def test_concurrent_edit_is_refused_not_overwritten(session_factory, engine, item):
    version = _version(session_factory, item)
    with session_factory.begin() as s:  # another staff member saves first (a real commit)
        service.update_content(s, "other_admin", item, version, {"title": "Their Title"})
    with pytest.raises(ConflictError) as exc, session_factory.begin() as s:
        service.update_content(s, ACTOR, item, version, {"title": "My Title"})
    assert exc.value.current.title == "Their Title"
    with session_factory() as s:
        assert get_content(s, item).title == "Their Title"
    assert [(a[0], a[4]["title"]) for a in _audit(engine)] == [(SESSION_USER, "Their Title")]


def test_change_by_the_platform_is_not_overwritten(session_factory, engine, item):
    version = _version(session_factory, item)
    with engine.begin() as conn:  # the platform's web app counting a view
        conn.execute(text("UPDATE content SET view_count = view_count + 1 WHERE id = :id"),
                     {"id": item})
    with pytest.raises(ConflictError) as exc, session_factory.begin() as s:
        service.publish_content(s, ACTOR, item, version)
    assert exc.value.current.view_count == 1 and exc.value.current.status == "draft"


# -- validators (property tests) ------------------------------------------------------------

bad_prices = st.one_of(
    st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False)
    .map(str),
    st.sampled_from(["abc", "9.99.1", "NaN", "Infinity", "-Infinity", "1e400x", "12,3,4x",
                     "$5"]),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3)
    .filter(lambda d: d != d.quantize(Decimal("0.01"))).map(str),
    st.decimals(min_value=Decimal("100000000"), max_value=Decimal("10") ** 15, places=2)
    .map(str),
)
bad_slugs = st.one_of(
    st.text(min_size=1, max_size=30).filter(
        lambda t: t.strip() and not all(c in "abcdefghijklmnopqrstuvwxyz0123456789-"
                                        for c in t.strip())),
    st.sampled_from(["-lead", "trail-", "dou--ble", "UPPER", "a" * 501, "morning-yoga"]),
)
bad_input = st.one_of(
    st.fixed_dictionaries({"price": bad_prices}),
    st.fixed_dictionaries({"slug": bad_slugs}),
    st.fixed_dictionaries({"title": st.one_of(
        st.just("   "), st.text(min_size=501, max_size=600).filter(lambda t: len(t.strip()) > 500)
    )}),
    st.fixed_dictionaries({"media_duration_seconds": st.sampled_from(["-5", "1.5", "ten",
                                                                      str(2**31)])}),
    st.fixed_dictionaries({"media_url": st.sampled_from(["ftp://x/y", "not a url",
                                                         "javascript:alert(1)"])}),
    st.fixed_dictionaries({"visibility": st.text(max_size=15).filter(
        lambda v: v not in ("public", "private", "members_only", "purchased_only"))}),
    st.fixed_dictionaries({"category": st.text(min_size=101, max_size=120).filter(
        lambda t: len(t.strip()) > 100)}),
)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=bad_input)
def test_bad_input_names_the_field_and_changes_nothing(session_factory, engine, creator, item,
                                                       changes):
    other = add_item(engine, creator, "Other", slug=f"other-{uuid.uuid4().hex[:8]}")
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.update_content(s, ACTOR, other, get_content(s, other).version, changes)
    [field] = changes
    assert list(exc.value.field_errors) == [field] and exc.value.field_errors[field]
    assert _snapshot(engine) == before


@given(st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
def test_every_valid_price_is_accepted_exactly(price):
    assert service.parse_price(str(price)) == price


# -- publishing workflow --------------------------------------------------------------------

INCOMPLETE = [
    ("video", {"media_url": None}, "media_url", "media URL"),
    ("video", {"duration": None}, "media_duration_seconds", "duration"),
    ("audio", {"media_url": None}, "media_url", "media URL"),
    ("audio", {"duration": None}, "media_duration_seconds", "duration"),
    ("written", {"body": None}, "content_body", "body"),
    ("written", {"body": QT_EMPTY_HTML}, "content_body", "body"),
    ("video", {"price": None}, "price", "price"),
]


@pytest.mark.parametrize(("kind", "missing", "field", "word"), INCOMPLETE)
def test_publishing_an_incomplete_item_is_refused(session_factory, engine, creator, kind,
                                                  missing, field, word):
    values = {"content_type": kind, "body": "<p>Hello</p>", **missing}
    item = add_item(engine, creator, "Incomplete", **values)
    before = _snapshot(engine)
    with pytest.raises(PublishRefusedError) as exc, session_factory.begin() as s:
        service.publish_content(s, ACTOR, item, get_content(s, item).version)
    assert list(exc.value.field_errors) == [field]
    assert word in exc.value.field_errors[field] and word in str(exc.value)
    assert _snapshot(engine) == before


def test_publish_archive_and_back_to_draft(session_factory, engine, creator):
    item = add_item(engine, creator, "Essay", content_type="written",
                    body="<p>Words</p>", visibility="public", price=None)
    with session_factory.begin() as s:
        p = service.publish_content(s, ACTOR, item, get_content(s, item).version)
    assert p.status == "published" and p.published_at is not None
    with session_factory.begin() as s:
        a = service.archive_content(s, ACTOR, item, p.version)
    assert a.status == "archived" and a.published_at == p.published_at
    with session_factory.begin() as s:
        d = service.return_to_draft(s, ACTOR, item, a.version)
    assert d.status == "draft" and d.published_at is None
    audit = _audit(engine)
    assert [x[1] for x in audit] == ["content.publish", "content.archive", "content.draft"]
    assert audit[0][3] == {"status": "draft", "published_at": None}
    assert audit[0][4]["status"] == "published" and audit[0][4]["published_at"]
    assert audit[2][3]["published_at"] == audit[0][4]["published_at"]


def test_editing_a_published_item_keeps_it_complete(session_factory, engine, creator):
    item = add_item(engine, creator, "Live", status="published")
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as exc, session_factory.begin() as s:
        service.update_content(s, ACTOR, item, get_content(s, item).version,
                               {"media_url": "", "price": None})
    assert set(exc.value.field_errors) == {"media_url", "price"}
    assert "while it is published" in exc.value.field_errors["price"]
    assert _snapshot(engine) == before


# -- soft delete ----------------------------------------------------------------------------

def test_soft_delete_keeps_purchases_and_access_and_restores(session_factory, engine,
                                                             creator, item):
    buyer = insert_user(engine, "buyer@example.com", "Bea Buyer")
    add_purchase(engine, buyer, item, Decimal("9.99"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO content_access (user_id, content_id, access_type) "
                          "VALUES (:u, :c, 'purchased')"), {"u": buyer, "c": item})
    with session_factory.begin() as s:
        deleted = service.soft_delete_content(s, ACTOR, item, get_content(s, item).version)
    assert deleted.deleted_at is not None
    with pytest.raises(DomainError, match="restore it first"), session_factory.begin() as s:
        service.update_content(s, ACTOR, item, deleted.version, {"title": "Nope"})
    with engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT (SELECT count(*) FROM purchases WHERE content_id = :c), "
            "(SELECT count(*) FROM content_access WHERE content_id = :c)"), {"c": item}).one()
    assert tuple(kept) == (1, 1)
    with session_factory.begin() as s:
        restored = service.restore_content(s, ACTOR, item, deleted.version)
    assert restored.deleted_at is None
    assert [a[1] for a in _audit(engine)] == ["content.soft_delete", "content.restore"]


# -- figures --------------------------------------------------------------------------------

def test_figures_count_paid_purchases_revenue_and_refunds(session_factory, engine, creator,
                                                         item):
    buyers = [insert_user(engine, f"b{i}@example.com", f"Buyer {i}") for i in range(4)]
    add_purchase(engine, buyers[0], item, Decimal("9.99"))
    add_purchase(engine, buyers[1], item, Decimal("9.99"))
    refunded = add_purchase(engine, buyers[2], item, Decimal("5.00"), status="refunded")
    add_purchase(engine, buyers[3], item, Decimal("9.99"), status="failed")
    with engine.begin() as conn:
        conn.execute(text("UPDATE content SET view_count = 42, purchase_count = 3 "
                          "WHERE id = :id"), {"id": item})
    with session_factory() as s:
        f = get_content_figures(s, item)
    assert (f.purchases, f.gross_revenue, f.refunds) == (3, Decimal("24.98"), Decimal("5.00"))
    assert f.net_revenue == Decimal("19.98") and (f.view_count, f.purchase_count) == (42, 3)
    with engine.connect() as conn:
        has_requests = conn.execute(
            text("SELECT to_regclass('admin.refund_requests') IS NOT NULL")).scalar_one()
    assert f.refunds_from_requests == has_requests
    if has_requests:  # a partial refund that went through the app counts its own amount
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO admin.refund_requests (id, purchase_id, customer_id, amount, "
                "currency, reason, actor, idempotency_key, status) VALUES (gen_random_uuid(), "
                ":p, :c, 2.50, 'usd', 'duplicate', 'x', 'k1', 'succeeded')"),
                {"p": refunded, "c": buyers[2]})
        with session_factory() as s:
            assert get_content_figures(s, item).refunds == Decimal("2.50")



def test_figures_never_add_two_currencies(session_factory, engine, creator, item):
    """A EUR sale and a USD sale of one item are two amounts, the larger first."""
    buyers = [insert_user(engine, f"cur{i}@example.com", f"Buyer {i}") for i in range(3)]
    add_purchase(engine, buyers[0], item, Decimal("9.99"))
    eur = [add_purchase(engine, buyers[i], item, Decimal("20.00")) for i in (1, 2)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE purchases SET currency = 'EUR' WHERE id = ANY(:ids)"),
                     {"ids": eur})
    with session_factory() as s:
        f = get_content_figures(s, item)
    assert [(m.currency, m.gross_revenue) for m in f.money] == [
        ("eur", Decimal("40.00")), ("usd", Decimal("9.99"))]
    assert f.purchases == 3 and f.gross_revenue == Decimal("40.00")

# -- bulk actions ---------------------------------------------------------------------------

def test_bulk_publish_with_one_incomplete_item_changes_nothing(session_factory, engine,
                                                               creator):
    good = [add_item(engine, creator, f"Good {i}") for i in range(3)]
    bad = add_item(engine, creator, "No media", media_url=None)
    ids = [*good, bad]
    with session_factory() as s:
        preview = service.preview_bulk(s, ids, "publish")
    assert {c.id for c in preview.changes} == set(good)
    [refusal] = preview.refused
    assert refusal.id == bad and "media URL" in refusal.reason and not preview.can_apply
    before = _snapshot(engine)
    with pytest.raises(BulkRefusedError) as exc, session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, ids, "publish")
    assert "No media" in str(exc.value) and "nothing was changed" in str(exc.value)
    assert _snapshot(engine) == before


def test_bulk_refusal_is_rechecked_under_locks(session_factory, engine, creator):
    """The preview was fine; the platform broke an item before the apply: nothing changes."""
    ids = [add_item(engine, creator, f"Item {i}") for i in range(2)]
    with session_factory() as s:
        assert service.preview_bulk(s, ids, "publish").can_apply
    with engine.begin() as conn:
        conn.execute(text("UPDATE content SET media_url = NULL WHERE id = :id"), {"id": ids[1]})
    before = _snapshot(engine)
    with pytest.raises(BulkRefusedError), session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, ids, "publish")
    assert _snapshot(engine) == before


def test_bulk_actions_apply_all_with_audit(session_factory, engine, creator):
    published = add_item(engine, creator, "Pub", status="published", category="Old")
    draft = add_item(engine, creator, "Draft", category="Old")
    already = add_item(engine, creator, "Already", category="New")
    ids = [published, draft, already]
    with session_factory.begin() as s:
        plan = service.apply_bulk(s, ACTOR, ids, "set_category", "  New ")
    assert len(plan.changes) == 2 and [u.id for u in plan.unchanged] == [already]
    with session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, ids, "publish")
        assert {get_content(s, i).status for i in ids} == {"published"}
    with session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, ids, "archive")
    with session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, ids, "set_visibility", "public")
        assert {get_content(s, i).visibility for i in ids} == {"public"}
    actions = [a[1] for a in _audit(engine)]
    assert actions.count("content.bulk_set_category") == 2
    assert actions.count("content.bulk_publish") == 2  # "Pub" was already published
    assert actions.count("content.bulk_archive") == 3
    assert actions.count("content.bulk_set_visibility") == 3


def test_bulk_visibility_refuses_to_sell_a_free_published_item(session_factory, engine,
                                                               creator):
    free = add_item(engine, creator, "Free live", status="published", visibility="public",
                    price=None)
    priced = add_item(engine, creator, "Priced", status="published", visibility="public")
    with session_factory() as s:
        preview = service.preview_bulk(s, [free, priced], "set_visibility", "purchased_only")
    assert [r.id for r in preview.refused] == [free] and "price" in preview.refused[0].reason
    with pytest.raises(BulkRefusedError), session_factory.begin() as s:
        service.apply_bulk(s, ACTOR, [free, priced], "set_visibility", "purchased_only")
    with session_factory() as s:
        assert get_content(s, priced).visibility == "public"


def test_bulk_refuses_deleted_items_and_bad_values(session_factory, engine, creator):
    gone = add_item(engine, creator, "Gone", deleted=True)
    with session_factory() as s:
        preview = service.preview_bulk(s, [gone], "archive")
    assert "restore it first" in preview.refused[0].reason
    with pytest.raises(ValidationError) as exc, session_factory() as s:
        service.preview_bulk(s, [gone], "set_visibility", "everyone")
    assert "visibility" in exc.value.field_errors


def test_tags_survive_a_round_trip_as_json(session_factory, engine, item):
    with session_factory.begin() as s:
        service.update_content(s, ACTOR, item, get_content(s, item).version,
                               {"tags": ["a \"quoted\" tag", "ü"]})
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT tags::text FROM content WHERE id = :id"),
                           {"id": item}).scalar_one()
    assert json.loads(raw) == ["a \"quoted\" tag", "ü"]
