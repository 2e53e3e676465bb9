"""Routing scenarios: plain YAML files under routing_scenarios/, run through the routing core.

A scenario file (see docs/routing.md, "Scenarios"):

    name: …                 # what it shows; `source:` where the vector comes from
    config:                 # skills, agents, queues (with plans), vips, version
      agents: [{id: a1, tier: 1, skills: {support: 3}, max_no_answer: 3}]
      queues: [{id: q, required_skills: {support: 1}, plan: [{name: t1, after_s: 0, tiers: [1]}]}]
    logged_out: [a3]        # agents not logged in at t=0 (the others are available)
    auto: {decline_after_ring: true, answer_after_s: 2, talk_s: 30}   # optional robots
    events:                 # at a time, in file order for equal times
      - {at: 0, call: c1, queue: q, caller: "+1555", priority: 0}
      - {at: 5, answer: c1}            # the call's ringing offer (or `agent:` one of them)
      - {at: 9, decline: c1, reason: no_answer}
      - {at: 20, complete: c1}  /  {at: 20, leave: c1}
      - {at: 20, transfer: c1, queue: q2, min_tier: 2, notes: …}
      - {at: 30, agent: a1, do: pause, reason: lunch}   # login logout pause resume
      - {at: 31, agent: a1, do: reachable, value: false}
      - {at: 40, config: {…}}          # apply a new configuration (live rule change)
    until: 120              # run the clock to here
    expect:
      offers: [{at: 30, call: c1, agents: [a1]}]      # every offer, exactly, in order
      notices: [{at: 30, call: c1, type: StepOpened, step: t2}]   # these, among others
      closed: [{at: 90, call: c1, reason: WaitTimeout}]           # every close, exactly
      positions: [{at: 10, call: c2, position: 2}]
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from routing.calls import Close, Deliver, Notify
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
)
from routing.model import Offer
from routing.router import Router

SCENARIOS = sorted((Path(__file__).parent / "routing_scenarios").glob("*.yaml"))


def requirements(spec: dict[str, int] | None) -> tuple[SkillRequirement, ...]:
    return tuple(SkillRequirement(s, p) for s, p in (spec or {}).items())


def step_of(spec: dict[str, Any]) -> PlanStep:
    return PlanStep(spec["name"], float(spec["after_s"]), tuple(spec.get("tiers", ())),
                    requirements(spec.get("skills")), tuple(spec.get("agents", ())),
                    spec.get("priority_delta", 0), spec.get("overflow_to"),
                    spec.get("skip_if_empty", False))


def queue_of(spec: dict[str, Any]) -> Queue:
    exit_ = spec.get("exit")
    plan = tuple(step_of(s) for s in spec.get("plan", [{"name": "everyone", "after_s": 0}]))
    return Queue(
        spec["id"], spec.get("name", spec["id"]), requirements(spec.get("required_skills")),
        spec.get("strategy", "longest_idle"), spec.get("ring_timeout_s", 15),
        spec.get("wrapup_s", 0), spec.get("max_wait_s"),
        QueueExit(**exit_) if exit_ else None, plan, spec.get("announce_every_s"),
        spec.get("resume_window_s", 120), spec.get("aging_cap_s"))


def config_of(spec: dict[str, Any]) -> RoutingConfig:
    agents = tuple(
        Agent(a["id"], a.get("name", a["id"]), a.get("endpoint", f"PJSIP/{a['id']}"),
              a.get("tier", 1), tuple(AgentSkill(s, p) for s, p in a.get("skills", {}).items()),
              a.get("max_no_answer", 3))
        for a in spec["agents"])
    skills = {s for a in agents for s in (x.skill_id for x in a.skills)}
    skills |= set(spec.get("skills", ()))
    return RoutingConfig(
        tuple(Skill(s, s) for s in sorted(skills)), agents,
        tuple(queue_of(q) for q in spec["queues"]),
        tuple(Vip(v["caller_number"], v.get("priority", 0), v.get("dedicated_agent"),
                  v.get("dedicated_wait_s", 20)) for v in spec.get("vips", ())),
        spec.get("version", 0))


@dataclass
class Run:
    """Drives a Router through a scenario's timeline and records what it did."""

    spec: dict[str, Any]
    router: Router = field(init=False)
    actions: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    ringing: dict[str, list[Offer]] = field(default_factory=dict)
    talking: dict[str, Offer] = field(default_factory=dict)
    offers: list[dict[str, Any]] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    n: int = 0

    def __post_init__(self) -> None:
        self.router = Router(config_of(self.spec["config"]), 0.0, seed=self.spec.get("seed", 0))
        for agent_id in self.spec.get("logged_out", ()):
            self.router.agent_command(agent_id, "logout", None, 0.0)
        for event in self.spec.get("events", ()):
            self.schedule(float(event["at"]), event)

    def schedule(self, at: float, action: dict[str, Any]) -> None:
        self.n += 1
        heapq.heappush(self.actions, (at, self.n, action))

    def run(self) -> None:
        until = float(self.spec.get("until", 0))
        while True:
            deadline = self.router.next_deadline()
            times = [t for t in (self.actions[0][0] if self.actions else None, deadline)
                     if t is not None]
            if not times or min(times) > until:
                break
            now = min(times)
            self.router.advance(now)
            self.collect()
            while self.actions and self.actions[0][0] <= now:
                self.apply(heapq.heappop(self.actions)[2], now)
                self.collect()
        self.router.advance(until)
        self.collect()

    def collect(self) -> None:
        auto = self.spec.get("auto", {})
        for effect in self.router.take_effects():
            if isinstance(effect, Deliver):
                offers = list(effect.offers)
                at = offers[0].decision.at
                self.ringing[effect.call_id] = offers
                self.offers.append({"at": at, "call": effect.call_id,
                                    "agents": [o.agent_id for o in offers]})
                if "answer_after_s" in auto:
                    self.schedule(at + auto["answer_after_s"], {"answer": effect.call_id,
                                                                "offer": offers[0].offer_id})
                elif auto.get("decline_after_ring"):
                    for o in offers:
                        self.schedule(at + o.ring_timeout_s, {
                            "decline": effect.call_id, "offer": o.offer_id,
                            "reason": "no_answer"})
            elif isinstance(effect, Notify):
                self.notices.append({"call": effect.call_id, "type":
                                     type(effect.notice).__name__, **vars_of(effect.notice)})
            elif isinstance(effect, Close):
                self.ringing.pop(effect.call_id, None)
                self.talking.pop(effect.call_id, None)
                self.closed.append({"at": effect.at, "call": effect.call_id,
                                    "reason": type(effect.error).__name__})

    def apply(self, e: dict[str, Any], now: float) -> None:
        r = self.router
        if "call" in e and "queue" in e:
            r.enqueue(e["call"], e["queue"], e.get("caller"), e.get("priority", 0), None, now)
        elif "answer" in e:
            offer = self.pick(e["answer"], e)
            if offer is not None:
                r.answered(offer.call_id, offer.offer_id, now)
                self.talking[offer.call_id] = offer
                del self.ringing[offer.call_id]
                if "talk_s" in self.spec.get("auto", {}):
                    self.schedule(now + self.spec["auto"]["talk_s"], {"complete": offer.call_id})
        elif "decline" in e:
            offer = self.pick(e["decline"], e)
            if offer is not None:
                r.declined(offer.call_id, offer.offer_id, e.get("reason", "no_answer"), now)
                self.ringing[offer.call_id].remove(offer)
        elif "complete" in e and e["complete"] in self.talking:
            offer = self.talking.pop(e["complete"])
            r.completed(offer.call_id, offer.offer_id, now)
        elif "leave" in e:
            r.leave(e["leave"], e.get("reason", "caller_gone"), now)
        elif "transfer" in e and e["transfer"] in self.talking:
            offer = self.talking.pop(e["transfer"])
            r.transfer(offer.call_id, offer.offer_id, e.get("queue"), e.get("min_tier"),
                       e.get("notes", ""), now)
        elif "agent" in e:
            r.agent_command(e["agent"], e["do"], e.get("value", e.get("reason")), now)
        elif "config" in e:
            r.apply_config(config_of(e["config"]), now)
        elif "position" in e:
            pos = r.position(e["position"])
            self.positions.append({"at": now, "call": e["position"],
                                   "position": pos.position if pos else None})

    def pick(self, call_id: str, e: dict[str, Any]) -> Offer | None:
        for offer in self.ringing.get(call_id, []):
            if e.get("offer", offer.offer_id) == offer.offer_id and \
                    e.get("agent", offer.agent_id) == offer.agent_id:
                return offer
        return None


