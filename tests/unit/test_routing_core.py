"""The pure routing core: strategies, explanations, lifecycle, estimator, indexes and the router."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from routing import lifecycle as life
from routing.calls import Close, Deliver, Notify
from routing.config import (
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    RoutingConfig,
    Skill,
    SkillRequirement,
    Vip,
)
from routing.estimate import estimate_wait, smooth_handle
from routing.index import LazyHeap, RingSet
from routing.model import AgentState, AgentStatus, AgentView, WhyNot
from routing.notices import CommandRejected, QueueRemoved, RoutingLoop
from routing.router import Router


def agents(n: int, tier: int = 1, prefix: str = "a") -> tuple[Agent, ...]:
    return tuple(Agent(f"{prefix}{i}", f"A{i}", f"PJSIP/{prefix}{i}", tier,
                       (AgentSkill("s", 3),)) for i in range(1, n + 1))


def config(*queues: Queue, staff: tuple[Agent, ...] = agents(3),
           vips: tuple[Vip, ...] = ()) -> RoutingConfig:
    return RoutingConfig((Skill("s", "S"), Skill("x", "X")), staff,
                         queues or (Queue("q", "Q", (SkillRequirement("s"),), wrapup_s=0),),
                         vips)


def offers(r: Router) -> list[tuple[str, tuple[str, ...]]]:
    return [(e.call_id, tuple(o.agent_id for o in e.offers)) for e in r.take_effects()
            if isinstance(e, Deliver)]


def serve(r: Router, call_id: str, now: float, talk: float = 1.0) -> str:
    """Answer the call's offer and complete it after `talk` seconds; the agent's id."""
    offer = r.t.calls[call_id].offers
    (o,) = offer.values()
    r.answered(call_id, o.offer_id, now)
    r.completed(call_id, o.offer_id, now + talk)
    return o.agent_id


@pytest.mark.parametrize(("strategy", "expected"), [
    ("longest_idle", ["a3", "a1", "a2"]),
    ("least_talk_time", ["a1", "a2", "a3"]),
    ("fewest_calls", ["a3", "a1", "a2"]),
])
def test_strategies_order_agents_by_their_figures(strategy: str, expected: list[str]) -> None:
    q = Queue("q", "Q", (SkillRequirement("s"),), strategy=strategy,  # type: ignore[arg-type]
              wrapup_s=0)
    r = Router(config(q), 0.0)
    talk = {"a1": 5.0, "a2": 10.0, "a3": 60.0}
    # a1, a2, a3 each take one call (a3 talks longest); then a1 and a2 one more each
    for i, agent_id in enumerate(["a1", "a2", "a3"]):
        r.enqueue(f"w{i}", "q", None, 0, None, 0.0)
        assert serve(r, f"w{i}", 0.0, talk[agent_id]) == agent_id
    for i, agent_id in enumerate(["a1", "a2"], start=3):
        r.enqueue(f"w{i}", "q", None, 0, None, 100.0 + i)
        assert serve(r, f"w{i}", 100.0 + i, 0.5) == agent_id
    r.take_effects()
    picked = []
    for i in range(3):
        r.enqueue(f"c{i}", "q", None, 0, None, 200.0)
        picked += [a for _, ags in offers(r) for a in ags]
    assert picked == expected


def test_random_is_seeded_and_uniform() -> None:
    q = Queue("q", "Q", (SkillRequirement("s"),), strategy="random", wrapup_s=0)

    def firsts(seed: int, n: int) -> list[str]:
        r = Router(config(q), 0.0, seed=seed)
        out = []
        for i in range(n):
            r.enqueue(f"c{i}", "q", None, 0, None, float(i))
            out.append(serve(r, f"c{i}", float(i), 0.0))
        return out

    assert firsts(3, 50) == firsts(3, 50)
    assert firsts(3, 50) != firsts(4, 50)
    shares = Counter(firsts(11, 3000))
    assert all(abs(n - 1000) < 100 for n in shares.values()), shares  # ~3.3 sigma


def test_explanations_say_why_not_for_every_agent_of_the_queue() -> None:
    staff = (*agents(1), Agent("low", "Low", "PJSIP/low", 1, (AgentSkill("s", 1),)),
             Agent("t2", "T2", "PJSIP/t2", 2, (AgentSkill("s", 3),)),
             Agent("out", "Out", "PJSIP/out", 1, (AgentSkill("s", 3),)),
             Agent("brk", "Brk", "PJSIP/brk", 1, (AgentSkill("s", 3),)),
             Agent("far", "Far", "PJSIP/far", 1, (AgentSkill("s", 3),)),
             Agent("stranger", "S", "PJSIP/x", 1, (AgentSkill("x", 3),)))
    q = Queue("q", "Q", (SkillRequirement("s", 2),), wrapup_s=10, plan=(
        PlanStep("front", 0, tiers=(1,)), PlanStep("specialists", 30, tiers=(2,))))
    r = Router(config(q, staff=staff), 0.0)
    r.agent_command("out", "logout", None, 0.0)
    r.agent_command("brk", "pause", "lunch", 0.0)
    r.agent_command("far", "reachable", False, 0.0)
    r.enqueue("busy", "q", None, 0, None, 0.0)
    serve(r, "busy", 0.0, 5.0)  # a1 in wrap-up until 15
    r.enqueue("c1", "q", None, 0, None, 6.0)
    (pending,) = r.explain("c1")
    why = {v.agent_id: (v.why, v.until, v.detail) for v in pending.others}
    assert why == {
        "a1": (WhyNot.WRAP_UP, 15.0, ""),
        "low": (WhyNot.SKILL, None, "needs s>=2, has 1"),
        "t2": (WhyNot.TIER_NOT_OPEN, 36.0, "tier 2, step 'specialists'"),
        "out": (WhyNot.LOGGED_OUT, None, ""),
        "brk": (WhyNot.PAUSED, None, "lunch"),
        "far": (WhyNot.UNREACHABLE, None, ""),
    }
    assert "stranger" not in why  # not an agent of this queue
    assert "t2: tier not open until t=36 (tier 2, step 'specialists')" in str(pending)
    assert pending.chosen == () and pending.config_version == 0


def test_decisions_stay_explainable_after_the_call_ends() -> None:
    r = Router(config(), 0.0)
    r.enqueue("c1", "q", None, 0, None, 0.0)
    serve(r, "c1", 0.0)
    (decision,) = r.explain("c1")
    assert decision.chosen[0].agent_id == "a1"
    assert [v.why for v in decision.others] == [WhyNot.OUTRANKED, WhyNot.OUTRANKED]


def test_lifecycle_transitions_and_counters() -> None:
    v = AgentView("a")
    v = life.offer(v, "c1")
    assert (v.state, v.call_id) == (AgentState.OFFERED, "c1")
    v = life.decline(v, "no_answer", 2)
    v = life.decline(life.offer(v, "c1"), "no_answer", 2)
    assert (v.status, v.pause_reason, v.no_answer_count) == (AgentStatus.PAUSED, "no_answer", 2)
    v = life.resume(v)
    assert (v.status, v.no_answer_count) == (AgentStatus.AVAILABLE, 0)
    v = life.answer(life.offer(v, "c2"), 10.0)
    v = life.end_call(v, 70.0, 5.0)
    assert (v.state, v.wrapup_until, v.talk_time_today, v.calls_today, v.idle_since) == (
        AgentState.WRAP_UP, 75.0, 60.0, 1, 70.0)
    assert life.wrapup_done(v, 74.9).state is AgentState.WRAP_UP
    assert life.wrapup_done(v, 75.0).state is AgentState.IDLE
    assert not v.free(74.999) and v.free(75.0)
    with pytest.raises(CommandRejected):
        life.resume(v)
    with pytest.raises(CommandRejected):
        life.pause(life.logout(v), "x")
    assert life.decline(v, "no_answer", 0).status is AgentStatus.AVAILABLE  # 0 = never


def test_estimator_is_position_and_pool_aware() -> None:
    assert estimate_wait(1, 4, 120) == 15.0
    assert estimate_wait(6, 4, 120) == 165.0
    assert estimate_wait(6, 20, 120) == 33.0
    assert estimate_wait(3, 0, 120) is None
    # app_queue's EWMA: samples 60 then 120 give 75 (research §2.1.8)
    assert smooth_handle(smooth_handle(None, 60), 120) == 75.0


def test_lazy_heap_removes_rekeys_skips_and_compacts() -> None:
    heap: LazyHeap[str, tuple[int]] = LazyHeap()
    for i, name in enumerate("edcba"):
        heap.put(name, (i,))
    heap.put("e", (10,))
    heap.discard("d")
    assert heap.best() == "c"
    assert heap.best(lambda x: x in {"c", "b"}) == "a"
    assert heap.best() == "c" and len(heap) == 4
    for i in range(200):
        heap.put("a", (100 + i,))
    assert len(heap._heap) < 2 * len(heap) + 40
    assert heap.best() == "c" and heap.key("a") == (299,)


def test_ring_set_wraps_after_the_last_position() -> None:
    ring = RingSet()
    for p in (5, 1, 9):
        ring.put(p)
    assert [ring.after(x) for x in (-1, 1, 5, 9)] == [1, 5, 9, 1]
    assert ring.after(1, lambda p: p == 5) == 9
    ring.discard(9)
    assert ring.after(5) == 1


def test_removing_an_agent_on_a_call_lets_the_call_finish() -> None:
    r = Router(config(), 0.0)
    r.enqueue("c1", "q", None, 0, None, 0.0)
    (o,) = r.t.calls["c1"].offers.values()
    r.answered("c1", o.offer_id, 1.0)
    r.apply_config(replace(config(staff=agents(3)[1:]), version=2), 2.0)
    assert r.view("a1").state is AgentState.ON_CALL
    r.completed("c1", o.offer_id, 3.0)
    assert "a1" not in r.retired
    assert [type(e) for e in r.take_effects()] == [Deliver, Close]


def test_removing_a_queue_closes_its_waiting_calls() -> None:
    r = Router(config(staff=()), 0.0)
    r.enqueue("c1", "q", None, 0, None, 0.0)
    r.apply_config(RoutingConfig((Skill("s", "S"),), (), (Queue("other", "O"),), version=2),
                   1.0)
    (closed,) = [e for e in r.take_effects() if isinstance(e, Close)]
    assert isinstance(closed.error, QueueRemoved)


def test_an_overflow_cycle_at_one_instant_is_stopped() -> None:
    qa = Queue("qa", "A", (SkillRequirement("x"),), plan=(PlanStep("go", 0, overflow_to="qb"),))
    qb = Queue("qb", "B", (SkillRequirement("x"),), plan=(PlanStep("go", 0, overflow_to="qa"),))
    r = Router(config(qa, qb), 0.0)
    r.enqueue("c1", "qa", None, 0, None, 0.0)
    effects = r.take_effects()
    assert isinstance(effects[-1], Close) and isinstance(effects[-1].error, RoutingLoop)
    assert sum(isinstance(e, Notify) for e in effects) == 2


def test_logging_out_the_last_agent_of_a_skip_step_opens_the_next_step() -> None:
    q = Queue("q", "Q", (SkillRequirement("s"),), plan=(
        PlanStep("front", 0, tiers=(1,), skip_if_empty=True),
        PlanStep("experts", 600, tiers=(2,))))
    staff = (*agents(1), *agents(1, tier=2, prefix="e"))
    r = Router(config(q, staff=staff), 0.0)
    r.agent_command("a1", "pause", "x", 0.0)
    r.enqueue("c1", "q", None, 0, None, 0.0)
    assert offers(r) == []
    r.agent_command("a1", "logout", None, 42.0)
    assert offers(r) == [("c1", ("e1",))]


def test_abandon_resume_ignores_anonymous_callers_and_expired_credit() -> None:
    r = Router(config(staff=()), 0.0)
    r.enqueue("c1", "q", "anonymous", 0, None, 0.0)
    r.leave("c1", "caller_gone", 10.0)
    r.enqueue("c2", "q", "anonymous", 0, None, 20.0)
    assert r.t.calls["c2"].joined_at == 20.0
    r.enqueue("c3", "q", "+1", 3, None, 30.0)
    r.leave("c3", "caller_gone", 40.0)
    r.enqueue("c4", "q", "+1", 0, None, 160.0)  # window 120 s: 40 + 120 = 160, inclusive
    assert (r.t.calls["c4"].joined_at, r.t.calls["c4"].priority) == (30.0, 3)
    r.leave("c4", "caller_gone", 170.0)
    r.enqueue("c5", "q", "+1", 0, None, 290.01)
    assert r.t.calls["c5"].joined_at == 290.01


def test_reset_daily_counters_restarts_least_talk_time() -> None:
    q = Queue("q", "Q", (SkillRequirement("s"),), strategy="fewest_calls", wrapup_s=0)
    r = Router(config(q), 0.0)
    for i in range(2):
        r.enqueue(f"w{i}", "q", None, 0, None, 0.0)
        serve(r, f"w{i}", 0.0)
    assert [r.view(a).calls_today for a in ("a1", "a2", "a3")] == [1, 1, 0]
    r.reset_daily(10.0)
    assert [r.view(a).calls_today for a in ("a1", "a2", "a3")] == [0, 0, 0]
