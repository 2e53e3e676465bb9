"""Agent lifecycle: pure transitions of an `AgentView`.

status (people): logged_out -> available <-> paused(reason) -> logged_out.
state (routing): idle -> offered -> on_call -> wrap_up (per queue seconds) -> idle; offered ->
idle when declined or released. Pausing or logging out never cuts a ring or a call short. The
agent may end their wrap-up of a call early (`end_wrapup`: a disposition given): ready again.

Decline causes are counted separately: `no_answer` (ring timeout) is the only one that counts
towards auto-pause, and it counts consecutive misses: after `Agent.max_no_answer` (0 = never)
the agent is paused with reason `no_answer`. An answered call and a resume reset the count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from routing.model import AgentState, AgentStatus, AgentView
from routing.notices import CommandRejected

DeclineReason = Literal["no_answer", "busy", "rejected", "failed"]
NO_ANSWER_PAUSE = "no_answer"


def offer(view: AgentView, call_id: str) -> AgentView:
    return replace(view, state=AgentState.OFFERED, call_id=call_id, wrapup_until=None,
                   wrapup_call_id=None)


def answer(view: AgentView, now: float) -> AgentView:
    return replace(view, state=AgentState.ON_CALL, calls_today=view.calls_today + 1,
                   no_answer_count=0, answered_at=now)


def release(view: AgentView) -> AgentView:
    """An offer withdrawn without fault (ring-all loser, caller gone): no counter changes."""
    return replace(view, state=AgentState.IDLE, call_id=None)


def decline(view: AgentView, reason: DeclineReason, max_no_answer: int) -> AgentView:
    view = release(view)
    if reason == "busy":
        return replace(view, busy_count=view.busy_count + 1)
    if reason == "rejected":
        return replace(view, rejected_count=view.rejected_count + 1)
    if reason == "failed":
        return replace(view, failed_count=view.failed_count + 1)
    misses = view.no_answer_count + 1
    view = replace(view, no_answer_count=misses)
    if max_no_answer > 0 and misses >= max_no_answer and view.status is AgentStatus.AVAILABLE:
        view = replace(view, status=AgentStatus.PAUSED, pause_reason=NO_ANSWER_PAUSE)
    return view


def end_call(view: AgentView, now: float, wrapup_s: float) -> AgentView:
    """The conversation ended: talk time counted, idle time restarts, wrap-up begins."""
    talk = now - view.answered_at if view.answered_at is not None else 0.0
    state = AgentState.WRAP_UP if wrapup_s > 0 else AgentState.IDLE
    return replace(view, state=state, call_id=None, idle_since=now, answered_at=None,
                   wrapup_until=now + wrapup_s if wrapup_s > 0 else None,
                   wrapup_call_id=view.call_id if wrapup_s > 0 else None,
                   talk_time_today=view.talk_time_today + talk)


def wrapup_done(view: AgentView, now: float) -> AgentView:
    if view.state is AgentState.WRAP_UP and view.wrapup_until is not None \
            and now >= view.wrapup_until:
        return replace(view, state=AgentState.IDLE, wrapup_until=None, wrapup_call_id=None)
    return view


def end_wrapup(view: AgentView, call_id: str | None = None) -> AgentView:
    """The agent is done with the call before the wrap-up timer: idle (ready) now. With
    `call_id`, only the wrap-up of that call ends (a late note on an older call must not cut
    the wrap-up of the next one short). The timer left behind finds an idle agent: no-op."""
    if view.state is not AgentState.WRAP_UP:
        raise CommandRejected(f"agent {view.agent_id} is not in wrap-up ({view.state})")
    if call_id is not None and view.wrapup_call_id != call_id:
        raise CommandRejected(f"agent {view.agent_id} is wrapping up another call")
    return replace(view, state=AgentState.IDLE, wrapup_until=None, wrapup_call_id=None)


def login(view: AgentView) -> AgentView:
    if view.status is not AgentStatus.LOGGED_OUT:
        return view
    return replace(view, status=AgentStatus.AVAILABLE, pause_reason=None, no_answer_count=0)


def logout(view: AgentView) -> AgentView:
    return replace(view, status=AgentStatus.LOGGED_OUT, pause_reason=None)


def pause(view: AgentView, reason: str) -> AgentView:
    if view.status is AgentStatus.LOGGED_OUT:
        raise CommandRejected(f"agent {view.agent_id} is not logged in")
    return replace(view, status=AgentStatus.PAUSED, pause_reason=reason or "paused")


def resume(view: AgentView) -> AgentView:
    if view.status is not AgentStatus.PAUSED:
        raise CommandRejected(f"agent {view.agent_id} is not paused ({view.status})")
    return replace(view, status=AgentStatus.AVAILABLE, pause_reason=None, no_answer_count=0)


def reset_daily(view: AgentView) -> AgentView:
    return replace(view, calls_today=0, talk_time_today=0.0, busy_count=0, rejected_count=0,
                   failed_count=0)
