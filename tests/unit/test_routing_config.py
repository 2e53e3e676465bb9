"""The routing configuration: validation with field paths, the plan linter, the YAML mapping."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    QueueExit,
    RoutingConfig,
    Skill,
    SkillRequirement,
    Vip,
    lint_plan,
)
from routing.model import AgentConfig, QueueConfig

SKILLS = (Skill("support", "Support"), Skill("billing", "Billing"))
AGENTS = (
    Agent("ann", "Ann", "PJSIP/ann", 1, (AgentSkill("support", 3),)),
    Agent("bob", "Bob", "PJSIP/bob", 2, (AgentSkill("support", 4), AgentSkill("billing", 2))),
    Agent("cy", "Cy", "PJSIP/cy", 3, (AgentSkill("support", 5),)),
)
TIERED = (PlanStep("front", 0, tiers=(1,)), PlanStep("specialists", 30, tiers=(2,)),
          PlanStep("everyone", 60))


def config(*queues: Queue, vips: tuple[Vip, ...] = ()) -> RoutingConfig:
    return RoutingConfig(SKILLS, AGENTS, queues or (Queue("q", "Q", plan=TIERED),), vips, 3)


def problems(c: RoutingConfig) -> dict[str, str]:
    return {p.path: p.message for p in c.validate()}


def test_a_sound_configuration_has_no_problems() -> None:
    assert config().validate() == []


@pytest.mark.parametrize(("change", "path", "words"), [
    (lambda c: replace(c, version=-1), "version", ">= 0"),
    (lambda c: replace(c, skills=(*SKILLS, Skill("support", "again"))), "skills[2].skill_id",
     "duplicate"),
    (lambda c: replace(c, agents=(*AGENTS, replace(AGENTS[0], name="twin"))),
     "agents[3].agent_id", "duplicate"),
    (lambda c: replace(c, agents=(replace(AGENTS[0], tier=0), *AGENTS[1:])), "agents[0].tier",
     ">= 1"),
    (lambda c: replace(c, agents=(replace(AGENTS[0], skills=(AgentSkill("support", 6),)),
                                  *AGENTS[1:])), "agents[0].skills[0].proficiency", "1 and 5"),
    (lambda c: replace(c, agents=(replace(AGENTS[0], skills=(AgentSkill("french", 2),)),
                                  *AGENTS[1:])), "agents[0].skills[0].skill_id", "french"),
    (lambda c: replace(c, agents=(replace(AGENTS[0], max_no_answer=-1), *AGENTS[1:])),
     "agents[0].max_no_answer", ">= 0"),
    (lambda c: replace(c, agents=(replace(AGENTS[0], endpoint=""), *AGENTS[1:])),
     "agents[0].endpoint", "non-empty"),
    (lambda c: replace(c, vips=(Vip("+1", 5, "nobody"),)), "vips[0].dedicated_agent",
     "nobody"),
    (lambda c: replace(c, vips=(Vip("+1", 5), Vip("+1", 6))), "vips[1].caller_number",
     "duplicate"),
])
def test_each_problem_names_its_field(change: object, path: str, words: str) -> None:
    found = problems(change(config()))  # type: ignore[operator]
    assert path in found, found
    assert words in found[path]


@pytest.mark.parametrize(("queue", "path", "words"), [
    (Queue("q", "Q", strategy="fastest"), "queues[0].strategy",  # type: ignore[arg-type]
     "unknown strategy"),
    (Queue("q", "Q", ring_timeout_s=0), "queues[0].ring_timeout_s", "> 0"),
    (Queue("q", "Q", wrapup_s=float("nan")), "queues[0].wrapup_s", "finite"),
    (Queue("q", "Q", max_wait_s=-5), "queues[0].max_wait_s", "> 0"),
    (Queue("q", "Q", exit=QueueExit("message", message="bye")), "queues[0].exit",
     "needs max_wait_s"),
    (Queue("q", "Q", max_wait_s=60, exit=QueueExit("overflow", "nowhere")),
     "queues[0].exit.target_queue", "nowhere"),
    (Queue("q", "Q", max_wait_s=60, exit=QueueExit("overflow", "q")),
     "queues[0].exit.target_queue", "same queue"),
    (Queue("q", "Q", max_wait_s=60, exit=QueueExit("message")), "queues[0].exit.message",
     "needs the message"),
    (Queue("q", "Q", required_skills=(SkillRequirement("support", 9),)),
     "queues[0].required_skills[0].min_proficiency", "1 and 5"),
    (Queue("q", "Q", plan=()), "queues[0].plan", "at least one step"),
    (Queue("q", "Q", plan=(PlanStep("a", 0), PlanStep("a", 10))), "queues[0].plan[1].name",
     "duplicate"),
    (Queue("q", "Q", plan=(PlanStep("a", 0), PlanStep("b", 10, tiers=(0,)))),
     "queues[0].plan[1].tiers", ">= 1"),
    (Queue("q", "Q", plan=(PlanStep("a", -1),)), "queues[0].plan[0].after_s", ">= 0"),
    (Queue("q", "Q", plan=(PlanStep("a", 0, agents=("zed",)),)), "queues[0].plan[0].agents[0]",
     "zed"),
    (Queue("q", "Q", plan=(PlanStep("a", 0, skills=(SkillRequirement("x"),)),)),
     "queues[0].plan[0].skills[0].skill_id", "'x'"),
    (Queue("q", "Q", plan=(PlanStep("a", 0, overflow_to="q"),)),
     "queues[0].plan[0].overflow_to", "same queue"),
])
def test_queue_problems_name_their_field(queue: Queue, path: str, words: str) -> None:
    found = problems(config(queue))
    assert path in found, found
    assert words in found[path]


def lint(queue: Queue, vips: tuple[Vip, ...] = ()) -> dict[str, tuple[str, str]]:
    c = config(queue, Queue("other", "Other"), vips=vips)
    return {f.path: (f.severity, f.message) for f in lint_plan(c.queues[0], c)}


def test_a_tiered_plan_with_a_catch_all_is_clean() -> None:
    assert lint(Queue("q", "Q", plan=TIERED)) == {}


def test_unreachable_steps_are_errors() -> None:
    found = lint(Queue("q", "Q", plan=(PlanStep("a", 30), PlanStep("b", 30))))
    assert found["queues[0].plan[1].after_s"][0] == "error"
    assert "unreachable" in found["queues[0].plan[1].after_s"][1]
    c = config(Queue("q", "Q", plan=(PlanStep("a", 0, overflow_to="other"),
                                     PlanStep("b", 60))), Queue("other", "Other"))
    assert any(f.severity == "error" and f.path == "queues[0].plan[1]"
               and "already moved the call to 'other'" in f.message
               for f in lint_plan(c.queues[0], c))


def test_missing_catch_all_and_shadowed_steps_are_warnings() -> None:
    found = lint(Queue("q", "Q", plan=(PlanStep("any", 0), PlanStep("front", 30, tiers=(1,)))))
    assert found["queues[0].plan[1]"][0] == "warning"
    assert "shadowed" in found["queues[0].plan[1]"][1] or "catch-all" in found[
        "queues[0].plan[1]"][1]
    no_catch_all = lint(Queue("q", "Q", plan=(PlanStep("front", 0, tiers=(1,)),
                                              PlanStep("spec", 30, tiers=(2,)))))
    assert "no final catch-all" in no_catch_all["queues[0].plan[1]"][1]


def test_a_step_shorter_than_the_ring_timeout_is_a_warning() -> None:
    found = lint(Queue("q", "Q", ring_timeout_s=15, plan=(PlanStep("front", 0, tiers=(1,)),
                                                          PlanStep("all", 10))))
    assert found["queues[0].plan[0]"] == ("warning", "step 'front' lasts 10 s, shorter than "
                                          "the ring timeout 15 s")


def test_dedicated_agent_fallback_missing_is_an_error() -> None:
    found = lint(Queue("q", "Q", plan=(PlanStep("own", 0, agents=("ann",)),)))
    assert found["queues[0].plan[0].agents"][0] == "error"
    assert "fallback missing" in found["queues[0].plan[0].agents"][1]
    vip = lint(Queue("q", "Q"), vips=(Vip("+1", 5, "ann", float("inf")),))
    assert vip["vips[0].dedicated_wait_s"][0] == "error"


def test_steps_after_max_wait_and_a_late_first_step_are_warnings() -> None:
    found = lint(Queue("q", "Q", max_wait_s=45, plan=(PlanStep("late", 20),
                                                      PlanStep("all", 60))))
    assert found["queues[0].plan[0].after_s"][0] == "warning"
    assert found["queues[0].plan[1].after_s"][0] == "warning"


def test_from_simple_maps_queue_membership_to_a_skill_per_queue() -> None:
    c = RoutingConfig.from_simple(
        [QueueConfig("claims", "Claims", 8, 2, "longest_idle", 60),
         QueueConfig("billing", "Billing")],
        [AgentConfig("alice", "Alice", "PJSIP/1", ("claims", "billing")),
         AgentConfig("bob", "Bob", "PJSIP/2", ("billing",))], version=4)
    assert c.validate() == []
    assert c.version == 4
    claims = c.queue("claims")
    assert claims is not None
    assert (claims.required_skills, claims.ring_timeout_s, claims.wrapup_s, claims.max_wait_s) \
        == ((SkillRequirement("claims", 1),), 8, 2, 60)
    bob = c.agent("bob")
    assert bob is not None and bob.tier == 1 and bob.proficiency("billing") == 1
    assert bob.proficiency("claims") == 0
    with pytest.raises(ValueError, match="unknown strategy"):
        RoutingConfig.from_simple([QueueConfig("q", "Q", strategy="ringall")], [])


def test_a_step_admits_by_tier_skills_and_explicit_agents_together() -> None:
    queue = Queue("q", "Q", (SkillRequirement("support", 4),))
    step = PlanStep("s", 0, tiers=(2, 3), skills=(SkillRequirement("billing", 2),),
                    agents=("bob", "cy"))
    assert [a.agent_id for a in AGENTS if step.admits(a, queue)] == ["bob"]
