"""The wallboard's view of the floor, built from the routing snapshot: per queue the calls
waiting, the longest wait, today's answered, abandoned and service level, the agents who serve
it by presence and tier; per agent their presence, pause reason, current call and time in it.

Pure: the snapshot, today's counts and the time come in, a board comes out. Time in a presence
is observed (`PresenceClock`): the routing core keeps no "since" for every state, so the feed
remembers when it first saw each agent's presence; after a restart it counts from then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from routing.config import Agent, Queue
from routing.kpis.formulas import Kpi
from routing.model import AgentState, AgentStatus, AgentView, RoutingSnapshot


class Presence(StrEnum):
    """One word per agent for the wall: what they are doing now."""

    LOGGED_OUT = "logged_out"
    UNREACHABLE = "unreachable"  # logged in, but their phone is not registered
    PAUSED = "paused"
    IDLE = "idle"  # available, free for the next call
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


PRESENCES = tuple(Presence)


def presence(view: AgentView, now: float) -> Presence:
    """A call in progress outranks a pause (an agent may pause during a call: it starts after)."""
    if view.status is AgentStatus.LOGGED_OUT:
        return Presence.LOGGED_OUT
    if view.state is AgentState.ON_CALL:
        return Presence.ON_CALL
    if view.state is AgentState.OFFERED:
        return Presence.RINGING
    if view.state is AgentState.WRAP_UP and (view.wrapup_until is None or now < view.wrapup_until):
        return Presence.WRAP_UP
    if view.status is AgentStatus.PAUSED:
        return Presence.PAUSED
    if not view.reachable:
        return Presence.UNREACHABLE
    return Presence.IDLE


@dataclass(frozen=True, slots=True)
class Today:
    """A queue's figures since the day began, from the stored calls (the KPI reports)."""

    answered: int = 0
    abandoned: int = 0
    service_level: Kpi | None = None


@dataclass(frozen=True, slots=True)
class QueueBoard:
    queue_id: str
    name: str
    waiting: int
    ringing: int  # of the waiting calls, those being offered to an agent now
    longest_wait_s: float | None  # None: nobody waits
    answered_today: int
    abandoned_today: int
    service_level: Kpi | None  # today's, None until the first report is in
    agents: Mapping[str, int]  # presence -> agents serving this queue
    tiers: Mapping[int, Mapping[str, int]]  # tier -> presence -> agents


@dataclass(frozen=True, slots=True)
class AgentBoard:
    agent_id: str
    name: str
    tier: int
    queues: tuple[str, ...]  # the queues whose required skills they have
    presence: Presence
    pause_reason: str | None
    call_id: str | None
    in_presence_s: float
    calls_today: int


@dataclass(frozen=True, slots=True)
class Board:
    queues: tuple[QueueBoard, ...]
    agents: tuple[AgentBoard, ...]


def serves(agent: Agent, queue: Queue) -> bool:
    return all(r.met_by(agent) for r in queue.required_skills)


@dataclass(slots=True)
class PresenceClock:
    """When each agent's current presence began, as far as it was observed."""

    _seen: dict[str, tuple[Presence, float]] = field(default_factory=dict)

    def since(self, agent_id: str, now_presence: Presence, now: float) -> float:
        known = self._seen.get(agent_id)
        if known is None or known[0] is not now_presence:
            self._seen[agent_id] = (now_presence, now)
            return now
        return known[1]

    def forget_others(self, agent_ids: Collection[str]) -> None:
        for gone in set(self._seen) - set(agent_ids):
            del self._seen[gone]


def build_board(snapshot: RoutingSnapshot, today: Mapping[str, Today], clock: PresenceClock,
                wall_now: float, *, queues: Collection[str] | None = None) -> Board:  # fmt: skip
    """The board of `queues` (None: every queue) and the agents who serve them. `wall_now`
    (any monotonic seconds) times presences; waits are on the routing clock (`snapshot.at`)."""
    shown = [q for q in snapshot.queues if queues is None or q.queue_id in queues]
    views = dict(zip((a.agent_id for a in snapshot.agents), snapshot.views, strict=True))
    agents: list[AgentBoard] = []
    for agent in snapshot.agents:
        serving = tuple(q.queue_id for q in shown if serves(agent, q))
        if queues is not None and not serving:
            continue
        view = views[agent.agent_id]
        now_presence = presence(view, snapshot.at)
        since = clock.since(agent.agent_id, now_presence, wall_now)
        agents.append(AgentBoard(
            agent.agent_id, agent.name, agent.tier, serving, now_presence,
            view.pause_reason if view.status is AgentStatus.PAUSED else None, view.call_id,
            max(0.0, wall_now - since), view.calls_today))  # fmt: skip
    clock.forget_others([a.agent_id for a in snapshot.agents])
    return Board(tuple(_queue_board(q, snapshot, today.get(q.queue_id, Today()), agents)
                       for q in shown), tuple(agents))  # fmt: skip


def _queue_board(queue: Queue, snapshot: RoutingSnapshot, today: Today,
                 agents: list[AgentBoard]) -> QueueBoard:  # fmt: skip
    waiting = [c for c in snapshot.calls if c.queue_id == queue.queue_id and not c.answered]
    serving = [a for a in agents if queue.queue_id in a.queues]
    tiers: dict[int, Counter[str]] = {}
    for a in serving:
        tiers.setdefault(a.tier, Counter())[a.presence.value] += 1
    return QueueBoard(
        queue.queue_id, queue.name, len(waiting),
        sum(1 for c in waiting if c.offers),
        max((snapshot.at - c.entered_at for c in waiting), default=None),
        today.answered, today.abandoned, today.service_level,
        dict(Counter(a.presence.value for a in serving)),
        {tier: dict(counts) for tier, counts in sorted(tiers.items())})
