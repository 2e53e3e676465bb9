"""A recorded call's queue visits (`routing.kpis.facts.QueueVisit`, as the KPI reports read
journeys) turned into the arrival the replay offers to routing. Pure.

The arrival is the call's first queue entry. Its later visits are not replayed as such: the
plan's overflows are the router's to make again, and an agent's transfer is replayed at the
end of the conversation it ended (`Leg.transfer_to`). The caller's patience is known only when
they hung up while waiting: the length of that last stretch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from routing.config import RoutingConfig
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.model import HandoffContext
from routing.whatif.model import Arrival, Leg


def stretch_waits(visits: Sequence[QueueVisit]) -> list[float]:
    """The wait of each stretch: the visits up to and including an answered one (an overflow
    keeps the stretch going); a last stretch that ended unanswered is included."""
    waits: list[float] = []
    current, going = 0.0, False
    for visit in visits:
        current, going = current + visit.wait_s, True
        if visit.outcome is VisitOutcome.ANSWERED:
            waits.append(current)
            current, going = 0.0, False
    if going:
        waits.append(current)
    return waits


def arrival(call_id: str, visits: Sequence[QueueVisit], origin: datetime, *,
            caller_number: str | None = None, context: HandoffContext | None = None,
            rings: Sequence[float] = (), transfer_tiers: Sequence[int | None] = (),
            priority: int = 0,
            read_with: RoutingConfig | None = None) -> Arrival | None:  # fmt: skip
    """The call's arrival, None when it never queued. `rings`: how long the answering phone
    rang, per answer in order; `transfer_tiers`: each transfer's minimum tier, in order;
    `read_with`: the configuration the visits were read with, whose queue wrap-up timers tell
    a wrap-up the agent ended early (shorter) from one that ran out."""
    if not visits:
        return None
    legs: list[Leg] = []
    transfers = 0
    for i, visit in enumerate(visits):
        if visit.outcome is not VisitOutcome.ANSWERED:
            continue
        target = visits[i + 1].queue_id if visit.transferred and i + 1 < len(visits) else None
        tier = None
        if target is not None:
            tier = transfer_tiers[transfers] if transfers < len(transfer_tiers) else None
            transfers += 1
        ring = rings[len(legs)] if len(legs) < len(rings) else 0.0
        queue = read_with.queue(visit.queue_id) if read_with is not None else None
        early = queue is not None and visit.wrapup_s < queue.wrapup_s
        legs.append(Leg(max(0.0, visit.talk_s), max(0.0, ring), target, tier,
                        max(0.0, visit.wrapup_s) if early else None))
    waits = stretch_waits(visits)
    hung_up = visits[-1].outcome is VisitOutcome.ABANDONED
    return Arrival(
        call_id, visits[0].queue_id, (visits[0].entered_at - origin).total_seconds(),
        caller_number, priority, context or HandoffContext(), tuple(legs),
        patience_s=max(0.0, waits[-1]) if hung_up else None,
        waited_s=max(0.0, *waits))
