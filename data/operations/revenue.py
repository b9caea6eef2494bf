"""Revenue's one write: bringing the daily rollup (tables in ``admin``) up to today."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from data.operations.base import BatchOperation
from data.services.revenue_rollup import (
    RollupRefresh,
    months_to_build,
    refresh_rollup_report,
)

BUILD_CHUNK_MONTHS = 3
"""A cold build commits this many months at a time, the newest first."""


@dataclass(frozen=True)
class BuildRevenueRollup(BatchOperation):
    """Bring the rollup up to today, committing ``chunk_months`` at a time while it is
    built from nothing (the newest months first, so the page can show them while the rest
    builds); an up-to-date rollup takes one incremental refresh. Reports months done of
    months to build; stopped between chunks, it carries on at the next refresh."""

    chunk_months: int = BUILD_CHUNK_MONTHS
    action = "build the revenue rollup"

    def run(self, session_factory: sessionmaker[Session], actor: str,
            progress: Callable[[int, int], None],
            should_stop: Callable[[], bool]) -> RollupRefresh:
        with session_factory() as s:
            total = months_to_build(s)
        done = 0
        while True:
            with session_factory.begin() as s:
                report = refresh_rollup_report(s, self.chunk_months)
            if report.kind == "busy" or report.complete:
                progress(total, total)
                return report
            done = min(done + self.chunk_months, total - 1)
            progress(done, total)
            if should_stop():
                return report
