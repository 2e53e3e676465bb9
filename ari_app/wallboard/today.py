"""Today's answered, abandoned and service level per queue, from the KPI reports.

Counting the day's calls is database and CPU work: it is done at most every `every_s` and the
wallboard shows the last figures in between. A failed count keeps the last figures, which say
how old they are (`as_of`), and never blanks the wall.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from ari_app.reports.service import KpiReports, ReportQuery
from routing.kpis.facts import KpiSettings
from routing.kpis.report import GroupBy
from routing.wallboard import Today

log = structlog.get_logger(__name__)

SERVICE_LEVEL_KEY = "sl_excl_short"  # SL(20 s, excl. short ≤ 5 s), as the reports name it


def local_midnight() -> datetime:
    """The start of today in the service's own time zone (the TZ of its process)."""
    return datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)


class TodayFigures:
    def __init__(self, reports: KpiReports, *, every_s: float = 10.0,
                 day_start: Callable[[], datetime] = local_midnight,
                 monotonic: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._reports = reports
        self._every_s = every_s
        self._day_start = day_start
        self._monotonic = monotonic
        self._figures: Mapping[str, Today] = {}
        self._counted_at: float | None = None
        self._lock = asyncio.Lock()
        self.as_of: datetime | None = None  # the end of the last count that worked
        self.settings = KpiSettings()

    async def figures(self) -> Mapping[str, Today]:
        async with self._lock:
            now = self._monotonic()
            if self._counted_at is None or now - self._counted_at >= self._every_s:
                self._counted_at = now
                await self._count()
        return self._figures

    async def _count(self) -> None:
        start = self._day_start()
        end = datetime.now(start.tzinfo)
        query = ReportQuery(start, end, GroupBy.QUEUE, None, self.settings)
        try:
            report = await self._reports.report(query)
        except Exception as error:  # the wall keeps the last figures: a report is not a call
            log.warning("wallboard.today_failed", error=repr(error))
            return
        self.as_of = end
        self._figures = {row.group: Today(row.counts.answered, row.counts.abandoned,
                                          row.kpi(SERVICE_LEVEL_KEY)) for row in report.rows}
