"""Ending wrap-up early (an agent's disposition): the agent is ready at once and the next caller
is offered to them then, not when the timer would have ended; only the wrap-up of the named
call ends; the timer left behind changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from routing import lifecycle as life
from routing.actor import QueueService
from routing.clock import SimulatedClock
from routing.config import Agent, AgentSkill, Queue, RoutingConfig, Skill, SkillRequirement
from routing.model import AgentState, AgentView
from routing.notices import CommandRejected
from routing.router import Router
from tests.unit.test_routing_core import offers

CONFIG = RoutingConfig(
    (Skill("s", "S"),), (Agent("a1", "A1", "PJSIP/a1", 1, (AgentSkill("s", 3),)),),
    (Queue("q", "Q", (SkillRequirement("s"),), wrapup_s=30),))


def test_the_lifecycle_remembers_which_call_is_wrapped_up() -> None:
    v = life.end_call(life.answer(life.offer(AgentView("a"), "c1"), 10.0), 70.0, 30.0)
    assert (v.state, v.wrapup_call_id, v.call_id) == (AgentState.WRAP_UP, "c1", None)
    with pytest.raises(CommandRejected, match="another call"):
        life.end_wrapup(v, "c0")
    ready = life.end_wrapup(v, "c1")
    assert (ready.state, ready.wrapup_until, ready.wrapup_call_id) == (AgentState.IDLE, None,
                                                                       None)
    assert ready.free(71.0)
    assert life.wrapup_done(ready, 100.0) == ready  # the stale timer: nothing
    with pytest.raises(CommandRejected, match="not in wrap-up"):
        life.end_wrapup(ready)
    no_wrapup = life.end_call(life.answer(life.offer(AgentView("a"), "c1"), 10.0), 70.0, 0.0)
    assert (no_wrapup.state, no_wrapup.wrapup_call_id) == (AgentState.IDLE, None)
    assert life.wrapup_done(v, 100.0).wrapup_call_id is None


def test_the_next_caller_is_offered_when_the_wrapup_ends_early() -> None:
    r = Router(CONFIG, 0.0)
    r.enqueue("c1", "q", None, 0, None, 0.0)
    ((_, (agent,)),) = offers(r)
    (offer,) = r.t.calls["c1"].offers.values()
    r.answered("c1", offer.offer_id, 1.0)
    r.completed("c1", offer.offer_id, 10.0)
    r.enqueue("c2", "q", None, 0, None, 11.0)
    assert offers(r) == []  # a1 wraps c1 up until t=40
    r.agent_command(agent, "end_wrapup", "c1", 12.0)
    assert offers(r) == [("c2", ("a1",))]
    r.advance(40.0)  # the old timer fires on an agent who is ringing: nothing changes
    assert r.view("a1").state is AgentState.OFFERED


async def test_the_actor_refuses_to_end_a_wrapup_that_is_not_running() -> None:
    clock = SimulatedClock(0.0)
    service = QueueService(CONFIG, clock)
    task = asyncio.create_task(service.run())
    try:
        with pytest.raises(CommandRejected, match="not in wrap-up"):
            await service.end_wrapup("a1", "c1")
        ticket = service.enqueue("c1", "q")
        (offer,) = await ticket.next_offers()
        ticket.answered(offer)
        ticket.completed(offer)
        await service.end_wrapup("a1", "c1")
        assert service.snapshot().view("a1").state is AgentState.IDLE
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
