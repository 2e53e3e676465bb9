"""Property tests: random configurations and event sequences through the routing core.

At every decision point the incremental router must make exactly the offers of the reference
`decide()` (which is greedy in call order, so FIFO within a class by construction), and after it
no free eligible agent may sit beside a waiting call; no agent is ever offered twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.calls import Deliver
from routing.config import (
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
from routing.decide import decide
from routing.explain import candidate
from routing.model import AgentState, RoutingSnapshot
from routing.plan import compile_queue
from routing.router import Router

SKILLS = ("s0", "s1", "s2")
NUMBERS = ("+100", "+101", "+102", "+103", "anonymous")


class CheckedRouter(Router):
    """The router, with the reference decision checked around every settle."""

    settles = 0

    def settle(self) -> None:
        expected = [(o.call_id, o.agent_id) for o in decide(self.snapshot(), self.now)]
        before = len(self.effects)
        super().settle()
        made = [(o.call_id, o.agent_id) for e in self.effects[before:]
                if isinstance(e, Deliver) for o in e.offers]
        assert made == expected, f"t={self.now}: router {made} != decide {expected}"
        after = self.snapshot()
        assert decide(after, self.now) == [], "a free eligible agent beside a waiting call"
        check_consistent(after)
        type(self).settles += 1


def check_consistent(snap: RoutingSnapshot) -> None:
    holders: dict[str, str] = {}
    for call in snap.calls:
        for offer in call.offers:
            assert offer.agent_id not in holders, f"{offer.agent_id} offered twice"
            holders[offer.agent_id] = call.call_id
    for view in snap.views:
        busy = view.state in (AgentState.OFFERED, AgentState.ON_CALL)
        if busy:
            assert holders.get(view.agent_id) == view.call_id, view
        else:
            assert view.agent_id not in holders, view


@st.composite
def configs(draw: st.DrawFn) -> RoutingConfig:
    n_agents = draw(st.integers(1, 6))
    agents = tuple(
        Agent(f"a{i}", f"A{i}", f"PJSIP/a{i}", draw(st.integers(1, 3)),
              tuple(AgentSkill(s, draw(st.integers(1, 5)))
                    for s in draw(st.sets(st.sampled_from(SKILLS), max_size=3))),
              draw(st.integers(0, 3)))
        for i in range(n_agents))
    n_queues = draw(st.integers(1, 3))
    queue_ids = [f"q{i}" for i in range(n_queues)]
    queues = tuple(draw(queue_of(qid, queue_ids, [a.agent_id for a in agents]))
                   for qid in queue_ids)
    vips = tuple(
        Vip(number, draw(st.integers(0, 3)),
            draw(st.one_of(st.none(), st.sampled_from([a.agent_id for a in agents]))),
            draw(st.sampled_from([5.0, 20.0])))
        for number in draw(st.sets(st.sampled_from(NUMBERS[:3]), max_size=2)))
    return RoutingConfig(tuple(Skill(s, s) for s in SKILLS), agents, queues, vips,
                         draw(st.integers(0, 5)))


@st.composite
def queue_of(draw: st.DrawFn, qid: str, queue_ids: list[str], agent_ids: list[str]) -> Queue:
    others = [q for q in queue_ids if q != qid]
    steps: list[PlanStep] = []
    at = 0.0
    for j in range(draw(st.integers(1, 3))):
        steps.append(PlanStep(
            f"st{j}", at, tuple(sorted(draw(st.sets(st.integers(1, 3), max_size=2)))),
            tuple(SkillRequirement(s, draw(st.integers(1, 3)))
                  for s in draw(st.sets(st.sampled_from(SKILLS), max_size=1))),
            tuple(draw(st.sets(st.sampled_from(agent_ids), max_size=1))) if j == 0 else (),
            draw(st.integers(-1, 2)),
            draw(st.sampled_from([None, *others])) if j > 0 and others else None,
            draw(st.booleans())))
        at += draw(st.sampled_from([5.0, 10.0, 30.0]))
    max_wait = draw(st.sampled_from([None, 40.0, 90.0]))
    exit_ = None
    if max_wait is not None:
        kind = draw(st.sampled_from(["overflow", "message", "callback", "none"]))
        if kind == "overflow" and others:
            exit_ = QueueExit("overflow", draw(st.sampled_from(others)))
        elif kind in ("message", "callback"):
            exit_ = QueueExit(kind, None, "sorry")
    return Queue(
        qid, qid, tuple(SkillRequirement(s, draw(st.integers(1, 2)))
                        for s in draw(st.sets(st.sampled_from(SKILLS), max_size=1))),
        draw(st.sampled_from(STRATEGY_NAMES)), draw(st.sampled_from([5.0, 15.0])),
        draw(st.sampled_from([0.0, 5.0])), max_wait, exit_, tuple(steps),
        draw(st.sampled_from([None, 20.0])), draw(st.sampled_from([0.0, 60.0])),
        draw(st.sampled_from([None, 50.0])))


@dataclass
class World:
    router: Router
    now: float = 0.0
    n_calls: int = 0
    ringing: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # call -> offers
    talking: dict[str, str] = field(default_factory=dict)  # call -> offer id

    def absorb(self) -> None:
        for effect in self.router.take_effects():
            if isinstance(effect, Deliver):
                self.ringing[effect.call_id] = [(o.offer_id, o.agent_id) for o in effect.offers]
            elif not hasattr(effect, "notice"):  # Close
                self.ringing.pop(effect.call_id, None)
                self.talking.pop(effect.call_id, None)


def step(draw: st.DrawFn, w: World) -> None:
    r = w.router
    kind = draw(st.sampled_from(["call", "call", "time", "time", "outcome", "outcome",
                                 "agent", "leave", "transfer", "config"]))
    if kind == "call":
        w.n_calls += 1
        r.enqueue(f"c{w.n_calls}", draw(st.sampled_from([q.queue_id for q in r.config.queues])),
                  draw(st.sampled_from(NUMBERS)), draw(st.integers(0, 2)), None, w.now)
    elif kind == "time":
        w.now += draw(st.sampled_from([0.0, 1.0, 4.999, 5.0, 10.0, 30.0]))
        r.advance(w.now)
    elif kind == "outcome" and w.ringing:
        call_id = draw(st.sampled_from(sorted(w.ringing)))
        offer_id, _ = draw(st.sampled_from(w.ringing[call_id]))
        what = draw(st.sampled_from(["answered", "no_answer", "busy", "rejected", "failed"]))
        if what == "answered":
            r.answered(call_id, offer_id, w.now)
            del w.ringing[call_id]
            w.talking[call_id] = offer_id
        else:
            r.declined(call_id, offer_id, what, w.now)  # type: ignore[arg-type]
            w.ringing[call_id] = [o for o in w.ringing[call_id] if o[0] != offer_id]
            if not w.ringing[call_id]:
                del w.ringing[call_id]
    elif kind == "outcome" and w.talking:
        call_id = draw(st.sampled_from(sorted(w.talking)))
        r.completed(call_id, w.talking.pop(call_id), w.now)
    elif kind == "agent":
        agent_id = draw(st.sampled_from(sorted(r.t.agents)))
        command = draw(st.sampled_from(["login", "logout", "pause", "resume", "reachable"]))
        try:
            r.agent_command(agent_id, command, draw(st.booleans()) if command == "reachable"
                            else "break", w.now)
        except Exception as exc:  # rejected commands are part of the game
            assert type(exc).__name__ == "CommandRejected", exc
    elif kind == "leave" and r.t.calls:
        call_id = draw(st.sampled_from(sorted(r.t.calls)))
        r.leave(call_id, "caller_gone", w.now)
        w.ringing.pop(call_id, None)
        w.talking.pop(call_id, None)
    elif kind == "transfer" and w.talking:
        call_id = draw(st.sampled_from(sorted(w.talking)))
        r.transfer(call_id, w.talking.pop(call_id),
                   draw(st.sampled_from([None, *[q.queue_id for q in r.config.queues]])),
                   draw(st.sampled_from([None, 2, 3])), "needs an expert", w.now)
    elif kind == "config":
        r.apply_config(draw(configs()), w.now)
        w.ringing = {c: o for c, o in w.ringing.items() if c in r.t.calls}
    w.absorb()


@pytest.mark.long
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_router_makes_exactly_the_reference_decisions(data: st.DataObject) -> None:
    config = data.draw(configs())
    w = World(CheckedRouter(config, 0.0, seed=data.draw(st.integers(0, 3)),
                            start_logged_in=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(5, 60))):
        step(data.draw, w)


@pytest.mark.long
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_decide_has_no_fifo_inversion_and_no_double_offer(data: st.DataObject) -> None:
    """Against decide() alone: no offered agent could have served an earlier waiting call."""
    w = World(Router(data.draw(configs()), 0.0))
    for _ in range(data.draw(st.integers(5, 40))):
        step(data.draw, w)
        snap = w.router.snapshot()
        offers = decide(snap, w.now)
        assert len({o.agent_id for o in offers}) == len(offers)
        order = sorted((c for c in snap.calls if not c.offers and not c.answered),
                       key=lambda c: c.order_key)
        compiled = {q.queue_id: compile_queue(q, snap.agents) for q in snap.queues}
        views = {v.agent_id: v for v in snap.views}
        agents = {a.agent_id: a for a in snap.agents}
        served = {o.call_id for o in offers}
        for o in offers:
            earlier = [c for c in order if c.order_key < next(
                x.order_key for x in order if x.call_id == o.call_id) and c.call_id not in served]
            for c in earlier:
                assert candidate(compiled[c.queue_id], c, agents[o.agent_id],
                                 views[o.agent_id], 0, w.now) is None, (o, c)
