"""db upgrade and db check, on an empty database and on the platform's own database."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from data import migrate
from data.db import make_engine
from data.models import APP_SCHEMA, PLATFORM_TABLES, Base
from desktop.cli import main as cli_main

PLATFORM_DDL = Path(__file__).parents[1] / "fixtures" / "platform_ddl.sql"


def _libpq(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def test_upgrade_on_empty_database_creates_platform_and_app_schema(empty_db, capsys):
    assert cli_main(["db", "upgrade", "--database-url", _libpq(empty_db)]) == 0
    engine = make_engine(empty_db, pool_size=1)
    with engine.connect() as conn:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
        assert tables == {t.name for t in PLATFORM_TABLES}
        assert conn.execute(text("SELECT to_regclass('admin.audit_log')")).scalar() is not None
        # alembic check: what the migrations built is exactly what the models describe.
        mc = MigrationContext.configure(conn, opts={"include_schemas": True, "compare_type": True})
        diffs = [
            d for d in compare_metadata(mc, Base.metadata)
            if not (d[0] == "remove_index" and d[1].name.startswith("ix_admin_"))
            and not (d[0] == "remove_table" and d[1].name == "alembic_version")
            # the audit trail's monthly partitions (migration 0023) and their indexes are
            # not models: the partitioned table is
            and not (d[0] == "remove_table" and d[1].name.startswith("audit_log_"))
            and not (d[0] == "remove_index" and d[1].table.name.startswith("audit_log_"))
        ]
        assert diffs == []
    assert cli_main(["db", "check", "--database-url", _libpq(empty_db)]) == 0
    assert "matches" in capsys.readouterr().out
    engine.dispose()


def test_upgrade_twice_is_harmless(empty_db):
    engine = make_engine(empty_db, pool_size=1)
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_check_before_upgrade_says_what_is_missing(empty_db, capsys):
    assert cli_main(["db", "check", "--database-url", _libpq(empty_db)]) == 1
    out = capsys.readouterr().out
    assert "users: table is missing" in out
    assert "db upgrade" in out


def test_check_reports_missing_column_and_type_mismatch(db_url, capsys):
    with psycopg.connect(_libpq(db_url), autocommit=True) as conn:
        conn.execute("ALTER TABLE users DROP COLUMN bio")
        conn.execute("ALTER TABLE content ALTER COLUMN title TYPE varchar(100)")
        conn.execute("ALTER TABLE purchases ALTER COLUMN refund_reason SET NOT NULL")
    assert cli_main(["db", "check", "--database-url", _libpq(db_url)]) == 1
    out = capsys.readouterr().out
    assert "users: column bio is missing" in out
    assert "content: column title is VARCHAR(100), expected VARCHAR(500)" in out
    assert "purchases: column refund_reason is NOT NULL, expected NULL" in out
    assert "cannot work" in out


@pytest.fixture
def platform_db(pg_server, empty_db):
    """A database built the way the platform built its own: from hand-written DDL."""
    with psycopg.connect(_libpq(empty_db), autocommit=True) as conn:
        conn.execute(PLATFORM_DDL.read_text())
        conn.execute(
            """
            INSERT INTO users (id, email, password_hash, full_name, role, created_at)
            VALUES ('11111111-1111-4111-8111-111111111111', 'platform.owner@example.com',
                    'x', 'Olivia Owner', 'platform_owner', '2024-01-02 03:04:05'),
                   ('22222222-2222-4222-8222-222222222222', 'carl.customer@example.com',
                    'x', 'Carl Customer', 'customer', '2025-05-06 07:08:09');
            INSERT INTO content (id, creator_id, title, slug, content_type, price, status)
            VALUES ('33333333-3333-4333-8333-333333333333',
                    '11111111-1111-4111-8111-111111111111', 'Morning flow', 'morning-flow',
                    'video', 12.50, 'published');
            INSERT INTO purchases (customer_id, content_id, amount_paid,
                                   stripe_payment_intent_id, creator_payout_amount, status)
            VALUES ('22222222-2222-4222-8222-222222222222',
                    '33333333-3333-4333-8333-333333333333', 12.50, 'pi_platform_1', 12.50,
                    'completed');
            """
        )
    return empty_db


def _snapshot(url) -> dict[str, list]:
    with psycopg.connect(_libpq(url)) as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("users", "content", "purchases")
        }


def test_upgrade_on_platform_database_adds_only_what_is_missing(platform_db, capsys):
    before = _snapshot(platform_db)
    with psycopg.connect(_libpq(platform_db)) as conn:
        oids_before = dict(
            conn.execute("SELECT relname, oid FROM pg_class WHERE relkind = 'r'").fetchall()
        )
    assert cli_main(["db", "upgrade", "--database-url", _libpq(platform_db)]) == 0
    assert _snapshot(platform_db) == before
    with psycopg.connect(_libpq(platform_db)) as conn:
        oids_after = dict(
            conn.execute(
                "SELECT relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace "
                "WHERE relkind = 'r' AND nspname = 'public'"
            ).fetchall()
        )
        # Same tables, not dropped and re-created (same oids).
        assert oids_after == {k: v for k, v in oids_before.items() if k in oids_after}
        assert set(oids_after) == {t.name for t in PLATFORM_TABLES}
        assert conn.execute(f"SELECT to_regclass('{APP_SCHEMA}.audit_log')").fetchone()[0]
    capsys.readouterr()
    assert cli_main(["db", "check", "--database-url", _libpq(platform_db)]) == 0
    assert "ERROR" not in capsys.readouterr().out


def test_cli_explains_unreachable_database(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["db", "check", "--database-url", "postgresql://u:p@127.0.0.1:1/nodb"])
    assert "cannot be reached" in str(exc.value)


def test_demo_data_command_fills_then_refuses_a_filled_database(db_url, capsys):
    url = _libpq(db_url)
    assert cli_main(["demo-data", "--users", "200", "--seed", "3", "--database-url", url]) == 0
    out, err = capsys.readouterr()
    assert "users=200" in out
    assert "[" in err and "]" in err  # the progress bar
    with pytest.raises(SystemExit) as exc:
        cli_main(["demo-data", "--users", "200", "--database-url", url])
    assert "already has users" in str(exc.value)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 200


def test_an_upgrade_that_fails_part_way_leaves_the_owner_able_to_carry_on(empty_db, capsys):
    """A login that does not own the platform's tables: 0002 creates admin.audit_log (and
    commits it, before its CONCURRENTLY indexes), then cannot index users. Nothing of 0002
    stays, and the owner's upgrade afterwards goes through."""
    owner = make_engine(empty_db, pool_size=1)
    migrate.upgrade(owner, "0001")
    role = f"clerk_{empty_db.database}"
    with psycopg.connect(_libpq(empty_db), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT CREATE ON DATABASE {empty_db.database} TO {role}")
        conn.execute(f"GRANT ALL ON SCHEMA admin, public TO {role}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA admin, public TO {role}")
    clerk_url = _libpq(empty_db.set(username=role))
    with pytest.raises(SystemExit) as failed:
        cli_main(["db", "upgrade", "--database-url", clerk_url])
    message = str(failed.value.code)
    assert message.count("\n") == 0 and 'does not own the table "users"' in message
    assert migrate.current_revision(owner) == "0001"
    with owner.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('admin.audit_log')")).scalar() is None
    capsys.readouterr()
    assert cli_main(["db", "upgrade", "--database-url", _libpq(empty_db)]) == 0
    assert cli_main(["db", "check", "--database-url", _libpq(empty_db)]) == 0
    assert "matches" in capsys.readouterr().out
    owner.dispose()
