"""The queue actor: one task owns the routing core; everything else posts it messages.

Engine-facing API (all on the event loop's thread):

    service = QueueService(config, MonotonicClock(), seed=0, start_logged_in=True)
    task = asyncio.create_task(service.run())            # cancel it to stop

    ticket = service.enqueue(call_id, queue_id, caller_number="+1555…", priority=0,
                             context=HandoffContext(intent=…, journey=…))
    offers = await ticket.next_offers()    # one Offer; several at once for ring_all
    others = ticket.answered(offer)        # the first answer wins: stop ringing `others`
    ticket.declined(offer, "no_answer")    # or "busy" | "rejected" | "failed"
    ticket.completed(offer)                # conversation over: agent goes to wrap-up
    ticket.transfer(queue_id=None, min_tier=2, notes="…")   # agent escalates; await again
    ticket.leave("caller_gone")            # any time, idempotent
    async for notice in ticket.notices(): …                 # journal them
    service.position(call_id) -> Position | None; service.explain(call_id) -> list[Decision]
    await service.login/logout/pause(agent_id, reason)/resume(agent_id)
    await service.end_wrapup(agent_id, call_id)             # done early: ready again
    service.set_reachable(agent_id, reachable)              # from AMI device state
    await service.apply_config(config)     # all or nothing; reaches waiting calls at once

`next_offers()` raises a `TicketClosed` once the call left routing: `QueueExited` (message or
callback exit, with the notice), `WaitTimeout` (max wait, no exit), `QueueRemoved`,
`ServiceStopped`. The engine enforces `Offer.ring_timeout_s` and reports `declined`; routing
never withdraws a ringing offer itself (a step opening or max wait while ringing waits for the
outcome), so a late answer cannot race a second offer for the same agent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args, overload

import structlog

from routing.calls import Close, Deliver, DuplicateCall, Effect, Notify
from routing.clock import Clock
from routing.config import RoutingConfig
from routing.lifecycle import DeclineReason
from routing.model import (
    AgentConfig,
    Decision,
    HandoffContext,
    Offer,
    Position,
    QueueConfig,
    RoutingSnapshot,
)
from routing.notices import (
    Notice,
    OfferNotLive,
    Overflowed,
    ServiceStopped,
    TicketClosed,
    Transferred,
    UnknownAgent,
    UnknownQueue,
)
from routing.router import Router

__all__ = ["DeclineReason", "QueueService", "Ticket"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Call:
    """A ticket's request, run by the actor against the router at the current time."""

    ticket: Ticket | None
    run: Callable[[Router, float], None]


@dataclass(frozen=True, slots=True)
class _Command:
    run: Callable[[Router, float], None]
    done: asyncio.Future[None]


_TICK = object()
_Message = _Call | _Command | object


