"""Routing values at run time: agent and call views, offers, decisions, handoff context.

Vocabulary follows FreeSWITCH mod_callcenter: an agent's *status* is set by people (logged out,
available, paused with a reason); its *state* is set by the routing room (idle, offered, on a
call, wrap-up). An agent is *free* when available, idle (or past the end of wrap-up) and its
phone is reachable. Times are monotonic seconds from the service's `Clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # routing.config imports the YAML types below
    from routing.config import Agent, Queue, RoutingConfig


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """A queue of the YAML settings (see `RoutingConfig.from_simple`)."""

    queue_id: str
    name: str
    ring_timeout_s: float = 15
    wrapup_s: float = 5
    strategy: str = "longest_idle"
    max_wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """An agent of the YAML settings (see `RoutingConfig.from_simple`)."""

    agent_id: str
    name: str
    endpoint: str
    queues: tuple[str, ...]


class AgentStatus(StrEnum):
    """Set by people (agent or supervisor)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


class AgentState(StrEnum):
    """Set by the routing room."""

    IDLE = "idle"
    OFFERED = "offered"  # ringing for one call; reserved until answered or declined
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    status: AgentStatus = AgentStatus.AVAILABLE
    state: AgentState = AgentState.IDLE
    reachable: bool = True
    pause_reason: str | None = None
    idle_since: float = 0.0  # end of the last call (mod_callcenter last_bridge_end)
    wrapup_until: float | None = None
    call_id: str | None = None  # the call offered to or handled by the agent
    wrapup_call_id: str | None = None  # the call the agent is wrapping up
    calls_today: int = 0  # answered calls since the last daily reset
    talk_time_today: float = 0.0
    no_answer_count: int = 0  # consecutive; reset by an answered call or by resume
    busy_count: int = 0
    rejected_count: int = 0
    failed_count: int = 0
    answered_at: float | None = None

    def free(self, now: float) -> bool:
        """Whether a call could be offered to the agent now (the wrap-up end is inclusive)."""
        if self.status is not AgentStatus.AVAILABLE or not self.reachable:
            return False
        if self.state is AgentState.WRAP_UP:
            return self.wrapup_until is not None and now >= self.wrapup_until
        return self.state is AgentState.IDLE


@dataclass(frozen=True, slots=True)
class Handoff:
    """An agent-initiated transfer, as the receiving agent sees it."""

    at: float
    from_agent: str
    from_queue: str
    to_queue: str
    min_tier: int | None
    notes: str


@dataclass(frozen=True, slots=True)
class HandoffContext:
    """What the receiving agent gets with an offer: the caller's journey, intent and notes."""

    intent: str | None = None
    journey: tuple[str, ...] = ()  # IVR milestones, e.g. ("menu:claims", "faq:not_answered")
    handoffs: tuple[Handoff, ...] = ()


class WhyNot(StrEnum):
    """Why an agent of the queue was not offered the call."""

    LOGGED_OUT = "not logged in"
    PAUSED = "paused"
    UNREACHABLE = "unreachable"
    SKILL = "wrong skill/proficiency"
    NOT_IN_PLAN = "in no step of the plan"
    TIER_NOT_OPEN = "tier not open"
    BELOW_MIN_TIER = "below the transfer's minimum tier"
    DEDICATED_ONLY = "dedicated agent only"
    WRAP_UP = "wrap-up"
    BUSY = "busy"
    TRIED = "tried"
    OUTRANKED = "outranked"


@dataclass(frozen=True, slots=True)
class AgentVerdict:
    agent_id: str
    why: WhyNot
    until: float | None = None  # when the reason ends, if known (tier opens, wrap-up ends, ...)
    detail: str = ""  # e.g. the pause reason, the missing skill, the step that opens the tier

    def __str__(self) -> str:
        text = f"{self.agent_id}: {self.why}"
        if self.until is not None:
            text += f" until t={self.until:g}"
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Chosen:
    """Why this agent: its place in the preference order (rank, tier, strategy key)."""

    agent_id: str
    step: str | None  # the first open plan step admitting the agent; None: dedicated agent
    tier: int
    strategy: str
    key: float | None  # idle since / talk time / calls today; None when positional
    new_round: bool = False  # every eligible agent had been tried, so tried ones count again

    def __str__(self) -> str:
        where = "dedicated agent" if self.step is None else f"step {self.step!r}"
        key = "" if self.key is None else f" {self.key:g}"
        again = ", new round" if self.new_round else ""
        return f"{self.agent_id}: {where}, tier {self.tier}, {self.strategy}{key}{again}"


