"""Routing values: queue and agent configuration, live agent views, waiting calls and offers.

Vocabulary follows FreeSWITCH mod_callcenter: an agent's *status* is set by people (the agent or a
supervisor: available, on break, logged out); its *state* is set by the routing room (available,
offered, on a call, wrap-up, unreachable). Times are monotonic seconds from the service's `Clock`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class UnknownQueue(LookupError):
    """The queue id is not in the configuration."""


class UnknownAgent(LookupError):
    """The agent id is not in the configuration."""


class TicketClosed(Exception):
    """The call left the queue (abandoned, completed, timed out or the service stopped)."""


class WaitTimeout(TicketClosed):
    """The caller waited `QueueConfig.max_wait_s` without being connected to an agent."""


class ServiceStopped(TicketClosed):
    """The queue actor stopped; nothing further will be offered."""


@dataclass(frozen=True, slots=True)
class QueueConfig:
    queue_id: str
    name: str
    ring_timeout_s: float = 15
    wrapup_s: float = 5
    strategy: str = "longest_idle"
    max_wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class AgentConfig:
    agent_id: str
    name: str
    endpoint: str  # what the engine dials, e.g. "PJSIP/agent1"
    queues: tuple[str, ...]


class AgentStatus(StrEnum):
    """Set by people; only `available` agents are offered calls."""

    AVAILABLE = "available"
    ON_BREAK = "on_break"
    LOGGED_OUT = "logged_out"


class AgentState(StrEnum):
    """Set by the routing room."""

    AVAILABLE = "available"
    OFFERED = "offered"  # ringing for one call; reserved until answered or declined
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    UNREACHABLE = "unreachable"  # would be available, but the device is not reachable


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    state: AgentState
    idle_since: float  # end of the agent's last call (mod_callcenter last_bridge_end)
    wrapup_until: float | None
    calls_taken: int
    no_answer_count: int  # consecutive no-answers; reset when the agent answers
    reachable: bool
    status: AgentStatus = AgentStatus.AVAILABLE
    call_id: str | None = None  # the call offered to or handled by the agent


class WhyNot(StrEnum):
    """Why an agent of the queue was not chosen for a call."""

    BUSY = "busy"  # offered another call or on a call
    STATUS = "status"  # on break or logged out
    UNREACHABLE = "unreachable"
    WRAP_UP = "wrap_up"
    TAKEN = "taken"  # offered to an earlier caller in the same decision
    TRIED = "tried"  # already offered this call in the current round
    OUTRANKED = "outranked"  # eligible, but the strategy preferred another agent


@dataclass(frozen=True, slots=True)
class Passed:
    agent_id: str
    why: WhyNot
    until: float | None = None  # end of wrap-up, for WhyNot.WRAP_UP


@dataclass(frozen=True, slots=True)
class OfferReason:
    strategy: str
    idle_since: float
    new_round: bool  # every eligible agent had been tried, so the tried set was reset
    passed: tuple[Passed, ...] = ()

    def __str__(self) -> str:
        head = f"{self.strategy}: idle since {self.idle_since:g}"
        if self.new_round:
            head += ", new round"
        others = ", ".join(_describe(p) for p in self.passed)
        return f"{head}; {others}" if others else head


def _describe(p: Passed) -> str:
    if p.why is WhyNot.WRAP_UP and p.until is not None:
        return f"{p.agent_id} wrap-up until {p.until:g}"
    return f"{p.agent_id} {p.why}"


@dataclass(frozen=True, slots=True)
class Offer:
    offer_id: str
    call_id: str
    queue_id: str
    agent_id: str
    endpoint: str
    ring_timeout_s: float
    reason: OfferReason


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    queue_id: str
    joined_at: float
    tried: frozenset[str] = frozenset()  # agents offered this call in the current round
    attempts: int = 0  # offers made so far; the next offer id is f"{call_id}:{attempts + 1}"
    offer: Offer | None = None  # the offer in flight; such a call is not offered again


@dataclass(frozen=True, slots=True)
class RoutingSnapshot:
    """Everything `decide()` needs, and the read model served to supervisors.

    `agents` and `views` are in configuration order, one view per agent.
    """

    at: float
    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentConfig, ...]
    views: tuple[AgentView, ...]
    calls: tuple[WaitingCall, ...] = ()
    _by_id: dict[str, AgentView] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if [a.agent_id for a in self.agents] != [v.agent_id for v in self.views]:
            raise ValueError("views must match agents one to one, in configuration order")
        object.__setattr__(self, "_by_id", {v.agent_id: v for v in self.views})

    def view(self, agent_id: str) -> AgentView:
        try:
            return self._by_id[agent_id]
        except KeyError:
            raise UnknownAgent(agent_id) from None


def check_config(
    queues: Sequence[QueueConfig], agents: Sequence[AgentConfig], strategies: Collection[str]
) -> None:
    """Raise ValueError for duplicate ids, unknown strategies or agents in unknown queues."""
    queue_ids = [q.queue_id for q in queues]
    agent_ids = [a.agent_id for a in agents]
    if len(set(queue_ids)) != len(queue_ids) or len(set(agent_ids)) != len(agent_ids):
        raise ValueError("queue and agent ids must be unique")
    for queue in queues:
        if queue.strategy not in strategies:
            raise ValueError(f"queue {queue.queue_id}: unknown strategy {queue.strategy!r}")
    for agent in agents:
        unknown = set(agent.queues) - set(queue_ids)
        if unknown:
            raise ValueError(f"agent {agent.agent_id}: unknown queues {sorted(unknown)}")
