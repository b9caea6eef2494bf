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


def test_purchases_show_customer_email_and_content_title(qtbot, demo_database, demo_engine):
    p = _page(qtbot, overview.REVENUE, demo_database)
    with demo_engine.connect() as conn:
        email, title, amount = conn.execute(text(
            "SELECT u.email, c.title, p.amount_paid FROM purchases p "
            "JOIN users u ON u.id = p.customer_id JOIN content c ON c.id = p.content_id "
            "ORDER BY p.created_at DESC, p.id DESC LIMIT 1"
        )).one()
    assert p.model.row_at(0)[1:4] == (email, title, amount)


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
