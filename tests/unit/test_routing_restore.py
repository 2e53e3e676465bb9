"""The routing core after a restart of the service: callers rejoin with the time they already
waited, and conversations the last run connected keep their agent busy."""

from __future__ import annotations

from routing.calls import Deliver
from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    RoutingConfig,
    Skill,
    SkillRequirement,
)
from routing.model import AgentState, Decision, Offer
from routing.router import Router


def two_agents() -> RoutingConfig:
    staff = tuple(Agent(f"a{i}", f"A{i}", f"PJSIP/a{i}", 1, (AgentSkill("s", 3),))
                  for i in (1, 2))
    queue = Queue("q", "Q", (SkillRequirement("s"),), wrapup_s=0, max_wait_s=100)
    return RoutingConfig((Skill("s", "S"),), staff, (queue,), ())


def offered(r: Router) -> list[tuple[str, str]]:
    return [(e.call_id, o.agent_id) for e in r.take_effects() if isinstance(e, Deliver)
            for o in e.offers]


def adopted_offer(call_id: str, agent_id: str) -> Offer:
    return Offer(f"{call_id}:adopted", call_id, "q", agent_id, f"PJSIP/{agent_id}", 15.0, 1,
                 Decision(0.0, call_id, "q", 1, (), lambda: ()))


def test_a_caller_who_waited_longer_before_the_restart_is_served_first() -> None:
    r = Router(two_agents(), 1000.0)
    for agent in ("a1", "a2"):
        r.agent_command(agent, "pause", "busy", 1000.0)
    r.enqueue("rejoined_first", "q", None, 0, None, 1000.0, waited_s=5.0)
    r.enqueue("waited_longest", "q", None, 0, None, 1000.0, waited_s=40.0)
    r.take_effects()
    r.agent_command("a1", "resume", None, 1001.0)

    assert offered(r) == [("waited_longest", "a1")]
    assert r.t.calls["waited_longest"].joined_at == 960.0


def test_the_max_wait_counts_the_time_waited_before_the_restart() -> None:
    r = Router(two_agents(), 1000.0)
    for agent in ("a1", "a2"):
        r.agent_command(agent, "pause", "busy", 1000.0)
    r.enqueue("c", "q", None, 0, None, 1000.0, waited_s=90.0)
    r.take_effects()

    assert r.next_deadline() is not None and r.next_deadline() <= 1010.0


def test_a_restored_conversation_keeps_its_agent_until_completed() -> None:
    r = Router(two_agents(), 1000.0)
    offer = adopted_offer("talking", "a1")
    r.restore_answered(offer, "+1555", waited_s=30.0, now=1000.0)
    assert r.view("a1").state is AgentState.ON_CALL and r.view("a1").call_id == "talking"

    r.enqueue("next", "q", None, 0, None, 1001.0)
    assert offered(r) == [("next", "a2")]  # a1 is not offered while they talk

    r.completed("talking", offer.offer_id, 1010.0)
    assert r.view("a1").state is AgentState.IDLE and "talking" not in r.t.calls


def test_a_restored_conversation_of_an_agent_no_longer_configured_is_still_tracked() -> None:
    r = Router(two_agents(), 1000.0)
    r.restore_answered(adopted_offer("talking", "gone"), None, waited_s=0.0, now=1000.0)

    assert r.t.calls["talking"].answered is not None
    assert {r.view(a).state for a in ("a1", "a2")} == {AgentState.IDLE}


def test_plan_steps_already_due_open_at_once_for_a_rejoining_caller() -> None:
    queue = Queue("q", "Q", (SkillRequirement("s"),), wrapup_s=0,
                  plan=(PlanStep("later", after_s=20, priority_delta=5),))
    config = RoutingConfig((Skill("s", "S"),), two_agents().agents, (queue,), ())
    r = Router(config, 1000.0)
    for agent in ("a1", "a2"):
        r.agent_command(agent, "pause", "busy", 1000.0)
    r.enqueue("c", "q", None, 0, None, 1000.0, waited_s=30.0)

    assert r.t.calls["c"].priority == 5
