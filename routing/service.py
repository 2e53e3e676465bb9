"""The queue actor: one task owns all routing state; every other method only posts it a message.

The actor applies each message, re-runs the pure `decide()` and hands the resulting offers to the
calls' tickets. Timers (wrap-up end, max wait) are tasks owned by the actor's TaskGroup that sleep
on the `Clock` and post a message when due, so there is no polling and no lock. Messages about an
offer that is no longer current (a late `declined` after `leave`, a duplicate `completed`) are
ignored, which makes every ticket method safe to call in any order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from routing.clock import Clock
from routing.decide import STRATEGIES, decide
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    AgentView,
    Offer,
    QueueConfig,
    RoutingSnapshot,
    ServiceStopped,
    TicketClosed,
    UnknownAgent,
    UnknownQueue,
    WaitingCall,
    WaitTimeout,
    check_config,
)

DeclineReason = Literal["no_answer", "busy", "failed"]


@dataclass(frozen=True, slots=True)
class _Enqueue:
    ticket: Ticket
    joined_at: float


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What became of an offer, as reported by the call engine."""

    offer: Offer
    outcome: Literal["answered", "declined", "completed"]
    reason: DeclineReason | None = None


@dataclass(frozen=True, slots=True)
class _Leave:
    ticket: Ticket
    reason: str


@dataclass(frozen=True, slots=True)
class _MaxWait:
    ticket: Ticket


@dataclass(frozen=True, slots=True)
class _WrapupEnded:
    agent_id: str


@dataclass(frozen=True, slots=True)
class _AgentUpdate:
    agent_id: str
    reachable: bool | None = None
    status: AgentStatus | None = None


_Message = _Enqueue | _Outcome | _Leave | _MaxWait | _WrapupEnded | _AgentUpdate


class Ticket:
    """One call's place in a queue; owned by that call's task."""

    def __init__(self, call_id: str, queue_id: str, post: Callable[[_Message], None]) -> None:
        self.call_id = call_id
        self.queue_id = queue_id
        self._post = post
        self._mailbox: asyncio.Queue[Offer | None] = asyncio.Queue()  # None: look at _closed
        self._closed: TicketClosed | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    async def next_offer(self) -> Offer:
        """Wait for the next agent offered to this call; raises TicketClosed once it left."""
        while True:
            if self._closed is not None:
                raise type(self._closed)(*self._closed.args)
            offer = await self._mailbox.get()
            if offer is not None:
                return offer

    def answered(self, offer: Offer) -> None:
        self._post(_Outcome(self._own(offer), "answered"))

    def declined(self, offer: Offer, reason: DeclineReason = "no_answer") -> None:
        if reason not in get_args(DeclineReason):
            raise ValueError(f"unknown decline reason {reason!r}")
        self._post(_Outcome(self._own(offer), "declined", reason))

    def completed(self, offer: Offer) -> None:
        self._post(_Outcome(self._own(offer), "completed"))
        self._close(TicketClosed("completed"))

    def leave(self, reason: str = "abandoned") -> None:
        """Idempotent and valid in any state; frees an agent offered or connected to this call."""
        self._close(TicketClosed(reason))
        self._post(_Leave(self, reason))

    def _own(self, offer: Offer) -> Offer:
        if offer.call_id != self.call_id:
            raise ValueError(f"offer {offer.offer_id} is not for call {self.call_id}")
        return offer

    def _deliver(self, offer: Offer) -> None:
        self._mailbox.put_nowait(offer)

    def _close(self, error: TicketClosed) -> None:
        if self._closed is None:
            self._closed = error
            self._mailbox.put_nowait(None)


@dataclass(slots=True)
class _Agent:
    config: AgentConfig
    idle_since: float
    state: AgentState = AgentState.AVAILABLE  # never UNREACHABLE here: derived in view()
    wrapup_until: float | None = None
    calls_taken: int = 0
    no_answer_count: int = 0
    reachable: bool = True
    status: AgentStatus = AgentStatus.AVAILABLE
    call_id: str | None = None

    def view(self) -> AgentView:
        state = self.state
        if state is AgentState.AVAILABLE and not self.reachable:
            state = AgentState.UNREACHABLE
        return AgentView(
            self.config.agent_id, state, self.idle_since, self.wrapup_until, self.calls_taken,
            self.no_answer_count, self.reachable, self.status, self.call_id,
        )


