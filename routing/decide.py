"""Which waiting call is offered to which agent: a pure function of a snapshot and a time.

Callers are taken in FIFO order (joined_at, then snapshot order) across all queues, and each one
independently: a caller no idle agent can serve never blocks a later caller who can be served
(no head-of-line blocking, unlike app_queue without autofill). Within a call's queue the strategy
ranks the eligible agents; the first one gets the offer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    AgentView,
    Offer,
    OfferReason,
    Passed,
    QueueConfig,
    RoutingSnapshot,
    WaitingCall,
    WhyNot,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    position: int  # index in the agent configuration: the deterministic tie-break
    config: AgentConfig
    view: AgentView


Strategy = Callable[[Sequence[Candidate], float], list[Candidate]]
"""Ranks eligible agents for one call at `now`, best first. Must be pure and deterministic."""


def longest_idle(candidates: Sequence[Candidate], now: float) -> list[Candidate]:
    """mod_callcenter `longest-idle-agent`: earliest end of last call, then configuration order."""
    return sorted(candidates, key=lambda c: (c.view.idle_since, c.position))


STRATEGIES: dict[str, Strategy] = {"longest_idle": longest_idle}


def decide(snapshot: RoutingSnapshot, now: float) -> list[Offer]:
    """Offers to make now; each agent and each call appears at most once."""
    queues = {q.queue_id: q for q in snapshot.queues}
    waiting = sorted(
        (c for c in snapshot.calls if c.offer is None),
        key=lambda c: c.joined_at,  # sorted() is stable: equal times keep snapshot order
    )
    taken: set[str] = set()
    offers: list[Offer] = []
    for call in waiting:
        queue = queues.get(call.queue_id)
        if queue is None:
            continue
        offer = _offer_for(call, queue, snapshot, now, taken)
        if offer is not None:
            taken.add(offer.agent_id)
            offers.append(offer)
    return offers


def why_not(view: AgentView, now: float) -> Passed | None:
    """Why an agent cannot take any call now, or None if it is free."""
    if view.state in (AgentState.OFFERED, AgentState.ON_CALL):
        return Passed(view.agent_id, WhyNot.BUSY)
    if view.status is not AgentStatus.AVAILABLE:
        return Passed(view.agent_id, WhyNot.STATUS)
    if not view.reachable or view.state is AgentState.UNREACHABLE:
        return Passed(view.agent_id, WhyNot.UNREACHABLE)
    # The boundary is inclusive: at exactly wrapup_until the agent is free again, whether or not
    # the actor's wrap-up timer has fired yet.
    if view.wrapup_until is not None and now < view.wrapup_until:
        return Passed(view.agent_id, WhyNot.WRAP_UP, view.wrapup_until)
    return None


def _offer_for(
    call: WaitingCall,
    queue: QueueConfig,
    snapshot: RoutingSnapshot,
    now: float,
    taken: set[str],
) -> Offer | None:
    free, passed = _sift(queue, snapshot, now, taken)
    if not free:
        return None
    untried = [c for c in free if c.config.agent_id not in call.tried]
    new_round = not untried
    ranked = STRATEGIES[queue.strategy](free if new_round else untried, now)
    chosen = ranked[0]
    for c in free:
        if c is not chosen:
            tried = not new_round and c.config.agent_id in call.tried
            why = WhyNot.TRIED if tried else WhyNot.OUTRANKED
            passed[c.position] = Passed(c.config.agent_id, why)
    reason = OfferReason(
        queue.strategy, chosen.view.idle_since, new_round, tuple(passed[k] for k in sorted(passed))
    )
    return Offer(
        offer_id=f"{call.call_id}:{call.attempts + 1}",
        call_id=call.call_id,
        queue_id=call.queue_id,
        agent_id=chosen.config.agent_id,
        endpoint=chosen.config.endpoint,
        ring_timeout_s=queue.ring_timeout_s,
        reason=reason,
    )


def _sift(
    queue: QueueConfig, snapshot: RoutingSnapshot, now: float, taken: set[str]
) -> tuple[list[Candidate], dict[int, Passed]]:
    """The queue's agents split into free candidates and, by position, those passed over."""
    free: list[Candidate] = []
    passed: dict[int, Passed] = {}
    for position, (config, view) in enumerate(zip(snapshot.agents, snapshot.views, strict=True)):
        if queue.queue_id not in config.queues:
            continue
        blocked = why_not(view, now)
        if blocked is None and config.agent_id in taken:
            blocked = Passed(config.agent_id, WhyNot.TAKEN)
        if blocked is None:
            free.append(Candidate(position, config, view))
        else:
            passed[position] = blocked
    return free, passed
