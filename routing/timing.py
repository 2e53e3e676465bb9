"""A call's way through time: admission (VIP, resume), plan steps, timers, exits, moves.

Part of the router (a mixin of `routing.router.Router`), kept apart because it is the part that
depends on the clock. Each call has at most one live timer, at its earliest deadline: the next
plan step, the end of a dedicated phase, the aging cap, max wait, the end of a retry pause, the
next announcement. When it fires, everything due is handled and the next one is armed.
"""

from __future__ import annotations

from collections import Counter

from routing.calls import CallRecord, Credit
from routing.config import RoutingConfig
from routing.estimate import DEFAULT_HANDLE_S, estimate_wait, smooth_handle
from routing.lifecycle import release
from routing.matcher import Matcher, Tables
from routing.model import AgentView
from routing.notices import (
    Announcement,
    ExitTaken,
    Notice,
    Overflowed,
    PriorityChanged,
    QueueExited,
    QueueRemoved,
    Resumed,
    RoutingLoop,
    StepOpened,
    TicketClosed,
    Transferred,
    WaitTimeout,
)
from routing.plan import next_open_at, steps_open
from routing.positions import Positions

ANONYMOUS = frozenset({"", "anonymous", "unknown", "restricted", "unavailable"})


class CallTiming:
    now: float
    t: Tables
    config: RoutingConfig
    matcher: Matcher
    positions: Positions
    credits: dict[str, Credit]
    logged_in: Counter[tuple[str, int]]
    serving: Counter[tuple[str, int]]
    handle_s: dict[str, float]

    def notify(self, call: CallRecord, notice: Notice) -> None:
        raise NotImplementedError

    def schedule(self, kind: str, key: str, at: float) -> None:
        raise NotImplementedError

    def close(self, call: CallRecord, error: TicketClosed) -> None:
        raise NotImplementedError

    def view(self, agent_id: str) -> AgentView:
        raise NotImplementedError

    def _set_agent(self, agent_id: str, new: AgentView) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ admission

    def admit(self, call: CallRecord) -> None:
        """A new ticket: VIP priority and dedicated agent, abandon-resume credit, first steps."""
        vip = self.config.vip(call.caller_number)
        if vip is not None:
            call.vip_priority = vip.priority
            if vip.dedicated_agent in self.t.agents:
                call.dedicated = vip.dedicated_agent
                call.dedicated_until = self.now + vip.dedicated_wait_s
        credit = self._take_credit(call.caller_number)
        if credit is not None:
            call.joined_at = credit.joined_at
            call.ivr_priority = max(call.ivr_priority, credit.ivr_priority)
            call.delta = credit.delta
            if credit.queue_id == call.queue_id:
                call.entered_at, call.opened = credit.entered_at, set(credit.opened)
            self.notify(call, Resumed(self.now, call.joined_at, call.priority, credit.left_at))
        if call.vip_priority > call.ivr_priority:
            self.notify(call, PriorityChanged(self.now, call.ivr_priority, call.priority, "vip"))
        self.t.calls[call.call_id] = call
        self._arrive(call)

    def _take_credit(self, number: str | None) -> Credit | None:
        if not resumable(number):
            return None
        assert number is not None
        credit = self.credits.pop(number, None)
        return credit if credit is not None and self.now <= credit.until else None

    def remember(self, call: CallRecord) -> None:
        """The caller left unanswered: keep its place for the queue's resume window."""
        cq = self.t.compiled.get(call.queue_id)
        if cq is None or not resumable(call.caller_number) or cq.queue.resume_window_s <= 0:
            return
        assert call.caller_number is not None
        if len(self.credits) > 10_000:
            self.credits = {k: c for k, c in self.credits.items() if c.until >= self.now}
        self.credits[call.caller_number] = Credit.of(call, self.now, cq.queue.resume_window_s)

    def _arrive(self, call: CallRecord) -> None:
        q = self.t.compiled[call.queue_id].queue
        call.next_announce = self.now + q.announce_every_s if q.announce_every_s else None
        call.aged = q.aging_cap_s is not None and self.now >= call.joined_at + q.aging_cap_s
        self.progress(call)

    # ------------------------------------------------------------ plan steps

    def progress(self, call: CallRecord) -> None:
        """Open the steps due now (with their actions), then re-file the call."""
        cq = self.t.compiled[call.queue_id]
        qid = cq.queue_id
        for j, early in steps_open(cq, call.open_steps, call.entered_at, self.now,
                                   call.min_tier, lambda j: self.logged_in[(qid, j)]):
            call.open_steps = j + 1
            step = cq.steps[j]
            if step.name in call.opened:
                continue
            call.opened.add(step.name)
            if j > 0 or early or cq.open_at[0] > 0:
                self.notify(call, StepOpened(self.now, qid, step.name, j, early))
            if step.priority_delta:
                old = call.priority
                call.delta += step.priority_delta
                self.notify(call, PriorityChanged(self.now, old, call.priority,
                                                  f"step:{step.name}"))
            if step.overflow_to is not None and step.overflow_to in self.t.compiled:
                self.move(call, step.overflow_to, f"step:{step.name}")
                return
        self.file(call)

    def file(self, call: CallRecord) -> None:
        self.matcher.call_changed(call)
        self.positions.update(call)
        self._arm(call)

    def _arm(self, call: CallRecord) -> None:
        if call.answered is not None:
            return
        cq = self.t.compiled[call.queue_id]
        q = cq.queue
        due: list[float | None] = [next_open_at(cq, call.open_steps, call.entered_at),
                                   call.next_announce]
        if call.in_phase(self.now):
            due.append(call.dedicated_until)
        if q.aging_cap_s is not None and not call.aged:
            due.append(call.joined_at + q.aging_cap_s)
        if q.max_wait_s is not None and not call.expired:
            due.append(call.wait_from + q.max_wait_s)
        due += [u for u in call.tried.values() if u > self.now]
        at = min((d for d in due if d is not None), default=None)
        if at is not None and (call.timer_at is None or at < call.timer_at):
            call.timer_at = at
            self.schedule("call", call.call_id, at)

    def on_call_timer(self, call: CallRecord) -> None:
        call.timer_at = None
        if call.answered is not None:
            return
        q = self.t.compiled[call.queue_id].queue
        if q.aging_cap_s is not None and self.now >= call.joined_at + q.aging_cap_s:
            call.aged = True
        announce = call.next_announce is not None and self.now >= call.next_announce
        if announce:
            call.next_announce = self.now + q.announce_every_s if q.announce_every_s else None
        if q.max_wait_s is not None and not call.expired \
                and self.now >= call.wait_from + q.max_wait_s:
            if not call.offers:
                self.exit(call)
                return
            call.expired = True  # an agent is ringing: wait for the outcome (mod_callcenter)
        self.progress(call)
        if announce and call.call_id in self.t.calls:
            pos = self.positions.position(call)
            eta = 0.0 if call.offers else self.eta(call, pos)
            self.notify(call, Announcement(self.now, pos, eta))

    # ------------------------------------------------------------ leaving a queue

    def exit(self, call: CallRecord) -> None:
        """Max wait reached (and nothing ringing): take the queue's exit."""
        q = self.t.compiled[call.queue_id].queue
        e = q.exit
        if e is None:
            waited = self.now - call.wait_from
            self.close(call, WaitTimeout(f"waited {waited:g} s in {q.queue_id}"))
            return
        notice = ExitTaken(self.now, q.queue_id, e.kind, e.target_queue, e.message)
        self.notify(call, notice)
        if e.kind == "overflow" and e.target_queue in self.t.compiled:
            self.move(call, e.target_queue, "max_wait")
            return
        if e.kind == "callback":
            self.remember(call)
        self.close(call, QueueExited(notice))

    def move(self, call: CallRecord, target: str, cause: str) -> None:
        """Overflow: the call changes queue keeping its age and priority; ringing goes on."""
        at, hops = call.hops
        call.hops = (self.now, hops + 1 if at == self.now else 1)
        if call.hops[1] > len(self.t.compiled):
            self._release_offers(call)
            self.close(call, RoutingLoop(f"overflow cycle through {call.queue_id}"))
            return
        self.notify(call, Overflowed(self.now, call.queue_id, target, cause))
        self.enter(call, target, {})

    def transferred(self, call: CallRecord, target: str, tried: dict[str, float]) -> None:
        self.notify(call, Transferred(self.now, call.queue_id, target,
                                      call.min_tier if call.min_tier > 1 else None))
        self.enter(call, target, tried)

    def enter(self, call: CallRecord, target: str, tried: dict[str, float]) -> None:
        call.queue_id = target
        call.entered_at = call.wait_from = self.now
        call.open_steps, call.opened, call.expired, call.tried = 0, set(), False, dict(tried)
        self._arrive(call)

    def _release_offers(self, call: CallRecord) -> None:
        for offer in call.offers.values():
            self._set_agent(offer.agent_id, release(self.view(offer.agent_id)))
        call.offers.clear()

    # ------------------------------------------------------------ configuration and skips

    def reconfigure(self, call: CallRecord) -> None:
        """Re-derive a call's routing under a new configuration (actions run once per step)."""
        if call.queue_id not in self.t.compiled:
            if call.answered is None:
                self._release_offers(call)
                self.close(call, QueueRemoved(f"queue {call.queue_id} was removed"))
            return
        call.tried = {a: u for a, u in call.tried.items() if a in self.t.agents}
        vip = self.config.vip(call.caller_number)
        call.vip_priority = vip.priority if vip is not None else 0
        if call.dedicated not in self.t.agents:
            call.dedicated = call.dedicated_until = None
        if call.answered is not None:
            return
        q = self.t.compiled[call.queue_id].queue
        call.aged = q.aging_cap_s is not None and self.now >= call.joined_at + q.aging_cap_s
        call.timer_at, call.open_steps, call.expired = None, 0, False
        if q.max_wait_s is not None and self.now >= call.wait_from + q.max_wait_s:
            if not call.offers:
                self.exit(call)
                return
            call.expired = True
        self.progress(call)

    def recheck_skips(self, agent_id: str) -> None:
        """The agent logged out: steps with skip_if_empty may now be empty; open past them."""
        for cq in self.t.compiled.values():
            for j in cq.admitted_by.get(agent_id, ()):
                if cq.steps[j].skip_if_empty and self.logged_in[(cq.queue_id, j)] == 0:
                    for cid in self.positions.calls_in(cq.queue_id):
                        call = self.t.calls[cid]
                        if call.open_steps == j + 1:
                            self.progress(call)

    # ------------------------------------------------------------ estimates

    def smooth(self, queue_id: str, sample: float) -> float:
        return smooth_handle(self.handle_s.get(queue_id), sample)

    def eta(self, call: CallRecord, position: int) -> float | None:
        qid = call.queue_id
        if call.in_phase(self.now) and call.dedicated is not None:
            view = self.t.views.get(call.dedicated)
            pool = int(view is not None and view.status == "available" and view.reachable)
        else:
            pool = sum(self.serving[(qid, r)] for r in range(call.open_steps))
        return estimate_wait(position, pool, self.handle_s.get(qid, DEFAULT_HANDLE_S))


def resumable(number: str | None) -> bool:
    return number is not None and number.strip().lower() not in ANONYMOUS
