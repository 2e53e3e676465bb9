"""What a call's journey keeps of a routing decision: the offer in full, the others counted."""

from __future__ import annotations

from routing.model import AgentVerdict, Chosen, Decision, WhyNot


def a_decision(*others: AgentVerdict) -> Decision:
    chosen = (Chosen("a07", "front", 1, "longest_idle", 42.0),)
    return Decision(100.0, "c1", "claims", 3, chosen, lambda: others)


def test_the_others_are_grouped_by_reason_most_first_with_a_few_named() -> None:
    busy = [AgentVerdict(f"a{n:02d}", WhyNot.BUSY, detail=f"on_call c{n}") for n in range(1, 6)]
    decision = a_decision(*busy[:2], AgentVerdict("x1", WhyNot.TIER_NOT_OPEN, 130.0),
                          *busy[2:])
    assert decision.summary() == (
        "t=100 config v3 c1@claims: a07: step 'front', tier 1, longest_idle 42 | "
        "busy x5 (a01, a02, a03, ...); tier not open x1 (x1)")
    assert decision.summary(names=5).endswith("busy x5 (a01, a02, a03, a04, a05); "
                                              "tier not open x1 (x1)")
    assert "on_call c4" in str(decision)  # the full explanation is still there for the asking


def test_nobody_else_in_the_queue_leaves_only_the_offer() -> None:
    assert a_decision().summary() == str(a_decision()) == \
        "t=100 config v3 c1@claims: a07: step 'front', tier 1, longest_idle 42"
