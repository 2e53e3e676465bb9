"""The retention decision (recordings.retention.policy) over a simulated clock: which recordings
are due at time T, exactly at the limit, held, with no rule, a queue without its own rule, and a
recording with no queue; and the cutoffs a store reads candidates by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from recordings.retention.policy import Candidate, Cutoff, RetentionPolicy, cutoffs, due, is_due

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)
POLICY = RetentionPolicy(30, MappingProxyType({"claims": 2555, "billing": 7}))


class Clock:
    """A simulated clock: time moves only when told."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at


def rec(rid: str, queue: str | None, started: datetime = T0, held: bool = False) -> Candidate:
    return Candidate(rid, queue, started, held)


def test_nothing_is_due_while_no_retention_is_configured() -> None:
    forever = RetentionPolicy()
    far = T0 + 100 * 365 * DAY
    assert due([rec("a", "claims"), rec("b", None), rec("c", "")], forever, far) == []
    assert forever.retain_until(T0, "claims") is None
    assert cutoffs(forever, far) == ()


@pytest.mark.parametrize(("queue", "days"), [("billing", 7), ("claims", 2555), ("general", 30),
                                             ("", 30), (None, 30)])  # fmt: skip
def test_due_exactly_at_the_limit_and_not_a_moment_before(queue: str | None, days: int) -> None:
    clock = Clock(T0)
    candidate = rec("r", queue)
    assert POLICY.retain_until(T0, queue) == T0 + days * DAY
    assert not is_due(candidate, POLICY, clock.advance(days * DAY - TICK))
    assert is_due(candidate, POLICY, clock.advance(TICK))  # exactly at the limit: due
    assert is_due(candidate, POLICY, clock.advance(DAY))


def test_a_held_recording_is_never_due() -> None:
    far = T0 + 10_000 * DAY
    assert due([rec("held", "billing", held=True), rec("free", "billing")], POLICY, far) == [
        rec("free", "billing")]


def test_a_queue_without_its_own_rule_and_a_recording_without_a_queue_follow_the_default() -> None:
    only_queues = RetentionPolicy(None, MappingProxyType({"billing": 7}))
    later = T0 + 365 * DAY
    assert due([rec("g", "general"), rec("n", None), rec("e", ""), rec("b", "billing")],
               only_queues, later) == [rec("b", "billing")]  # the default keeps for ever
    assert [c.recording_id for c in due([rec("g", "general"), rec("n", None), rec("e", "")],
                                        POLICY, T0 + 30 * DAY)] == ["e", "g", "n"]


def test_due_recordings_come_oldest_first_and_young_ones_stay() -> None:
    now = T0 + 40 * DAY
    found = due([rec("young", "general", now - 29 * DAY), rec("mid", "general", now - 31 * DAY),
                 rec("old", "billing", T0), rec("kept", "claims", T0)], POLICY, now)
    assert [c.recording_id for c in found] == ["old", "mid"]


def test_the_cutoffs_name_each_queue_rule_and_the_default_over_the_others() -> None:
    now = T0 + 3000 * DAY
    assert cutoffs(POLICY, now) == (
        Cutoff("billing", now - 7 * DAY), Cutoff("claims", now - 2555 * DAY),
        Cutoff(None, now - 30 * DAY, frozenset({"billing", "claims"})))
    assert cutoffs(RetentionPolicy(None, MappingProxyType({"claims": 1})), now) == (
        Cutoff("claims", now - DAY),)


def test_the_reason_names_the_rule_that_applied() -> None:
    assert POLICY.why("claims") == "retention: queue claims keeps recordings 2555 days"
    assert POLICY.why("") == "retention: the default keeps recordings 30 days"
