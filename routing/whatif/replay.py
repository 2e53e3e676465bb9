"""Recorded traffic replayed through the real routing core on a simulated clock. Pure.

The replay drives `routing.router.Router` as the live queue actor does (every event at its
time, `advance` to each deadline the router names, its effects taken after each step), with
simulated agents and callers:

* an agent offered a call answers it after the ring time the call's conversation had (capped
  at the queue's ring timeout; never a miss), talks for the recorded talk time, then completes
  it or transfers the caller as recorded; the queue's wrap-up follows (the router's), ended
  early as the agent ended it for real (a disposition given before the timer ran out);
* a caller hangs up once a stretch of waiting reaches their patience (their own when they were
  seen to hang up, else the assumed one, `model.assumed_patience`); an answer at that very
  instant wins;
* agents log in, out, pause and resume as `Traffic.staffing` says.

A call answered in the replay beyond its recorded conversations (one that hung up or flowed
out for real) talks for the mean recorded talk time and rings for the mean ring time.
Announcements are left out of the replayed configuration: they change no routing decision.
The replay ends when nothing more can happen, or `DRAIN_S` after the window; a call still
waiting then is left WAITING (counted nowhere, as the reports count calls still waiting).
Equal times run in a fixed order (the router's timers, availability, answers, ends of talk and
of wrap-up, arrivals, hang-ups, each in the order scheduled), so a replay is a function of its
inputs.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum

from routing.calls import Close, Deliver, Notify
from routing.config import RoutingConfig
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.model import AgentStatus, Offer
from routing.notices import CommandRejected, Notice, Overflowed, Transferred, UnknownAgent
from routing.router import Router
from routing.whatif.model import (
    DEFAULT_TALK_S,
    AgentChange,
    Arrival,
    Leg,
    ReplaySettings,
    Traffic,
    assumed_patience,
)

# After the window, the replay lets its calls end for this long at most: with infinite patience
# a plan nobody serves, or overflow steps sending a call round in a circle, would never end.
DRAIN_S = 4 * 3600.0


class _Kind(IntEnum):  # what happens first at one instant
    AGENT = 0
    ANSWER = 1
    TALK_END = 2
    WRAPUP_END = 3
    ARRIVE = 4
    HANG_UP = 5


@dataclass(frozen=True, slots=True)
class ReplayedCall:
    call_id: str
    visits: tuple[QueueVisit, ...]  # as the KPI reports read a journey; the last may be WAITING


@dataclass(frozen=True, slots=True)
class Replay:
    calls: tuple[ReplayedCall, ...]  # in arrival order
    skipped: tuple[str, ...] = ()  # arrivals whose queue the configuration has not

    @property
    def visits(self) -> list[QueueVisit]:
        return [v for call in self.calls for v in call.visits]

    @property
    def still_waiting(self) -> int:
        """Calls still waiting when nothing more could happen (infinite patience only)."""
        return sum(1 for c in self.calls if c.visits[-1].outcome is VisitOutcome.WAITING)


@dataclass(slots=True)
class _Call:
    arrival: Arrival
    queue_id: str
    entered_s: float
    visits: list[QueueVisit] = field(default_factory=list)
    legs_done: int = 0
    ringing: Offer | None = None
    talking: Offer | None = None
    answered_s: float = 0.0
    waiting: bool = True  # a visit is open and unanswered (waiting or ringing)
    ended: bool = False
    token: int = 0  # bumped to void the answer or hang-up scheduled before


def replay(traffic: Traffic, config: RoutingConfig, settings: ReplaySettings) -> Replay:
    """Every arrival of `traffic` routed by `config`, until nothing more can happen."""
    quiet = replace(config, queues=tuple(replace(q, announce_every_s=None)
                                         for q in config.queues))
    return _Sim(traffic, quiet, settings).run()


class _Sim:
    def __init__(self, traffic: Traffic, config: RoutingConfig,
                 settings: ReplaySettings) -> None:  # fmt: skip
        self.traffic = traffic
        self.config = config
        self.router = Router(config, 0.0, seed=settings.seed)
        self.patience = assumed_patience(traffic, settings)
        legs = [leg for a in traffic.arrivals for leg in a.legs]
        self.talk_s = sum(x.talk_s for x in legs) / len(legs) if legs else DEFAULT_TALK_S
        self.ring_s = sum(x.ring_s for x in legs) / len(legs) if legs else 0.0
        self.calls: dict[str, _Call] = {}
        self.skipped: list[str] = []
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = itertools.count()
        self.limit = 2000 * (len(traffic.arrivals) + len(traffic.staffing.changes)) + 100_000

    # ------------------------------------------------------------ the clock

    def push(self, at: float, kind: _Kind, payload: object) -> None:
        heapq.heappush(self.heap, (at, kind, next(self.seq), payload))

    def run(self) -> Replay:
        for agent_id, status in self.traffic.staffing.initial:
            self.set_status(agent_id, status, 0.0)
        for change in self.traffic.staffing.changes:
            self.push(change.at_s, _Kind.AGENT, change)
        for a in sorted(self.traffic.arrivals, key=lambda a: (a.at_s, a.call_id)):
            self.push(a.at_s, _Kind.ARRIVE, a)
        horizon = self.traffic.length_s + DRAIN_S
        for _ in range(self.limit):
            due = self.router.next_deadline()
            at = min(due if due is not None else math.inf,
                     self.heap[0][0] if self.heap else math.inf)
            if at > horizon:  # nothing more can happen, or nothing more is waited for
                return self.result(min(max(self.router.now, self.traffic.length_s), horizon)
                                   if at == math.inf else horizon)
            if due is not None and due == at:
                self.router.advance(due)
            else:
                at, kind, _, payload = heapq.heappop(self.heap)
                self.handle(at, _Kind(kind), payload)
            self.effects()
        raise RuntimeError(f"the replay did not settle within {self.limit} steps")

    def handle(self, at: float, kind: _Kind, payload: object) -> None:
        if kind is _Kind.AGENT:
            assert isinstance(payload, AgentChange)
            self.set_status(payload.agent_id, payload.status, at)
        elif kind is _Kind.WRAPUP_END:
            assert isinstance(payload, tuple)
            agent_id, call_id = payload
            self.end_wrapup(agent_id, call_id, at)
        elif kind is _Kind.ARRIVE:
            assert isinstance(payload, Arrival)
            self.arrive(payload, at)
        else:
            assert isinstance(payload, tuple)
            call, token = payload
            if token == call.token and not call.ended:
                {_Kind.ANSWER: self.answer, _Kind.TALK_END: self.talk_end,
                 _Kind.HANG_UP: self.hang_up}[kind](call, at)

    def result(self, end: float) -> Replay:
        done = []
        for call in self.calls.values():
            if call.waiting and not call.ended:
                self.close_visit(call, VisitOutcome.WAITING, end)
            done.append(ReplayedCall(call.arrival.call_id, tuple(call.visits)))
        return Replay(tuple(done), tuple(self.skipped))

    # ------------------------------------------------------------ agents

    def set_status(self, agent_id: str, status: AgentStatus, now: float) -> None:
        try:
            current = self.router.view(agent_id).status
        except UnknownAgent:  # not in this configuration
            return
        steps: list[str] = []
        if status is AgentStatus.LOGGED_OUT:
            steps = [] if current is AgentStatus.LOGGED_OUT else ["logout"]
        elif current is AgentStatus.LOGGED_OUT:
            steps = ["login"] + (["pause"] if status is AgentStatus.PAUSED else [])
        elif current is not status:
            steps = ["pause" if status is AgentStatus.PAUSED else "resume"]
        for command in steps:
            self.router.agent_command(agent_id, command,
                                      "replayed" if command == "pause" else None, now)

    # ------------------------------------------------------------ callers

    def arrive(self, a: Arrival, now: float) -> None:
        if self.config.queue(a.queue_id) is None:
            self.skipped.append(a.call_id)
            return
        call = _Call(a, a.queue_id, now)
        self.calls[a.call_id] = call
        self.router.enqueue(a.call_id, a.queue_id, a.caller_number, a.priority, a.context, now)
        self.wait_from(call, now)

    def wait_from(self, call: _Call, now: float) -> None:
        """A stretch begins: the caller hangs up at its end unless answered first."""
        patience = call.arrival.patience_s if call.arrival.patience_s is not None \
            else self.patience
        if patience is not None:
            self.push(now + patience, _Kind.HANG_UP, (call, call.token))

    def hang_up(self, call: _Call, now: float) -> None:
        if call.talking is not None:
            return
        call.ended, call.ringing = True, None
        self.router.leave(call.arrival.call_id, "abandoned", now)
        self.close_visit(call, VisitOutcome.ABANDONED, now)

    # ------------------------------------------------------------ what the router says

    def effects(self) -> None:
        for effect in self.router.take_effects():
            call = self.calls.get(effect.call_id)
            if call is None:
                continue
            if isinstance(effect, Deliver):
                self.ring(call, effect.offers[0])
            elif isinstance(effect, Notify):
                self.notice(call, effect.notice)
            elif isinstance(effect, Close) and not call.ended:  # the router let it go
                call.ended = True
                call.token += 1
                if call.waiting:
                    self.close_visit(call, VisitOutcome.FLOW_OUT, effect.at)

    def ring(self, call: _Call, offer: Offer) -> None:
        call.ringing = offer
        leg = self.leg(call)
        ring = leg.ring_s if leg is not None else self.ring_s
        self.push(self.router.now + min(ring, offer.ring_timeout_s), _Kind.ANSWER,
                  (call, call.token))

    def notice(self, call: _Call, notice: Notice) -> None:
        if isinstance(notice, Overflowed) and call.waiting:
            self.close_visit(call, VisitOutcome.FLOW_OUT, notice.at)
            call.queue_id, call.entered_s, call.waiting = notice.to_queue, notice.at, True
        elif isinstance(notice, Transferred):
            call.queue_id, call.entered_s, call.waiting = notice.to_queue, notice.at, True

    # ------------------------------------------------------------ agents' side of a call

    def answer(self, call: _Call, now: float) -> None:
        offer, call.ringing = call.ringing, None
        if offer is None:
            return
        self.router.answered(call.arrival.call_id, offer.offer_id, now)
        call.talking, call.answered_s = offer, now
        call.waiting = False
        call.token += 1
        leg = self.leg(call)
        talk = leg.talk_s if leg is not None else self.talk_s
        queue = self.config.queue(call.queue_id)
        agent = self.config.agent(offer.agent_id)
        call.visits.append(QueueVisit(  # what the conversation will be: known in advance
            call.queue_id, self.at(call.entered_s), VisitOutcome.ANSWERED, now - call.entered_s,
            offer.agent_id, agent.tier if agent else None, talk, 0.0,
            self.wrapup(leg, queue.wrapup_s if queue else 0.0),
            leg is not None and leg.transfer_to is not None))
        self.push(now + talk, _Kind.TALK_END, (call, call.token))

    def talk_end(self, call: _Call, now: float) -> None:
        offer, call.talking = call.talking, None
        if offer is None:
            return
        leg = self.leg(call)
        call.legs_done += 1
        target = leg.transfer_to if leg is not None else None
        queue = self.config.queue(call.queue_id)
        call_id = call.arrival.call_id
        if leg is not None and leg.wrapup_s is not None and queue is not None \
                and leg.wrapup_s < queue.wrapup_s:
            self.push(now + leg.wrapup_s, _Kind.WRAPUP_END, (offer.agent_id, call_id))
        if target is None:
            call.ended = True
            self.router.completed(call_id, offer.offer_id, now)
            return
        assert leg is not None
        call.token += 1
        self.router.transfer(call_id, offer.offer_id, target, leg.transfer_min_tier, "", now)
        self.wait_from(call, now)

    def end_wrapup(self, agent_id: str, call_id: str, now: float) -> None:
        with contextlib.suppress(CommandRejected):  # over already, or another call's now
            self.router.agent_command(agent_id, "end_wrapup", call_id, now)

    @staticmethod
    def wrapup(leg: Leg | None, timer_s: float) -> float:
        return timer_s if leg is None or leg.wrapup_s is None else min(leg.wrapup_s, timer_s)

    def leg(self, call: _Call) -> Leg | None:
        legs = call.arrival.legs
        return legs[call.legs_done] if call.legs_done < len(legs) else None

    # ------------------------------------------------------------ visits

    def close_visit(self, call: _Call, outcome: VisitOutcome, now: float) -> None:
        call.visits.append(QueueVisit(call.queue_id, self.at(call.entered_s), outcome,
                                      now - call.entered_s))
        call.waiting = False

    def at(self, seconds: float) -> datetime:
        return self.traffic.origin + timedelta(seconds=seconds)
