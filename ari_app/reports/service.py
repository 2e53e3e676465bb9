"""A KPI report for a range: the stored calls read, turned into facts and counted.

Reading is the database's work; turning journeys into facts and counting them is pure CPU work
proportional to the calls in the range, done in a thread so the event loop keeps serving calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ari_app.reports.facts import call_facts
from ari_app.reports.store import ReportStore, StoredCall
from routing.config import RoutingConfig
from routing.kpis.facts import KpiSettings
from routing.kpis.report import GroupBy, KpiReport, Repeats, report, within

# A call's first queue entry is at most this long after its start: calls that started this
# much before the range are read too, so none that entered a queue in the range is missed.
LONGEST_IVR = timedelta(hours=6)

NOTES = (
    "hold: 0 s, the hotline has no hold",
    "wrap-up: the queue's wrap-up timer after each answered visit, or until the agent's "
    "disposition ended it early",
    "tier: the answering agent's tier in the routing configuration in force now",
    "occupancy: n/a, the agents' available idle time is not stored yet",
    "complaint: a complaint intent heard or chosen in the IVR, or a disposition flagged "
    "complaint",
    "dispositions: each agent's disposition counted with the last visit that agent answered "
    "(its hour, queue, tier and agent)",
    "CSAT and FCR count a transferred call for every queue, tier and agent it reached",
)


@dataclass(frozen=True, slots=True)
class ReportQuery:
    start: datetime
    end: datetime
    by: GroupBy | None
    queues: frozenset[str] | None  # None: every queue
    settings: KpiSettings


class KpiReports:
    def __init__(self, store: ReportStore, config: Callable[[], RoutingConfig],
                 now: Callable[[], datetime]) -> None:  # fmt: skip
        self._store = store
        self._config = config
        self._now = now

    async def report(self, query: ReportQuery) -> KpiReport:
        stored = await self._store.calls(query.start - LONGEST_IVR, query.end)
        window = timedelta(days=query.settings.fcr_days)
        arrivals = await self._store.arrivals(query.start - LONGEST_IVR, query.end + window)
        config, now = self._config(), self._now()
        return await asyncio.to_thread(_count, stored, arrivals, config, now, query)


def _count(stored: list[StoredCall], arrivals: list[tuple[str, datetime]],
           config: RoutingConfig, now: datetime, query: ReportQuery) -> KpiReport:  # fmt: skip
    facts = [call_facts(c.record, c.events, c.survey_score, config, c.dispositions)
             for c in stored]
    calls = within(facts, query.start, query.end, query.queues)
    known = ((caller.strip(), at) for caller, at in arrivals if caller.strip())
    repeats = Repeats(known, query.settings.fcr_days, now)
    return report(calls, query.settings, repeats, query.by)
