"""Stored journeys read as KPI facts (`ari_app/reports/facts.py`): waits, talk, wrap-up, tier,
transfers, overflows, flow-outs, abandons, self-service and complaints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ari_app.calls.desk.model import Disposition
from ari_app.calls.record import CallOutcome, CallRecord
from ari_app.reports.facts import call_facts, visits
from ivr.journey import JourneyEvent, JourneyType
from routing.config import Agent, Queue, RoutingConfig
from routing.kpis.facts import QueueVisit, VisitOutcome

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONFIG = RoutingConfig(
    agents=(Agent("alice", "Alice", "PJSIP/1001", tier=1), Agent("bob", "Bob", "PJSIP/1002",
                                                                 tier=2)),
    queues=(Queue("claims", "Claims", wrapup_s=5), Queue("billing", "Billing", wrapup_s=12)),
)
J = JourneyType


def e(type_: JourneyType, t: float, **details: object) -> JourneyEvent:
    return JourneyEvent("c1", type_, t, T0 + timedelta(seconds=t), details)


def at(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


def test_an_answered_call_waits_talks_and_wraps_up() -> None:
    journey = [e(J.CALL_START, 0), e(J.QUEUE_JOIN, 3, queue="claims"),
               e(J.AGENT_OFFER, 4, queue="claims", agent="alice"),
               e(J.AGENT_ANSWER, 13, queue="claims", agent="alice"),
               e(J.AGENT_HANGUP, 73, agent="alice"), e(J.SURVEY, 80, score=5),
               e(J.HANGUP, 85)]  # fmt: skip
    assert visits(journey, CONFIG) == (QueueVisit(
        "claims", at(3), VisitOutcome.ANSWERED, 10.0, "alice", 1, talk_s=60.0, wrapup_s=5.0),)


def test_the_caller_hanging_up_ends_the_talk_or_abandons_the_wait() -> None:
    talked = [e(J.QUEUE_JOIN, 1, queue="claims"), e(J.AGENT_ANSWER, 2, agent="alice"),
              e(J.HANGUP, 32)]
    (one,) = visits(talked, CONFIG)
    assert (one.outcome, one.talk_s) == (VisitOutcome.ANSWERED, 30.0)
    waited = [e(J.QUEUE_JOIN, 1, queue="claims"), e(J.AGENT_NO_ANSWER, 16, agent="alice"),
              e(J.HANGUP, 19.5)]
    assert visits(waited, CONFIG) == (
        QueueVisit("claims", at(1), VisitOutcome.ABANDONED, 18.5),)


def test_a_transfer_answers_one_visit_and_opens_the_next_in_its_queue() -> None:
    journey = [e(J.QUEUE_JOIN, 0, queue="claims"), e(J.AGENT_ANSWER, 5, agent="alice"),
               e(J.TRANSFER, 65, agent="alice", queue="billing"),
               e(J.ROUTING, 65.1, kind="transferred", queue="billing", from_queue="claims"),
               e(J.AGENT_ANSWER, 95.1, agent="bob"), e(J.AGENT_HANGUP, 195.1, agent="bob"),
               e(J.HANGUP, 196)]  # fmt: skip
    first, second = visits(journey, CONFIG)
    assert (first.outcome, first.talk_s, first.transferred) == (VisitOutcome.ANSWERED, 60.0,
                                                                True)
    assert (second.queue_id, second.entered_at, second.agent_id, second.tier) == (
        "billing", at(65.1), "bob", 2)
    assert (round(second.wait_s, 6), round(second.talk_s, 6), second.wrapup_s) == (30.0, 100.0,
                                                                                   12.0)


def test_overflow_and_exit_are_flow_outs() -> None:
    journey = [e(J.QUEUE_JOIN, 0, queue="claims"),
               e(J.ROUTING, 60, kind="overflow", queue="billing", from_queue="claims"),
               e(J.ROUTING, 360, kind="exit", exit="message", queue="billing"),
               e(J.QUEUE_LEAVE, 360, reason="exit_message"), e(J.HANGUP, 370)]  # fmt: skip
    assert visits(journey, CONFIG) == (
        QueueVisit("claims", at(0), VisitOutcome.FLOW_OUT, 60.0),
        QueueVisit("billing", at(60), VisitOutcome.FLOW_OUT, 300.0))


def test_a_call_in_progress_counts_what_is_known() -> None:
    waiting = [e(J.QUEUE_JOIN, 2, queue="claims")]
    assert visits(waiting, CONFIG)[0].outcome is VisitOutcome.WAITING
    talking = [e(J.QUEUE_JOIN, 2, queue="claims"), e(J.AGENT_ANSWER, 4, agent="nobody-now"),
               e(J.RECORDING, 10, state="started")]
    (v,) = visits(talking, CONFIG)
    assert (v.outcome, v.talk_s, v.tier, v.wrapup_s) == (VisitOutcome.ANSWERED, 6.0, None, 0.0)
    assert visits([], CONFIG) == ()


def record(caller: str, outcome: CallOutcome) -> CallRecord:
    return CallRecord("c1", "ch", caller, None, T0, T0 + timedelta(minutes=1), outcome)


def test_call_level_facts() -> None:
    contained = call_facts(record(" +1555 ", CallOutcome.CONTAINED),
                           [e(J.KNOWLEDGE, 5, state="played"), e(J.SELF_SERVICE, 9)],
                           None, CONFIG)  # fmt: skip
    assert (contained.caller, contained.reached_self_service, contained.contained,
            contained.complaint, contained.visits) == ("+1555", True, True, False, ())
    spoken = call_facts(record("anonymous", CallOutcome.ANSWERED),
                        [e(J.INTENT, 4, intent="complaint", confidence=0.9, action="act")], 2,
                        CONFIG)  # fmt: skip
    assert (spoken.caller, spoken.complaint, spoken.survey_score) == (None, True, 2)
    chosen = call_facts(record("", CallOutcome.ANSWERED),
                        [e(J.MENU, 4, choice="complaint", target="agent")], None, CONFIG)
    assert (chosen.caller, chosen.complaint) == (None, True)
    other = call_facts(record("+1", CallOutcome.ANSWERED),
                       [e(J.INTENT, 4, intent="billing"), e(J.MENU, 5, choice="6")], None,
                       CONFIG)  # fmt: skip
    assert other.complaint is False


def disposition(agent: str, code: str, *, complaint: bool = False,
                wrapup_ended_at: datetime | None = None) -> Disposition:  # fmt: skip
    return Disposition("c1", agent, code, complaint, None, "", agent, "agent", at(200), at(200),
                       wrapup_ended_at)


def test_a_disposition_closes_the_last_visit_its_agent_answered() -> None:
    journey = [e(J.QUEUE_JOIN, 0, queue="claims"), e(J.AGENT_ANSWER, 5, agent="alice"),
               e(J.TRANSFER, 65, agent="alice", queue="billing"),
               e(J.ROUTING, 65.1, kind="transferred", queue="billing", from_queue="claims"),
               e(J.AGENT_ANSWER, 95.1, agent="bob"), e(J.AGENT_HANGUP, 195.1, agent="bob"),
               e(J.HANGUP, 196)]  # fmt: skip
    given = [disposition("bob", "complaint", complaint=True),
             disposition("alice", "escalated"), disposition("carol", "resolved")]
    facts = call_facts(record("+1", CallOutcome.ANSWERED), journey, None, CONFIG, given)
    assert [(v.agent_id, v.disposition) for v in facts.visits] == [("alice", "escalated"),
                                                                   ("bob", "complaint")]
    assert facts.complaint  # bob's code is flagged complaint; carol answered no visit
    plain = call_facts(record("+1", CallOutcome.ANSWERED), journey, None, CONFIG,
                       [disposition("alice", "resolved")])  # fmt: skip
    assert plain.complaint is False


def test_a_disposition_that_ended_the_wrapup_early_shortens_it() -> None:
    journey = [e(J.QUEUE_JOIN, 3, queue="billing"), e(J.AGENT_ANSWER, 13, agent="bob"),
               e(J.AGENT_HANGUP, 73, agent="bob"), e(J.HANGUP, 85)]  # billing: 12 s wrap-up
    early = call_facts(record("+1", CallOutcome.ANSWERED), journey, None, CONFIG,
                       [disposition("bob", "resolved", wrapup_ended_at=at(77.5))])  # fmt: skip
    assert [(v.wrapup_s, v.disposition) for v in early.visits] == [(4.5, "resolved")]
    late = call_facts(record("+1", CallOutcome.ANSWERED), journey, None, CONFIG,
                      [disposition("bob", "resolved", wrapup_ended_at=at(300))])  # fmt: skip
    assert late.visits[0].wrapup_s == 12.0  # the timer had ended it: the queue's 12 s
    timer = call_facts(record("+1", CallOutcome.ANSWERED), journey, None, CONFIG,
                       [disposition("bob", "resolved")])  # fmt: skip
    assert timer.visits[0].wrapup_s == 12.0