@dataclass(frozen=True, slots=True, eq=False)
class Decision:
    """One routing decision for one call: who was offered, why, and why not everyone else.

    `others` is computed on first use from the frozen state captured at decision time, so
    making a decision stays cheap while every decision remains explainable.
    """

    at: float
    call_id: str
    queue_id: str
    config_version: int
    chosen: tuple[Chosen, ...]  # empty: nobody could be offered (an explanation of a waiting call)
    _explain: Callable[[], tuple[AgentVerdict, ...]] = field(repr=False)
    _cache: list[tuple[AgentVerdict, ...]] = field(default_factory=list, repr=False)

    @property
    def others(self) -> tuple[AgentVerdict, ...]:
        if not self._cache:
            self._cache.append(self._explain())
        return self._cache[0]

    def __str__(self) -> str:
        why_not = "; ".join(str(v) for v in self.others)
        return f"{self._head()} | {why_not}" if why_not else self._head()

    def summary(self, names: int = 3) -> str:
        """Who was offered and why; the others grouped by reason, counted, the first `names`
        of each named: what a call's journey keeps. With 200 agents `str()` was 12 kB per
        offer; the full list stays available while the call waits (`others`)."""
        groups: dict[WhyNot, list[str]] = {}
        for verdict in self.others:
            groups.setdefault(verdict.why, []).append(verdict.agent_id)
        why_not = "; ".join(
            f"{why} x{len(ids)} ({', '.join(ids[:names])}{', ...' if len(ids) > names else ''})"
            for why, ids in sorted(groups.items(), key=lambda group: -len(group[1])))
        return f"{self._head()} | {why_not}" if why_not else self._head()

    def _head(self) -> str:
        who = "; ".join(str(c) for c in self.chosen) or "nobody offered"
        return f"t={self.at:g} config v{self.config_version} {self.call_id}@{self.queue_id}: {who}"


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str  # f"{call_id}:{n}", unique per call
    call_id: str
    queue_id: str
    agent_id: str
    endpoint: str
    ring_timeout_s: float
    config_version: int
    decision: Decision
    context: HandoffContext = HandoffContext()

    @property
    def reason(self) -> Decision:
        """Transitional alias of `decision` (the old engine logs `offer.reason`)."""
        return self.decision


@dataclass(frozen=True, slots=True)
class CallView:
    call_id: str
    queue_id: str
    caller_number: str | None
    joined_at: float  # original arrival: kept across overflow, transfer and resume
    entered_at: float  # entry into the current queue: the plan's clock
    priority: int
    seq: int  # arrival order, the last tie-break
    open_steps: int = 1  # how many plan steps are open (always a prefix of the plan)
    aged: bool = False  # waited past the queue's aging_cap_s: outranks every priority class
    min_tier: int = 1  # set by a transfer
    dedicated: str | None = None  # VIP dedicated agent
    dedicated_until: float | None = None  # end of the dedicated-agent-only phase
    tried: tuple[tuple[str, float], ...] = ()  # (agent id, offer again from) this round
    offers: tuple[Offer, ...] = ()  # in flight (ringing), or the answered one
    answered: bool = False
    attempts: int = 0  # offers made so far; the next offer id is f"{call_id}:{attempts + 1}"
    context: HandoffContext = HandoffContext()

    @property
    def order_key(self) -> tuple[int, int, float, int]:
        """Smaller goes first: aged calls, then higher priority, then earlier arrival."""
        return (0 if self.aged else 1, -self.priority, self.joined_at, self.seq)

    @property
    def offer(self) -> Offer | None:
        """Transitional: the first offer in flight (the old web route shows it)."""
        return self.offers[0] if self.offers else None


@dataclass(frozen=True, slots=True)
class Position:
    position: int  # 1 = next; counts calls of the same queue ahead, ringing ones included
    eta_s: float | None  # None when nobody in the call's open pool is logged in and available


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """The read model served to supervisors, and the input of the reference `decide()`.

    `views` is in configuration order, one per agent of `config`.
    """

    at: float
    config: RoutingConfig
    views: tuple[AgentView, ...]
    calls: tuple[CallView, ...] = ()
    rr_last: tuple[tuple[str, int], ...] = ()  # round robin: queue id -> last offered position
    seed: int = 0  # the random strategy's seed

    @property
    def version(self) -> int:
        return self.config.version

    @property
    def queues(self) -> tuple[Queue, ...]:
        return self.config.queues

    @property
    def agents(self) -> tuple[Agent, ...]:
        return self.config.agents

    def view(self, agent_id: str) -> AgentView:
        for v in self.views:
            if v.agent_id == agent_id:
                return v
        raise LookupError(agent_id)
