"""The plan in force and a proposed one, replayed on the same traffic and counted side by side
(with the recorded figures of the same calls, when given, to judge the replay by). Pure.

Every arrival is replayed whatever queues are asked for, since agents serve several queues;
`queues` only chooses which queues' figures are counted (a supervisor's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from routing.config import RoutingConfig
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.whatif.figures import Grid, PlanFigures, plan_figures
from routing.whatif.model import ReplaySettings, Traffic, assumed_patience
from routing.whatif.replay import Replay, replay


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    figures: PlanFigures
    still_waiting: int  # calls of the queues asked for that never ended (infinite patience)
    skipped: int  # arrivals to queues the plan's configuration has not


@dataclass(frozen=True, slots=True)
class Comparison:
    queues: tuple[str, ...]
    arrivals: int  # arrivals whose first queue is one asked for
    patience_s: float | None  # assumed for callers never seen to hang up; None: infinite
    grid: Grid
    current: PlanOutcome
    proposed: PlanOutcome
    recorded: PlanFigures | None = None


def compare(traffic: Traffic, current: RoutingConfig, proposed: RoutingConfig,
            settings: ReplaySettings, queues: Sequence[str] | None = None,
            recorded: Sequence[QueueVisit] | None = None) -> Comparison:  # fmt: skip
    """Replay `traffic` with both configurations; count the visits of `queues` (default:
    every queue of either configuration, current ones first)."""
    if queues is None:
        queues = list(dict.fromkeys(q.queue_id for q in (*current.queues, *proposed.queues)))
    wanted = tuple(queues)
    now, then = replay(traffic, current, settings), replay(traffic, proposed, settings)
    seen = [*now.visits, *then.visits, *(recorded or ())]
    grid = Grid.covering(traffic.origin, traffic.length_s, settings.interval_s,
                         (v for v in seen if v.queue_id in wanted))
    th = settings.thresholds
    return Comparison(
        wanted, sum(1 for a in traffic.arrivals if a.queue_id in wanted),
        assumed_patience(traffic, settings), grid,
        _outcome(now, traffic, wanted, grid, settings), _outcome(then, traffic, wanted, grid,
                                                                   settings),
        None if recorded is None else plan_figures(recorded, wanted, grid, th))


def _outcome(done: Replay, traffic: Traffic, queues: tuple[str, ...], grid: Grid,
             settings: ReplaySettings) -> PlanOutcome:  # fmt: skip
    wanted = set(queues)
    first = {a.call_id: a.queue_id for a in traffic.arrivals}
    waiting = sum(1 for c in done.calls if c.visits[-1].outcome is VisitOutcome.WAITING
                  and c.visits[-1].queue_id in wanted)
    skipped = sum(1 for call_id in done.skipped if first.get(call_id) in wanted)
    return PlanOutcome(plan_figures(done.visits, queues, grid, settings.thresholds), waiting,
                       skipped)
