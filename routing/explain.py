"""Eligibility and explanations: which agents may take a call now, and why each other one may not.

Pure. The same rules serve the reference `decide()`, the actor's incremental matcher (through
its indexes) and the explanations attached to every decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from routing.config import Agent
from routing.model import (
    AgentState,
    AgentStatus,
    AgentVerdict,
    AgentView,
    CallView,
    Chosen,
    Decision,
    WhyNot,
)
from routing.plan import CompiledQueue, missing_skill, why_outside
from routing.strategies import key_value, strategy_key


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: Agent
    view: AgentView
    position: int
    rank: int  # -1: the call's dedicated agent
    tried: bool  # declined this call earlier in the current round (retry time passed)


def in_dedicated_phase(call: CallView, now: float) -> bool:
    return call.dedicated is not None and call.dedicated_until is not None \
        and now < call.dedicated_until


def retry_until(call: CallView, agent_id: str) -> float | None:
    return next((until for a, until in call.tried if a == agent_id), None)


def eligible_rank(cq: CompiledQueue, call: CallView, agent: Agent, now: float) -> int | None:
    """The agent's rank for this call if the plan and the call let it take the call now."""
    if agent.agent_id == call.dedicated:
        return -1
    if in_dedicated_phase(call, now):
        return None
    rank = cq.rank.get(agent.agent_id)
    if rank is None or rank >= call.open_steps or agent.tier < call.min_tier:
        return None
    return rank


def candidate(
    cq: CompiledQueue, call: CallView, agent: Agent, view: AgentView, position: int, now: float
) -> Candidate | None:
    """The agent as a candidate for the call now, or None if it cannot take it."""
    if not view.free(now):
        return None
    rank = eligible_rank(cq, call, agent, now)
    if rank is None:
        return None
    until = retry_until(call, agent.agent_id)
    if until is not None and now < until:
        return None
    return Candidate(agent, view, position, rank, until is not None)


def preference(c: Candidate, strategy: str, rr_last: int) -> tuple[object, ...]:
    """Sort key among candidates: untried first, then rank, tier and the strategy's key."""
    return (c.tried, c.rank, c.agent.tier,
            strategy_key(strategy, c.view, c.position, rr_last))


def chosen(cq: CompiledQueue, c: Candidate, new_round: bool) -> Chosen:
    strategy = cq.queue.strategy
    step = None if c.rank < 0 else cq.steps[c.rank].name
    return Chosen(c.agent.agent_id, step, c.agent.tier, strategy,
                  key_value(strategy, c.view), new_round)


def verdict(
    cq: CompiledQueue, call: CallView, agent: Agent, view: AgentView, now: float
) -> AgentVerdict:
    """Why this agent was not offered the call (the agent was not chosen)."""
    a = agent.agent_id
    if view.status is AgentStatus.LOGGED_OUT:
        return AgentVerdict(a, WhyNot.LOGGED_OUT)
    if view.status is AgentStatus.PAUSED:
        return AgentVerdict(a, WhyNot.PAUSED, detail=view.pause_reason or "")
    if not view.reachable:
        return AgentVerdict(a, WhyNot.UNREACHABLE)
    structural = _structural(cq, call, agent, now)
    if structural is not None:
        return structural
    if view.state in (AgentState.OFFERED, AgentState.ON_CALL):
        return AgentVerdict(a, WhyNot.BUSY, detail=f"{view.state} {view.call_id}")
    if view.state is AgentState.WRAP_UP and not view.free(now):
        return AgentVerdict(a, WhyNot.WRAP_UP, view.wrapup_until)
    until = retry_until(call, a)
    if until is not None and now < until:
        return AgentVerdict(a, WhyNot.TRIED, until)
    return AgentVerdict(a, WhyNot.OUTRANKED, detail=_rank_detail(cq, call, agent, view, until))


def _structural(
    cq: CompiledQueue, call: CallView, agent: Agent, now: float
) -> AgentVerdict | None:
    a = agent.agent_id
    if a == call.dedicated:
        return None
    if in_dedicated_phase(call, now):
        return AgentVerdict(a, WhyNot.DEDICATED_ONLY, call.dedicated_until,
                            f"{call.dedicated} only")
    rank = cq.rank.get(a)
    if rank is None:
        why = WhyNot.SKILL if missing_skill(agent, cq.queue) else WhyNot.NOT_IN_PLAN
        return AgentVerdict(a, why, detail=why_outside(agent, cq))
    if rank >= call.open_steps:
        return AgentVerdict(a, WhyNot.TIER_NOT_OPEN, call.entered_at + cq.open_at[rank],
                            f"tier {agent.tier}, step {cq.steps[rank].name!r}")
    if agent.tier < call.min_tier:
        return AgentVerdict(a, WhyNot.BELOW_MIN_TIER, detail=f"tier {agent.tier} < "
                            f"{call.min_tier}")
    return None


def _rank_detail(
    cq: CompiledQueue, call: CallView, agent: Agent, view: AgentView, tried: float | None
) -> str:
    rank = -1 if agent.agent_id == call.dedicated else cq.rank.get(agent.agent_id, -1)
    step = "dedicated" if rank < 0 else f"step {cq.steps[rank].name!r}"
    value = key_value(cq.queue.strategy, view)
    key = "" if value is None else f" {value:g}"
    again = ", tried this round" if tried is not None else ""
    return f"{step}, tier {agent.tier}, {cq.queue.strategy}{key}{again}"


def decision(
    cq: CompiledQueue, call: CallView, chosen_: Sequence[Chosen], now: float, version: int,
    agents: Mapping[str, Agent], members: Sequence[AgentView],
) -> Decision:
    """A decision whose `others` are computed on first use from `members`, the views of
    `cq.members` (in that order) frozen at decision time."""
    taken = {c.agent_id for c in chosen_}

    def others() -> tuple[AgentVerdict, ...]:
        return tuple(verdict(cq, call, agents[a], view, now)
                     for a, view in zip(cq.members, members, strict=True) if a not in taken)

    return Decision(now, call.call_id, call.queue_id, version, tuple(chosen_), others)