@dataclass(slots=True)
class _Call:
    ticket: Ticket
    queue: QueueConfig
    joined_at: float
    tried: frozenset[str] = frozenset()
    attempts: int = 0
    offer: Offer | None = None
    answered: bool = False
    expired: bool = False  # max wait reached while an offer was ringing

    def waiting(self) -> WaitingCall:
        return WaitingCall(
            self.ticket.call_id, self.queue.queue_id, self.joined_at, self.tried, self.attempts,
            self.offer,
        )


class QueueService:
    """Queues and agents behind one actor task; start `run()` once and cancel it to stop.

    Agents start available, reachable and idle since construction (ties: configuration order).
    The engine enforces `Offer.ring_timeout_s` (originate timeout) and reports `declined`; the actor
    never expires an offer itself, so a late answer cannot race a second offer of the same call.
    """

    def __init__(
        self, queues: Sequence[QueueConfig], agents: Sequence[AgentConfig], clock: Clock
    ) -> None:
        check_config(queues, agents, STRATEGIES)
        self._clock = clock
        self._queues = {q.queue_id: q for q in queues}
        self._agents = {a.agent_id: _Agent(a, clock.now()) for a in agents}
        self._calls: dict[str, _Call] = {}
        self._inbox: asyncio.Queue[_Message] = asyncio.Queue()
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._tg: asyncio.TaskGroup | None = None
        self._phase: Literal["new", "running", "stopped"] = "new"
        self._published = self._snapshot(clock.now())

    def enqueue(self, call_id: str, queue_id: str) -> Ticket:
        if queue_id not in self._queues:
            raise UnknownQueue(queue_id)
        if self._phase == "stopped":
            raise ServiceStopped("queue service stopped")
        ticket = Ticket(call_id, queue_id, self._inbox.put_nowait)
        self._inbox.put_nowait(_Enqueue(ticket, self._clock.now()))
        return ticket

    def set_reachable(self, agent_id: str, reachable: bool) -> None:
        self._inbox.put_nowait(_AgentUpdate(self._known(agent_id), reachable=reachable))

    def set_status(self, agent_id: str, status: AgentStatus) -> None:
        self._inbox.put_nowait(_AgentUpdate(self._known(agent_id), status=status))

    def snapshot(self) -> RoutingSnapshot:
        """The state as of the last message the actor handled."""
        return self._published

    async def run(self) -> None:
        if self._phase != "new":
            raise RuntimeError("QueueService.run() can only be started once")
        self._phase = "running"
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                while True:
                    message = await self._inbox.get()
                    now = self._clock.now()
                    self._handle(message, now)
                    for offer in decide(self._snapshot(now), now):
                        self._apply(offer)
                    self._published = self._snapshot(now)
        finally:
            self._phase = "stopped"
            self._tg = None
            self._timers.clear()
            for call in self._calls.values():
                call.ticket._close(ServiceStopped("queue service stopped"))

    def _known(self, agent_id: str) -> str:
        if agent_id not in self._agents:
            raise UnknownAgent(agent_id)
        return agent_id

    def _snapshot(self, now: float) -> RoutingSnapshot:
        return RoutingSnapshot(
            at=now,
            queues=tuple(self._queues.values()),
            agents=tuple(a.config for a in self._agents.values()),
            views=tuple(a.view() for a in self._agents.values()),
            calls=tuple(c.waiting() for c in self._calls.values() if not c.answered),
        )

    def _handle(self, message: _Message, now: float) -> None:
        match message:
            case _Enqueue(ticket, joined_at):
                self._on_enqueue(ticket, joined_at)
            case _Outcome(offer, "answered"):
                self._on_answered(offer)
            case _Outcome(offer, "declined", reason):
                self._on_declined(offer, reason == "no_answer")
            case _Outcome(offer, "completed"):
                call = self._current(offer)
                if call is not None and call.answered:
                    self._start_wrapup(self._agents[offer.agent_id], call.queue, now)
                    self._remove(call, TicketClosed("completed"))
            case _Leave(ticket, reason):
                self._on_leave(ticket, reason, now)
            case _MaxWait(ticket):
                self._on_max_wait(ticket)
            case _WrapupEnded(agent_id):
                agent = self._agents[agent_id]
                due = agent.wrapup_until is not None and agent.wrapup_until <= now
                if agent.state is AgentState.WRAP_UP and due:
                    agent.state, agent.wrapup_until = AgentState.AVAILABLE, None
            case _AgentUpdate(agent_id, reachable, status):
                agent = self._agents[agent_id]
                agent.reachable = agent.reachable if reachable is None else reachable
                agent.status = agent.status if status is None else status

    def _on_enqueue(self, ticket: Ticket, joined_at: float) -> None:
        if ticket.call_id in self._calls:
            ticket._close(TicketClosed(f"call {ticket.call_id} is already queued"))
            return
        queue = self._queues[ticket.queue_id]
        self._calls[ticket.call_id] = _Call(ticket, queue, joined_at)
        if queue.max_wait_s is not None:
            self._set_timer(("wait", ticket.call_id), joined_at + queue.max_wait_s,
                            _MaxWait(ticket))

    def _on_answered(self, offer: Offer) -> None:
        call = self._current(offer)
        if call is None or call.answered:
            return
        call.answered = True
        self._cancel_timer(("wait", offer.call_id))
        agent = self._agents[offer.agent_id]
        agent.state = AgentState.ON_CALL
        agent.calls_taken += 1
        agent.no_answer_count = 0

    def _on_declined(self, offer: Offer, no_answer: bool) -> None:
        call = self._current(offer)
        if call is None or call.answered:
            return
        agent = self._agents[offer.agent_id]
        self._release(agent)
        agent.no_answer_count += no_answer  # busy and failed are not no-answers
        call.offer = None
        if call.expired:
            self._remove(call, WaitTimeout(f"waited {call.queue.max_wait_s:g} s"))

    def _on_leave(self, ticket: Ticket, reason: str, now: float) -> None:
        call = self._calls.get(ticket.call_id)
        if call is None or call.ticket is not ticket:
            return
        if call.offer is not None:
            agent = self._agents[call.offer.agent_id]
            if call.answered:  # the caller hung up on the agent: the call is over
                self._start_wrapup(agent, call.queue, now)
            else:
                self._release(agent)
        self._remove(call, TicketClosed(reason))

    def _on_max_wait(self, ticket: Ticket) -> None:
        call = self._calls.get(ticket.call_id)
        if call is None or call.ticket is not ticket or call.answered:
            return
        if call.offer is None:
            self._remove(call, WaitTimeout(f"waited {call.queue.max_wait_s:g} s"))
        else:  # an agent is ringing: wait for the outcome, as mod_callcenter does
            call.expired = True

    def _apply(self, offer: Offer) -> None:
        call = self._calls[offer.call_id]
        agent = self._agents[offer.agent_id]
        # decide() re-offers a tried agent only when it starts a new round
        call.tried = (
            frozenset({offer.agent_id}) if offer.reason.new_round
            else call.tried | {offer.agent_id}
        )
        call.attempts += 1
        call.offer = offer
        agent.state, agent.wrapup_until, agent.call_id = AgentState.OFFERED, None, offer.call_id
        self._cancel_timer(("wrapup", offer.agent_id))
        call.ticket._deliver(offer)

    def _current(self, offer: Offer) -> _Call | None:
        call = self._calls.get(offer.call_id)
        return call if call is not None and call.offer == offer else None

    def _release(self, agent: _Agent) -> None:
        agent.state, agent.call_id = AgentState.AVAILABLE, None

    def _start_wrapup(self, agent: _Agent, queue: QueueConfig, now: float) -> None:
        # Idle time counts from the end of the call, not of wrap-up (mod_callcenter last_bridge_end)
        agent.idle_since, agent.call_id = now, None
        if queue.wrapup_s <= 0:
            agent.state, agent.wrapup_until = AgentState.AVAILABLE, None
            return
        agent.state, agent.wrapup_until = AgentState.WRAP_UP, now + queue.wrapup_s
        self._set_timer(("wrapup", agent.config.agent_id), agent.wrapup_until,
                        _WrapupEnded(agent.config.agent_id))

    def _remove(self, call: _Call, error: TicketClosed) -> None:
        del self._calls[call.ticket.call_id]
        self._cancel_timer(("wait", call.ticket.call_id))
        call.ticket._close(error)

    def _set_timer(self, key: tuple[str, str], at: float, message: _Message) -> None:
        assert self._tg is not None, "timers are only set by the running actor"
        self._cancel_timer(key)
        self._timers[key] = self._tg.create_task(self._fire(key, at, message))

    def _cancel_timer(self, key: tuple[str, str]) -> None:
        task = self._timers.pop(key, None)
        if task is not None:
            task.cancel()

    async def _fire(self, key: tuple[str, str], at: float, message: _Message) -> None:
        await self._clock.sleep_until(at)
        if self._timers.get(key) is asyncio.current_task():
            del self._timers[key]
            self._inbox.put_nowait(message)

