"""The routing configuration: skills, agents, queues with their plans, VIPs; validation and linting.

Pure, frozen values (no I/O): the supervisor API validates and persists them, the queue actor
applies them (`QueueService.apply_config`). Times are seconds.

Pool of a plan step: the queue's agents that have every skill of `queue.required_skills` plus
`step.skills` at the minimum proficiency, whose tier is in `step.tiers` (empty: any tier) and,
when `step.agents` is set, whose id is listed. All conditions apply together. Steps open at
`after_s` seconds after the call entered the queue and *widen* the pool: the eligible pool is the
union of the open steps, and an agent's preference rank is the first open step that admits it
(then its tier, then the queue's strategy). Calls are ordered by priority (a VIP's priority
replaces a lower one) and then by original arrival, kept across overflow, transfer and resume.

`from_simple()` maps the old YAML configuration (agents listing queue ids): every queue requires a
skill with the queue's id, and an agent has that skill at proficiency 1 for each queue it lists.
Skills rather than explicit agent ids, so adding an agent never means editing the queue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, cast, get_args

from routing.model import AgentConfig, QueueConfig

StrategyName = Literal[
    "longest_idle", "least_talk_time", "fewest_calls", "round_robin", "ring_all", "random"
]
STRATEGY_NAMES: tuple[str, ...] = get_args(StrategyName)
ExitKind = Literal["overflow", "message", "callback"]
Severity = Literal["error", "warning"]
MIN_PROFICIENCY, MAX_PROFICIENCY = 1, 5


@dataclass(frozen=True, slots=True)
class Skill:
    skill_id: str
    name: str


@dataclass(frozen=True, slots=True)
class AgentSkill:
    skill_id: str
    proficiency: int  # 1 (novice) .. 5 (expert)


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    name: str
    endpoint: str  # what the engine dials, e.g. "PJSIP/1001"
    tier: int = 1  # 1 front line, 2 specialist, 3 expert; more allowed
    skills: tuple[AgentSkill, ...] = ()
    max_no_answer: int = 3  # auto-pause (reason "no_answer") after N consecutive; 0 = never

    def proficiency(self, skill_id: str) -> int:
        """The agent's level in a skill, 0 when it lacks it."""
        return max((s.proficiency for s in self.skills if s.skill_id == skill_id), default=0)


@dataclass(frozen=True, slots=True)
class SkillRequirement:
    skill_id: str
    min_proficiency: int = 1

    def met_by(self, agent: Agent) -> bool:
        return agent.proficiency(self.skill_id) >= self.min_proficiency


@dataclass(frozen=True, slots=True)
class PlanStep:
    name: str
    after_s: float  # opens this many seconds after the call entered the queue
    tiers: tuple[int, ...] = ()  # empty: any tier
    skills: tuple[SkillRequirement, ...] = ()  # in addition to the queue's required skills
    agents: tuple[str, ...] = ()  # when set, only these agent ids
    priority_delta: int = 0  # added to the call's priority when the step opens
    overflow_to: str | None = None  # the call moves to this queue, keeping its age
    skip_if_empty: bool = False  # nobody of this step's pool logged in: open the next step now

    def admits(self, agent: Agent, queue: Queue) -> bool:
        """Whether the agent is in this step's pool (ignoring live state)."""
        if self.tiers and agent.tier not in self.tiers:
            return False
        if self.agents and agent.agent_id not in self.agents:
            return False
        return all(r.met_by(agent) for r in (*queue.required_skills, *self.skills))


@dataclass(frozen=True, slots=True)
class QueueExit:
    """Where a caller goes after `Queue.max_wait_s`."""

    kind: ExitKind
    target_queue: str | None = None  # for "overflow"
    message: str | None = None  # for "message" (what to play) and optionally "callback"


CATCH_ALL = PlanStep("everyone", 0.0)


@dataclass(frozen=True, slots=True)
class Queue:
    queue_id: str
    name: str
    required_skills: tuple[SkillRequirement, ...] = ()
    strategy: StrategyName = "longest_idle"
    ring_timeout_s: float = 15
    wrapup_s: float = 5
    max_wait_s: float | None = None  # from entering this queue; then `exit`
    exit: QueueExit | None = None  # None with max_wait_s: the ticket closes with WaitTimeout
    plan: tuple[PlanStep, ...] = (CATCH_ALL,)
    announce_every_s: float | None = 30  # position/estimated-wait announcements; None = never
    resume_window_s: float = 120  # a caller who hangs up and calls back within it keeps its place
    aging_cap_s: float | None = None  # a call waiting this long outranks every priority class


