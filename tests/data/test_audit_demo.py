"""The demo's audit history: written through the trail's own path, chained, verifiable, and
ending in the values the demo data holds."""

from __future__ import annotations

from sqlalchemy import text

from data.audit_chain import verify_chain


def test_the_demo_history_is_chained_and_verifies(demo_engine):
    with demo_engine.connect() as conn:
        report = verify_chain(conn)
        n = conn.execute(text("SELECT count(*) FROM admin.audit_log")).scalar()
        kinds = set(conn.execute(text(
            "SELECT DISTINCT action || ' ' || entity_type FROM admin.audit_log")).scalars())
    assert n >= 8 and report.intact, report
    # The demo's staff history, and its tier prices as their table's trigger recorded them.
    assert kinds == {"user.update user", "content.update content",
                     "tier_prices.insert admin.tier_prices"}


def test_each_change_ends_in_the_value_the_record_holds(demo_engine):
    with demo_engine.connect() as conn:
        mismatched = conn.execute(text("""
            SELECT count(*) FROM admin.audit_log a
            LEFT JOIN users u ON a.entity_type = 'user' AND u.id::text = a.entity_id
            LEFT JOIN content c ON a.entity_type = 'content' AND c.id::text = a.entity_id
            WHERE a.entity_type IN ('user', 'content') AND EXISTS (
                SELECT FROM jsonb_each_text(a.new_values) AS f(k, v)
                WHERE CASE WHEN k = 'price' THEN v::numeric IS DISTINCT FROM c.price
                           ELSE v IS DISTINCT FROM coalesce(to_jsonb(u), to_jsonb(c)) ->> k
                      END)""")).scalar()
        actors = set(conn.execute(text("SELECT DISTINCT actor FROM admin.audit_log")).scalars())
    assert mismatched == 0
    assert actors == {"postgres"}  # the filling login: the trigger's word, not the demo's
