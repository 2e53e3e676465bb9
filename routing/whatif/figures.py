"""Queue visits, replayed or recorded, counted with the KPI core's formulas (`routing.kpis`):
the same counts, labels and thresholds as the KPI reports, so a predicted SL(20 s) means what a
reported one does. Per queue, per interval of the replay clock, and in total; a visit belongs
to the interval in which it entered its queue (the reports' rule). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from routing.kpis import formulas as f
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.kpis.formulas import Kpi, QueueCounts, Thresholds
from routing.kpis.report import TOTAL, counts

# What the what-if shows first: service level with abandons against it (short ones left out,
# as misdials), the average speed of answer, and the abandonment rate.
HEADLINE = {"service_level": "sl_excl_short", "asa": "asa", "abandonment": "abandon_rate"}


@dataclass(frozen=True, slots=True)
class Figures:
    group: str  # a queue id, an interval's start (ISO 8601, UTC) or "total"
    counts: QueueCounts
    kpis: tuple[Kpi, ...]

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def figures(group: str, visits: Iterable[QueueVisit], th: Thresholds) -> Figures:
    """The queue KPIs of `visits` (those still waiting count nowhere, as in the reports)."""
    visits = list(visits)
    c = counts(visits, th)
    answered = [v for v in visits if v.outcome is VisitOutcome.ANSWERED]
    kpis = (f.service_level(c, th), f.service_level_2(c, th), f.service_level_all_abandons(c, th),
            f.service_level_late_abandons(c, th), f.service_level_excl_short(c, th),
            f.abandon_rate(c), f.abandon_rate_excl_short(c, th), f.answer_rate(c),
            f.asa(sum(v.wait_s for v in answered), len(answered)))  # fmt: skip
    return Figures(group, c, kpis)


@dataclass(frozen=True, slots=True)
class Grid:
    """Intervals of `interval_s` from `origin`: [origin + i·interval, origin + (i+1)·interval)."""

    origin: datetime
    interval_s: float
    count: int

    def index(self, visit: QueueVisit) -> int:
        return max(0, math.floor((visit.entered_at - self.origin).total_seconds()
                                 / self.interval_s))

    def label(self, i: int) -> str:
        start = self.origin + timedelta(seconds=i * self.interval_s)
        return start.astimezone(UTC).isoformat()

    @classmethod
    def covering(cls, origin: datetime, length_s: float, interval_s: float,
                 visits: Iterable[QueueVisit]) -> Grid:  # fmt: skip
        """The intervals over the window [origin, origin + length_s), on the clock's own
        boundaries (whole intervals since 1970-01-01 UTC: quarter hours, hours on the hour),
        so the first and last may be partly outside it; and as many more as a visit entered
        after the window needs (an overflow or a transfer of a call that arrived near its end).
        """
        start = _boundary(origin, interval_s)
        span = (origin - start).total_seconds() + length_s
        grid = cls(start, interval_s, max(1, math.ceil(span / interval_s)))
        last = max((grid.index(v) for v in visits), default=0)
        return cls(start, interval_s, max(grid.count, last + 1))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _boundary(at: datetime, interval_s: float) -> datetime:
    since = (at - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=math.floor(since / interval_s) * interval_s)


@dataclass(frozen=True, slots=True)
class PlanFigures:
    total: Figures
    queues: tuple[Figures, ...]  # one per queue asked for, in the order asked
    intervals: tuple[Figures, ...]  # one per interval of the grid


def plan_figures(visits: Sequence[QueueVisit], queue_ids: Sequence[str], grid: Grid,
                 th: Thresholds) -> PlanFigures:  # fmt: skip
    """The figures of the visits to `queue_ids`, per queue, per interval and in total."""
    wanted = set(queue_ids)
    kept = [v for v in visits if v.queue_id in wanted]
    by_interval: list[list[QueueVisit]] = [[] for _ in range(grid.count)]
    for v in kept:
        by_interval[min(grid.index(v), grid.count - 1)].append(v)
    return PlanFigures(
        figures(TOTAL, kept, th),
        tuple(figures(q, [v for v in kept if v.queue_id == q], th) for q in queue_ids),
        tuple(figures(grid.label(i), group, th) for i, group in enumerate(by_interval)))