@dataclass(frozen=True, slots=True)
class Vip:
    caller_number: str
    priority: int
    dedicated_agent: str | None = None  # offered alone first, then the plan's pool as well
    dedicated_wait_s: float = 20


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    path: str  # e.g. "queues[2].plan[1].tiers"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class LintFinding:
    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    skills: tuple[Skill, ...] = ()
    agents: tuple[Agent, ...] = ()
    queues: tuple[Queue, ...] = ()
    vips: tuple[Vip, ...] = ()
    version: int = 0  # set by the config store; stamped on every routing decision

    def queue(self, queue_id: str) -> Queue | None:
        return next((q for q in self.queues if q.queue_id == queue_id), None)

    def agent(self, agent_id: str) -> Agent | None:
        return next((a for a in self.agents if a.agent_id == agent_id), None)

    def vip(self, caller_number: str | None) -> Vip | None:
        return next((v for v in self.vips if v.caller_number == caller_number), None)

    def validate(self) -> list[ConfigProblem]:
        """Every problem, each naming its field; an empty list means the config can be applied."""
        return list(_problems(self))

    @classmethod
    def from_simple(
        cls, queues: Sequence[QueueConfig], agents: Sequence[AgentConfig], version: int = 0
    ) -> RoutingConfig:
        """The YAML configuration: one skill per queue (same id), every agent tier 1."""
        return cls(
            skills=tuple(Skill(q.queue_id, q.name) for q in queues),
            agents=tuple(
                Agent(a.agent_id, a.name, a.endpoint, 1,
                      tuple(AgentSkill(q, MIN_PROFICIENCY) for q in a.queues))
                for a in agents),
            queues=tuple(
                Queue(q.queue_id, q.name, (SkillRequirement(q.queue_id),),
                      _strategy(q.strategy), q.ring_timeout_s, q.wrapup_s, q.max_wait_s)
                for q in queues),
            version=version,
        )


def _strategy(name: str) -> StrategyName:
    if name not in STRATEGY_NAMES:
        raise ValueError(f"unknown strategy {name!r}")
    return cast(StrategyName, name)


# ---------------------------------------------------------------- validation


def _problems(c: RoutingConfig) -> Iterator[ConfigProblem]:
    skills = {s.skill_id for s in c.skills}
    agents = {a.agent_id for a in c.agents}
    queues = {q.queue_id for q in c.queues}
    if c.version < 0:
        yield ConfigProblem("version", "must be >= 0")
    yield from _duplicates("skills", [s.skill_id for s in c.skills], "skill_id")
    yield from _duplicates("agents", [a.agent_id for a in c.agents], "agent_id")
    yield from _duplicates("queues", [q.queue_id for q in c.queues], "queue_id")
    yield from _duplicates("vips", [v.caller_number for v in c.vips], "caller_number")
    for i, sk in enumerate(c.skills):
        yield from _blank(f"skills[{i}].skill_id", sk.skill_id)
    for i, a in enumerate(c.agents):
        yield from _agent_problems(f"agents[{i}]", a, skills)
    for i, q in enumerate(c.queues):
        yield from _queue_problems(f"queues[{i}]", q, skills, agents, queues)
    for i, v in enumerate(c.vips):
        p = f"vips[{i}]"
        yield from _blank(f"{p}.caller_number", v.caller_number)
        if v.dedicated_agent is not None and v.dedicated_agent not in agents:
            yield ConfigProblem(f"{p}.dedicated_agent", f"unknown agent {v.dedicated_agent!r}")
        yield from _above(f"{p}.dedicated_wait_s", v.dedicated_wait_s, 0, inclusive=True)


def _agent_problems(p: str, a: Agent, skills: set[str]) -> Iterator[ConfigProblem]:
    yield from _blank(f"{p}.agent_id", a.agent_id)
    yield from _blank(f"{p}.endpoint", a.endpoint)
    if a.tier < 1:
        yield ConfigProblem(f"{p}.tier", "must be >= 1")
    if a.max_no_answer < 0:
        yield ConfigProblem(f"{p}.max_no_answer", "must be >= 0 (0 = never auto-pause)")
    yield from _duplicates(f"{p}.skills", [s.skill_id for s in a.skills], "skill_id")
    for j, s in enumerate(a.skills):
        if s.skill_id not in skills:
            yield ConfigProblem(f"{p}.skills[{j}].skill_id", f"unknown skill {s.skill_id!r}")
        if not MIN_PROFICIENCY <= s.proficiency <= MAX_PROFICIENCY:
            yield ConfigProblem(f"{p}.skills[{j}].proficiency", "must be between 1 and 5")


