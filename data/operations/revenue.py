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

FIRST_CHUNK_MONTHS = 1
"""...after a first chunk of this many (the current month so far): the page shows it while
the rest builds. Three months at once took 20 s at 5M purchases before the first chart."""


@dataclass(frozen=True)
class BuildRevenueRollup(BatchOperation):
    """Bring the rollup up to today, committing ``first_chunk_months`` (the current month)
    then ``chunk_months`` at a time while it is built from nothing (the newest months first,
    so the page can show them while the rest builds); an up-to-date rollup takes one incremental refresh. Reports months done of
    months to build; stopped between chunks, it carries on at the next refresh."""

    chunk_months: int = BUILD_CHUNK_MONTHS
    first_chunk_months: int = FIRST_CHUNK_MONTHS
    action = "build the revenue rollup"

    def run(self, session_factory: sessionmaker[Session], actor: str,
            progress: Callable[[int, int], None],
            should_stop: Callable[[], bool]) -> RollupRefresh:
        with session_factory() as s:
            total = months_to_build(s)
        done = 0
        chunk = self.first_chunk_months
        while True:
            with session_factory.begin() as s:
                report = refresh_rollup_report(s, chunk)
            if report.kind == "busy" or report.complete:
                progress(total, total)
                return report
            done = min(done + chunk, total - 1)
            chunk = self.chunk_months
            progress(done, total)
            if should_stop():
                return report
