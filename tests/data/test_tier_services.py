"""Subscription tiers against PostgreSQL: the list's subscribers and MRR, edits audited with
their price history in one transaction, grandfathered prices, names unique among active
tiers, offering rules that keep unknown keys, archive vs delete, the access preview, and
bad input refused naming the field with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ConflictError, DomainError, ValidationError
from data.models.offerings import OFFERING_TYPES
from data.queries.tiers import (
    TierFilter,
    get_tier,
    get_tier_detail,
    list_tiers_page,
    preview_access,
)
from data.services import tiers as service
from tests.data.catalog_factories import add_item
from tests.data.factories import BASE_TIME, insert_user
from tests.data.tier_factories import add_subscription, add_tier

ACTOR = "owner_olga"
LONG_AGO = dt.datetime(2024, 1, 1)


@pytest.fixture
def customers(engine):
    return [insert_user(engine, f"c{i}@example.com", f"Customer {i}") for i in range(6)]


def _rows(session_factory, **flt):
    with session_factory() as s:
        rows, _ = list_tiers_page(s, TierFilter(**flt), None, 50)
    return rows


def _snapshot(engine):
    """Everything a tier change could write."""
    with engine.connect() as conn:
        return (conn.execute(text("SELECT t.*, t.xmin::text FROM subscription_tiers t "
                                  "ORDER BY id")).all(),
                conn.execute(text("SELECT * FROM admin.tier_prices ORDER BY id")).all(),
                conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar_one(),
                conn.execute(text("SELECT * FROM subscriptions ORDER BY id")).all())


def test_list_counts_subscribers_past_due_apart_and_mrr_from_each_price(
        engine, session_factory, customers):
    gold = add_tier(engine, "Gold", monthly="20.00", yearly="120.00", history_from=LONG_AGO)
    silver = add_tier(engine, "Silver", monthly="5.00", yearly=None, history_from=LONG_AGO)
    add_tier(engine, "Empty", history_from=LONG_AGO)
    add_subscription(engine, customers[0], gold, status="active")
    add_subscription(engine, customers[1], gold, status="active", period="yearly")
    add_subscription(engine, customers[2], gold, status="trialing")
    add_subscription(engine, customers[3], gold, status="past_due")
    add_subscription(engine, customers[4], gold, status="canceled")
    add_subscription(engine, customers[5], silver, status="active")

    rows = _rows(session_factory)
    by_name = {r.name: r for r in rows}
    assert [r.name for r in rows][:2] == ["Gold", "Silver"]  # MRR, highest first
    g = by_name["Gold"]
    # active + trialing; past due apart; canceled not at all
    assert (g.subscribers, g.past_due) == (3, 1)
    # active monthly 20 + yearly 120/12 + past due 20; the trial does not pay yet
    assert g.mrr == Decimal("50.00")
    assert g.priced_now == 0 and g.currency == "usd"
    assert by_name["Silver"].mrr == Decimal("5.00")
    assert [r.name for r in _rows(session_factory, sort="name")] == ["Empty", "Gold", "Silver"]
    assert [r.name for r in _rows(session_factory, sort="subscribers")][:2] == ["Gold", "Silver"]


def test_list_pages_by_keyset_without_repeats(engine, session_factory):
    for i in range(7):
        add_tier(engine, f"Tier {i}")
    for sort in ("mrr", "subscribers", "name"):
        seen, cursor = [], None
        with session_factory() as s:
            while True:
                rows, cursor = list_tiers_page(s, TierFilter(sort=sort), cursor, 3)
                seen += [r.id for r in rows]
                if cursor is None:
                    break
        assert len(seen) == len(set(seen)) == 7


def test_price_change_keeps_subscribers_rows_and_mrr_and_records_history_and_audit(
        engine, session_factory, customers):
    gold = add_tier(engine, "Gold", monthly="20.00", yearly="120.00", history_from=LONG_AGO)
    subs = [add_subscription(engine, c, gold) for c in customers[:3]]
    before = _snapshot(engine)[3]
    with session_factory.begin() as s:
        version = get_tier(s, gold).version
        service.update_tier(s, ACTOR, gold, version, {"price_monthly": "25.00"})

    with session_factory() as s:
        detail = get_tier_detail(s, gold)
    assert detail is not None
    assert detail.record.price_monthly == Decimal("25.00")
    monthly = [p for p in detail.prices if p.billing_period == "monthly"]
    assert [p.amount for p in monthly] == [Decimal("25.00"), Decimal("20.00")]
    assert detail.row.mrr == Decimal("60.00")  # three subscribers, still at 20.00
    assert _snapshot(engine)[3] == before  # their rows untouched
    with engine.connect() as conn:
        audit = conn.execute(text(
            "SELECT action, old_values, new_values FROM admin.audit_log "
            "WHERE entity_id = :id"), {"id": str(gold)}).one()
    assert audit.action == "subscription_tier.update"
    assert audit.old_values == {"price_monthly": "20.00"}
    assert audit.new_values == {"price_monthly": "25.00"}
    # A subscriber whose period begins after the change pays the new price.
    add_subscription(engine, customers[3], gold, start=dt.datetime.now(dt.UTC)
                     .replace(tzinfo=None) + dt.timedelta(seconds=5))
    assert _rows(session_factory)[0].mrr == Decimal("85.00")
    assert len(subs) == 3


def test_mrr_uses_current_price_where_history_does_not_reach_back(
        engine, session_factory, customers):
    tier = add_tier(engine, "Old", monthly="9.00", history_from=None)  # no history at all
    add_subscription(engine, customers[0], tier, start=BASE_TIME)
    row = _rows(session_factory)[0]
    assert (row.mrr, row.priced_now) == (Decimal("9.00"), 1)


def test_price_history_and_tier_in_one_transaction(engine, session_factory):
    """A failure after the tier was written (a name clash found at the end) leaves nothing."""
    gold = add_tier(engine, "Gold", history_from=LONG_AGO)
    add_tier(engine, "Silver")
    before = _snapshot(engine)
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        service.update_tier(s, ACTOR, gold, get_tier(s, gold).version,
                            {"price_monthly": "11.00", "name": " silver "})
    assert "name" in err.value.field_errors
    assert _snapshot(engine) == before


def test_two_active_tiers_may_not_share_a_name_an_archived_one_may(engine, session_factory):
    add_tier(engine, "Gold")
    with pytest.raises(ValidationError) as err, session_factory.begin() as s:
        service.create_tier(s, ACTOR, {"name": "GOLD"})
    assert "already called" in err.value.field_errors["name"]
    with session_factory.begin() as s:
        archived = service.create_tier(s, ACTOR, {"name": "Gold", "active": False})
    with pytest.raises(ValidationError), session_factory.begin() as s:  # not back while one is
        service.set_tier_active(s, ACTOR, archived.id, archived.version, True)


def test_offering_rules_keep_keys_and_entries_the_app_does_not_know(engine, session_factory):
    rules = [{"type": "retreat", "included": False, "note": "keep me"},
             {"type": "future_type", "included": True}, "odd"]
    tier = add_tier(engine, "Gold", rules=rules)
    with session_factory.begin() as s:
        version = get_tier(s, tier).version
        saved = service.update_tier(s, ACTOR, tier, version, {
            "offering_retreat": True, "offering_cohort_course": True})
    assert list(saved.offering_access_rules) == [
        {"type": "retreat", "included": True, "note": "keep me"},
        {"type": "future_type", "included": True}, "odd",
        {"type": "cohort_course", "included": True}]
    assert service.record_values(saved)["offering_retreat"] is True


def test_a_stale_version_is_refused_with_the_current_values(engine, session_factory):
    tier = add_tier(engine, "Gold")
    with session_factory() as s:
        old = get_tier(s, tier).version
    with session_factory.begin() as s:
        service.update_tier(s, ACTOR, tier, old, {"monthly_credits": 5})
    with pytest.raises(ConflictError) as err, session_factory.begin() as s:
        service.update_tier(s, ACTOR, tier, old, {"monthly_credits": 7})
    assert err.value.current.monthly_credits == 5


def test_delete_only_a_tier_never_used(engine, session_factory, customers):
    used = add_tier(engine, "Used")
    add_subscription(engine, customers[0], used, status="canceled")
    unused = add_tier(engine, "Unused", history_from=LONG_AGO)
    with pytest.raises(DomainError, match="archive it instead"), session_factory.begin() as s:
        service.delete_tier(s, ACTOR, used, get_tier(s, used).version)
    with session_factory.begin() as s:
        service.delete_tier(s, ACTOR, unused, get_tier(s, unused).version)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subscription_tiers")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM admin.tier_prices "
                                 "WHERE tier_id = :t"), {"t": unused}).scalar_one() == 0


def test_access_preview_equals_an_independent_count(engine, session_factory, customers):
    creator = insert_user(engine, "cora@example.com", "Cora", role="platform_creator")
    items = []
    for i, (category, status) in enumerate([("Yoga", "published"), ("Yoga", "draft"),
                                            ("Breath", "published"), ("Breath", "published"),
                                            ("Sleep", "published"), (None, "published")]):
        add_item(engine, creator, f"Item {i}", category=category, status=status)
        items.append((category, status))
    tier = add_tier(engine, "Gold", categories=["Yoga", "Sleep"])
    for status in ("active", "trialing", "past_due", "canceled"):
        add_subscription(engine, customers[len(_snapshot(engine)[3])], tier, status=status)

    def independent(old_cats, old_full, new_cats, new_full):
        published = [c for c, st_ in items if st_ == "published"]
        had = [old_full or c in old_cats for c in published]
        has = [new_full or c in new_cats for c in published]
        return (sum(h and not o for o, h in zip(had, has, strict=True)),
                sum(o and not h for o, h in zip(had, has, strict=True)))

    for new_cats, new_full in ((["Breath"], False), (["Yoga", "Sleep"], True), ([], False)):
        with session_factory() as s:
            p = preview_access(s, tier, categories=new_cats, full_catalog=new_full,
                               offering_rules=[])
        assert (p.items_gained, p.items_lost) == independent(["Yoga", "Sleep"], False,
                                                             new_cats, new_full)
        assert p.subscribers == 3  # active, trialing, past due; not the canceled one
    with session_factory() as s:
        same = preview_access(s, tier, categories=["Sleep", "Yoga"], full_catalog=False,
                              offering_rules=[])
    assert not same.changes_anything and same.subscribers == 0


# -- bad input ------------------------------------------------------------------------------

BAD_TEXT = st.sampled_from(["", "   ", "a\x00b", "bad\ud800", "x\u202eevil", "\u200b\u200b",
                            "x" * 256, "line\nbreak"])
BAD_PRICE = st.one_of(
    st.sampled_from(["-1", "-0.01", "1e30", "NaN", "Infinity", "100000000", "1,5", "0.001",
                     "12.345", "abc", "\x00", "1\u200b"]),
    st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: d < 0 or d > Decimal(
        "99999999.99") or d != d.quantize(Decimal("0.01"))),
    st.floats(allow_nan=True))
BAD_CREDITS = st.one_of(st.integers(max_value=-1), st.integers(min_value=2**31),
                        st.sampled_from(["1.5", "ten", "-3", "²", "\x00", "9" * 40]),
                        st.floats())
BAD_CATEGORIES = st.sampled_from([["Yoga\x00"], ["a\u202e"], "Yoga", [3], ["x" * 101],
                                  [f"c{i}" for i in range(101)]])
BAD_FLAG = st.sampled_from(["yes", 1, None, "true"])


@pytest.mark.parametrize("field, values", [
    ("name", BAD_TEXT.filter(lambda v: v != "line\nbreak" or True)),
    ("description", st.sampled_from(["a\x00b", "bad\ud800", "x\u202eevil", "x" * 10_001])),
    ("price_monthly", BAD_PRICE), ("price_yearly", BAD_PRICE),
    ("monthly_credits", BAD_CREDITS), ("category_access", BAD_CATEGORIES),
    ("full_catalog_access", BAD_FLAG), ("credit_rollover", BAD_FLAG), ("active", BAD_FLAG),
    *[(f"offering_{t}", BAD_FLAG) for t in OFFERING_TYPES],
])
def test_bad_input_names_the_field_and_writes_nothing(engine, session_factory, field, values):
    tier = add_tier(engine, "Gold", history_from=LONG_AGO)
    before = _snapshot(engine)

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=values)
    def check(value):
        if field == "name" and value == "line\nbreak":
            value = "a\x07b"  # a control character in a line
        for attempt in ("update", "create"):
            with pytest.raises(ValidationError) as err, session_factory.begin() as s:
                if attempt == "update":
                    service.update_tier(s, ACTOR, tier, get_tier(s, tier).version,
                                        {field: value})
                else:
                    service.create_tier(s, ACTOR, {"name": "New", field: value}
                                        if field != "name" else {field: value})
            assert field in err.value.field_errors and err.value.field_errors[field]
        assert _snapshot(engine) == before

    check()


def test_values_people_type_are_stored_as_typed(engine, session_factory):
    with session_factory.begin() as s:
        saved = service.create_tier(s, ACTOR, {
            "name": "  Gold  ", "price_monthly": "99999999.99", "price_yearly": "0",
            "monthly_credits": "2147483647", "category_access": ["Yoga", "Yoga", " Sleep "],
            "description": "Line one\nLine two"})
    assert saved.name == "Gold"
    assert saved.price_monthly == Decimal("99999999.99") and saved.price_yearly == 0
    assert saved.monthly_credits == 2_147_483_647
    assert saved.category_access == ("Yoga", "Sleep")
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT billing_period, amount FROM admin.tier_prices "
                                     "WHERE tier_id = :t ORDER BY billing_period"),
                                {"t": saved.id}).all()
    assert versions == [("monthly", Decimal("99999999.99")), ("yearly", Decimal("0.00"))]
    assert json.loads(json.dumps(list(saved.offering_access_rules))) == []
    assert isinstance(saved.id, uuid.UUID)


def test_revenue_mrr_keeps_subscribers_at_their_price_after_a_change(
        engine, session_factory, customers):
    from data.queries.revenue import load_revenue, snapshot_session  # noqa: PLC0415

    gold = add_tier(engine, "Gold", monthly="20.00", yearly="120.00", history_from=LONG_AGO)
    add_subscription(engine, customers[0], gold, start=BASE_TIME)
    add_subscription(engine, customers[1], gold, period="yearly", start=BASE_TIME)

    def revenue_mrr():
        with snapshot_session(session_factory) as s:
            return load_revenue(s, granularity="month", start=dt.date(2025, 1, 1),
                                end=dt.date(2025, 1, 31)).kpis.mrr

    assert revenue_mrr() == Decimal("30.00")
    with session_factory.begin() as s:
        service.update_tier(s, ACTOR, gold, get_tier(s, gold).version,
                            {"price_monthly": "50.00", "price_yearly": "600.00"})
    assert revenue_mrr() == Decimal("30.00")  # both began before the change


def test_revenue_says_how_many_subscriptions_it_priced_at_todays_price(
        engine, session_factory, customers):
    """Where the price history does not reach back to a period's start, the MRR uses the
    tier's current price and the Revenue page says for how many."""
    from data.queries.revenue import load_revenue, snapshot_session  # noqa: PLC0415

    gold = add_tier(engine, "Gold", monthly="20.00", yearly="120.00", history_from=LONG_AGO)
    silver = add_tier(engine, "Silver", monthly="5.00", yearly="50.00",
                      history_from=BASE_TIME + dt.timedelta(days=1))
    add_subscription(engine, customers[0], gold, start=BASE_TIME)
    add_subscription(engine, customers[1], silver, start=BASE_TIME)

    with snapshot_session(session_factory) as s:
        kpis = load_revenue(s, granularity="month", start=dt.date(2025, 1, 1),
                            end=dt.date(2025, 1, 31)).kpis
    assert kpis.mrr == Decimal("25.00") and kpis.mrr_at_current_price == 1


