"""Which waiting call is offered to which agent: the reference, a pure function of a snapshot.

`decide(snapshot, now)` takes the waiting calls (not ringing, not answered) in order, and each
one independently picks its best free eligible agent, which is then no longer free:

* call order: aged calls (waited past the queue's `aging_cap_s`) first, then higher priority,
  then earlier original arrival, then arrival sequence. FIFO within a class, across queues.
* no head-of-line blocking: a call that no free agent can serve is skipped, never waited on.
* agent eligibility (`routing.explain.candidate`): free (available, idle or past wrap-up,
  reachable), within the call's open plan steps, tier >= the call's minimum tier, not in the
  retry pause after declining this call; during a VIP's dedicated phase only the dedicated agent.
* agent preference: agents not yet tried this round first, then the dedicated agent, then rank
  (first open step admitting the agent), tier, and the queue's strategy key. When every
  candidate was tried already a new round starts. `ring_all` offers the whole best
  (rank, tier) group at once; `random` picks one of that group (`strategies.random_index`).

The queue actor does not call this function on every event: it keeps indexes and re-decides only
what an event touched (`routing.matcher`). Property tests check that both give the same offers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from routing.config import Agent
from routing.explain import Candidate, candidate, chosen, decision, preference
from routing.model import AgentState, AgentView, CallView, Offer, RoutingSnapshot
from routing.plan import CompiledQueue, compile_queue
from routing.strategies import random_index


def decide(snapshot: RoutingSnapshot, now: float) -> list[Offer]:
    """Offers to make now; every agent appears at most once and every call in one group."""
    config = snapshot.config
    compiled = {q.queue_id: compile_queue(q, config.agents) for q in config.queues}
    agents = {a.agent_id: a for a in config.agents}
    views = {v.agent_id: v for v in snapshot.views}
    positions = {a.agent_id: i for i, a in enumerate(config.agents)}
    rr_last = dict(snapshot.rr_last)
    offers: list[Offer] = []
    waiting = sorted((c for c in snapshot.calls if not c.offers and not c.answered),
                     key=lambda c: c.order_key)
    for call in waiting:
        cq = compiled.get(call.queue_id)
        if cq is None:
            continue
        free = [candidate(cq, call, agents[a], v, positions[a], now)
                for a, v in views.items() if v.free(now)]
        group, new_round = pick(cq, call, [c for c in free if c is not None],
                                rr_last.get(cq.queue_id, -1), snapshot.seed)
        if not group:
            continue
        for c in group:
            views[c.agent.agent_id] = offered(c.view, call.call_id)
        rr_last[cq.queue_id] = group[-1].position
        offers += make_offers(cq, call, group, new_round, now, config.version, agents,
                              tuple(views[a] for a in cq.members))
    return offers


def pick(
    cq: CompiledQueue, call: CallView, candidates: Sequence[Candidate], rr_last: int,
    seed: int = 0,
) -> tuple[list[Candidate], bool]:
    """The candidates to offer the call to (best first), and whether a new round started."""
    untried = [c for c in candidates if not c.tried]
    pool = untried or list(candidates)
    if not pool:
        return [], False
    strategy = cq.queue.strategy
    best = min(pool, key=lambda c: preference(c, strategy, rr_last))
    if strategy not in ("ring_all", "random"):
        return [best], not untried
    group = sorted((c for c in pool if (c.rank, c.agent.tier) == (best.rank, best.agent.tier)),
                   key=lambda c: c.position)
    if strategy == "random":
        group = [group[random_index(seed, call.call_id, call.attempts + 1, len(group))]]
    return group, not untried


def offered(view: AgentView, call_id: str) -> AgentView:
    return replace(view, state=AgentState.OFFERED, call_id=call_id, wrapup_until=None)


def make_offers(
    cq: CompiledQueue, call: CallView, group: Sequence[Candidate], new_round: bool, now: float,
    version: int, agents: Mapping[str, Agent], members: Sequence[AgentView],
) -> list[Offer]:
    why = [chosen(cq, c, new_round) for c in group]
    made = decision(cq, call, why, now, version, agents, members)
    return [
        Offer(f"{call.call_id}:{call.attempts + i}", call.call_id, call.queue_id,
              c.agent.agent_id, c.agent.endpoint, cq.queue.ring_timeout_s, version, made,
              call.context)
        for i, c in enumerate(group, start=1)
    ]