def _queue_problems(
    p: str, q: Queue, skills: set[str], agents: set[str], queues: set[str]
) -> Iterator[ConfigProblem]:
    yield from _blank(f"{p}.queue_id", q.queue_id)
    yield from _requirements(f"{p}.required_skills", q.required_skills, skills)
    if q.strategy not in STRATEGY_NAMES:
        yield ConfigProblem(f"{p}.strategy", f"unknown strategy {q.strategy!r}, expected one of "
                            + ", ".join(STRATEGY_NAMES))
    yield from _above(f"{p}.ring_timeout_s", q.ring_timeout_s, 0)
    yield from _above(f"{p}.wrapup_s", q.wrapup_s, 0, inclusive=True)
    yield from _above(f"{p}.resume_window_s", q.resume_window_s, 0, inclusive=True)
    for name in ("max_wait_s", "announce_every_s", "aging_cap_s"):
        value = getattr(q, name)
        if value is not None:
            yield from _above(f"{p}.{name}", value, 0)
    yield from _exit_problems(f"{p}.exit", q, queues)
    if not q.plan:
        yield ConfigProblem(f"{p}.plan", "needs at least one step")
    yield from _duplicates(f"{p}.plan", [s.name for s in q.plan], "name")
    for j, s in enumerate(q.plan):
        yield from _step_problems(f"{p}.plan[{j}]", s, q, skills, agents, queues)


def _exit_problems(p: str, q: Queue, queues: set[str]) -> Iterator[ConfigProblem]:
    e = q.exit
    if e is None:
        return
    if q.max_wait_s is None:
        yield ConfigProblem(p, "an exit needs max_wait_s")
    if e.kind not in get_args(ExitKind):
        yield ConfigProblem(f"{p}.kind", "must be overflow, message or callback")
    if e.kind == "overflow":
        if e.target_queue not in queues:
            yield ConfigProblem(f"{p}.target_queue", f"unknown queue {e.target_queue!r}")
        elif e.target_queue == q.queue_id:
            yield ConfigProblem(f"{p}.target_queue", "cannot overflow into the same queue")
    elif e.target_queue is not None:
        yield ConfigProblem(f"{p}.target_queue", f"only for overflow exits, not {e.kind}")
    if e.kind == "message" and not e.message:
        yield ConfigProblem(f"{p}.message", "a message exit needs the message")


def _step_problems(
    p: str, s: PlanStep, q: Queue, skills: set[str], agents: set[str], queues: set[str]
) -> Iterator[ConfigProblem]:
    yield from _blank(f"{p}.name", s.name)
    yield from _above(f"{p}.after_s", s.after_s, 0, inclusive=True)
    if any(t < 1 for t in s.tiers):
        yield ConfigProblem(f"{p}.tiers", "tiers are >= 1")
    yield from _requirements(f"{p}.skills", s.skills, skills)
    for k, agent_id in enumerate(s.agents):
        if agent_id not in agents:
            yield ConfigProblem(f"{p}.agents[{k}]", f"unknown agent {agent_id!r}")
    if s.overflow_to is not None:
        if s.overflow_to not in queues:
            yield ConfigProblem(f"{p}.overflow_to", f"unknown queue {s.overflow_to!r}")
        elif s.overflow_to == q.queue_id:
            yield ConfigProblem(f"{p}.overflow_to", "cannot overflow into the same queue")


def _requirements(
    p: str, reqs: Sequence[SkillRequirement], skills: set[str]
) -> Iterator[ConfigProblem]:
    yield from _duplicates(p, [r.skill_id for r in reqs], "skill_id")
    for k, r in enumerate(reqs):
        if r.skill_id not in skills:
            yield ConfigProblem(f"{p}[{k}].skill_id", f"unknown skill {r.skill_id!r}")
        if not MIN_PROFICIENCY <= r.min_proficiency <= MAX_PROFICIENCY:
            yield ConfigProblem(f"{p}[{k}].min_proficiency", "must be between 1 and 5")


def _duplicates(p: str, ids: Iterable[str], key: str) -> Iterator[ConfigProblem]:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            yield ConfigProblem(f"{p}[{i}].{key}", f"duplicate {value!r}")
        seen.add(value)


