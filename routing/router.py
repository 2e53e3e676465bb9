"""The routing core: all routing state and every event, without I/O or asyncio.

Every method takes the current time `now`; it first runs the timers due by then (each at its
own time, so a step opens at exactly `entered_at + after_s`), then applies the event, then
settles (offers whatever the event made possible, see `routing.matcher`). What the engine must
hear comes out of `take_effects()`: offers to deliver, notices, tickets to close.
`next_deadline()` says when the next timer is due; the actor sleeps until then.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, OrderedDict
from dataclasses import replace

from routing import lifecycle as life
from routing.calls import CallRecord, Close, Credit, Deliver, DuplicateCall, Effect, Notify
from routing.config import RoutingConfig
from routing.decide import make_offers
from routing.explain import Candidate, decision
from routing.lifecycle import DeclineReason
from routing.matcher import Matcher, Tables, indexable
from routing.model import (
    AgentState,
    AgentStatus,
    AgentView,
    Decision,
    Handoff,
    HandoffContext,
    Offer,
    Position,
    RoutingSnapshot,
)
from routing.notices import (
    AgentAutoPaused,
    CommandRejected,
    InvalidConfig,
    Notice,
    QueueRemoved,
    TicketClosed,
    UnknownAgent,
    UnknownQueue,
)
from routing.plan import compile_queue
from routing.positions import Positions
from routing.timing import CallTiming

RETRY_S = 5.0  # an agent who declined a call is not offered that call again for this long
KEEP_CLOSED = 1000  # closed calls whose decisions stay explainable


class Router(CallTiming):
    def __init__(
        self, config: RoutingConfig, now: float = 0.0, *, seed: int = 0,
        start_logged_in: bool = True, retry_s: float = RETRY_S,
    ) -> None:
        problems = config.validate()
        if problems:
            raise InvalidConfig(problems)
        self.now = now
        self.retry_s = retry_s
        self.start_logged_in = start_logged_in
        self.seed = seed
        self.seq = itertools.count()
        self.effects: list[Effect] = []
        self.credits: dict[str, Credit] = {}
        self.decisions: dict[str, list[Decision]] = {}
        self.closed: OrderedDict[str, list[Decision]] = OrderedDict()
        self.handle_s: dict[str, float] = {}
        self.timers: list[tuple[float, int, str, str]] = []
        self._tick = itertools.count()
        self.retired: dict[str, AgentView] = {}
        self.config = config
        self._install(config, {}, {}, {})

    # ------------------------------------------------------------ state set-up

    def _install(
        self, config: RoutingConfig, views: dict[str, AgentView],
        calls: dict[str, CallRecord], rr_last: dict[str, int],
    ) -> None:
        compiled = {q.queue_id: compile_queue(q, config.agents) for q in config.queues}
        status = AgentStatus.AVAILABLE if self.start_logged_in else AgentStatus.LOGGED_OUT
        fresh = {a.agent_id: views.get(a.agent_id) or AgentView(a.agent_id, status,
                                                                 idle_since=self.now)
                 for a in config.agents}
        self.t = Tables(compiled, {a.agent_id: a for a in config.agents},
                        {a.agent_id: i for i, a in enumerate(config.agents)}, fresh, calls,
                        rr_last, [a.agent_id for a in config.agents])
        self.logged_in: Counter[tuple[str, int]] = Counter()
        self.serving: Counter[tuple[str, int]] = Counter()
        for agent_id, view in fresh.items():
            self._count(agent_id, view, 1)
        self.positions = Positions(calls.values())
        self.matcher = Matcher(self.t, self.now, self.seed)

    def _count(self, agent_id: str, view: AgentView, sign: int) -> None:
        if view.status is AgentStatus.LOGGED_OUT:
            return
        serving = view.status is AgentStatus.AVAILABLE and view.reachable
        for cq in self.t.compiled.values():
            for j in cq.admitted_by.get(agent_id, ()):
                self.logged_in[(cq.queue_id, j)] += sign
            if serving and agent_id in cq.rank:
                self.serving[(cq.queue_id, cq.rank[agent_id])] += sign

    # ------------------------------------------------------------ time

    def advance(self, now: float) -> None:
        """Run every timer due by `now`, each at its own time, settling after each."""
        while self.timers and self.timers[0][0] <= now:
            instant = self.timers[0][0]
            self._at(max(instant, self.now))
            while self.timers and self.timers[0][0] == instant:
                at, _, kind, key = heapq.heappop(self.timers)
                if kind == "call":
                    call = self.t.calls.get(key)
                    if call is not None and call.timer_at == at:
                        self.on_call_timer(call)
                elif key in self.t.views:
                    self._set_agent(key, life.wrapup_done(self.t.views[key], self.now))
            self.settle()
        self._at(max(now, self.now))

    def next_deadline(self) -> float | None:
        return self.timers[0][0] if self.timers else None

    def _at(self, now: float) -> None:
        self.now = now
        self.matcher.now = now

    def schedule(self, kind: str, key: str, at: float) -> None:
        heapq.heappush(self.timers, (at, next(self._tick), kind, key))

    def take_effects(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    def notify(self, call: CallRecord, notice: Notice) -> None:
        self.effects.append(Notify(call.call_id, notice))

    # ------------------------------------------------------------ agents

    def _set_agent(self, agent_id: str, new: AgentView) -> None:
        if agent_id in self.retired:
            self.retired[agent_id] = new
            if new.state in (AgentState.IDLE, AgentState.WRAP_UP):
                del self.retired[agent_id]
            return
        old = self.t.views[agent_id]
        was, free = indexable(old), indexable(new)
        self.t.views[agent_id] = new
        self._count(agent_id, old, -1)
        self._count(agent_id, new, 1)
        if was and not free:
            self.matcher.agent_busy(agent_id)
        elif free:
            self.matcher.agent_free(agent_id)
        if new.state is AgentState.WRAP_UP and new.wrapup_until is not None \
                and old.wrapup_until != new.wrapup_until:
            self.schedule("agent", agent_id, new.wrapup_until)
        if new.status is AgentStatus.LOGGED_OUT and old.status is not AgentStatus.LOGGED_OUT:
            self.recheck_skips(agent_id)

    def view(self, agent_id: str) -> AgentView:
        if agent_id in self.t.views:
            return self.t.views[agent_id]
        if agent_id in self.retired:
            return self.retired[agent_id]
        raise UnknownAgent(agent_id)

    def agent_command(self, agent_id: str, command: str, arg: str | bool | None, now: float
                      ) -> None:
        """login / logout / pause(reason) / resume / reachable(bool) / end_wrapup(call id)."""
        self.advance(now)
        if agent_id not in self.t.views:
            raise UnknownAgent(agent_id)
        view = self.t.views[agent_id]
        if command == "login":
            new = life.login(view)
        elif command == "logout":
            new = life.logout(view)
        elif command == "pause":
            new = life.pause(view, str(arg or "paused"))
        elif command == "resume":
            new = life.resume(view)
        elif command == "reachable":
            new = replace(view, reachable=bool(arg))
        elif command == "end_wrapup":
            new = life.end_wrapup(view, str(arg) if arg else None)
        else:
            raise CommandRejected(f"unknown command {command!r}")
        self._set_agent(agent_id, new)
        self.settle()

    def reset_daily(self, now: float) -> None:
        """Start a new day for least-talk-time and fewest-calls (the engine calls it at 00:00)."""
        self.advance(now)
        for agent_id, view in list(self.t.views.items()):
            self.t.views[agent_id] = life.reset_daily(view)
            if indexable(view):
                self.matcher.agent_free(agent_id)
        self.settle()

    # ------------------------------------------------------------ offers

    def settle(self) -> None:
        """Offer whatever the last changes made possible (called after every event)."""
        self.matcher.settle(self._offer)

    def _offer(self, call: CallRecord, group: list[Candidate], new_round: bool) -> None:
        cq = self.t.compiled[call.queue_id]
        if new_round:
            call.tried = {a: u for a, u in call.tried.items() if u > self.now}
        before = call.view()
        for c in group:
            self._set_agent(c.agent.agent_id, life.offer(c.view, call.call_id))
        self.t.rr_last[call.queue_id] = group[-1].position
        views = self.t.views
        members = tuple([views[a] for a in cq.members])
        offers = make_offers(cq, before, group, new_round, self.now, self.config.version,
                             self.t.agents, members)
        call.attempts += len(offers)
        call.offers.update((o.offer_id, o) for o in offers)
        self.matcher.call_changed(call)
        self.decisions.setdefault(call.call_id, []).append(offers[0].decision)
        self.effects.append(Deliver(call.call_id, tuple(offers)))

    # ------------------------------------------------------------ outcomes of offers

    def answered(self, call_id: str, offer_id: str, now: float) -> None:
        self.advance(now)
        call = self.t.calls.get(call_id)
        offer = call.offers.pop(offer_id, None) if call is not None else None
        if call is None or offer is None:
            return
        for other in call.offers.values():  # ring-all: the others stop ringing, no penalty
            self._set_agent(other.agent_id, life.release(self.view(other.agent_id)))
        call.offers.clear()
        call.answered = offer
        self._set_agent(offer.agent_id, life.answer(self.view(offer.agent_id), self.now))
        self.file(call)
        self.settle()

    def declined(self, call_id: str, offer_id: str, reason: DeclineReason, now: float) -> None:
        self.advance(now)
        call = self.t.calls.get(call_id)
        offer = call.offers.pop(offer_id, None) if call is not None else None
        if call is None or offer is None:
            return
        agent = self.t.agents.get(offer.agent_id)
        old = self.view(offer.agent_id)
        new = life.decline(old, reason, agent.max_no_answer if agent else 0)
        self._set_agent(offer.agent_id, new)
        if new.status is AgentStatus.PAUSED and old.status is AgentStatus.AVAILABLE:
            self.notify(call, AgentAutoPaused(self.now, offer.agent_id, new.no_answer_count))
        call.tried[offer.agent_id] = self.now + self.retry_s
        if not call.offers and call.expired:
            self.exit(call)
        else:
            self.file(call)
        self.settle()

    def completed(self, call_id: str, offer_id: str, now: float) -> None:
        self.advance(now)
        call = self.t.calls.get(call_id)
        if call is None or call.answered is None or call.answered.offer_id != offer_id:
            return
        self._end_conversation(call)
        self.close(call, TicketClosed("completed"))
        self.settle()

    def _end_conversation(self, call: CallRecord) -> None:
        assert call.answered is not None
        cq = self.t.compiled.get(call.queue_id)
        wrapup = cq.queue.wrapup_s if cq is not None else 0.0
        view = self.view(call.answered.agent_id)
        talk = self.now - view.answered_at if view.answered_at is not None else 0.0
        self.handle_s[call.queue_id] = self.smooth(call.queue_id, talk + wrapup)
        self._set_agent(call.answered.agent_id, life.end_call(view, self.now, wrapup))
        call.answered = None

    def leave(self, call_id: str, reason: str, now: float) -> None:
        self.advance(now)
        call = self.t.calls.get(call_id)
        if call is None:
            return
        if call.answered is not None:
            self._end_conversation(call)
        else:
            for offer in call.offers.values():
                self._set_agent(offer.agent_id, life.release(self.view(offer.agent_id)))
            call.offers.clear()
            self.remember(call)
        self.close(call, TicketClosed(reason))
        self.settle()

    def transfer(
        self, call_id: str, offer_id: str, queue_id: str | None, min_tier: int | None,
        notes: str, now: float,
    ) -> None:
        """The answering agent sends the caller on, keeping age and priority credit."""
        self.advance(now)
        call = self.t.calls.get(call_id)
        if call is None or call.answered is None or call.answered.offer_id != offer_id:
            return
        target = queue_id if queue_id in self.t.compiled else call.queue_id
        agent_id = call.answered.agent_id
        self._end_conversation(call)
        if target not in self.t.compiled:  # its queue was removed while it talked
            self.close(call, QueueRemoved(f"queue {target} was removed"))
            self.settle()
            return
        handoff = Handoff(self.now, agent_id, call.queue_id, target, min_tier, notes)
        call.context = replace(call.context, handoffs=(*call.context.handoffs, handoff))
        call.min_tier = max(1, min_tier or 1)
        call.dedicated = call.dedicated_until = None
        self.transferred(call, target, {agent_id: self.now + self.retry_s})
        self.settle()

    # ------------------------------------------------------------ calls

    def enqueue(
        self, call_id: str, queue_id: str, caller_number: str | None, priority: int,
        context: HandoffContext | None, now: float, waited_s: float = 0.0,
    ) -> None:
        """A caller joins `queue_id`; `waited_s` is how long they already waited there before
        a restart of the service, so their place, plan steps and max wait carry on."""
        self.advance(now)
        if call_id in self.t.calls:
            raise DuplicateCall(call_id)
        if queue_id not in self.t.compiled:
            raise UnknownQueue(queue_id)
        joined = self.now - max(0.0, waited_s)
        call = CallRecord(call_id, queue_id, caller_number, joined, joined, joined,
                          next(self.seq), ivr_priority=priority,
                          context=context or HandoffContext())
        self.admit(call)
        self.settle()

    def restore_answered(self, offer: Offer, caller_number: str | None, waited_s: float,
                         now: float) -> None:
        """A conversation an earlier run of the service connected and Asterisk kept through
        its restart: the agent is on this call again, until `completed` or `transfer`."""
        self.advance(now)
        if offer.call_id in self.t.calls:
            raise DuplicateCall(offer.call_id)
        if offer.queue_id not in self.t.compiled:
            raise UnknownQueue(offer.queue_id)
        joined = self.now - max(0.0, waited_s)
        call = CallRecord(offer.call_id, offer.queue_id, caller_number, joined, joined, joined,
                          next(self.seq), context=offer.context)
        call.answered = offer
        self.t.calls[call.call_id] = call
        if offer.agent_id in self.t.agents:  # else removed from the configuration meanwhile
            view = life.offer(self.view(offer.agent_id), call.call_id)
            self._set_agent(offer.agent_id, life.answer(view, self.now))
        self.file(call)
        self.settle()

    def close(self, call: CallRecord, error: TicketClosed) -> None:
        self.t.calls.pop(call.call_id, None)
        self.matcher.call_changed(call)
        self.positions.remove(call.call_id)
        self.closed[call.call_id] = self.decisions.pop(call.call_id, [])
        while len(self.closed) > KEEP_CLOSED:
            self.closed.popitem(last=False)
        self.effects.append(Close(call.call_id, error, self.now))

    # ------------------------------------------------------------ reconfiguration

    def apply_config(self, config: RoutingConfig, now: float) -> None:
        """Put a new configuration in force, for the calls already waiting too."""
        problems = config.validate()
        if problems:
            raise InvalidConfig(problems)
        self.advance(now)
        keep = {a.agent_id for a in config.agents}
        views = {**self.retired, **self.t.views}
        self.retired = {a: v for a, v in views.items() if a not in keep
                        and v.state in (AgentState.OFFERED, AgentState.ON_CALL)}
        self.config = config
        self._install(config, views, self.t.calls, self.t.rr_last)
        for call in list(self.t.calls.values()):
            self.reconfigure(call)
        self.settle()

    # ------------------------------------------------------------ queries

    def position(self, call_id: str) -> Position | None:
        call = self.t.calls.get(call_id)
        if call is None or call.answered is not None:
            return None
        pos = self.positions.position(call)
        if call.offers:
            return Position(pos, 0.0)
        return Position(pos, self.eta(call, pos))

    def snapshot(self) -> RoutingSnapshot:
        return RoutingSnapshot(
            self.now, self.config, tuple(self.t.views[a] for a in self.t.ids),
            tuple(c.view() for c in self.t.calls.values()), tuple(self.t.rr_last.items()),
            self.seed)

    def explain(self, call_id: str) -> list[Decision]:
        """Every decision made for the call, plus, while it waits, why nobody is offered now."""
        made = list(self.decisions.get(call_id) or self.closed.get(call_id, []))
        call = self.t.calls.get(call_id)
        if call is not None and call.waiting:
            cq = self.t.compiled[call.queue_id]
            members = tuple(self.t.views[a] for a in cq.members)
            made.append(decision(cq, call.view(), (), self.now, self.config.version,
                                 self.t.agents, members))
        return made
