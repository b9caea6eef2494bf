"""The incremental rollup (migrations 0016, 0018) equals a full rebuild after what the platform
does to past days: back-dated sales, refunds, canceled card bookings, refund requests, ledger
rows, amounts changed, rows deleted, a sale committed after a refresh it was open during; it
adds changes to their days by delta (a planted error on a changed day stays), and rebuilds a
day only where what it counted is unknown (the watermark moved back). On the demo database (a
year and more of sales)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from data.operations.revenue import BuildRevenueRollup
from data.queries.revenue import load_revenue, snapshot_session
from data.services.revenue_rollup import months_to_build, refresh_rollup, refresh_rollup_report

TABLES = ("revenue_daily", "revenue_daily_content", "revenue_monthly_payers", "credit_daily")


def _contents(session) -> dict[str, list[tuple]]:
    return {t: [tuple(r) for r in session.execute(text(f"SELECT * FROM admin.{t} ORDER BY 1, 2"
                                                         + (", 3, 4" if t == "revenue_daily"
                                                            else ", 3" if t.endswith("content")
                                                            else "")))]
            for t in TABLES}


def _full_rebuild(factory) -> dict[str, list[tuple]]:
    """What a rebuild from nothing gives now: made in a transaction rolled back afterwards."""
    with factory() as s:
        s.execute(text("DELETE FROM admin.revenue_rollup_info"))
        assert refresh_rollup_report(s).kind == "full"
        contents = _contents(s)
        s.rollback()
    return contents


def _pretend_last_refresh_was_days_ago(factory, days: int) -> None:
    """As if the last refresh had run ``days`` days ago: its boundary and watermark move back
    (the rows it holds for those days stay, as they would have been then or better)."""
    with factory.begin() as s:
        s.execute(text(
            "UPDATE admin.revenue_rollup_info SET boundary_day = boundary_day - :d, "
            "watermark = watermark - make_interval(days => :d)"), {"d": days})


@pytest.fixture
def rolled(demo_session_factory):
    with demo_session_factory.begin() as s:
        first = refresh_rollup_report(s)
    assert first.kind == "full" and first.days > 200
    return demo_session_factory


def _back_dated_sale(s, intent: str, amount: str, days_ago: int) -> None:
    """A sale written now with a payment time ``days_ago`` days back (an import)."""
    s.execute(text("""
        INSERT INTO purchases (customer_id, content_id, amount_paid, currency,
                               stripe_payment_intent_id, creator_payout_amount, status,
                               purchased_at)
        SELECT (SELECT id FROM users ORDER BY id LIMIT 1),
               (SELECT id FROM content ORDER BY id LIMIT 1), CAST(:amount AS numeric), 'usd',
               :intent, CAST(:amount AS numeric), 'completed',
               (now() AT TIME ZONE 'UTC') - make_interval(days => :days)"""),
              {"intent": intent, "amount": amount, "days": days_ago})


def _local_day(s, expr: str):
    return s.execute(text(
        f"SELECT ((({expr}) AT TIME ZONE 'UTC') AT TIME ZONE admin.platform_timezone())::date"
    )).scalar_one()


def test_a_refresh_with_nothing_changed_rebuilds_no_day(rolled):
    with rolled.begin() as s:
        again = refresh_rollup_report(s)
    assert (again.kind, again.days) == ("incremental", 0)
    with rolled() as s:
        assert _contents(s) == _full_rebuild(rolled)


def test_a_back_dated_sale_lands_on_its_own_day_and_month(rolled):
    with rolled.begin() as s:
        before = _contents(s)
        _back_dated_sale(s, "pi_backdated_rollup_test", "123.45", 40)
        day = _local_day(s, "(now() AT TIME ZONE 'UTC') - interval '40 days'")
    with rolled.begin() as s:
        report = refresh_rollup_report(s)
        after = _contents(s)
    assert (report.kind, report.days) == ("incremental", 1)
    assert after == _full_rebuild(rolled)
    def by_day(rows):
        return {r[:4]: r[4:] for r in rows}

    now, then = by_day(after["revenue_daily"]), by_day(before["revenue_daily"])
    assert {k[0] for k in now.keys() | then.keys() if now.get(k) != then.get(k)} == {day}


def test_refunds_cancellations_and_ledger_rows_since_the_last_refresh(rolled):
    """Three days without a refresh: a refunded sale, a canceled card booking and a ledger
    row on those days, and the days themselves, all show; untouched old days are not rebuilt."""
    _pretend_last_refresh_was_days_ago(rolled, 3)
    with rolled.begin() as s:
        # A planted error on an old day nothing touches: a rebuild of everything would fix it.
        planted = s.execute(text(
            "UPDATE admin.revenue_daily SET gross = gross + 1000 WHERE day = "
            "(SELECT min(day) FROM admin.revenue_daily) RETURNING day")).scalars().first()
        s.execute(text("""
            UPDATE purchases SET status = 'refunded',
                   refunded_at = (now() AT TIME ZONE 'UTC') - interval '2 days'
            WHERE id = (SELECT id FROM purchases WHERE status = 'completed'
                        ORDER BY purchased_at LIMIT 1)"""))
        s.execute(text("""
            UPDATE offering_bookings SET status = 'canceled',
                   canceled_at = (now() AT TIME ZONE 'UTC') - interval '1 day'
            WHERE id = (SELECT id FROM offering_bookings WHERE payment_method = 'purchase'
                        AND amount_paid > 0 AND status <> 'canceled'
                        ORDER BY created_at LIMIT 1)"""))
        s.execute(text("""
            INSERT INTO credit_transactions (customer_id, amount, balance_after, type,
                                             description, created_at)
            SELECT customer_id, 7, current_balance + 7, 'adjustment', 'rollup test',
                   (now() AT TIME ZONE 'UTC') - interval '2 days'
            FROM credit_balances ORDER BY customer_id LIMIT 1"""))
    with rolled.begin() as s:
        report = refresh_rollup_report(s)
        after = _contents(s)
    assert report.kind == "incremental" and 3 <= report.days <= 5
    full = _full_rebuild(rolled)
    assert after["revenue_daily"] != full["revenue_daily"]  # the planted error stayed
    fixed = [r for r in after["revenue_daily"] if r[0] != planted]
    assert fixed == [r for r in full["revenue_daily"] if r[0] != planted]
    for table in ("revenue_daily_content", "revenue_monthly_payers", "credit_daily"):
        assert after[table] == full[table], table


def test_a_new_time_zone_rebuilds_everything(rolled):
    with rolled.begin() as s:
        s.execute(text("UPDATE platform_settings SET timezone = 'Asia/Tokyo'"))
    with rolled.begin() as s:
        assert refresh_rollup_report(s).kind == "full"
        assert s.execute(text("SELECT timezone FROM admin.revenue_rollup_info")).scalar_one() \
            == "Asia/Tokyo"


def test_two_refreshes_at_once_one_is_told_busy(rolled):
    with rolled() as first, rolled() as second:
        assert refresh_rollup(first) is True
        assert refresh_rollup_report(second).kind == "busy"
        second.rollback()
        first.commit()


def test_a_cold_build_in_chunks_holds_the_newest_months_first_and_ends_as_a_full_one(
        demo_session_factory):
    factory = demo_session_factory
    with factory() as s:
        total = months_to_build(s)
        this_month = s.execute(text(
            "SELECT date_trunc('month', now() AT TIME ZONE admin.platform_timezone())::date"
        )).scalar_one()
    assert total > 12  # the demo's eighteen months of sales
    with factory.begin() as s:
        first = refresh_rollup_report(s, chunk_months=3)
    assert first.kind == "building" and not first.complete
    y, m = divmod(this_month.year * 12 + this_month.month - 1 - 2, 12)
    assert first.built_from == this_month.replace(year=y, month=m + 1)  # this and two before
    # The page reads what is built: the twelve months' chart starts where the build is.
    with snapshot_session(factory) as s:
        snap = load_revenue(s, preset="12m", granularity="month", use_rollup=True)
    assert snap.used_rollup and snap.start == first.built_from
    assert "being built" in snap.rollup_note and snap.rollup_needs_refresh
    # A sale back-dated into the built part while the build goes on is counted.
    with factory.begin() as s:
        _back_dated_sale(s, "pi_during_build", "55.55", 20)
    kinds, built = [first.kind], [first.built_from]
    while not (report := _step(factory)).complete:
        kinds.append(report.kind)
        built.append(report.built_from)
    assert kinds == ["building"] * len(kinds) and report.kind == "built"
    assert built == sorted(built, reverse=True) and report.built_from is None
    assert len(kinds) + 1 == -(-total // 3)  # three months a chunk, the last one shorter
    with factory() as s:
        assert _contents(s) == _full_rebuild(factory)
    with factory.begin() as s:
        assert refresh_rollup_report(s, chunk_months=3).kind == "incremental"


def _step(factory):
    with factory.begin() as s:
        return refresh_rollup_report(s, chunk_months=3)


def _plant(s, day, amount: int = 1000) -> None:
    """A planted error on ``day``'s first row: a rebuild of that day would fix it, a delta
    keeps it (so the difference to a full rebuild says which one ran)."""
    s.execute(text(
        "UPDATE admin.revenue_daily SET gross = gross + :a WHERE (day, currency, source, kind) "
        "= (SELECT day, currency, source, kind FROM admin.revenue_daily WHERE day = :d "
        "ORDER BY 2, 3, 4 LIMIT 1)"), {"a": amount, "d": day})


def _only_the_plant_differs(after, full, day, amount: int = 1000) -> None:
    for table in ("revenue_daily_content", "revenue_monthly_payers", "credit_daily"):
        assert after[table] == full[table], table
    differ = [(a, f) for a, f in zip(after["revenue_daily"], full["revenue_daily"], strict=True)
              if a != f]
    assert len(differ) == 1 and differ[0][0][0] == day
    assert differ[0][0][4] - differ[0][1][4] == amount


def test_changes_made_now_are_added_to_their_days_not_rebuilt(rolled):
    """A back-dated sale, a refund, a card booking canceled and a ledger row, all made now:
    each adds its contribution to its own day (a planted error on the sale's day stays, so
    the day was not rebuilt) and the rest equals a rebuild from nothing."""
    with rolled.begin() as s:
        day = _local_day(s, "(now() AT TIME ZONE 'UTC') - interval '40 days'")
        _plant(s, day)
        _back_dated_sale(s, "pi_delta_rollup_test", "19.99", 40)
        s.execute(text("""
            UPDATE purchases SET status = 'refunded', refunded_at = now() AT TIME ZONE 'UTC'
            WHERE id = (SELECT id FROM purchases WHERE status = 'completed'
                        ORDER BY purchased_at LIMIT 1)"""))
        s.execute(text("""
            UPDATE offering_bookings SET status = 'canceled',
                   canceled_at = now() AT TIME ZONE 'UTC'
            WHERE id = (SELECT id FROM offering_bookings WHERE payment_method = 'purchase'
                        AND amount_paid > 0 AND status <> 'canceled'
                        ORDER BY created_at LIMIT 1)"""))
        s.execute(text("""
            INSERT INTO credit_transactions (customer_id, amount, balance_after, type,
                                             description)
            SELECT customer_id, 7, current_balance + 7, 'adjustment', 'rollup delta test'
            FROM credit_balances ORDER BY customer_id LIMIT 1"""))
        today = _local_day(s, "now() AT TIME ZONE 'UTC'")
    with rolled.begin() as s:
        report = refresh_rollup_report(s)
        after = _contents(s)
    assert report.kind == "incremental" and report.days == len({day, today})
    _only_the_plant_differs(after, _full_rebuild(rolled), day)


def test_an_amount_changed_and_a_row_deleted_since_the_last_refresh(rolled):
    with rolled.begin() as s:
        _back_dated_sale(s, "pi_changed_rollup_test", "10.00", 12)
    with rolled.begin() as s:
        refresh_rollup_report(s)
    with rolled.begin() as s:
        s.execute(text("UPDATE purchases SET amount_paid = 25.50 "
                       "WHERE stripe_payment_intent_id = 'pi_changed_rollup_test'"))
    with rolled.begin() as s:
        assert refresh_rollup_report(s).days == 1
    with rolled() as s:
        assert _contents(s) == _full_rebuild(rolled)
    with rolled.begin() as s:
        s.execute(text("DELETE FROM purchases "
                       "WHERE stripe_payment_intent_id = 'pi_changed_rollup_test'"))
    with rolled.begin() as s:
        assert refresh_rollup_report(s).days == 1
    with rolled() as s:
        assert _contents(s) == _full_rebuild(rolled)


def test_a_sale_committed_after_a_refresh_it_was_open_during_is_counted_once(rolled):
    """A transaction writes a sale, a refresh runs while it is open (it cannot see the
    sale), then it commits: the next refresh counts the sale, and the one after does not
    count it again."""
    with rolled() as open_one:
        _back_dated_sale(open_one, "pi_open_during_refresh", "77.00", 5)
        with rolled.begin() as s:
            refresh_rollup_report(s)
            without = _contents(s)
        open_one.commit()
    assert without == _full_rebuild_without(rolled, "pi_open_during_refresh")
    for _ in range(2):
        with rolled.begin() as s:
            refresh_rollup_report(s)
        with rolled() as s:
            assert _contents(s) == _full_rebuild(rolled)


def _full_rebuild_without(factory, intent: str) -> dict[str, list[tuple]]:
    with factory() as s:
        s.execute(text("DELETE FROM purchases WHERE stripe_payment_intent_id = :i"),
                  {"i": intent})
        s.execute(text("DELETE FROM admin.revenue_rollup_info"))
        refresh_rollup_report(s)
        contents = _contents(s)
        s.rollback()
    return contents


def _succeeded_request(s, purchase_filter: str, amount: str) -> None:
    """A refund request of the app, succeeded now, for the first purchase matching."""
    s.execute(text(f"""
        INSERT INTO admin.refund_requests (id, purchase_id, customer_id, amount, currency,
                                           reason, actor, idempotency_key, status,
                                           completed_at)
        SELECT gen_random_uuid(), p.id, p.customer_id, CAST(:amount AS numeric), p.currency,
               'requested_by_customer', 'test', gen_random_uuid()::text, 'succeeded', now()
        FROM purchases p WHERE {purchase_filter} ORDER BY p.purchased_at LIMIT 1"""),
              {"amount": amount})


def test_refund_requests_completed_since_the_last_refresh(rolled):
    """A partial refund of a sale, and a request replacing a refund the platform made long
    ago (counted in full then; the request's amount now): both as a rebuild says."""
    with rolled.begin() as s:
        _succeeded_request(s, "p.status = 'completed' AND p.amount_paid > 2", "1.00")
        _succeeded_request(s, "p.status = 'refunded' AND p.refunded_at IS NOT NULL "
                              "AND p.amount_paid > 2", "2.00")
    with rolled.begin() as s:
        assert refresh_rollup_report(s).kind == "incremental"
    with rolled() as s:
        assert _contents(s) == _full_rebuild(rolled)


# What the platform writes with ``updated_at = now()`` (seed 004 stamps every write) but an
# arrival before the watermark: only ``updated_at`` shows it (migration 0025).
_OLD_SALE = ("(SELECT id FROM purchases WHERE status = 'completed' "
             "AND purchased_at < (now() AT TIME ZONE 'UTC') - interval '60 days' "
             "ORDER BY purchased_at DESC LIMIT 1)")
_OLD_CARD_BOOKING = ("(SELECT id FROM offering_bookings WHERE payment_method = 'purchase' "
                     "AND amount_paid > 0 AND status <> 'canceled' "
                     "AND created_at < (now() AT TIME ZONE 'UTC') - interval '30 days' "
                     "ORDER BY created_at DESC LIMIT 1)")
_AGO = "(now() AT TIME ZONE 'UTC') - interval '{} days'"
TOUCHED_PAST_ROWS = {
    "a sale imported with an old created_at": f"""
        INSERT INTO purchases (customer_id, content_id, amount_paid, currency,
                               stripe_payment_intent_id, creator_payout_amount, status,
                               purchased_at, created_at, updated_at)
        SELECT (SELECT id FROM users ORDER BY id DESC LIMIT 1),
               (SELECT id FROM content ORDER BY id DESC LIMIT 1), 77.70, 'usd',
               'pi_imported_rollup_test', 70, 'completed', {_AGO.format(45)}, {_AGO.format(45)},
               now() AT TIME ZONE 'UTC'""",
    "a refund written with an old refunded_at": f"""
        UPDATE purchases SET status = 'refunded', refunded_at = {_AGO.format(20)},
               updated_at = now() AT TIME ZONE 'UTC' WHERE id = {_OLD_SALE}""",
    "an old sale failed afterwards (a chargeback)": f"""
        UPDATE purchases SET status = 'failed', updated_at = now() AT TIME ZONE 'UTC'
        WHERE id = {_OLD_SALE}""",
    "an old sale's amount corrected": f"""
        UPDATE purchases SET amount_paid = amount_paid + 5,
               updated_at = now() AT TIME ZONE 'UTC' WHERE id = {_OLD_SALE}""",
    "a card booking canceled with an old canceled_at": f"""
        UPDATE offering_bookings SET status = 'canceled', canceled_at = {_AGO.format(10)},
               updated_at = now() AT TIME ZONE 'UTC' WHERE id = {_OLD_CARD_BOOKING}""",
}


@pytest.mark.parametrize("change", TOUCHED_PAST_ROWS.values(), ids=TOUCHED_PAST_ROWS.keys())
def test_past_rows_the_platform_changed_are_found_by_updated_at(rolled, change):
    """Each of these arrived before the watermark, so the arrival-ordered read misses it: the
    rows touched since (updated_at) have their days and months rebuilt, and the rollup equals a
    rebuild from nothing; the untouched days keep a planted error (nothing else rebuilt)."""
    with rolled.begin() as s:
        planted = _local_day(s, _AGO.format(100))
        _plant(s, planted)
        assert s.execute(text(change)).rowcount == 1
    with rolled.begin() as s:
        report = refresh_rollup_report(s)
        after = _contents(s)
    assert report.kind == "incremental" and 1 <= report.days <= 2
    _only_the_plant_differs(after, _full_rebuild(rolled), planted)


def test_an_ordinary_refund_of_an_old_sale_is_added_not_rebuilt(rolled):
    """Refunded now, stamped now: the refund is an event the window reads, added to today by
    delta; the old sale's day is not rebuilt (its planted error stays)."""
    with rolled.begin() as s:
        sale_day = s.execute(text(
            f"SELECT {_local_sql('coalesce(purchased_at, created_at)')} FROM purchases "
            f"WHERE id = {_OLD_SALE}")).scalar_one()
        _plant(s, sale_day)
        s.execute(text(f"""
            UPDATE purchases SET status = 'refunded', refunded_at = now() AT TIME ZONE 'UTC',
                   updated_at = now() AT TIME ZONE 'UTC' WHERE id = {_OLD_SALE}"""))
    with rolled.begin() as s:
        report = refresh_rollup_report(s)
        after = _contents(s)
    assert (report.kind, report.days) == ("incremental", 1)
    _only_the_plant_differs(after, _full_rebuild(rolled), sale_day)


def _local_sql(expr: str) -> str:
    return f"((({expr}) AT TIME ZONE 'UTC') AT TIME ZONE admin.platform_timezone())::date"


def test_rows_a_change_leaves_empty_are_removed_and_only_those(rolled):
    """A sale in a currency of its own counted, then deleted: its day's rows for that currency
    (the daily and the content row) are removed by key, as a rebuild would not have them,
    and the rest of the rollup is untouched (0027: no scan of the history to find them)."""
    with rolled.begin() as s:
        _back_dated_sale(s, "pi_emptied_rollup_test", "12.00", 9)
        s.execute(text("UPDATE purchases SET currency = 'gbp' "
                       "WHERE stripe_payment_intent_id = 'pi_emptied_rollup_test'"))
        day = _local_day(s, "now() AT TIME ZONE 'UTC' - interval '9 days'")
    with rolled.begin() as s:
        refresh_rollup_report(s)

    def gbp_rows(s):
        return [s.execute(text(f"SELECT count(*) FROM admin.{table} "
                               "WHERE currency = 'gbp' AND day = :d"), {"d": day}).scalar_one()
                for table in ("revenue_daily", "revenue_daily_content")]

    with rolled() as s:
        assert gbp_rows(s) == [1, 1]
    with rolled.begin() as s:
        s.execute(text("DELETE FROM purchases "
                       "WHERE stripe_payment_intent_id = 'pi_emptied_rollup_test'"))
        _plant(s, day - dt.timedelta(days=3))  # a day the deletion does not touch
    with rolled.begin() as s:
        assert refresh_rollup_report(s).days == 1
    with rolled() as s:
        assert gbp_rows(s) == [0, 0]
        _only_the_plant_differs(_contents(s), _full_rebuild(rolled), day - dt.timedelta(days=3))


def test_the_cold_build_shows_the_current_month_first_then_builds_the_rest(
        demo_session_factory):
    """The page's build (BuildRevenueRollup) from nothing: its first chunk is the current
    month alone, which the page can show (from the rollup) while the rest is still missing;
    the later chunks go back three months at a time and the finished rollup equals a rebuild
    from nothing."""
    factory = demo_session_factory
    with factory() as s:
        total = months_to_build(s)
        this_month = s.execute(text(
            "SELECT date_trunc('month', now() AT TIME ZONE admin.platform_timezone())::date"
        )).scalar_one()
    seen = []

    def progress(done, of):
        with factory() as s:
            built_from = s.execute(text(
                "SELECT built_from FROM admin.revenue_rollup_info")).scalar_one()
        with snapshot_session(factory) as s:
            snap = load_revenue(s, preset="12m", granularity="month", use_rollup=True)
        seen.append((done, of, built_from, snap.used_rollup, snap.start))

    report = BuildRevenueRollup().run(factory, "test", progress, lambda: False)
    assert report.kind == "built" and report.complete
    first = seen[0]
    assert first[:3] == (1, total, this_month)  # one month built, the rest not yet
    assert first[3] and first[4] == this_month  # the page's chart: the current month
    y, m = divmod(this_month.year * 12 + this_month.month - 1 - 3, 12)
    assert seen[1][2] == this_month.replace(year=y, month=m + 1)  # then three more
    assert seen[-1][:2] == (total, total) and seen[-1][2] is None
    assert len(seen) == 1 + -(-(total - 1) // 3)  # a report a chunk
    with factory() as s:
        assert _contents(s) == _full_rebuild(factory)
