"""Property: the plan in force replays sensibly. Random traffic is first routed with every
caller's true patience (the "recording"); what a recording can know is then read back from its
queue visits, as the adapter reads stored journeys (`routing.whatif.traffic.arrival`: patience
only for callers who hung up); replaying that with the same plan gives back every recorded
visit exactly: who answered, when, after what wait, which call flowed out or hung up.

Times are whole seconds, so every sum of them is exact and no tie is decided by rounding. Every
offer rings equally long: a replay can only ring an offer its call did not answer for real for
the mean recorded ring time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from routing.config import (
    CATCH_ALL,
    STRATEGY_NAMES,
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
from routing.kpis.facts import VisitOutcome
from routing.model import AgentStatus
from routing.whatif.model import AgentChange, Arrival, Leg, ReplaySettings, Staffing, Traffic
from routing.whatif.replay import replay
from routing.whatif.traffic import arrival

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CALLERS = (None, None, "+1001", "+1002", "+1999")  # +1999 is a VIP; repeats may resume


@st.composite
def plans(draw: st.DrawFn, overflow_to: str | None) -> tuple[PlanStep, ...]:
    wide = draw(st.integers(1, 60))
    kind = draw(st.sampled_from(["catch_all", "tiered", "skip", "overflow"]
                                if overflow_to else ["catch_all", "tiered", "skip"]))
    if kind == "catch_all":
        return (CATCH_ALL,)
    if kind == "tiered":
        return (PlanStep("front", 0, tiers=(1,)), PlanStep("wide", wide, priority_delta=1))
    if kind == "skip":
        return (PlanStep("experts", 0, tiers=(2,), skip_if_empty=True), PlanStep("all", wide))
    return (PlanStep("front", 0, tiers=(1,)), PlanStep("away", wide, overflow_to=overflow_to))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Traffic, RoutingConfig, int]:
    two = draw(st.booleans())
    names = ["q1", "q2"] if two else ["q1"]
    queues = []
    for qid in names:
        other = "q2" if qid == "q1" and two else None
        max_wait = draw(st.none() | st.integers(20, 200))
        exit_ = QueueExit("overflow", other) if other and max_wait and draw(st.booleans()) \
            else None
        queues.append(Queue(
            qid, qid, (SkillRequirement("s"),), draw(st.sampled_from(STRATEGY_NAMES)),
            draw(st.integers(5, 20)), draw(st.integers(0, 10)), max_wait, exit_,
            draw(plans(other)), aging_cap_s=draw(st.none() | st.integers(30, 300))))  # fmt: skip
    staff = tuple(Agent(f"a{i}", f"A{i}", f"PJSIP/a{i}", draw(st.integers(1, 2)),
                        (AgentSkill("s", 1),)) for i in range(draw(st.integers(1, 4))))
    config = RoutingConfig((Skill("s", "S"),), staff, tuple(queues), (Vip("+1999", 3),))
    arrivals = []
    ring = draw(st.integers(0, 12))  # one for all: a replay rings unanswered offers that long
    for i in range(draw(st.integers(0, 25))):
        target = "q2" if two and draw(st.booleans()) else None
        legs = (Leg(draw(st.integers(1, 120)), ring, target,
                    draw(st.none() | st.just(2)) if target else None),
                Leg(draw(st.integers(1, 120)), ring))
        arrivals.append(Arrival(
            f"c{i}", draw(st.sampled_from(names)), draw(st.integers(0, 900)),
            draw(st.sampled_from(CALLERS)), legs=legs, patience_s=draw(st.integers(0, 240))))
    changes = tuple(
        AgentChange(draw(st.integers(0, 900)), draw(st.sampled_from([a.agent_id for a in staff])),
                    draw(st.sampled_from(list(AgentStatus))))
        for _ in range(draw(st.integers(0, 6))))
    initial = tuple((a.agent_id, draw(st.sampled_from(list(AgentStatus)))) for a in staff
                    if draw(st.booleans()))
    staffing = Staffing(initial, tuple(sorted(changes, key=lambda c: c.at_s)))
    return Traffic(T0, 900, tuple(arrivals), staffing), config, draw(st.integers(0, 3))


def recorded(truth: Traffic, config: RoutingConfig, seed: int) -> Traffic:
    """What a recording of `truth` routed by `config` knows, read back as arrivals."""
    done = replay(truth, config, ReplaySettings(min_patience_s=0, seed=seed))
    given_ = {a.call_id: a for a in truth.arrivals}
    read = []
    for call in done.calls:
        true = given_[call.call_id]
        answers = sum(1 for v in call.visits if v.outcome is VisitOutcome.ANSWERED)
        legs = true.legs[:answers]
        found = arrival(call.call_id, call.visits, T0, caller_number=true.caller_number,
                        rings=[leg.ring_s for leg in legs],
                        transfer_tiers=[leg.transfer_min_tier for leg in legs if leg.transfer_to])
        assert found is not None
        read.append(found)
    return Traffic(T0, truth.length_s, tuple(read), truth.staffing)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_plan_in_force_replays_what_it_recorded(scenario: tuple[Traffic, RoutingConfig,
                                                                    int]) -> None:
    truth, config, seed = scenario
    settings_ = ReplaySettings(min_patience_s=0, seed=seed)
    expected = {c.call_id: c.visits for c in replay(truth, config, settings_).calls}
    # An offer rings for the mean recorded ring time when its call was not answered for real:
    # with no answer at all in the recording, that is unknown (0 s) unless it is 0 s anyway.
    assume(not any(a.legs[0].ring_s for a in truth.arrivals)
           or any(v.outcome is VisitOutcome.ANSWERED for vs in expected.values() for v in vs))
    again = {c.call_id: c.visits for c in replay(recorded(truth, config, seed), config,
                                                   settings_).calls}
    assert again == expected
    for visits in expected.values():  # and each call ends once, answered, abandoned or out
        assert all(v.outcome in (VisitOutcome.ANSWERED, VisitOutcome.FLOW_OUT)
                   for v in visits[:-1])
        assert visits[-1].outcome is not VisitOutcome.WAITING
        assert all(v.wait_s >= 0 for v in visits)
