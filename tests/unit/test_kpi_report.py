"""KPI reports from call facts: the worked vector rebuilt from 1,060 calls, the boundaries at
exactly T and S, interval attribution, grouping, first-call resolution's N days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from routing.kpis.facts import CallFacts, KpiSettings, QueueVisit, VisitOutcome
from routing.kpis.formulas import QueueCounts, Thresholds
from routing.kpis.report import TOTAL, UNASSIGNED, GroupBy, Repeats, counts, report

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
SETTINGS = KpiSettings(Thresholds(20, 5), fcr_days=7)
ANSWERED, ABANDONED, FLOW_OUT = (VisitOutcome.ANSWERED, VisitOutcome.ABANDONED,
                                 VisitOutcome.FLOW_OUT)


def visit(outcome: VisitOutcome, wait_s: float, *, at: datetime = T0, queue: str = "claims",
          agent: str | None = None, tier: int | None = None, talk_s: float = 0.0,
          wrapup_s: float = 0.0, transferred: bool = False) -> QueueVisit:  # fmt: skip
    if outcome is ANSWERED and agent is None:
        agent, tier = "alice", 1
    return QueueVisit(queue, at, outcome, wait_s, agent, tier, talk_s, 0.0, wrapup_s,
                      transferred)  # fmt: skip


def call(n: int, *visits: QueueVisit, caller: str | None = None, at: datetime = T0,
         **facts: object) -> CallFacts:  # fmt: skip
    return CallFacts(f"c{n}", caller, at, tuple(visits), **facts)  # type: ignore[arg-type]


def no_repeats(calls: Sequence[CallFacts] = ()) -> Repeats:
    return Repeats([(c.caller, c.arrived_at) for c in calls if c.caller], 7, NOW)


def vector_calls() -> list[CallFacts]:
    """A=1000 (860 within 20 s: 20 of them at exactly 20 s), Ab=60: 10 within 5 s (4 at
    exactly 5 s), 10 more within 20 s (2 at exactly 20 s), 40 after 20 s (at 20.001 s)."""
    waits = ([(ANSWERED, 3.0)] * 840 + [(ANSWERED, 20.0)] * 20 + [(ANSWERED, 20.001)] * 140
             + [(ABANDONED, 1.0)] * 6 + [(ABANDONED, 5.0)] * 4 + [(ABANDONED, 5.001)] * 8
             + [(ABANDONED, 20.0)] * 2 + [(ABANDONED, 20.001)] * 40)  # fmt: skip
    return [call(i, visit(o, w)) for i, (o, w) in enumerate(waits)]


def test_the_worked_vector_from_calls() -> None:
    calls = vector_calls()
    assert counts([v for c in calls for v in c.visits], SETTINGS.thresholds) == QueueCounts(
        answered=1000, answered_within=860, abandoned=60, abandoned_within=20,
        short_abandoned=10)
    total = report(calls, SETTINGS, no_repeats()).total
    shown = {k.key: (k.numerator, k.denominator, k.shown) for k in total.kpis}
    assert shown["sl"] == (860, 1000, "86.0 %")
    assert shown["sl2"] == (880, 1060, "83.0 %")
    assert shown["sl_all_abandons"] == (860, 1060, "81.1 %")
    assert shown["sl_late_abandons"] == (860, 1040, "82.7 %")
    assert shown["sl_excl_short"] == (860, 1050, "81.9 %")
    assert shown["abandon_rate"] == (60, 1060, "5.7 %")
    assert total.kpi("sl_excl_short").label == "SL(20 s, excl. short ≤ 5 s)"


def test_a_wait_of_exactly_t_is_within_and_a_hair_over_is_not() -> None:
    th = SETTINGS.thresholds
    assert counts([visit(ANSWERED, 20.0)], th).answered_within == 1
    assert counts([visit(ANSWERED, 20.0001)], th).answered_within == 0
    assert counts([visit(ABANDONED, 5.0)], th) == QueueCounts(0, 0, 1, 1, 1)
    assert counts([visit(ABANDONED, 5.0001)], th) == QueueCounts(0, 0, 1, 1, 0)
    assert counts([visit(ABANDONED, 20.0)], th) == QueueCounts(0, 0, 1, 1, 0)


def test_waiting_visits_count_nowhere_and_flow_outs_only_in_answer_rate() -> None:
    calls = [call(1, visit(ANSWERED, 4.0)), call(2, visit(VisitOutcome.WAITING, 40.0)),
             call(3, visit(FLOW_OUT, 300.0))]
    total = report(calls, SETTINGS, no_repeats()).total
    assert total.counts == QueueCounts(1, 1, 0, 0, 0, flow_outs=1)
    assert total.kpi("answer_rate").shown == "50.0 %"
    assert total.kpi("sl_all_abandons").shown == "100.0 %"


def test_an_empty_range_reports_not_applicable_everywhere() -> None:
    result = report([], SETTINGS, no_repeats(), GroupBy.HOUR)
    assert result.rows == ()
    assert {k.shown for k in result.total.kpis} == {"n/a"}


def test_asa_aht_and_transfers_count_answered_visits_only() -> None:
    calls = [call(1, visit(ANSWERED, 10.0, talk_s=100.0, wrapup_s=5.0)),
             call(2, visit(ANSWERED, 30.0, talk_s=200.0, wrapup_s=5.0, transferred=True)),
             call(3, visit(ABANDONED, 50.0))]
    total = report(calls, SETTINGS, no_repeats()).total
    assert (total.kpi("asa").numerator, total.kpi("asa").shown) == (40.0, "20.0 s")
    assert total.kpi("aht").shown == "155.0 s"
    assert total.kpi("transfer_rate").shown == "50.0 %"
    assert total.kpi("occupancy").shown == "n/a"  # no idle time given


def test_each_visit_counts_in_the_hour_it_entered_the_queue() -> None:
    """Entered at 09:59:50, answered at 10:00:20: the 09:00 interval; a call's survey goes
    with its first queue entry, and a call that never queued with its arrival."""
    late = T0 + timedelta(minutes=59, seconds=50)
    calls = [call(1, visit(ANSWERED, 30.0, at=late), at=late - timedelta(seconds=40),
                  survey_score=5),
             call(2, at=T0 + timedelta(hours=1, minutes=5), reached_self_service=True,
                  contained=True)]
    rows = {r.group: r for r in report(calls, SETTINGS, no_repeats(), GroupBy.HOUR).rows}
    nine, ten = "2026-12-01T09:00:00+00:00", "2026-12-01T10:00:00+00:00"
    assert list(rows) == [nine, ten]
    assert (rows[nine].counts.answered, rows[nine].kpi("csat").shown) == (1, "100.0 %")
    assert rows[nine].kpi("containment").shown == "n/a"
    assert (rows[ten].counts.answered, rows[ten].kpi("containment").shown) == (0, "100.0 %")


def test_groups_by_queue_tier_and_agent() -> None:
    calls = [
        call(1, visit(ANSWERED, 5.0, agent="alice", tier=1),
             visit(ANSWERED, 50.0, queue="billing", agent="bob", tier=2), survey_score=2),
        call(2, visit(ABANDONED, 30.0)),
        call(3, visit(ANSWERED, 8.0, agent="carol", tier=10), survey_score=5),
    ]
    by_queue = report(calls, SETTINGS, no_repeats(), GroupBy.QUEUE)
    assert [r.group for r in by_queue.rows] == ["billing", "claims"]
    assert by_queue.rows[1].counts == QueueCounts(2, 2, 1, 0, 0)
    by_tier = report(calls, SETTINGS, no_repeats(), GroupBy.TIER)
    assert [r.group for r in by_tier.rows] == ["1", "2", "10", UNASSIGNED]
    by_agent = {r.group: r for r in report(calls, SETTINGS, no_repeats(), GroupBy.AGENT).rows}
    assert by_agent["bob"].kpi("sl").shown == "0.0 %"
    assert by_agent["alice"].kpi("csat").shown == "0.0 %"  # the call's survey scored 2
    assert by_agent[UNASSIGNED].counts.abandoned == 1
    assert report(calls, SETTINGS, no_repeats(), GroupBy.AGENT).total.calls == 3


def test_a_repeat_within_n_days_means_not_resolved_and_exactly_n_days_is_within() -> None:
    day = timedelta(days=1)
    first = call(1, visit(ANSWERED, 1.0), caller="+1555")
    again_at_7d = call(2, visit(ANSWERED, 1.0), caller="+1555", at=T0 + 7 * day)
    other = call(3, visit(ANSWERED, 1.0), caller="+1666")
    other_later = call(4, caller="+1666", at=T0 + 7 * day + timedelta(seconds=1))
    withheld = call(5, visit(ANSWERED, 1.0), caller=None)
    unanswered = call(6, visit(ABANDONED, 1.0), caller="+1777")
    everyone = [first, again_at_7d, other, other_later, withheld, unanswered]
    fcr = report([first, other, withheld, unanswered], SETTINGS,
                 no_repeats(everyone)).total.kpi("fcr")
    assert (fcr.numerator, fcr.denominator, fcr.label) == (1, 2, "FCR(no repeat ≤ 7 d)")


def test_a_call_whose_n_days_are_not_over_is_not_judged_yet() -> None:
    recent = call(1, visit(ANSWERED, 1.0), caller="+1555", at=NOW - timedelta(days=6))
    assert report([recent], SETTINGS, no_repeats([recent])).total.kpi("fcr").shown == "n/a"
    old = call(1, visit(ANSWERED, 1.0), caller="+1555", at=NOW - timedelta(days=7))
    assert report([old], SETTINGS, no_repeats([old])).total.kpi("fcr").shown == "100.0 %"


@pytest.mark.parametrize("days", [0, -1])
def test_fcr_days_must_be_positive(days: float) -> None:
    with pytest.raises(ValueError, match="fcr_days"):
        KpiSettings(fcr_days=days)


def test_complaints_and_containment_count_calls() -> None:
    calls = [call(1, complaint=True), call(2, reached_self_service=True),
             call(3, reached_self_service=True, contained=True), call(4, visit(ANSWERED, 2.0))]
    total = report(calls, SETTINGS, no_repeats()).total
    assert total.kpi("complaint_rate").shown == "25.0 %"
    assert total.kpi("containment").shown == "50.0 %"
    assert total.group == TOTAL


def test_dispositions_are_counted_with_the_visit_they_close() -> None:
    hour = timedelta(hours=1)
    calls = [
        call(1, replace(visit(ANSWERED, 5.0, agent="alice", tier=1), disposition="resolved"),
             replace(visit(ANSWERED, 9.0, queue="billing", agent="bob", tier=2, at=T0 + hour),
                     disposition="complaint")),
        call(2, replace(visit(ANSWERED, 3.0, agent="alice", tier=1), disposition="resolved")),
        call(3, visit(ANSWERED, 3.0, agent="alice", tier=1)),  # no disposition given
        call(4, visit(ABANDONED, 30.0)),
    ]
    by_agent = {r.group: r.dispositions
                for r in report(calls, SETTINGS, no_repeats(), GroupBy.AGENT).rows}
    assert by_agent == {"alice": (("resolved", 2),), "bob": (("complaint", 1),),
                        UNASSIGNED: ()}  # fmt: skip
    by_hour = [r.dispositions for r in report(calls, SETTINGS, no_repeats(), GroupBy.HOUR).rows]
    assert by_hour == [(("resolved", 2),), (("complaint", 1),)]  # the visit's own hour
    by_queue = {r.group: r.dispositions
                for r in report(calls, SETTINGS, no_repeats(), GroupBy.QUEUE).rows}
    assert by_queue == {"billing": (("complaint", 1),), "claims": (("resolved", 2),)}
    by_tier = {r.group: r.dispositions
               for r in report(calls, SETTINGS, no_repeats(), GroupBy.TIER).rows}
    assert by_tier["2"] == (("complaint", 1),)
    assert report(calls, SETTINGS, no_repeats()).total.dispositions == (("complaint", 1),
                                                                       ("resolved", 2))