def test_offering_rules_preview_equals_an_independent_count(engine, session_factory,
                                                            customers):
    creator = insert_user(engine, "olga@example.com", "Olga", role="platform_creator")
    offerings = [("one_time_event", "published"), ("one_time_event", "draft"),
                 ("retreat", "published"), ("retreat", "published"),
                 ("cohort_course", "published")]
    with engine.begin() as conn:
        for i, (kind, status) in enumerate(offerings):
            conn.execute(text(
                "INSERT INTO offerings (creator_id, title, slug, offering_type, capacity_type, "
                "delivery_method, schedule, status) VALUES (:c, :t, :s, :k, 'small_group', "
                "'online', '{}'::jsonb, :st)"),
                {"c": creator, "t": f"O {i}", "s": f"o-{i}", "k": kind, "st": status})
    rules = [{"type": "one_time_event", "included": True, "x": 1},
             {"type": "retreat", "included": False}]
    tier = add_tier(engine, "Gold", rules=rules)
    add_subscription(engine, customers[0], tier)
    with session_factory.begin() as s:
        notice = service.change_notice(s, tier, {"offering_retreat": True,
                                                 "offering_one_time_event": False})
    assert notice is not None and notice.access is not None
    published = [k for k, st_ in offerings if st_ == "published"]
    assert notice.access.offerings_gained == published.count("retreat") == 2
    assert notice.access.offerings_lost == published.count("one_time_event") == 1
    assert (notice.access.items_gained, notice.access.items_lost) == (0, 0)
    assert notice.access.subscribers == 1 and not notice.prices_changed


def test_two_owners_naming_two_tiers_alike_at_once_one_wins(engine, session_factory):
    import threading  # noqa: PLC0415

    start = threading.Barrier(2)
    outcomes: list[object] = []

    def owner():
        start.wait()
        try:
            with session_factory.begin() as s:
                outcomes.append(service.create_tier(s, ACTOR, {"name": "Twin"}))
        except ValidationError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=owner) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(isinstance(o, ValidationError) for o in outcomes) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM subscription_tiers WHERE name = 'Twin'")
                            ).scalar_one() == 1