class Ticket:
    """One call's place in routing; owned by that call's task."""

    def __init__(self, call_id: str, queue_id: str, service: QueueService) -> None:
        self.call_id = call_id
        self.queue_id = queue_id  # follows overflows and transfers
        self._service = service
        self._offers: asyncio.Queue[tuple[Offer, ...] | None] = asyncio.Queue()
        self._notices: asyncio.Queue[Notice | None] = asyncio.Queue()
        self._closed: TicketClosed | None = None
        self._live: dict[str, Offer] = {}
        self._answered: Offer | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def answered_offer(self) -> Offer | None:
        """The offer whose agent is talking to the caller, if any."""
        return self._answered

    async def next_offers(self) -> tuple[Offer, ...]:
        """The next offers for this call; raises TicketClosed once it left routing."""
        while True:
            if self._closed is not None:
                raise self._closed.with_traceback(None)
            batch = await self._offers.get()
            if batch is not None:
                self._live.update((o.offer_id, o) for o in batch)
                return batch

    def answered(self, offer: Offer) -> tuple[Offer, ...]:
        """The agent answered: returns the call's other ringing offers, which lost."""
        if self._live.pop(offer.offer_id, None) is None:
            raise OfferNotLive(f"offer {offer.offer_id} is not ringing for {self.call_id}")
        others = tuple(self._live.values())
        self._live.clear()
        self._answered = offer
        self._send(lambda r, now: r.answered(self.call_id, offer.offer_id, now))
        return others

    def declined(self, offer: Offer, reason: DeclineReason = "no_answer") -> None:
        """The offer ended without an answer; a no-longer-ringing offer is ignored."""
        if reason not in get_args(DeclineReason):
            raise ValueError(f"unknown decline reason {reason!r}")
        if self._live.pop(offer.offer_id, None) is not None:
            self._send(lambda r, now: r.declined(self.call_id, offer.offer_id, reason, now))

    def completed(self, offer: Offer) -> None:
        """The conversation with the answering agent ended; closes the ticket."""
        if self._answered is not None and self._answered.offer_id == offer.offer_id:
            self._send(lambda r, now: r.completed(self.call_id, offer.offer_id, now))
            self._answered = None
            self._close(TicketClosed("completed"))

    def transfer(self, queue_id: str | None = None, min_tier: int | None = None,
                 notes: str = "") -> None:
        """The answering agent sends the caller to `queue_id` (default: this queue), to agents
        of tier >= `min_tier`; age and priority are kept, `notes` reach the next agent."""
        if self._answered is None:
            raise OfferNotLive(f"call {self.call_id} has no answered offer to transfer")
        if queue_id is not None and self._service.config.queue(queue_id) is None:
            raise UnknownQueue(queue_id)
        if min_tier is not None and min_tier < 1:
            raise ValueError("min_tier must be >= 1")
        offer_id = self._answered.offer_id
        self._answered = None
        self._send(lambda r, now: r.transfer(self.call_id, offer_id, queue_id, min_tier, notes,
                                             now))

    def leave(self, reason: str = "abandoned") -> None:
        """Idempotent and valid in any state; frees an agent offered or connected to the call."""
        if self._closed is None:
            self._close(TicketClosed(reason))
            self._send(lambda r, now: r.leave(self.call_id, reason, now))

    async def notices(self) -> AsyncIterator[Notice]:
        """Routing notices for this call, until it leaves routing."""
        while True:
            notice = await self._notices.get()
            if notice is None:
                return
            yield notice

    def drain_notices(self) -> list[Notice]:
        """The notices received so far, without waiting."""
        out: list[Notice] = []
        while not self._notices.empty():
            notice = self._notices.get_nowait()
            if notice is not None:
                out.append(notice)
        return out

    def _send(self, run: Callable[[Router, float], None]) -> None:
        self._service._post(_Call(self, run))

    def _deliver(self, offers: tuple[Offer, ...]) -> None:
        self._offers.put_nowait(offers)

    def _notify(self, notice: Notice) -> None:
        if isinstance(notice, Overflowed | Transferred):
            self.queue_id = notice.to_queue
        self._notices.put_nowait(notice)

    def _close(self, error: TicketClosed) -> None:
        if self._closed is None:
            self._closed = error
            self._live.clear()  # an answer after routing let go must not be taken
            self._offers.put_nowait(None)
            self._notices.put_nowait(None)


