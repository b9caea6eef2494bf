"""Revenue's one write: rebuilding the daily rollup (materialized views in ``admin``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.operations.base import Operation
from data.services.revenue_rollup import refresh_rollup


@dataclass(frozen=True)
class RebuildRevenueRollup(Operation):
    """Refresh the rollup views together, in the write's transaction."""

    action = "rebuild the revenue rollup"

    def run(self, session: Session, actor: str) -> object:
        return refresh_rollup(session)
