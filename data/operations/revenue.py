"""Revenue's one write: bringing the daily rollup (tables in ``admin``) up to today."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.operations.base import Operation
from data.services.revenue_rollup import refresh_rollup


@dataclass(frozen=True)
class RebuildRevenueRollup(Operation):
    """Refresh the rollup tables together, in the write's transaction: the days touched
    since the last refresh, or everything when it was never built."""

    action = "refresh the revenue rollup"

    def run(self, session: Session, actor: str) -> object:
        return refresh_rollup(session)
