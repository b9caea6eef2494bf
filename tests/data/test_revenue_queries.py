"""Revenue figures: every series and KPI against figures computed here, independently.

The fixture is a handful of rows inserted with plain SQL in a platform whose time zone is
America/New_York. The expected figures come from a small reference implementation in this
file (Python's zoneinfo, plain loops) and, for the cases that matter most, from literal
numbers worked out by hand: a sale at 03:00 UTC on 1 February that belongs to 31 January in
New York, and refunds in a later month than their sale.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from data.queries.revenue import (
    load_revenue,
    period_starts,
    purchases_in_period,
    rollup_info,
    snapshot_session,
)
from data.services.revenue_rollup import refresh_rollup

TZ = "America/New_York"
UTC = dt.UTC
D = Decimal


def _id() -> uuid.UUID:
    return uuid.uuid4()


@dataclass
class Fixture:
    """The rows inserted, kept as plain Python for the reference figures."""

    tz: str
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    purchases: list[dict] = field(default_factory=list)
    bookings: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    tiers: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    credits: list[dict] = field(default_factory=list)
    content_types: dict[str, str] = field(default_factory=dict)


def build_fixture(engine, now_utc: dt.datetime | None = None, tz: str = TZ) -> Fixture:
    """Insert the small dataset; ``now_utc`` (naive) also gets sales this month and last."""
    fx = Fixture(tz)
    i = fx.ids
    for key in ("owner", "c1", "c2", "c3", "c4", "v1", "a1", "w1", "o1", "t1", "t2"):
        i[key] = _id()
    fx.content_types = {"v1": "video", "a1": "audio", "w1": "written"}
    fx.tiers = {"t1": (D("10.00"), D("100.00")), "t2": (D("30.00"), D("300.00"))}
    t = dt.datetime
    fx.purchases = [
        # key, customer, content, amount, status, purchased_at, refunded_at
        dict(key="p1", c="c1", item="v1", amount=D("20.00"), status="completed",
             at=t(2025, 1, 15, 12, 0), refunded=None),
        # 03:00 UTC on 1 Feb is 22:00 on 31 Jan in New York: a January sale.
        dict(key="p2", c="c2", item="v1", amount=D("20.00"), status="completed",
             at=t(2025, 2, 1, 3, 0), refunded=None),
        # Sold in January, refunded in February.
        dict(key="p3", c="c2", item="a1", amount=D("9.99"), status="refunded",
             at=t(2025, 1, 20, 15, 0), refunded=t(2025, 2, 3, 10, 0)),
        dict(key="p4", c="c3", item="w1", amount=D("4.99"), status="completed",
             at=t(2025, 2, 10, 4, 59), refunded=None),
        dict(key="p5", c="c3", item="a1", amount=D("9.99"), status="pending",
             at=None, refunded=None),
        dict(key="p6", c="c1", item="w1", amount=D("4.99"), status="failed",
             at=None, refunded=None),
        # Refunded at 04:00 UTC on 1 March = 23:00 on 28 Feb in New York: a February refund.
        dict(key="p7", c="c3", item="v1", amount=D("20.00"), status="refunded",
             at=t(2025, 2, 15, 5, 30), refunded=t(2025, 3, 1, 4, 0)),
    ]
    fx.bookings = [
        dict(key="b1", c="c1", method="purchase", amount=D("50.00"), status="confirmed",
             at=t(2025, 1, 10, 12, 0), canceled=None),
        dict(key="b2", c="c2", method="purchase", amount=D("50.00"), status="canceled",
             at=t(2025, 1, 25, 12, 0), canceled=t(2025, 2, 5, 12, 0)),
        dict(key="b3", c="c3", method="credits", amount=D("0.00"), status="confirmed",
             at=t(2025, 1, 26, 12, 0), canceled=None),
        dict(key="b4", c="c4", method="subscription", amount=D("0.00"), status="completed",
             at=t(2025, 1, 27, 12, 0), canceled=None),
    ]
    fx.subscriptions = [
        dict(c="c1", tier="t1", billing="monthly", status="active",
             created=t(2024, 12, 1, 10, 0), trial_end=None, canceled=None),
        dict(c="c2", tier="t2", billing="yearly", status="canceled",
             created=t(2025, 1, 5, 10, 0), trial_end=None, canceled=t(2025, 2, 20, 12, 0)),
        dict(c="c3", tier="t1", billing="monthly", status="active",
             created=t(2025, 1, 25, 10, 0), trial_end=t(2025, 2, 8, 10, 0), canceled=None),
        # Canceled during its trial: never paid, not churn.
        dict(c="c4", tier="t2", billing="monthly", status="canceled",
             created=t(2025, 2, 1, 10, 0), trial_end=t(2025, 2, 15, 10, 0),
             canceled=t(2025, 2, 10, 10, 0)),
        dict(c="owner", tier="t2", billing="monthly", status="trialing",
             created=t(2025, 3, 1, 10, 0), trial_end=t(2099, 3, 15, 10, 0), canceled=None),
        dict(c="c4", tier="t1", billing="yearly", status="past_due",
             created=t(2025, 3, 10, 10, 0), trial_end=None, canceled=None),
    ]
    fx.credits = [
        dict(c="c3", type="earned_purchase", amount=10, at=t(2025, 1, 5, 12, 0)),
        dict(c="c3", type="spent_offering", amount=-2, at=t(2025, 1, 26, 12, 0)),
        # 02:00 UTC on 1 Feb: still January in New York.
        dict(c="c3", type="expired", amount=-3, at=t(2025, 2, 1, 2, 0)),
        dict(c="c3", type="adjustment", amount=-1, at=t(2025, 2, 2, 12, 0)),
        dict(c="c3", type="earned_subscription", amount=5, at=t(2025, 2, 9, 12, 0)),
    ]
    if now_utc is not None:
        last_month = _local(now_utc, tz).replace(day=1, hour=0, minute=0, second=0,
                                                 microsecond=0) - dt.timedelta(days=20)
        fx.purchases += [
            dict(key="p8", c="c1", item="a1", amount=D("9.99"), status="completed",
                 at=now_utc - dt.timedelta(minutes=5), refunded=None),
            dict(key="p9", c="c2", item="w1", amount=D("4.99"), status="completed",
                 at=_utc(last_month.replace(hour=12), tz), refunded=None),
        ]
    _insert(engine, fx)
    return fx


def _insert(engine, fx: Fixture) -> None:
    i = fx.ids
    with engine.begin() as conn:
        x = conn.execute
        x(text("INSERT INTO platform_settings (timezone) VALUES (:tz)"), {"tz": fx.tz})
        for key in ("owner", "c1", "c2", "c3", "c4"):
            x(text("INSERT INTO users (id, email, password_hash, full_name, role) VALUES "
                   "(:id, :email, 'x', :name, :role)"),
              {"id": i[key], "email": f"{key}@example.com", "name": key.upper(),
               "role": "platform_owner" if key == "owner" else "customer"})
        for key, kind in fx.content_types.items():
            x(text("INSERT INTO content (id, creator_id, title, slug, content_type, price, "
                   "status) VALUES (:id, :owner, :title, :slug, :kind, 1, 'published')"),
              {"id": i[key], "owner": i["owner"], "title": f"Item {key}", "slug": key,
               "kind": kind})
        x(text("INSERT INTO offerings (id, creator_id, title, slug, offering_type, "
               "capacity_type, delivery_method, schedule, price) VALUES (:id, :owner, "
               "'Spring retreat', 'spring', 'retreat', 'large_group', 'in_person', '{}', 50)"),
          {"id": i["o1"], "owner": i["owner"]})
        for key, (monthly, yearly) in fx.tiers.items():
            x(text("INSERT INTO subscription_tiers (id, name, price_monthly, price_yearly) "
                   "VALUES (:id, :name, :m, :y)"),
              {"id": i[key], "name": key, "m": monthly, "y": yearly})
        for p in fx.purchases:
            i[p["key"]] = _id()
            created = p["at"] or dt.datetime(2025, 2, 2, 12, 0)
            x(text("INSERT INTO purchases (id, customer_id, content_id, amount_paid, "
                   "stripe_payment_intent_id, creator_payout_amount, status, purchased_at, "
                   "refunded_at, created_at) VALUES (:id, :c, :item, :amount, :pi, 0, :status, "
                   ":at, :refunded, :created)"),
              {"id": i[p["key"]], "c": i[p["c"]], "item": i[p["item"]], "amount": p["amount"],
               "pi": f"pi_{p['key']}", "status": p["status"], "at": p["at"],
               "refunded": p["refunded"], "created": created})
        for b in fx.bookings:
            i[b["key"]] = _id()
            x(text("INSERT INTO offering_bookings (id, customer_id, offering_id, payment_method, "
                   "amount_paid, status, created_at, canceled_at) VALUES (:id, :c, :o, :m, :a, "
                   ":s, :at, :canceled)"),
              {"id": i[b["key"]], "c": i[b["c"]], "o": i["o1"], "m": b["method"],
               "a": b["amount"], "s": b["status"], "at": b["at"], "canceled": b["canceled"]})
        for n, s in enumerate(fx.subscriptions):
            x(text("INSERT INTO subscriptions (customer_id, tier_id, stripe_subscription_id, "
                   "billing_period, current_period_start, current_period_end, status, "
                   "trial_end, created_at, canceled_at) VALUES (:c, :t, :sid, :b, :cps, :cpe, "
                   ":s, :trial, :created, :canceled)"),
              {"c": i[s["c"]], "t": i[s["tier"]], "sid": f"sub_{n}", "b": s["billing"],
               "cps": s["created"], "cpe": s["created"] + dt.timedelta(days=30),
               "s": s["status"], "trial": s["trial_end"], "created": s["created"],
               "canceled": s["canceled"]})
        for c in fx.credits:
            x(text("INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
                   "created_at) VALUES (:c, :type, :amount, 0, :at)"),
              {"c": i[c["c"]], "type": c["type"], "amount": c["amount"], "at": c["at"]})


# -- the reference implementation ---------------------------------------------------------------


def _local(ts: dt.datetime, tz: str) -> dt.datetime:
    return ts.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _utc(local: dt.datetime, tz: str) -> dt.datetime:
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def _floor(day: dt.date, g: str) -> dt.date:
    if g == "day":
        return day
    if g == "week":
        return day - dt.timedelta(days=day.weekday())
    return dt.date(day.year, day.month, 1)


def _events(fx: Fixture) -> list[tuple[dt.datetime, str, str, str, str, Decimal]]:
    """(utc time, 'sale'|'refund', source, kind, customer, amount)"""
    out = []
    for p in fx.purchases:
        kind = fx.content_types[p["item"]]
        if p["status"] in ("completed", "refunded"):
            out.append((p["at"], "sale", "content", kind, p["c"], p["amount"]))
        if p["status"] == "refunded":
            out.append((p["refunded"], "refund", "content", kind, p["c"], p["amount"]))
    for b in fx.bookings:
        if b["method"] == "purchase" and b["amount"] > 0:
            out.append((b["at"], "sale", "offering", "retreat", b["c"], b["amount"]))
            if b["status"] == "canceled":
                out.append((b["canceled"], "refund", "offering", "retreat", b["c"], b["amount"]))
    return out


def expected_revenue(fx: Fixture, start: dt.date, end: dt.date, g: str, pred=lambda s, k: True):
    """{period_start_date: (gross, refunds)} for local days start..end."""
    out: dict[dt.date, list[Decimal]] = {}
    first = _floor(start, g)
    for ts, event, source, kind, _c, amount in _events(fx):
        day = _local(ts, fx.tz).date()
        if not (first <= day <= end) or not pred(source, kind):
            continue
        cell = out.setdefault(_floor(day, g), [D(0), D(0)])
        cell[0 if event == "sale" else 1] += amount
    return {k: tuple(v) for k, v in out.items()}


def _annual(fx: Fixture, s: dict) -> Decimal:
    monthly, yearly = fx.tiers[s["tier"]]
    return yearly if s["billing"] == "yearly" else 12 * monthly


def expected_mrr_at(fx: Fixture, instant_utc: dt.datetime) -> tuple[Decimal, int]:
    """MRR and paying subscriptions just before ``instant_utc``."""
    total, n = D(0), 0
    for s in fx.subscriptions:
        if s["status"] == "trialing":
            continue
        paying_from = max(s["created"], s["trial_end"] or s["created"])
        ended = s["canceled"] if s["status"] == "canceled" else None
        if ended is not None and ended <= paying_from:
            continue
        if paying_from < instant_utc and (ended is None or ended >= instant_utc):
            total += _annual(fx, s)
            n += 1
    return (total / 12).quantize(D("0.01")), n


def expected_churn(fx: Fixture, start_local: dt.date, after_local: dt.date) -> int:
    n = 0
    for s in fx.subscriptions:
        if s["status"] != "canceled":
            continue
        paying_from = max(s["created"], s["trial_end"] or s["created"])
        if s["canceled"] > paying_from and \
                start_local <= _local(s["canceled"], fx.tz).date() < after_local:
            n += 1
    return n


def _snapshot(session_factory, **kw):
    with snapshot_session(session_factory) as s:
        return load_revenue(s, **kw)


# -- tests ---------------------------------------------------------------------------------------

RANGE = dict(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))


@pytest.fixture
def fx(engine):
    return build_fixture(engine)


@pytest.mark.parametrize("g", ["day", "week", "month"])
def test_revenue_series_match_the_reference(fx, session_factory, g):
    snap = _snapshot(session_factory, granularity=g, **RANGE)
    assert snap.timezone == TZ
    assert [p.date() for p in snap.periods] == period_starts(RANGE["start"], RANGE["end"], g)
    checks = {
        ("revenue", ""): lambda s, k: True,
        ("by_source", "content_"): lambda s, k: s == "content",
        ("by_source", "offering_"): lambda s, k: s == "offering",
        ("by_type", "video_"): lambda s, k: k == "video",
        ("by_type", "audio_"): lambda s, k: k == "audio",
        ("by_type", "written_"): lambda s, k: k == "written",
    }
    for (table_name, prefix), pred in checks.items():
        table = snap.tables()[table_name]
        want = expected_revenue(fx, RANGE["start"], RANGE["end"], g, pred)
        for period in snap.periods:
            gross, refunds = want.get(period.date(), (D(0), D(0)))
            assert table.value_at(period, prefix + "gross") == gross, (table_name, period)
            assert table.value_at(period, prefix + "refunds") == refunds, (table_name, period)
            assert table.value_at(period, prefix + "net") == gross - refunds
    for value in snap.revenue.values("gross"):
        assert isinstance(value, Decimal)


def test_hand_worked_months_day_boundary_and_late_refunds(fx, session_factory):
    snap = _snapshot(session_factory, granularity="month", **RANGE)
    jan, feb, mar = (dt.datetime(2025, m, 1) for m in (1, 2, 3))
    # January: p1 20 + p2 20 (sold 22:00 on 31 Jan local) + p3 9.99 + b1 50 + b2 50.
    assert snap.revenue.value_at(jan, "gross") == D("149.99")
    assert snap.revenue.value_at(jan, "refunds") == D("0")
    # February: p4 4.99 + p7 20; refunds p3 9.99 (sold in Jan), b2 50, p7 20 (1 Mar UTC).
    assert snap.revenue.value_at(feb, "gross") == D("24.99")
    assert snap.revenue.value_at(feb, "refunds") == D("79.99")
    assert snap.revenue.value_at(feb, "net") == D("-55.00")
    assert snap.revenue.value_at(mar, "gross") == D("0")
    assert snap.revenue.value_at(mar, "refunds") == D("0")
    # The day boundary in days: 31 January holds p2.
    days = _snapshot(session_factory, granularity="day", start=dt.date(2025, 1, 31),
                     end=dt.date(2025, 2, 1))
    assert days.revenue.values("gross") == (D("20.00"), D("0"))
    # Tokens: the expiry at 02:00 UTC on 1 Feb is January's.
    assert snap.tokens.value_at(jan, "expired") == 3
    assert snap.tokens.value_at(jan, "spent") == 2
    assert snap.tokens.value_at(jan, "granted") == 10
    assert snap.tokens.value_at(feb, "granted") == 5
    assert snap.tokens.value_at(feb, "net_change") == 4


@pytest.mark.parametrize("g", ["day", "week", "month"])
def test_subscription_series_match_the_reference(fx, session_factory, g):
    snap = _snapshot(session_factory, granularity=g, **RANGE)
    periods = [p.date() for p in snap.periods]
    after = periods[1:] + [RANGE["end"] + dt.timedelta(days=1)]
    for period, nxt in zip(periods, after, strict=True):
        instant = _utc(dt.datetime.combine(nxt, dt.time()), TZ)
        mrr, n = expected_mrr_at(fx, instant)
        p = dt.datetime.combine(period, dt.time())
        assert snap.subscriptions.value_at(p, "mrr") == mrr, period
        assert snap.subscriptions.value_at(p, "active_subscribers") == n, period
        assert snap.subscriptions.value_at(p, "churned") == expected_churn(fx, period, nxt)
    # By hand, months: Jan: c1 10 + c2 300/12 = 35.00; Feb: c2 ended, c3 paying from 8 Feb
    # -> 20.00; March: + c4's yearly 100/12 -> 28.33.
    if g == "month":
        assert snap.subscriptions.values("mrr") == (D("35.00"), D("20.00"), D("28.33"))
        assert snap.subscriptions.values("churned") == (0, 1, 0)


def test_tokens_match_the_reference(fx, session_factory):
    snap = _snapshot(session_factory, granularity="week", **RANGE)
    want: dict[dt.date, list[int]] = {}
    for c in fx.credits:
        day = _floor(_local(c["at"], TZ).date(), "week")
        cell = want.setdefault(day, [0, 0, 0, 0])
        cell[0] += max(c["amount"], 0)
        cell[1] += -c["amount"] if c["type"] == "spent_offering" else 0
        cell[2] += -c["amount"] if c["type"] == "expired" else 0
        cell[3] += c["amount"]
    for row in snap.tokens.rows:
        assert list(row[1:]) == want.get(row[0].date(), [0, 0, 0, 0]), row[0]


def test_top_content_is_net_of_refunds_in_the_range(fx, session_factory):
    snap = _snapshot(session_factory, granularity="month", **RANGE)
    got = [(t.title, t.gross, t.refunds, t.net) for t in snap.top_content]
    # v1: p1 + p2 + p7 sold, p7 refunded; w1: p4; a1: p3 sold and refunded.
    assert got == [("Item v1", D("60.00"), D("20.00"), D("40.00")),
                   ("Item w1", D("4.99"), D("0"), D("4.99")),
                   ("Item a1", D("9.99"), D("9.99"), D("0.00"))]
    feb = _snapshot(session_factory, granularity="month", start=dt.date(2025, 2, 1),
                    end=dt.date(2025, 2, 28))
    assert [(t.title, t.net) for t in feb.top_content] == [
        ("Item w1", D("4.99")), ("Item v1", D("0.00")), ("Item a1", D("-9.99"))]


def test_kpis_match_the_reference(engine, session_factory):
    with engine.connect() as conn:
        now_utc = conn.execute(text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()
    fx = build_fixture(engine, now_utc=now_utc)
    snap = _snapshot(session_factory, granularity="month", **RANGE)
    k = snap.kpis
    today = snap.as_of_local.date()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    net_by_day: dict[dt.date, Decimal] = {}
    payers: set[str] = set()
    for ts, event, _s, _k, customer, amount in _events(fx):
        day = _local(ts, TZ).date()
        net_by_day[day] = net_by_day.get(day, D(0)) + (amount if event == "sale" else -amount)
        if event == "sale" and last_month <= day < this_month:
            payers.add(customer)
    assert k.this_month_net == sum(v for d, v in net_by_day.items() if this_month <= d <= today)
    last_net = sum(v for d, v in net_by_day.items() if last_month <= d < this_month)
    assert k.last_month_net == last_net
    assert k.last_month_net == D("4.99")  # p9
    assert k.this_month_net >= D("9.99")  # p8, five minutes ago
    assert k.paying_customers == len(payers) == 1
    assert k.arppu == (last_net / len(payers)).quantize(D("0.01"))
    mrr, n = expected_mrr_at(fx, snap.as_of.replace(tzinfo=None) + dt.timedelta(microseconds=1))
    assert (k.mrr, k.active_subscribers) == (mrr, n)
    assert (k.mrr, k.active_subscribers) == (D("28.33"), 3)
    # Range figures: January to March 2025.
    assert (k.range_gross, k.range_refunds) == (D("174.98"), D("79.99"))
    assert k.refund_rate == (D("79.99") / D("174.98")).quantize(D("0.0001"))


def test_rollup_gives_the_same_figures_and_stays_current(engine, session_factory):
    with engine.connect() as conn:
        now_utc = conn.execute(text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()
    build_fixture(engine, now_utc=now_utc)
    with session_factory() as s:
        assert rollup_info(s).populated is False
    raw_before = _snapshot(session_factory, preset="all", granularity="week", use_rollup=True)
    assert raw_before.used_rollup is False and raw_before.rollup_needs_refresh
    with session_factory.begin() as s:
        assert refresh_rollup(s) is True
    for kw in (dict(preset="all", granularity="week"), dict(preset="90d", granularity="day"),
               dict(granularity="month", **RANGE)):
        raw = _snapshot(session_factory, use_rollup=False, **kw)
        rolled = _snapshot(session_factory, use_rollup=True, **kw)
        assert rolled.used_rollup and not raw.used_rollup
        assert rolled.rollup_age is not None and not rolled.rollup_needs_refresh
        assert rolled.tables() == raw.tables(), kw
        assert rolled.top_content == raw.top_content
        assert rolled.kpis == raw.kpis
    # A sale made after the refresh is read from the table (today is not in the rollup).
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE purchases SET status = 'completed', purchased_at = now() AT TIME ZONE 'UTC' "
            "WHERE stripe_payment_intent_id = 'pi_p5'"))
    rolled = _snapshot(session_factory, use_rollup=True, preset="30d", granularity="month")
    raw = _snapshot(session_factory, use_rollup=False, preset="30d", granularity="month")
    assert rolled.used_rollup and rolled.kpis == raw.kpis
    assert rolled.kpis.this_month_net == raw_before.kpis.this_month_net + D("9.99")
    # A new time zone makes the rollup unusable until rebuilt.
    with engine.begin() as conn:
        conn.execute(text("UPDATE platform_settings SET timezone = 'Asia/Tokyo'"))
    moved = _snapshot(session_factory, use_rollup=True, **RANGE)
    assert not moved.used_rollup and moved.rollup_needs_refresh
    assert "Asia/Tokyo" in moved.rollup_note
    with session_factory.begin() as s:
        refresh_rollup(s)
    again = _snapshot(session_factory, use_rollup=True, **RANGE)
    assert again.used_rollup and again.rollup_timezone == "Asia/Tokyo"
    assert again.tables() == _snapshot(session_factory, use_rollup=False, **RANGE).tables()


def test_a_rollup_rebuild_is_the_callers_to_commit_and_runs_once_at_a_time(fx,
                                                                          session_factory):
    """The service never commits: rolled back, nothing was built. While one rebuild's
    transaction is open, a second is refused at once (False) instead of waiting for it."""
    with session_factory() as first:
        assert refresh_rollup(first) is True
        with session_factory() as second:
            assert refresh_rollup(second) is False
            second.rollback()
        first.rollback()
    with session_factory() as s:
        assert rollup_info(s).populated is False
    with session_factory.begin() as s:
        assert refresh_rollup(s) is True
    with session_factory() as s:
        assert rollup_info(s).populated is True


def test_automatic_choice_follows_the_size_of_purchases(fx, session_factory, monkeypatch):
    from data.queries.revenue import rollup_state

    with session_factory.begin() as s:
        refresh_rollup(s)
    assert not _snapshot(session_factory, **RANGE).used_rollup  # a handful of rows
    monkeypatch.setattr(rollup_state, "ROLLUP_MIN_PURCHASES", -1)
    assert _snapshot(session_factory, **RANGE).used_rollup


def test_needs_a_repeatable_read_snapshot_and_a_valid_request(fx, session_factory):
    with session_factory() as s, pytest.raises(RuntimeError, match="REPEATABLE READ"):
        load_revenue(s, **RANGE)
    with pytest.raises(ValueError, match="granularity"):
        _snapshot(session_factory, granularity="hour", **RANGE)
    with pytest.raises(ValueError, match="after it ends"):
        _snapshot(session_factory, start=dt.date(2025, 3, 1), end=dt.date(2025, 2, 1))
    with pytest.raises(ValueError, match="preset"):
        _snapshot(session_factory, preset="7y")


def test_snapshot_is_consistent_while_the_platform_writes(fx, engine, session_factory):
    """A sale committed while the snapshot is open is in none of its figures."""
    with snapshot_session(session_factory) as s:
        first = load_revenue(s, granularity="month", **RANGE)
        with engine.begin() as conn:
            conn.execute(text(
                "UPDATE purchases SET status = 'completed', purchased_at = '2025-01-05 12:00' "
                "WHERE stripe_payment_intent_id = 'pi_p5'"))
        second = load_revenue(s, granularity="month", **RANGE)
    assert second.tables() == first.tables() and second.kpis == first.kpis
    fresh = _snapshot(session_factory, granularity="month", **RANGE)
    assert fresh.revenue.values("gross")[0] == first.revenue.values("gross")[0] + D("9.99")


def test_all_time_starts_at_the_first_activity(fx, session_factory):
    snap = _snapshot(session_factory, preset="all", granularity="month")
    assert snap.start == dt.date(2024, 12, 1)  # the first subscription
    assert snap.end == snap.as_of_local.date()


def test_empty_platform(session_factory):
    snap = _snapshot(session_factory, preset="all", granularity="day")
    assert snap.timezone == "UTC"
    assert len(snap.periods) == 1
    assert snap.revenue.rows[0][1:] == (D(0), D(0), D(0))
    assert snap.kpis.refund_rate is None and snap.kpis.arppu is None
    assert snap.top_content == ()


def test_invalid_time_zone_falls_back_to_utc(fx, engine, session_factory):
    with engine.begin() as conn:
        conn.execute(text("UPDATE platform_settings SET timezone = 'Mars/Olympus_Mons'"))
    snap = _snapshot(session_factory, granularity="day", start=dt.date(2025, 2, 1),
                     end=dt.date(2025, 2, 1))
    assert snap.timezone == "UTC"
    assert snap.revenue.values("gross") == (D("20.00"),)  # p2 is 1 Feb in UTC


def test_purchases_in_period_lists_sales_and_refunds_in_pages(fx, session_factory):
    with session_factory() as s:
        rows, cursor = purchases_in_period(s, dt.datetime(2025, 2, 1), "month", TZ, limit=3)
        assert cursor is not None
        more, cursor2 = purchases_in_period(s, dt.datetime(2025, 2, 1), "month", TZ,
                                            cursor=cursor, limit=3)
        assert cursor2 is None
    events = rows + more
    assert [(e.event, e.title, e.amount) for e in events] == [
        ("refund", "Item a1", D("9.99")),      # 3 Feb
        ("refund", "Spring retreat", D("50.00")),  # 5 Feb
        ("sale", "Item w1", D("4.99")),        # 9 Feb 23:59 local
        ("sale", "Item v1", D("20.00")),       # 15 Feb 00:30 local
        ("refund", "Item v1", D("20.00")),     # 28 Feb 23:00 local
    ]
    assert events[2].at == dt.datetime(2025, 2, 9, 23, 59)
    assert events[0].customer_email == "c2@example.com"
    snap = _snapshot(session_factory, granularity="month", **RANGE)
    feb = dt.datetime(2025, 2, 1)
    assert sum(e.amount for e in events if e.event == "sale") == \
        snap.revenue.value_at(feb, "gross")
    assert sum(e.amount for e in events if e.event == "refund") == \
        snap.revenue.value_at(feb, "refunds")
    with session_factory() as s:
        jan31, _ = purchases_in_period(s, dt.date(2025, 1, 31), "day", TZ)
        jan, _ = purchases_in_period(s, dt.date(2025, 1, 1), "month", TZ)
    assert [e.title for e in jan31] == ["Item v1"]
    assert {e.source for e in jan} == {"content", "offering"}
    assert sum(e.amount for e in jan if e.event == "sale") == \
        snap.revenue.value_at(dt.datetime(2025, 1, 1), "gross")
    assert [e.kind for e in jan if e.source == "offering"] == ["retreat", "retreat"]


def _add_purchase(engine, fx, key, item, amount, currency, at, customer="c1"):
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO purchases (id, customer_id, content_id, amount_paid, currency, "
            "stripe_payment_intent_id, creator_payout_amount, status, purchased_at, created_at) "
            "VALUES (gen_random_uuid(), :c, :item, :amount, :cur, :pi, 0, 'completed', :at, :at)"),
            {"c": fx.ids[customer], "item": fx.ids[item], "amount": amount, "cur": currency,
             "pi": f"pi_{key}", "at": at})


@pytest.mark.parametrize("use_rollup", [False, True])
def test_eur_and_usd_on_the_same_day_are_never_summed(fx, engine, session_factory, use_rollup):
    # p1 sold 20.00 USD of v1 at 12:00 UTC on 15 January; 30.00 EUR of v1 the same hour.
    _add_purchase(engine, fx, "e1", "v1", D("30.00"), "EUR", dt.datetime(2025, 1, 15, 12, 30),
                  customer="c4")
    _add_purchase(engine, fx, "e2", "a1", D("5.00"), "eur", dt.datetime(2025, 1, 15, 13, 0),
                  customer="c3")
    if use_rollup:
        with session_factory.begin() as s:
            assert refresh_rollup(s)
    jan15 = dt.datetime(2025, 1, 15)
    snap = _snapshot(session_factory, granularity="day", use_rollup=use_rollup, **RANGE)
    assert snap.used_rollup is use_rollup
    assert snap.currencies == ("usd", "eur")  # USD has the most sales: main, first
    usd, eur = snap.figures("usd"), snap.figures("eur")
    assert usd.revenue.value_at(jan15, "gross") == D("20.00")
    assert eur.revenue.value_at(jan15, "gross") == D("35.00")
    assert eur.by_type.value_at(jan15, "video_gross") == D("30.00")
    assert eur.by_source.value_at(jan15, "offering_gross") == D("0.00")
    # The default figures are USD's, and equal the reference that knows no euros.
    want = expected_revenue(fx, RANGE["start"], RANGE["end"], "day")
    assert snap.revenue.value_at(jan15, "gross") == want[jan15.date()][0] == D("20.00")
    assert snap.kpis.range_gross == usd.kpis.range_gross
    assert eur.kpis.range_gross == D("35.00") and eur.kpis.range_refunds == D("0.00")
    assert [(t.title, t.net) for t in eur.top_content] == [("Item v1", D("30.00")),
                                                           ("Item a1", D("5.00"))]
    assert all(t.net != D("90.00") for t in snap.top_content)  # v1 USD 60, not 60 + 30
    with session_factory() as s:
        events, _ = purchases_in_period(s, jan15, "day", TZ)
    assert {(e.amount, e.currency) for e in events} == {(D("20.00"), "usd"),
                                                        (D("30.00"), "eur"),
                                                        (D("5.00"), "eur")}


def test_the_currency_with_the_most_sales_comes_first(fx, engine, session_factory):
    _add_purchase(engine, fx, "e1", "v1", D("5000.00"), "eur", dt.datetime(2025, 2, 5, 12, 0),
                  customer="c4")
    snap = _snapshot(session_factory, granularity="month", **RANGE)
    assert snap.currencies == ("eur", "usd") and snap.currency == "eur"
    assert snap.revenue.value_at(dt.datetime(2025, 2, 1), "gross") == D("5000.00")
