"""decide(): who gets which agent, table-driven vectors plus property tests of the invariants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.decide import decide, why_not
from routing.model import (
    AgentConfig,
    AgentState,
    AgentStatus,
    AgentView,
    Offer,
    OfferReason,
    Passed,
    QueueConfig,
    RoutingSnapshot,
    WaitingCall,
    WhyNot,
)

QUEUES = (QueueConfig("A", "Sales", ring_timeout_s=20), QueueConfig("B", "Support"))


@dataclass(frozen=True)
class Ag:
    """One agent row of a test table: configuration plus live view fields."""

    agent_id: str
    queues: tuple[str, ...] = ("A",)
    idle: float = 0.0
    state: AgentState = AgentState.AVAILABLE
    wrapup_until: float | None = None
    reachable: bool = True
    status: AgentStatus = AgentStatus.AVAILABLE


@dataclass(frozen=True)
class Call:
    call_id: str
    queue_id: str = "A"
    joined: float = 0.0
    tried: frozenset[str] = field(default_factory=frozenset)
    offered: bool = False


def snapshot(agents: list[Ag], calls: list[Call], at: float = 0.0) -> RoutingSnapshot:
    configs = tuple(AgentConfig(a.agent_id, a.agent_id.upper(), f"PJSIP/{a.agent_id}", a.queues)
                    for a in agents)
    views = tuple(AgentView(a.agent_id, a.state, a.idle, a.wrapup_until, 0, 0, a.reachable,
                            a.status) for a in agents)
    waiting = tuple(
        WaitingCall(c.call_id, c.queue_id, c.joined, c.tried, len(c.tried),
                    _dummy_offer(c.call_id) if c.offered else None)
        for c in calls
    )
    return RoutingSnapshot(at, QUEUES, configs, views, waiting)


def _dummy_offer(call_id: str) -> Offer:
    return Offer(f"{call_id}:0", call_id, "A", "nobody", "PJSIP/nobody", 15,
                 OfferReason("longest_idle", 0.0, False))


def pairs(offers: list[Offer]) -> list[tuple[str, str]]:
    return [(o.call_id, o.agent_id) for o in offers]


WRAP_A1 = Ag("a1", state=AgentState.WRAP_UP, wrapup_until=20.0, idle=15.0)  # longest idle
CASES: list[tuple[str, list[Ag], list[Call], float, list[tuple[str, str]]]] = [
    ("longest idle wins",
     [Ag("a1", idle=10), Ag("a2", idle=5), Ag("a3", idle=8)], [Call("c1")], 30, [("c1", "a2")]),
    ("equal idle: configuration order",
     [Ag("y", idle=5), Ag("x", idle=5)], [Call("c1")], 30, [("c1", "y")]),
    ("in wrap-up just before its end",
     [WRAP_A1, Ag("a2", idle=18)], [Call("c1")], 19.75, [("c1", "a2")]),
    ("free at exactly the end of wrap-up",
     [WRAP_A1, Ag("a2", idle=18)], [Call("c1")], 20.0, [("c1", "a1")]),
    ("unreachable skipped",
     [Ag("a1", reachable=False), Ag("a2", idle=5)], [Call("c1")], 30, [("c1", "a2")]),
    ("unreachable state skipped",
     [Ag("a1", state=AgentState.UNREACHABLE), Ag("a2", idle=5)], [Call("c1")], 30,
     [("c1", "a2")]),
    ("offered and on-call agents are busy",
     [Ag("a1", state=AgentState.OFFERED), Ag("a2", state=AgentState.ON_CALL), Ag("a3", idle=9)],
     [Call("c1")], 30, [("c1", "a3")]),
    ("on break and logged out skipped",
     [Ag("a1", status=AgentStatus.ON_BREAK), Ag("a2", status=AgentStatus.LOGGED_OUT),
      Ag("a3", idle=9)], [Call("c1")], 30, [("c1", "a3")]),
    ("agent of another queue not offered",
     [Ag("b1", queues=("B",)), Ag("a1", idle=9)], [Call("c1")], 30, [("c1", "a1")]),
    ("nobody free: no offer", [Ag("a1", state=AgentState.ON_CALL)], [Call("c1")], 30, []),
    ("tried agent skipped",
     [Ag("a1", idle=0), Ag("a2", idle=5)], [Call("c1", tried=frozenset({"a1"}))], 30,
     [("c1", "a2")]),
    ("all tried: the round resets, longest idle again",
     [Ag("a1", idle=0), Ag("a2", idle=5)], [Call("c1", tried=frozenset({"a1", "a2"}))], 30,
     [("c1", "a1")]),
    ("untried agent busy: tried idle agent rings again rather than nobody",
     [Ag("a1", idle=0), Ag("a2", state=AgentState.ON_CALL)],
     [Call("c1", tried=frozenset({"a1"}))], 30, [("c1", "a1")]),
    ("two callers, two agents, FIFO by joined_at",
     [Ag("a1", idle=5), Ag("a2", idle=1)], [Call("c2", joined=7), Call("c1", joined=3)], 30,
     [("c1", "a2"), ("c2", "a1")]),
    ("equal joined_at: snapshot order",
     [Ag("a1", idle=5), Ag("a2", idle=1)], [Call("c2", joined=3), Call("c1", joined=3)], 30,
     [("c2", "a2"), ("c1", "a1")]),
    ("head of line: A caller without agent does not block B caller",
     [Ag("a1", state=AgentState.ON_CALL), Ag("b1", queues=("B",))],
     [Call("c1", "A", joined=1), Call("c2", "B", joined=2)], 30, [("c2", "b1")]),
    ("one agent, three callers: no double offer",
     [Ag("a1")], [Call("c1", joined=1), Call("c2", joined=2), Call("c3", joined=3)], 30,
     [("c1", "a1")]),
    ("shared agent goes to the earlier caller across queues",
     [Ag("ab", queues=("A", "B"))], [Call("c2", "B", joined=2), Call("c1", "A", joined=1)], 30,
     [("c1", "ab")]),
    ("call with an offer in flight is not offered again",
     [Ag("a1"), Ag("a2")], [Call("c1", joined=1, offered=True), Call("c2", joined=2)], 30,
     [("c2", "a1")]),
]


@pytest.mark.parametrize(("agents", "calls", "now", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide_vectors(agents: list[Ag], calls: list[Call], now: float,
                        expected: list[tuple[str, str]]) -> None:
    assert pairs(decide(snapshot(agents, calls), now)) == expected


def test_offer_fields_and_deterministic_id() -> None:
    snap = snapshot([Ag("a1")], [Call("c1", tried=frozenset({"zz"}))])
    [offer] = decide(snap, 1.0)
    assert offer == decide(snap, 1.0)[0]
    assert (offer.offer_id, offer.queue_id, offer.endpoint, offer.ring_timeout_s) == (
        "c1:2", "A", "PJSIP/a1", 20)


def test_reason_explains_every_other_agent_of_the_queue() -> None:
    agents = [
        Ag("busy", state=AgentState.ON_CALL),
        Ag("wrap", state=AgentState.WRAP_UP, wrapup_until=40.0),
        Ag("gone", reachable=False),
        Ag("tried", idle=1),
        Ag("chosen", idle=3),
        Ag("later", idle=9),
        Ag("other", queues=("B",)),
    ]
    [offer] = decide(snapshot(agents, [Call("c1", tried=frozenset({"tried"}))]), 30)
    assert offer.agent_id == "chosen"
    assert offer.reason.passed == (
        Passed("busy", WhyNot.BUSY), Passed("wrap", WhyNot.WRAP_UP, 40.0),
        Passed("gone", WhyNot.UNREACHABLE), Passed("tried", WhyNot.TRIED),
        Passed("later", WhyNot.OUTRANKED),
    )
    assert str(offer.reason) == (
        "longest_idle: idle since 3; busy busy, wrap wrap-up until 40, gone unreachable, "
        "tried tried, later outranked"
    )


def test_reason_marks_taken_and_new_round() -> None:
    agents = [Ag("a1", idle=0), Ag("a2", idle=5)]
    calls = [Call("c1", joined=1), Call("c2", joined=2, tried=frozenset({"a2"}))]
    first, second = decide(snapshot(agents, calls), 30)
    assert (second.agent_id, second.reason.new_round) == ("a2", True)
    assert second.reason.passed == (Passed("a1", WhyNot.TAKEN),)
    assert not first.reason.new_round


# ---- properties --------------------------------------------------------------------------------

AGENT_IDS = ("a0", "a1", "a2", "a3", "a4", "a5")


@st.composite
def snapshots(draw: Any) -> tuple[RoutingSnapshot, float]:
    n_agents = draw(st.integers(1, len(AGENT_IDS)))
    agents = [
        Ag(
            AGENT_IDS[i],
            queues=tuple(draw(st.lists(st.sampled_from("AB"), min_size=1, max_size=2,
                                       unique=True))),
            idle=draw(st.integers(0, 5)),
            # biased towards free agents, so that choices between several actually happen
            state=draw(st.sampled_from([AgentState.AVAILABLE] * 3 + list(AgentState))),
            wrapup_until=draw(st.sampled_from([None, None, None, 2.0, 5.0, 8.0])),
            reachable=draw(st.sampled_from([True, True, True, False])),
            status=draw(st.sampled_from([AgentStatus.AVAILABLE] * 3 + list(AgentStatus))),
        )
        for i in range(n_agents)
    ]
    calls = [
        Call(f"c{i}", draw(st.sampled_from("AB")), draw(st.integers(0, 5)),
             frozenset(draw(st.lists(st.sampled_from(AGENT_IDS), max_size=4))),
             draw(st.sampled_from([False, False, False, True])))
        for i in range(draw(st.integers(1, 6)))
    ]
    return snapshot(agents, calls), float(draw(st.integers(0, 10)))


def _serves(snap: RoutingSnapshot, agent_id: str, queue_id: str) -> bool:
    return any(a.agent_id == agent_id and queue_id in a.queues for a in snap.agents)


def _fifo(snap: RoutingSnapshot) -> list[WaitingCall]:
    return sorted((c for c in snap.calls if c.offer is None), key=lambda c: c.joined_at)


@settings(max_examples=200)
@given(snapshots())
def test_no_agent_or_call_offered_twice(case: tuple[RoutingSnapshot, float]) -> None:
    snap, now = case
    offers = decide(snap, now)
    assert len({o.agent_id for o in offers}) == len(offers)
    assert len({o.call_id for o in offers}) == len(offers)
    assert all(c.offer is None for c in snap.calls if c.call_id in {o.call_id for o in offers})


@settings(max_examples=200)
@given(snapshots())
def test_offered_agent_eligible_and_longest_idle(case: tuple[RoutingSnapshot, float]) -> None:
    snap, now = case
    calls = {c.call_id: c for c in snap.calls}
    position = {a.agent_id: i for i, a in enumerate(snap.agents)}

    def rank(agent_id: str) -> tuple[float, int]:
        return snap.view(agent_id).idle_since, position[agent_id]

    for offer in decide(snap, now):
        assert why_not(snap.view(offer.agent_id), now) is None
        assert _serves(snap, offer.agent_id, offer.queue_id)
        outranked = [p.agent_id for p in offer.reason.passed if p.why is WhyNot.OUTRANKED]
        assert all(rank(offer.agent_id) < rank(a) for a in outranked), "not the longest idle"
        if offer.agent_id in calls[offer.call_id].tried:
            # a new round only when every free agent of the queue left for this call was tried
            assert offer.reason.new_round
            assert set(outranked) <= calls[offer.call_id].tried


@settings(max_examples=200)
@given(snapshots())
def test_fifo_and_no_head_of_line_blocking(case: tuple[RoutingSnapshot, float]) -> None:
    snap, now = case
    offers = decide(snap, now)
    got = {o.call_id: o.agent_id for o in offers}
    order = _fifo(snap)
    for offer in offers:
        later = next(i for i, c in enumerate(order) if c.call_id == offer.call_id)
        for earlier in order[:later]:
            if _serves(snap, offer.agent_id, earlier.queue_id):
                assert earlier.call_id in got, "an earlier caller was skipped for a later one"
    offered = set(got.values())
    for call in order:
        if call.call_id not in got:  # unserved callers leave no usable agent idle
            assert not any(
                why_not(v, now) is None and v.agent_id not in offered
                and _serves(snap, v.agent_id, call.queue_id)
                for v in snap.views
            )


@settings(max_examples=100)
@given(snapshots())
def test_decide_is_deterministic(case: tuple[RoutingSnapshot, float]) -> None:
    snap, now = case
    assert decide(snap, now) == decide(snap, now)