class QueueService:
    """Routing behind one actor task; start `run()` once and cancel it to stop."""

    @overload
    def __init__(self, config: RoutingConfig, clock: Clock, *, seed: int = 0,
                 start_logged_in: bool = True) -> None: ...

    @overload
    def __init__(self, config: Sequence[QueueConfig], clock: Sequence[AgentConfig],
                 legacy_clock: Clock, /) -> None: ...

    def __init__(self, config: RoutingConfig | Sequence[QueueConfig],
                 clock: Clock | Sequence[AgentConfig], legacy_clock: Clock | None = None, *,
                 seed: int = 0, start_logged_in: bool = True) -> None:
        # Transitional second form: QueueService(queues, agents, clock) from the YAML settings.
        if not isinstance(config, RoutingConfig):
            assert legacy_clock is not None and isinstance(clock, Sequence)
            config, clock = RoutingConfig.from_simple(config, clock), legacy_clock
        assert not isinstance(clock, Sequence)
        self._clock = clock
        self._router = Router(config, clock.now(), seed=seed, start_logged_in=start_logged_in)
        self._tickets: dict[str, Ticket] = {}
        self._inbox: asyncio.Queue[_Message] = asyncio.Queue()
        self._phase: Literal["new", "running", "stopped"] = "new"
        self._timer: asyncio.Task[None] | None = None
        self._armed: float | None = None

    @property
    def config(self) -> RoutingConfig:
        return self._router.config

    def enqueue(self, call_id: str, queue_id: str, *, caller_number: str | None = None,
                priority: int = 0, context: HandoffContext | None = None,
                waited_s: float = 0.0) -> Ticket:
        """`waited_s`: how long the caller already waited before a restart (keeps its place)."""
        self._check_open(queue_id)
        ticket = Ticket(call_id, queue_id, self)
        self._post(_Call(ticket, lambda r, now: r.enqueue(call_id, queue_id, caller_number,
                                                          priority, context, now, waited_s)))
        return ticket

    def restore_answered(self, call_id: str, queue_id: str, agent_id: str, *,
                         caller_number: str | None = None, waited_s: float = 0.0) -> Ticket:
        """A conversation kept through a restart of the service: the agent is busy with it
        again; the ticket is answered (`completed` or `transfer` as usual). An agent or queue
        removed from the configuration meanwhile is not tracked (a queue: the ticket closes)."""
        if self._phase == "stopped":
            raise ServiceStopped("queue service stopped")
        agent = next((a for a in self.config.agents if a.agent_id == agent_id), None)
        queue = self.config.queue(queue_id)
        version = self.config.version
        offer = Offer(f"{call_id}:adopted", call_id, queue_id, agent_id,
                      agent.endpoint if agent else "",
                      queue.ring_timeout_s if queue else 0.0, version,
                      Decision(self._clock.now(), call_id, queue_id, version, (), lambda: ()))
        ticket = Ticket(call_id, queue_id, self)
        ticket._answered = offer
        self._post(_Call(ticket, lambda r, now: r.restore_answered(offer, caller_number,
                                                                   waited_s, now)))
        return ticket

    def _check_open(self, queue_id: str) -> None:
        if self._router.config.queue(queue_id) is None:
            raise UnknownQueue(queue_id)
        if self._phase == "stopped":
            raise ServiceStopped("queue service stopped")

    async def login(self, agent_id: str) -> None:
        await self._command(agent_id, "login", None)

    async def logout(self, agent_id: str) -> None:
        await self._command(agent_id, "logout", None)

    async def pause(self, agent_id: str, reason: str = "paused") -> None:
        await self._command(agent_id, "pause", reason)

    async def resume(self, agent_id: str) -> None:
        await self._command(agent_id, "resume", None)

    async def end_wrapup(self, agent_id: str, call_id: str | None = None) -> None:
        """End the agent's wrap-up (of `call_id`, when given) now; CommandRejected when the
        agent is not wrapping that call up."""
        await self._command(agent_id, "end_wrapup", call_id)

    def set_reachable(self, agent_id: str, reachable: bool) -> None:
        """From AMI device state; fire and forget."""
        self._known(agent_id)
        self._post(_Call(None, lambda r, now: r.agent_command(agent_id, "reachable",
                                                              reachable, now)))

    async def apply_config(self, config: RoutingConfig) -> None:
        """Validated, then applied all at once, also to calls already waiting (InvalidConfig)."""
        await self._run(lambda r, now: r.apply_config(config, now))

    async def reset_daily_counters(self) -> None:
        await self._run(lambda r, now: r.reset_daily(now))

    def position(self, call_id: str) -> Position | None:
        return self._router.position(call_id)

    def explain(self, call_id: str) -> list[Decision]:
        return self._router.explain(call_id)

    def snapshot(self) -> RoutingSnapshot:
        return self._router.snapshot()

    def now(self) -> float:
        """The routing clock's time now (the snapshot's `at` is the last event's)."""
        return self._clock.now()

    async def run(self) -> None:
        if self._phase != "new":
            raise RuntimeError("QueueService.run() can only be started once")
        self._phase = "running"
        try:
            async with asyncio.TaskGroup() as tg:
                while True:
                    message = await self._inbox.get()
                    self._handle(message, self._clock.now())
                    self._dispatch(self._router.take_effects())
                    self._arm(tg)
        finally:
            self._phase = "stopped"
            for ticket in self._tickets.values():
                ticket._close(ServiceStopped("queue service stopped"))
            while not self._inbox.empty():
                message = self._inbox.get_nowait()
                if isinstance(message, _Command) and not message.done.done():
                    message.done.set_exception(ServiceStopped("queue service stopped"))

    # ------------------------------------------------------------ inside the actor

    def _post(self, message: _Message) -> None:
        self._inbox.put_nowait(message)

    def _handle(self, message: _Message, now: float) -> None:
        if isinstance(message, _Command):
            try:
                message.run(self._router, now)
            except Exception as exc:  # the caller gets it; the actor carries on
                if not message.done.done():
                    message.done.set_exception(exc)
            else:
                if not message.done.done():
                    message.done.set_result(None)
        elif isinstance(message, _Call):
            self._handle_call(message, now)
        else:
            self._armed = None
            self._router.advance(now)

    def _handle_call(self, message: _Call, now: float) -> None:
        ticket = message.ticket
        if ticket is not None and ticket.call_id not in self._tickets and not ticket.closed:
            self._tickets[ticket.call_id] = ticket
        try:
            message.run(self._router, now)
        except (DuplicateCall, UnknownQueue, UnknownAgent) as exc:
            self._drop(ticket, TicketClosed(f"{type(exc).__name__}: {exc}"))
        except Exception:
            # A bug must not stop routing for every caller: this call goes to the engine's
            # fallback, the others carry on.
            log.exception("routing.error", call_id=ticket.call_id if ticket else None)
            if ticket is not None:
                with contextlib.suppress(Exception):
                    self._router.leave(ticket.call_id, "routing_error", now)
            self._drop(ticket, TicketClosed("routing error"))

    def _drop(self, ticket: Ticket | None, error: TicketClosed) -> None:
        if ticket is None:
            return
        if self._tickets.get(ticket.call_id) is ticket:
            del self._tickets[ticket.call_id]
        ticket._close(error)

    def _dispatch(self, effects: list[Effect]) -> None:
        for effect in effects:
            ticket = self._tickets.get(effect.call_id)
            if ticket is None:
                continue
            if isinstance(effect, Deliver):
                ticket._deliver(effect.offers)
            elif isinstance(effect, Notify):
                ticket._notify(effect.notice)
            elif isinstance(effect, Close):
                del self._tickets[effect.call_id]
                ticket._close(effect.error)

    def _arm(self, tg: asyncio.TaskGroup) -> None:
        at = self._router.next_deadline()
        if at == self._armed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._armed, self._timer = at, None
        if at is not None:
            self._timer = tg.create_task(self._wake_at(at))

    async def _wake_at(self, at: float) -> None:
        await self._clock.sleep_until(at)
        self._post(_TICK)

    def _known(self, agent_id: str) -> str:
        if self._router.config.agent(agent_id) is None:
            raise UnknownAgent(agent_id)
        return agent_id

    async def _command(self, agent_id: str, command: str, arg: str | None) -> None:
        self._known(agent_id)
        await self._run(lambda r, now: r.agent_command(agent_id, command, arg, now))

    async def _run(self, run: Callable[[Router, float], None]) -> None:
        if self._phase == "stopped":
            raise ServiceStopped("queue service stopped")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._post(_Command(run, done))
        await done
