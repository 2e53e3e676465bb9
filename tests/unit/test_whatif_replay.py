"""The what-if replay (`routing/whatif/`): small scenarios whose figures are worked out by hand,
through the real routing core on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing.config import (
    CATCH_ALL,
    Agent,
    AgentSkill,
    PlanStep,
    Queue,
    QueueExit,
    RoutingConfig,
    Skill,
    SkillRequirement,
    Vip,
)
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.kpis.formulas import Thresholds
from routing.model import AgentStatus
from routing.whatif.compare import compare
from routing.whatif.figures import HEADLINE, Figures
from routing.whatif.model import (
    AgentChange,
    Arrival,
    Leg,
    Patience,
    ReplaySettings,
    Staffing,
    Traffic,
    assumed_patience,
)
from routing.whatif.replay import DRAIN_S, replay

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SETTINGS = ReplaySettings(min_patience_s=3600)  # callers wait for as long as it takes
A, Ab, F, W = (VisitOutcome.ANSWERED, VisitOutcome.ABANDONED, VisitOutcome.FLOW_OUT,
               VisitOutcome.WAITING)


def agent(agent_id: str, tier: int = 1) -> Agent:
    return Agent(agent_id, agent_id, f"PJSIP/{agent_id}", tier, (AgentSkill("s", 1),))


def queue(queue_id: str = "q", plan: tuple[PlanStep, ...] = (CATCH_ALL,), wrapup_s: float = 0,
          **more: object) -> Queue:  # fmt: skip
    return Queue(queue_id, queue_id.upper(), (SkillRequirement("s"),), wrapup_s=wrapup_s,
                 plan=plan, **more)  # type: ignore[arg-type]


def config(*queues: Queue, staff: tuple[Agent, ...] = (agent("a1"),),
           vips: tuple[Vip, ...] = ()) -> RoutingConfig:  # fmt: skip
    return RoutingConfig((Skill("s", "S"),), staff, queues or (queue(),), vips)


def call(call_id: str, at: float, talk: float = 30, *, patience: float | None = None,
         queue_id: str = "q", ring: float = 0, caller: str | None = None,
         waited: float = 0) -> Arrival:  # fmt: skip
    return Arrival(call_id, queue_id, at, caller, legs=(Leg(talk, ring),), patience_s=patience,
                   waited_s=waited)


def traffic(*arrivals: Arrival, length: float = 3600, staffing: Staffing | None = None
            ) -> Traffic:
    return Traffic(T0, length, arrivals, staffing or Staffing())


def outcomes(t: Traffic, c: RoutingConfig, settings: ReplaySettings = SETTINGS
             ) -> dict[str, list[tuple[str, VisitOutcome, float, str | None]]]:
    """Per call: (queue, outcome, wait, agent) of each visit."""
    done = replay(t, c, settings)
    return {x.call_id: [(v.queue_id, v.outcome, v.wait_s, v.agent_id) for v in x.visits]
            for x in done.calls}


def shown(row: Figures) -> dict[str, str]:
    return {k.key: k.shown for k in row.kpis}


# ------------------------------------------------------------------ one agent, two calls


def test_one_agent_two_calls_the_second_waits_for_the_first_to_end() -> None:
    t = traffic(call("c1", 0), call("c2", 10))
    assert outcomes(t, config()) == {"c1": [("q", A, 0.0, "a1")], "c2": [("q", A, 20.0, "a1")]}
    result = compare(t, config(), config(), SETTINGS)
    total = shown(result.current.figures.total)
    assert total["sl"] == "100.0 %"  # a wait of exactly T = 20 s is within
    assert total["asa"] == "10.0 s"
    assert total["abandon_rate"] == "0.0 %"


def test_the_queues_wrap_up_is_replayed_after_the_recorded_talk() -> None:
    t = traffic(call("c1", 0), call("c2", 10))
    slow = config(queue(wrapup_s=5))
    assert outcomes(t, slow)["c2"] == [("q", A, 25.0, "a1")]  # 30 s talk + 5 s wrap-up
    total = shown(compare(t, slow, slow, SETTINGS).current.figures.total)
    assert (total["sl"], total["asa"]) == ("50.0 %", "12.5 s")


def test_a_wrap_up_the_agent_ended_early_for_real_ends_as_early_in_the_replay() -> None:
    early = Arrival("c1", "q", 0, legs=(Leg(30, wrapup_s=2),))
    t = traffic(early, call("c2", 10))
    slow = config(queue(wrapup_s=10))
    assert outcomes(t, slow)["c2"] == [("q", A, 22.0, "a1")]  # 30 s talk + 2 s of the 10
    (c1, _) = replay(t, slow, SETTINGS).calls
    assert c1.visits[0].wrapup_s == 2.0
    shorter = config(queue(wrapup_s=1))  # a proposal with a shorter timer: the timer wins
    assert outcomes(t, shorter)["c2"] == [("q", A, 21.0, "a1")]


def test_the_agent_answers_after_the_recorded_ring_time_capped_at_the_ring_timeout() -> None:
    t = traffic(call("c1", 0, ring=4), call("c2", 100, ring=99))
    assert outcomes(t, config(queue(ring_timeout_s=15))) == {
        "c1": [("q", A, 4.0, "a1")], "c2": [("q", A, 15.0, "a1")]}


# ------------------------------------------------------------------ plans


TIERED = (PlanStep("front", 0, tiers=(1,)), PlanStep("wide", 30))
STAFF = (agent("a1", 1), agent("b1", 2))


def test_a_plan_step_opening_at_30_s_brings_in_the_second_tier() -> None:
    t = traffic(call("c1", 0, talk=100), call("c2", 1))
    c = config(queue(plan=TIERED), staff=STAFF)
    assert outcomes(t, c) == {"c1": [("q", A, 0.0, "a1")], "c2": [("q", A, 30.0, "b1")]}
    total = shown(compare(t, c, c, SETTINGS).current.figures.total)
    assert (total["sl"], total["asa"]) == ("50.0 %", "15.0 s")


def test_a_caller_hangs_up_at_their_recorded_patience() -> None:
    t = traffic(call("c1", 0, talk=100), call("c2", 5, patience=12, waited=12))
    assert outcomes(t, config())["c2"] == [("q", Ab, 12.0, None)]
    c = compare(t, config(), config(), SETTINGS).current.figures.total
    assert (c.counts.abandoned, c.counts.abandoned_within, c.counts.short_abandoned) == (1, 1, 0)
    assert shown(c)["abandon_rate"] == "50.0 %"
    assert shown(c)["sl_excl_short"] == "50.0 %"  # A≤20 / (A + Ab − Ab≤5) = 1 / 2


def test_an_answer_at_the_instant_patience_ends_wins() -> None:
    t = traffic(call("c1", 0, talk=30), call("c2", 10, patience=20, waited=20))
    assert outcomes(t, config())["c2"] == [("q", A, 20.0, "a1")]


def test_a_stricter_plan_waiting_for_a_tier_that_never_comes_predicts_a_lower_sl() -> None:
    t = traffic(*(call(f"c{i}", 120 * i, waited=2) for i in range(5)))
    current = config()
    strict = config(queue(plan=(PlanStep("experts", 0, tiers=(2,)),)))
    result = compare(t, current, strict, ReplaySettings())  # patience: max(2 s, 60 s)
    now, then = result.current.figures.total, result.proposed.figures.total
    assert result.patience_s == 60.0
    assert shown(now)[HEADLINE["service_level"]] == "100.0 %"
    assert shown(then)[HEADLINE["service_level"]] == "0.0 %"
    assert then.counts.abandoned == 5 and shown(then)["abandon_rate"] == "100.0 %"
    assert shown(then)["sl"] == "n/a"  # nobody answered: A≤T / A has nothing to divide
    assert shown(then)["asa"] == "n/a"


def test_identical_plans_give_identical_figures() -> None:
    t = traffic(*(call(f"c{i}", 7 * i, talk=40 + i, patience=25 if i % 3 == 0 else None,
                       waited=25) for i in range(30)))
    c = config(queue(plan=TIERED, wrapup_s=3), staff=STAFF)
    result = compare(t, c, c, SETTINGS)
    assert result.current == result.proposed
    assert compare(t, c, c, SETTINGS) == result  # and the same again: deterministic


def test_an_empty_window_gives_n_a_everywhere() -> None:
    result = compare(traffic(length=7200), config(), config(), SETTINGS)
    assert result.arrivals == 0
    rows = [result.current.figures.total, *result.current.figures.queues,
            *result.current.figures.intervals]
    assert len(result.current.figures.intervals) == 2
    assert {s for row in rows for key, s in shown(row).items()} == {"n/a"}


def test_the_plan_steps_overflow_ends_the_visit_as_a_flow_out_and_the_wait_goes_on() -> None:
    overflow = queue("q1", plan=(PlanStep("nobody", 0, tiers=(2,)),
                                 PlanStep("away", 10, overflow_to="q2")))
    t = traffic(call("c1", 0, queue_id="q1"))
    c = config(overflow, queue("q2"))
    assert outcomes(t, c) == {"c1": [("q1", F, 10.0, None), ("q2", A, 0.0, "a1")]}


def test_max_wait_without_an_exit_is_a_flow_out() -> None:
    t = traffic(call("c1", 0, talk=100), call("c2", 1))
    c = config(queue(max_wait_s=15))
    assert outcomes(t, c)["c2"] == [("q", F, 15.0, None)]
    figures = compare(t, c, c, SETTINGS).current.figures.total
    assert (figures.counts.flow_outs, shown(figures)["answer_rate"]) == (1, "50.0 %")


def test_a_message_exit_is_a_flow_out_too() -> None:
    c = config(queue(max_wait_s=15, exit=QueueExit("message", message="call back later")))
    t = traffic(call("c1", 0, talk=100), call("c2", 1))
    assert outcomes(t, c)["c2"] == [("q", F, 15.0, None)]


def test_a_recorded_transfer_is_replayed_at_the_end_of_its_conversation() -> None:
    staff = (agent("a1", 1), agent("b1", 2))
    c = config(queue("q1", plan=(PlanStep("front", 0, tiers=(1,)),)), queue("q2"), staff=staff)
    transferred = Arrival("c1", "q1", 0, legs=(Leg(10, 0, "q2", 2), Leg(20)))
    done = replay(traffic(transferred), c, SETTINGS)
    (only,) = done.calls
    assert [(v.queue_id, v.outcome, v.wait_s, v.agent_id, v.talk_s, v.transferred)
            for v in only.visits] == [("q1", A, 0.0, "a1", 10.0, True),
                                      ("q2", A, 0.0, "b1", 20.0, False)]


def test_a_vip_arriving_later_is_served_first() -> None:
    c = config(vips=(Vip("+1999", 5),))
    t = traffic(call("c1", 0, talk=50), call("c2", 1), call("vip", 2, caller="+1999"))
    found = outcomes(t, c)
    assert found["vip"] == [("q", A, 48.0, "a1")]
    assert found["c2"] == [("q", A, 79.0, "a1")]


def test_an_answer_beyond_the_recorded_ones_talks_for_the_mean_talk_time() -> None:
    t = traffic(call("c1", 0, talk=10), call("c2", 1, talk=30),
                Arrival("c3", "q", 2, patience_s=5, waited_s=5))  # it hung up for real
    strict_then_more = config(staff=(agent("a1"), agent("a2"), agent("a3")))
    done = replay(t, strict_then_more, SETTINGS)
    (c3,) = [x for x in done.calls if x.call_id == "c3"]
    assert c3.visits[0].outcome is A and c3.visits[0].talk_s == 20.0  # (10 + 30) / 2


# ------------------------------------------------------------------ agents' availability


def test_an_agent_logged_out_at_the_start_takes_calls_once_logged_in() -> None:
    staffing = Staffing((("a1", AgentStatus.LOGGED_OUT),),
                        (AgentChange(50, "a1", AgentStatus.AVAILABLE),))
    assert outcomes(traffic(call("c1", 0), staffing=staffing), config()) == {
        "c1": [("q", A, 50.0, "a1")]}


def test_a_paused_agent_is_offered_nothing_until_resumed() -> None:
    staffing = Staffing(changes=(AgentChange(5, "a1", AgentStatus.PAUSED),
                                 AgentChange(40, "a1", AgentStatus.AVAILABLE)))
    t = traffic(call("c1", 0, talk=10), call("c2", 20), staffing=staffing)
    assert outcomes(t, config()) == {"c1": [("q", A, 0.0, "a1")], "c2": [("q", A, 20.0, "a1")]}


def test_availability_of_agents_the_configuration_lacks_is_ignored() -> None:
    staffing = Staffing((("ghost", AgentStatus.LOGGED_OUT),),
                        (AgentChange(1, "ghost", AgentStatus.PAUSED),))
    assert outcomes(traffic(call("c1", 0), staffing=staffing), config()) == {
        "c1": [("q", A, 0.0, "a1")]}


# ------------------------------------------------------------------ patience, intervals, scope


def test_infinite_patience_leaves_callers_of_a_plan_nobody_serves_waiting() -> None:
    strict = config(queue(plan=(PlanStep("experts", 0, tiers=(2,)),)))
    settings = ReplaySettings(patience=Patience.INFINITE)
    t = traffic(call("c1", 0), call("c2", 10, patience=3, waited=3))
    result = compare(t, config(), strict, settings)
    assert result.patience_s is None
    assert result.proposed.still_waiting == 1  # c1; c2 hung up at its own 3 s
    assert result.proposed.figures.total.counts.abandoned == 1
    assert assumed_patience(t, settings) is None


def test_a_call_sent_round_in_a_circle_for_ever_stops_being_replayed_after_the_drain() -> None:
    def bouncing(queue_id: str, other: str) -> Queue:
        return queue(queue_id, plan=(PlanStep("nobody", 0, tiers=(2,)),
                                     PlanStep("away", 600, overflow_to=other)))
    c = config(bouncing("q1", "q2"), bouncing("q2", "q1"))
    done = replay(traffic(call("c1", 0, queue_id="q1")), c,
                  ReplaySettings(patience=Patience.INFINITE))
    assert done.still_waiting == 1
    (c1,) = done.calls
    assert len(c1.visits) == (3600 + DRAIN_S) // 600 + 1  # an overflow every 10 min
    assert c1.visits[-1].outcome is W and c1.visits[-1].entered_at == T0 + timedelta(
        seconds=3600 + DRAIN_S)


def test_the_assumed_patience_is_the_longest_observed_wait_and_at_least_the_minimum() -> None:
    t = traffic(call("c1", 0, waited=75), call("c2", 1, patience=30, waited=30))
    assert assumed_patience(t, ReplaySettings()) == 75.0
    assert assumed_patience(t, ReplaySettings(min_patience_s=90)) == 90.0


def test_each_visit_counts_in_the_interval_it_entered_its_queue() -> None:
    t = traffic(call("c1", 100), call("c2", 1000, talk=10), call("c3", 1010), length=3600)
    settings = ReplaySettings(interval_s=900, min_patience_s=3600)
    result = compare(t, config(), config(), settings)
    rows = result.current.figures.intervals
    assert [r.group for r in rows] == [(T0 + timedelta(minutes=15 * i)).isoformat()
                                       for i in range(4)]
    assert [r.counts.answered for r in rows] == [1, 2, 0, 0]


def test_intervals_start_on_the_clocks_boundaries() -> None:
    late = Traffic(T0 + timedelta(minutes=7), 1800, (call("c1", 0), call("c2", 1500, talk=5)))
    settings = ReplaySettings(interval_s=900, min_patience_s=3600)
    rows = compare(late, config(), config(), settings).current.figures.intervals
    assert [(r.group, r.counts.answered) for r in rows] == [
        ((T0 + timedelta(minutes=m)).isoformat(), n) for m, n in ((0, 1), (15, 0), (30, 1))]


def test_a_visit_after_the_window_gets_an_interval_of_its_own() -> None:
    overflow = queue("q1", plan=(PlanStep("nobody", 0, tiers=(2,)),
                                 PlanStep("away", 600, overflow_to="q2")))
    t = traffic(call("c1", 3500, queue_id="q1"), length=3600)
    settings = ReplaySettings(interval_s=3600, min_patience_s=3600)
    c = config(overflow, queue("q2"))
    rows = compare(t, c, c, settings).current.figures.intervals
    assert [(r.counts.flow_outs, r.counts.answered) for r in rows] == [(1, 0), (0, 1)]


def test_only_the_queues_asked_for_are_counted_but_every_call_is_replayed() -> None:
    c = config(queue("q1"), queue("q2"))
    t = traffic(call("c1", 0, talk=100, queue_id="q2"), call("c2", 1, queue_id="q1"))
    result = compare(t, c, c, SETTINGS, queues=["q1"])
    assert result.arrivals == 1
    (q1,) = result.current.figures.queues
    assert q1.group == "q1" and shown(q1)["asa"] == "99.0 s"  # a1 was busy with q2's call
    assert result.current.figures.total.counts.answered == 1


def test_arrivals_to_a_queue_the_proposal_removes_are_skipped() -> None:
    both = config(queue("q1"), queue("q2"))
    result = compare(traffic(call("c1", 0, queue_id="q2")), both, config(queue("q1")),
                     SETTINGS)
    assert (result.current.skipped, result.proposed.skipped) == (0, 1)


def test_the_thresholds_are_the_reports_labels() -> None:
    settings = ReplaySettings(thresholds=Thresholds(30, 10))
    row = compare(traffic(call("c1", 0)), config(), config(), settings).current.figures.total
    assert row.kpi("sl_excl_short").label == "SL(30 s, excl. short ≤ 10 s)"


def test_recorded_visits_are_counted_on_the_same_grid() -> None:
    seen = [QueueVisit("q", T0 + timedelta(seconds=10), A, 40.0, "a1")]
    result = compare(traffic(call("c1", 10)), config(), config(), SETTINGS, recorded=seen)
    assert result.recorded is not None
    assert shown(result.recorded.total)["sl"] == "0.0 %"  # for real it waited 40 s
    assert shown(result.current.figures.total)["sl"] == "100.0 %"


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="at_s"):
        Arrival("c", "q", -1)
    with pytest.raises(ValueError, match="talk_s"):
        Leg(float("nan"))
    with pytest.raises(ValueError, match="timezone"):
        Traffic(datetime(2026, 1, 1), 60)  # noqa: DTZ001
    with pytest.raises(ValueError, match="interval_s"):
        ReplaySettings(interval_s=0)
