"""Stored calls read as the what-if's arrivals; no I/O.

The queue visits are the KPI reports' own reading of a journey (`ari_app.reports.facts`), so a
replayed figure and a reported one count the same things; `routing.whatif.traffic` makes the
arrival of them. Besides the visits a journey tells: what routing matched on when the caller
joined (`ari_app.calls.handoff.queue_context` of the milestones before the first
`queue_join`, as the live engine builds it), how long each answering agent's phone rang
(`agent_offer` to `agent_answer`), and each transfer's minimum tier (the routing notice
`transferred`). The caller's priority is 0, as the IVR gives every caller today; VIP priority
comes from the number, through the plan's VIP list, as live.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from ari_app.calls.handoff import queue_context
from ari_app.reports.facts import call_facts
from ari_app.reports.store import StoredCall
from ivr.journey import JourneyEvent, JourneyType
from routing.config import RoutingConfig
from routing.kpis.facts import QueueVisit
from routing.model import HandoffContext
from routing.whatif.model import Arrival
from routing.whatif.staffing import AnsweredOffer
from routing.whatif.traffic import arrival


@dataclass(frozen=True, slots=True)
class Recorded:
    arrivals: tuple[Arrival, ...]  # calls whose first queue entry is in the window
    visits: tuple[QueueVisit, ...]  # those calls' recorded visits (the recorded figures)
    answered: tuple[AnsweredOffer, ...]  # every answer read, those before the window too


def recorded(stored: Sequence[StoredCall], config: RoutingConfig, start: datetime,
             end: datetime) -> Recorded:  # fmt: skip
    """The calls of `stored` that first queued in [start, end), on a replay clock from
    `start`; `config` reads tiers and wrap-up timers, as the reports do."""
    arrivals: list[Arrival] = []
    visits: list[QueueVisit] = []
    answered: list[AnsweredOffer] = []
    for call in stored:
        facts = call_facts(call.record, call.events, call.survey_score, config,
                           call.dispositions)  # fmt: skip
        answered += (AnsweredOffer((at - start).total_seconds(), agent)
                     for agent, at, _ in _answers(call.events))  # fmt: skip
        if not facts.visits or not start <= facts.visits[0].entered_at < end:
            continue
        found = arrival(
            call.record.call_id, facts.visits, start, caller_number=facts.caller,
            context=_context(call.events), rings=[r for _, _, r in _answers(call.events)],
            transfer_tiers=_transfer_tiers(call.events), read_with=config)
        if found is not None:
            arrivals.append(found)
            visits += facts.visits
    return Recorded(tuple(arrivals), tuple(visits), tuple(answered))


def _context(events: Sequence[JourneyEvent]) -> HandoffContext:
    first = next((i for i, e in enumerate(events) if e.type is JourneyType.QUEUE_JOIN),
                 len(events))
    return queue_context(events[:first])


def _answers(events: Sequence[JourneyEvent]) -> Iterator[tuple[str, datetime, float]]:
    """(agent, when the offer was made, how long it rang) of each answer, in order."""
    offered: dict[str, JourneyEvent] = {}
    for e in events:
        agent = str(e.details.get("agent"))
        if e.type is JourneyType.AGENT_OFFER:
            offered[agent] = e
        elif e.type is JourneyType.AGENT_ANSWER:
            offer = offered.pop(agent, None)
            ring = max(0.0, e.t - offer.t) if offer is not None else 0.0
            yield agent, offer.at if offer is not None else e.at, ring


def _transfer_tiers(events: Sequence[JourneyEvent]) -> list[int | None]:
    tiers: list[int | None] = []
    for e in events:
        if e.type is JourneyType.ROUTING and e.details.get("kind") == "transferred":
            tier = e.details.get("min_tier")
            tiers.append(tier if isinstance(tier, int) and not isinstance(tier, bool)
                         and tier >= 1 else None)
    return tiers
