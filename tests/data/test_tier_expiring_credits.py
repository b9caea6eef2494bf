"""Credits expiring within N days (the tier's no-rollover credits, seen from Token
balances): the customers and sums equal an independent count; bad N names the field."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from data.errors import ValidationError
from data.queries.expiring_credits import expiring_credits
from tests.data.factories import insert_user


def _grant(engine, customer, amount, expires_in_days, kind="earned_subscription"):
    expires = None if expires_in_days is None else (
        dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=expires_in_days))
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO credit_transactions (customer_id, type, amount, balance_after, "
            "expires_at) VALUES (:c, :t, :a, 0, :e)"),
            {"c": customer, "t": kind, "a": amount, "e": expires})
    return amount, expires_in_days


def test_expiring_within_n_days_matches_an_independent_count(engine, session_factory):
    grants = {}
    for i, plan in enumerate([[(4, 3), (4, 40)], [(10, None)], [(2, 10), (5, 29.5)],
                              [(7, -1)], [(3, 0.5)]]):
        customer = insert_user(engine, f"e{i}@example.com", f"E {i}")
        grants[customer] = [_grant(engine, customer, a, d) for a, d in plan]
    _grant(engine, next(iter(grants)), -4, 2, kind="spent_offering")  # not a grant

    for days in (1, 7, 30, 60):
        expected = {c: sum(a for a, d in g if d is not None and 0 <= d < days)
                    for c, g in grants.items()}
        expected = {c: n for c, n in expected.items() if n}
        with session_factory() as s:
            found = {r.customer_id: r.credits for r in expiring_credits(s, days)}
        assert found == expected, days


@given(days=st.one_of(st.integers(max_value=0), st.integers(min_value=3661),
                      st.just(True), st.floats(), st.text(max_size=3)))
def test_bad_days_name_the_field(days):
    with pytest.raises(ValidationError) as err:
        expiring_credits(None, days)  # type: ignore[arg-type]
    assert "days" in err.value.field_errors
