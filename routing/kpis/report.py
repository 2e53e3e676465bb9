"""Every KPI per group (hour, queue, tier or agent) and for the whole range, from call facts.

Grouping: a queue visit goes to the hour in which it entered the queue, its queue, and the tier
and agent that answered it (`UNASSIGNED` when nobody did: abandons and flow-outs). A call's
call-level facts go to the hour of `CallFacts.interval_at` and to every queue, tier and agent
its visits reached (a transferred call counts for each); calls that never queued appear only
by hour and in the total. Visits still waiting are counted nowhere. Dispositions are counted
with the answered visit they close, so in that visit's hour, queue, tier and agent.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from routing.kpis import formulas as f
from routing.kpis.facts import INTERVAL_RULE, CallFacts, KpiSettings, QueueVisit, VisitOutcome
from routing.kpis.formulas import Handling, Kpi, QueueCounts, Thresholds

UNASSIGNED = "unassigned"
TOTAL = "total"
SATISFIED = 4  # CSAT counts scores 4 and 5 of 5


class GroupBy(StrEnum):
    HOUR = "hour"
    QUEUE = "queue"
    TIER = "tier"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class KpiRow:
    group: str  # an hour (ISO 8601, UTC), queue id, tier number, agent id, or "total"
    counts: QueueCounts
    calls: int  # calls counted here (call-level KPIs)
    kpis: tuple[Kpi, ...]
    dispositions: tuple[tuple[str, int], ...] = ()  # (code, answered visits closed with it)

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


@dataclass(frozen=True, slots=True)
class KpiReport:
    by: GroupBy | None
    settings: KpiSettings
    rows: tuple[KpiRow, ...]  # ordered by group; empty when `by` is None
    total: KpiRow
    interval_rule: str = INTERVAL_RULE


def counts(visits: Iterable[QueueVisit], th: Thresholds) -> QueueCounts:
    """A, A≤T, Ab, Ab≤T, Ab≤S and F of `visits` (a wait of exactly T or S is within)."""
    a = a_t = ab = ab_t = ab_s = flow = 0
    for v in visits:
        if v.outcome is VisitOutcome.ANSWERED:
            a += 1
            a_t += v.wait_s <= th.service_s
        elif v.outcome is VisitOutcome.ABANDONED:
            ab += 1
            ab_t += v.wait_s <= th.service_s
            ab_s += v.wait_s <= th.short_s
        elif v.outcome is VisitOutcome.FLOW_OUT:
            flow += 1
    return QueueCounts(a, a_t, ab, ab_t, ab_s, flow)


class Repeats:
    """Which calls had a repeat call from the same number within N days (first-call
    resolution), from every arrival known up to N days after the report's range."""

    def __init__(self, arrivals: Iterable[tuple[str, datetime]], days: float,
                 now: datetime) -> None:  # fmt: skip
        self._window = timedelta(days=days)
        self._now = now
        self._by_caller: dict[str, list[datetime]] = defaultdict(list)
        for caller, at in arrivals:
            self._by_caller[caller].append(at)
        for times in self._by_caller.values():
            times.sort()

    def judged(self, call: CallFacts) -> bool:
        """Answered by an agent, from a known number, and its N days are over."""
        return (call.answered and call.caller is not None
                and call.arrived_at + self._window <= self._now)  # fmt: skip

    def repeated(self, call: CallFacts) -> bool:
        """Another call came from the same number after it, at most N days later."""
        assert call.caller is not None
        times = self._by_caller.get(call.caller, [])
        after = bisect.bisect_right(times, call.arrived_at)
        return after < len(times) and times[after] <= call.arrived_at + self._window