def vars_of(notice: object) -> dict[str, Any]:
    return {k: getattr(notice, k) for k in getattr(notice, "__slots__", ())}


def subset(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(actual.get(k) == v for k, v in expected.items())


def load(path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    return spec


def cases() -> Iterator[Any]:
    for path in SCENARIOS:
        yield pytest.param(path, id=path.stem)


def run_scenario(spec: dict[str, Any]) -> Run:
    for e in spec.get("expect", {}).get("positions", ()):
        spec.setdefault("events", []).append({"at": e["at"], "position": e["call"]})
    run = Run(spec)
    run.run()
    return run


def check(spec: dict[str, Any], run: Run) -> None:
    expect = spec.get("expect", {})
    if "offers" in expect:
        assert run.offers == [{**o, "at": float(o["at"])} for o in expect["offers"]], \
            f"{spec['name']}: offers"
    for want in expect.get("notices", ()):
        assert any(subset(want, got) for got in run.notices), \
            f"{spec['name']}: no notice like {want} in {run.notices}"
    if "closed" in expect:
        assert run.closed == [{**c, "at": float(c["at"])} for c in expect["closed"]], \
            f"{spec['name']}: closed"
    for want in expect.get("positions", ()):
        assert {**want, "at": float(want["at"])} in run.positions, run.positions


@pytest.mark.parametrize("path", list(cases()))
def test_scenario(path: Path) -> None:
    spec = load(path)
    check(spec, run_scenario(spec))


def test_the_scenario_folder_is_not_empty() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize("mutate", ["offer_time", "offer_agent", "notice", "closed"])
def test_a_wrong_expectation_fails(mutate: str) -> None:
    """The runner can fail: the wrap-up scenario with one expectation changed is caught."""
    spec = load(Path(__file__).parent / "routing_scenarios" / "wrapup_boundary.yaml")
    expect = spec["expect"]
    if mutate == "offer_time":
        expect["offers"][1]["at"] = 109.999
    elif mutate == "offer_agent":
        expect["offers"][1]["agents"] = ["a2"]
    elif mutate == "notice":
        expect["notices"] = [{"call": "c2", "type": "StepOpened"}]
    else:
        expect["closed"] = []
    with pytest.raises(AssertionError):
        check(spec, run_scenario(spec))
