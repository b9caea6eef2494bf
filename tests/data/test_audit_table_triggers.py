"""Writes to the app's own tables are audited by the database, in the same transaction: a
staff login's direct INSERT, UPDATE and DELETE (as from psql) each leave an audit row naming
the login, the table, the row and its values; a rolled-back write leaves none. No such
trigger on a platform table. Real embedded PostgreSQL, real logins."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from data.audit_chain import verify_chain
from data.roles import OWNER_GROUP
from tests.data.test_roles import login, staffed_db  # noqa: F401


def _rows(engine):
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT actor, action, entity_type, entity_id, old_values, new_values "
            "FROM admin.audit_log ORDER BY id")).all()


def test_direct_writes_to_an_app_table_are_audited_with_the_login(engine, login):  # noqa: F811
    name, owner = login(OWNER_GROUP)
    tier = uuid.uuid4()
    with owner.begin() as s:
        price_id = s.execute(text(
            "INSERT INTO admin.tier_prices (tier_id, billing_period, amount, effective_from) "
            "VALUES (:t, 'monthly', 10, now()) RETURNING id"), {"t": tier}).scalar()
    with owner.begin() as s:
        s.execute(text("DELETE FROM admin.tier_prices WHERE id = :i"), {"i": price_id})
    with owner() as s:  # rolled back: no row, no audit
        s.execute(text("INSERT INTO admin.tier_prices (tier_id, billing_period, amount, "
                       "effective_from) VALUES (:t, 'yearly', 99, now())"), {"t": tier})
        s.rollback()
    inserted, deleted = _rows(engine)
    assert inserted[:4] == (name, "tier_prices.insert", "admin.tier_prices", str(price_id))
    assert inserted.old_values is None and inserted.new_values["amount"] == 10
    assert inserted.new_values["changed_by"] == name
    assert deleted[:4] == (name, "tier_prices.delete", "admin.tier_prices", str(price_id))
    assert deleted.old_values == inserted.new_values and deleted.new_values is None
    with owner() as s:
        assert verify_chain(s).intact


def test_an_update_records_old_and_new_and_a_bulk_one_each_row(engine, session_factory):
    tier = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin.tier_prices (tier_id, billing_period, amount, effective_from) "
            "SELECT :t, p, 5, now() FROM unnest(ARRAY['monthly', 'yearly']) AS p"),
            {"t": tier})
        conn.execute(text("UPDATE admin.tier_prices SET amount = 7 WHERE tier_id = :t"),
                     {"t": tier})
        conn.execute(text("UPDATE admin.tier_prices SET amount = 7 WHERE tier_id = :t"),
                     {"t": tier})  # changes nothing: nothing to record
    updates = [r for r in _rows(engine) if r.action == "tier_prices.update"]
    assert len(_rows(engine)) == 4 and len(updates) == 2
    assert {(r.old_values["amount"], r.new_values["amount"]) for r in updates} == {(5, 7)}
    with session_factory() as s:
        assert verify_chain(s).intact


def test_no_audit_trigger_on_a_platform_table(engine):
    with engine.connect() as conn:
        on = conn.execute(text(
            "SELECT DISTINCT n.nspname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.proname = 'audit_table_change'")).scalars().all()
        tables = conn.execute(text(
            "SELECT count(DISTINCT tgrelid) FROM pg_trigger t JOIN pg_proc p "
            "ON p.oid = t.tgfoid WHERE p.proname = 'audit_table_change'")).scalar()
    assert on == ["admin"] and tables == 6