def row(group: str, visits: Sequence[QueueVisit], calls: Sequence[CallFacts],
        settings: KpiSettings, repeats: Repeats,
        available_idle_s: float | None = None) -> KpiRow:  # fmt: skip
    th = settings.thresholds
    c = counts(visits, th)
    answered = [v for v in visits if v.outcome is VisitOutcome.ANSWERED]
    handling = Handling(sum(v.talk_s for v in answered), sum(v.hold_s for v in answered),
                        sum(v.wrapup_s for v in answered), len(answered))
    judged = [call for call in calls if repeats.judged(call)]
    scores = [call.survey_score for call in calls if call.survey_score is not None]
    kpis = (
        f.service_level(c, th), f.service_level_2(c, th), f.service_level_all_abandons(c, th),
        f.service_level_late_abandons(c, th), f.service_level_excl_short(c, th),
        f.abandon_rate(c), f.abandon_rate_excl_short(c, th), f.answer_rate(c),
        f.asa(sum(v.wait_s for v in answered), len(answered)),
        f.aht(handling), f.occupancy(handling, available_idle_s),
        f.transfer_rate(sum(v.transferred for v in answered), len(answered)),
        f.first_call_resolution(sum(not repeats.repeated(x) for x in judged), len(judged),
                                settings.fcr_days),
        f.csat(sum(s >= SATISFIED for s in scores), len(scores)),
        f.survey_mean(sum(scores), len(scores)),
        f.containment(sum(x.contained for x in calls),
                      sum(x.reached_self_service for x in calls)),
        f.complaint_rate(sum(x.complaint for x in calls), len(calls)),
    )  # fmt: skip
    return KpiRow(group, c, len(calls), kpis, disposition_counts(answered))


def disposition_counts(visits: Iterable[QueueVisit]) -> tuple[tuple[str, int], ...]:
    """How many of `visits` were closed with each disposition code, by code."""
    found = Counter(v.disposition for v in visits if v.disposition is not None)
    return tuple(sorted(found.items()))


def within(calls: Iterable[CallFacts], start: datetime, end: datetime,
           queues: frozenset[str] | None = None) -> list[CallFacts]:
    """The calls of [start, end) by `CallFacts.interval_at` (a transferred call's later visits
    come with it); with `queues`, those that visited one of them, with only those visits."""
    found = []
    for call in calls:
        if not start <= call.interval_at < end:
            continue
        if queues is not None:
            kept = tuple(v for v in call.visits if v.queue_id in queues)
            if not kept:
                continue
            call = replace(call, visits=kept)
        found.append(call)
    return found


def hour_of(at: datetime) -> str:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0).isoformat()


_VISIT_KEY: dict[GroupBy, Callable[[QueueVisit], str]] = {
    GroupBy.HOUR: lambda v: hour_of(v.entered_at),
    GroupBy.QUEUE: lambda v: v.queue_id,
    GroupBy.TIER: lambda v: UNASSIGNED if v.tier is None else str(v.tier),
    GroupBy.AGENT: lambda v: v.agent_id or UNASSIGNED,
}


def _call_keys(call: CallFacts, by: GroupBy) -> set[str]:
    if by is GroupBy.HOUR:
        return {hour_of(call.interval_at)}
    return {_VISIT_KEY[by](v) for v in call.visits}


def report(calls: Sequence[CallFacts], settings: KpiSettings, repeats: Repeats,
           by: GroupBy | None = None,
           available_idle_s: Mapping[str, float] | None = None) -> KpiReport:  # fmt: skip
    """The KPIs of `calls` per group of `by` and in total. `available_idle_s` by group key
    (and "total"): the agents' available idle time, for occupancy; missing means n/a."""
    idle = available_idle_s or {}
    visits = [v for call in calls for v in call.visits]
    total = row(TOTAL, visits, calls, settings, repeats, idle.get(TOTAL))
    if by is None:
        return KpiReport(None, settings, (), total)
    visits_in: dict[str, list[QueueVisit]] = defaultdict(list)
    calls_in: dict[str, list[CallFacts]] = defaultdict(list)
    for v in visits:
        visits_in[_VISIT_KEY[by](v)].append(v)
    for call in calls:
        for group in _call_keys(call, by):
            calls_in[group].append(call)
    groups = sorted(set(visits_in) | set(calls_in), key=_order(by))
    rows = tuple(row(g, visits_in[g], calls_in[g], settings, repeats, idle.get(g))
                 for g in groups)  # fmt: skip
    return KpiReport(by, settings, rows, total)


def _order(by: GroupBy) -> Callable[[str], tuple[int, int, str]]:
    """Tiers by number, then the rest by name; `unassigned` last."""
    def key(group: str) -> tuple[int, int, str]:
        last = group == UNASSIGNED
        number = int(group) if by is GroupBy.TIER and group.isdigit() else 0
        return (last, number, group)
    return key
