"""The read-only pages: newest rows first, joined names instead of ids, all rows on scroll."""

from __future__ import annotations

from sqlalchemy import text

from desktop.pages import overview
from desktop.pages.table_page import TablePage

WAIT = 15_000


def _page(qtbot, listing, database):
    p = TablePage(listing, database)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: p.model.rowCount() > 0 and not p.model.is_loading, timeout=WAIT)
    return p


def test_token_balances_show_the_customers_email(qtbot, demo_database, demo_engine):
    p = _page(qtbot, overview.TOKEN_BALANCES, demo_database)
    with demo_engine.connect() as conn:
        email, balance = conn.execute(text(
            "SELECT u.email, b.current_balance FROM credit_balances b "
            "JOIN users u ON u.id = b.customer_id ORDER BY b.updated_at DESC, b.id DESC LIMIT 1"
        )).one()
    assert p.model.row_at(0)[0] == email
    assert p.model.row_at(0)[2] == balance


def test_scrolling_reaches_every_purchase_once(qtbot, demo_database, demo_engine):
    p = _page(qtbot, overview.REVENUE, demo_database)
    while not p.model.is_exhausted:
        p.view.scrollToBottom()
        qtbot.waitUntil(lambda: not p.model.is_loading, timeout=WAIT)
        if p.model.canFetchMore(p.model.index(-1, -1).parent()):
            p.model.fetchMore(p.model.index(-1, -1).parent())
            qtbot.waitUntil(lambda: not p.model.is_loading, timeout=WAIT)
    with demo_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM purchases")).scalar()
    ids = {p.model.row_at(i)[-1] for i in range(p.model.rowCount())}
    assert len(ids) == p.model.rowCount() == n