def _blank(p: str, value: str) -> Iterator[ConfigProblem]:
    if not value or value != value.strip():
        yield ConfigProblem(p, "must be non-empty, without surrounding spaces")


def _above(p: str, value: float, low: float, *, inclusive: bool = False) -> Iterator[ConfigProblem]:
    if not (math.isfinite(value) and (value >= low if inclusive else value > low)):
        yield ConfigProblem(p, f"must be a finite number {'>=' if inclusive else '>'} {low:g}")


# ---------------------------------------------------------------- plan linter


def lint_plan(queue: Queue, config: RoutingConfig) -> list[LintFinding]:
    """Findings about one queue's plan against the configured agents; errors should block saving.

    error: a step that can never open (after_s not increasing, after an overflow step), a
    preferred-agents step with no later step to fall back to, a VIP dedicated agent with no
    fallback. warning: no final catch-all step, a step that adds nobody (shadowed), a step
    shorter than the ring timeout, a step opening at or after max_wait_s, a first step after 0 s.
    """
    p = f"queues[{_index(config, queue)}]"
    return [*_lint_order(p, queue), *_lint_pools(p, queue, config), *_lint_vips(queue, config)]


def _index(config: RoutingConfig, queue: Queue) -> int:
    return next((i for i, q in enumerate(config.queues) if q.queue_id == queue.queue_id), -1)


def _lint_order(p: str, q: Queue) -> Iterator[LintFinding]:
    steps = q.plan
    if steps and steps[0].after_s > 0:
        yield LintFinding("warning", f"{p}.plan[0].after_s",
                          f"nobody is eligible for the first {steps[0].after_s:g} s")
    for j, (prev, step) in enumerate(zip(steps, steps[1:], strict=False), start=1):
        if step.after_s <= prev.after_s:
            yield LintFinding("error", f"{p}.plan[{j}].after_s",
                              f"unreachable: opens at {step.after_s:g} s, not after step "
                              f"{prev.name!r} at {prev.after_s:g} s")
        elif step.after_s - prev.after_s < q.ring_timeout_s:
            yield LintFinding("warning", f"{p}.plan[{j - 1}]",
                              f"step {prev.name!r} lasts {step.after_s - prev.after_s:g} s, "
                              f"shorter than the ring timeout {q.ring_timeout_s:g} s")
        if prev.overflow_to is not None:
            yield LintFinding("error", f"{p}.plan[{j}]",
                              f"unreachable: step {prev.name!r} already moved the call to "
                              f"{prev.overflow_to!r}")
        if q.max_wait_s is not None and step.after_s >= q.max_wait_s:
            yield LintFinding("warning", f"{p}.plan[{j}].after_s",
                              f"opens at or after max_wait_s {q.max_wait_s:g} s")


def _lint_pools(p: str, q: Queue, config: RoutingConfig) -> Iterator[LintFinding]:
    seen: set[str] = set()
    for j, step in enumerate(q.plan):
        pool = {a.agent_id for a in config.agents if step.admits(a, q)}
        adds_action = step.priority_delta != 0 or step.overflow_to is not None
        if j > 0 and pool <= seen and not adds_action:
            yield LintFinding("warning", f"{p}.plan[{j}]",
                              f"shadowed: step {step.name!r} adds nobody to the earlier steps")
        seen |= pool
    last = q.plan[-1] if q.plan else None
    if last is not None and last.overflow_to is None and (last.tiers or last.skills
                                                          or last.agents):
        yield LintFinding("warning", f"{p}.plan[{len(q.plan) - 1}]",
                          "no final catch-all: the last step still restricts tiers, skills or "
                          "agents, so some of the queue's agents never take its calls")
    if last is not None and last.agents and last.overflow_to is None:
        yield LintFinding("error", f"{p}.plan[{len(q.plan) - 1}].agents",
                          "dedicated-agent fallback missing: no later step widens beyond "
                          + ", ".join(last.agents))


def _lint_vips(q: Queue, config: RoutingConfig) -> Iterator[LintFinding]:
    for i, v in enumerate(config.vips):
        if v.dedicated_agent is None:
            continue
        if not math.isfinite(v.dedicated_wait_s):
            yield LintFinding("error", f"vips[{i}].dedicated_wait_s",
                              "dedicated-agent fallback missing: the wait never ends")
        elif v.dedicated_wait_s < q.ring_timeout_s:
            yield LintFinding("warning", f"vips[{i}].dedicated_wait_s",
                              f"shorter than queue {q.queue_id!r} ring timeout "
                              f"{q.ring_timeout_s:g} s")

