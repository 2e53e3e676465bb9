"""A queue's routing plan compiled against the agents: who each step admits, and when it opens.

Pure. Steps open as a prefix of the plan: step j opens `open_at[j]` seconds after the call
entered the queue, where `open_at[j]` is the largest `after_s` of steps 0..j (a step listed out of
order waits for its predecessors, see the linter). A step also opens as soon as the step before it
is open and either has `skip_if_empty` with nobody of its pool logged in, or admits no tier the
call may use (a transfer's `min_tier` above all of the step's tiers).

An agent's *rank* in a queue is the index of the first step admitting it; with k steps open the
eligible pool is the agents of rank < k, preferred by (rank, tier, strategy key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routing.config import Agent, PlanStep, Queue, SkillRequirement


@dataclass(frozen=True, slots=True)
class CompiledQueue:
    queue: Queue
    open_at: tuple[float, ...]  # per step: seconds after queue entry (prefix maximum of after_s)
    rank: dict[str, int]  # agent id -> first step admitting it (agents in some step's pool)
    admitted_by: dict[str, tuple[int, ...]]  # agent id -> every step admitting it
    members: tuple[str, ...]  # the "agents of the queue" explanations cover, configuration order
    tiers: tuple[int, ...]  # distinct tiers of ranked agents, ascending

    @property
    def queue_id(self) -> str:
        return self.queue.queue_id

    @property
    def steps(self) -> tuple[PlanStep, ...]:
        return self.queue.plan


def compile_queue(queue: Queue, agents: Sequence[Agent]) -> CompiledQueue:
    open_at: list[float] = []
    for step in queue.plan:
        open_at.append(max(step.after_s, open_at[-1]) if open_at else step.after_s)
    admitted_by: dict[str, tuple[int, ...]] = {}
    for agent in agents:
        steps = tuple(j for j, s in enumerate(queue.plan) if s.admits(agent, queue))
        if steps:
            admitted_by[agent.agent_id] = steps
    rank = {agent_id: steps[0] for agent_id, steps in admitted_by.items()}
    named = {a for s in queue.plan for a in s.agents}
    required = {r.skill_id for r in queue.required_skills}
    members = tuple(
        a.agent_id for a in agents
        if a.agent_id in rank or a.agent_id in named or not required
        or any(s.skill_id in required for s in a.skills))
    tiers = tuple(sorted({a.tier for a in agents if a.agent_id in rank}))
    return CompiledQueue(queue, tuple(open_at), rank, admitted_by, members, tiers)


def bypassed(step: PlanStep, min_tier: int) -> bool:
    """A step that admits only tiers below the call's minimum tier holds nobody for it."""
    return bool(step.tiers) and max(step.tiers) < min_tier


def steps_open(
    cq: CompiledQueue, open_now: int, entered_at: float, now: float, min_tier: int,
    logged_in: Callable[[int], int],
) -> list[tuple[int, bool]]:
    """The steps that open at `now`, beyond the `open_now` already open: (index, early)."""
    opened: list[tuple[int, bool]] = []
    k = open_now
    while k < len(cq.steps):
        due = entered_at + cq.open_at[k] <= now  # the very expression of next_open_at()
        early = k > 0 and _passes_through(cq, k - 1, min_tier, logged_in)
        if not (due or early):
            break
        opened.append((k, early and not due))
        k += 1
    return opened


def _passes_through(
    cq: CompiledQueue, j: int, min_tier: int, logged_in: Callable[[int], int]
) -> bool:
    step = cq.steps[j]
    return bypassed(step, min_tier) or (step.skip_if_empty and logged_in(j) == 0)


def next_open_at(cq: CompiledQueue, open_now: int, entered_at: float) -> float | None:
    """When the next step opens by time, or None when the whole plan is open."""
    return entered_at + cq.open_at[open_now] if open_now < len(cq.steps) else None


def missing_skill(agent: Agent, queue: Queue) -> SkillRequirement | None:
    """The first of the queue's required skills the agent lacks (at the minimum proficiency)."""
    return next((r for r in queue.required_skills if not r.met_by(agent)), None)


def why_outside(agent: Agent, cq: CompiledQueue) -> str:
    """Why no step admits the agent: the first condition failing in the last step."""
    missing = missing_skill(agent, cq.queue)
    if missing is not None:
        return f"needs {missing.skill_id}>={missing.min_proficiency}, has " \
               f"{agent.proficiency(missing.skill_id)}"
    for step in reversed(cq.steps):
        extra = next((r for r in step.skills if not r.met_by(agent)), None)
        if extra is not None:
            return f"step {step.name!r} needs {extra.skill_id}>={extra.min_proficiency}"
        if step.tiers and agent.tier not in step.tiers:
            return f"tier {agent.tier} not in step {step.name!r} tiers {list(step.tiers)}"
        if step.agents:
            return f"not listed in step {step.name!r}"
    return "no step admits it"
