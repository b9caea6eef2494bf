"""Rebuild the Revenue page's daily rollup: the materialized views of migration 0004.

The rollup holds the local days before its ``boundary_day`` (today, platform time, when it
was built); the page reads it on big databases (see
:mod:`data.queries.revenue.rollup_state`) and asks for a rebuild once a day, or when the
platform's time zone changed. Rows written later with a timestamp before the boundary
(back-dated imports) show after the next rebuild.

Like every service, :func:`refresh_rollup` takes a ``Session`` and never commits: the caller
owns the transaction (the page: ``Database.write``).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLLUP_VIEWS = (
    "revenue_rollup_info", "revenue_daily", "revenue_daily_content", "revenue_monthly_payers",
    "credit_daily",
)
"""Every view of the rollup, refreshed together (one ``now()``, one time zone)."""


def refresh_rollup(session: Session) -> bool:
    """Rebuild the rollup for today's data and time zone; the caller commits.

    Refreshes every rollup view in one transaction (one ``now()``, one time zone), each
    CONCURRENTLY once it has data, so the page keeps reading the old rollup meanwhile.
    Returns False without doing anything when another session is refreshing it already.
    """
    # A transaction-scoped lock: released by the caller's commit or rollback, never leaked.
    got = session.execute(text(
        "SELECT pg_try_advisory_xact_lock(hashtext('platform-admin revenue rollup'))"
    )).scalar_one()
    if not got:
        return False
    for name in ROLLUP_VIEWS:
        populated = session.execute(
            text("SELECT relispopulated FROM pg_class WHERE oid = CAST(:v AS regclass)"),
            {"v": f"admin.{name}"},
        ).scalar_one()
        how = "CONCURRENTLY " if populated else ""
        session.execute(text(f"REFRESH MATERIALIZED VIEW {how}admin.{name}"))
    return True
