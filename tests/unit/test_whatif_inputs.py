"""The what-if's inputs from what was recorded: queue visits into arrivals
(`routing/whatif/traffic.py`) and agent commands and answers into availability
(`routing/whatif/staffing.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from routing.config import Queue, RoutingConfig
from routing.kpis.facts import QueueVisit, VisitOutcome
from routing.model import AgentStatus, HandoffContext
from routing.whatif.model import AgentChange, Leg, Staffing
from routing.whatif.staffing import AgentCommand, AnsweredOffer, staffing
from routing.whatif.traffic import arrival, stretch_waits

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
A, Ab, F, W = (VisitOutcome.ANSWERED, VisitOutcome.ABANDONED, VisitOutcome.FLOW_OUT,
               VisitOutcome.WAITING)
AVAILABLE, PAUSED, OUT = AgentStatus.AVAILABLE, AgentStatus.PAUSED, AgentStatus.LOGGED_OUT


def visit(queue: str, at: float, outcome: VisitOutcome, wait: float, talk: float = 0.0,
          transferred: bool = False) -> QueueVisit:  # fmt: skip
    return QueueVisit(queue, T0 + timedelta(seconds=at), outcome, wait,
                      "a1" if outcome is A else None, 1 if outcome is A else None, talk,
                      transferred=transferred)


# ------------------------------------------------------------------ traffic


def test_an_answered_call_is_one_leg_with_unknown_patience() -> None:
    context = HandoffContext("claim", ("menu:claims",))
    found = arrival("c1", [visit("q", 90, A, 12, talk=60)], T0, caller_number="+1555",
                    context=context, rings=[3.5])
    assert found is not None
    assert (found.queue_id, found.at_s, found.caller_number, found.context) == (
        "q", 90.0, "+1555", context)
    assert found.legs == (Leg(60, 3.5),)
    assert (found.patience_s, found.waited_s) == (None, 12.0)


def test_an_abandoned_call_brings_its_patience() -> None:
    found = arrival("c1", [visit("q", 5, Ab, 33)], T0)
    assert found is not None and found.legs == ()
    assert (found.patience_s, found.waited_s) == (33.0, 33.0)


def test_an_overflow_keeps_the_stretch_going() -> None:
    visits = [visit("q1", 0, F, 30), visit("q2", 30, Ab, 12)]
    assert stretch_waits(visits) == [42.0]
    found = arrival("c1", visits, T0)
    assert found is not None and found.queue_id == "q1"
    assert (found.patience_s, found.waited_s) == (42.0, 42.0)


def test_a_transfer_is_a_leg_that_sends_the_caller_on_and_a_new_stretch() -> None:
    visits = [visit("q1", 0, A, 5, talk=40, transferred=True), visit("q2", 45, A, 25, talk=10)]
    assert stretch_waits(visits) == [5.0, 25.0]
    found = arrival("c1", visits, T0, rings=[1, 2], transfer_tiers=[2])
    assert found is not None
    assert found.legs == (Leg(40, 1, "q2", 2), Leg(10, 2))
    assert (found.patience_s, found.waited_s) == (None, 25.0)


def test_a_transfer_then_a_hang_up_gives_the_last_stretchs_patience() -> None:
    visits = [visit("q1", 0, A, 50, talk=40, transferred=True), visit("q2", 90, Ab, 8)]
    found = arrival("c1", visits, T0)
    assert found is not None and found.legs == (Leg(40, 0, "q2", None),)
    assert (found.patience_s, found.waited_s) == (8.0, 50.0)


def test_a_wrap_up_shorter_than_its_queues_timer_was_ended_early() -> None:
    read_with = RoutingConfig(queues=(Queue("q", "Q", wrapup_s=10),))
    ended = replace(visit("q", 0, A, 5, talk=40), wrapup_s=3.0)
    ran_out = replace(visit("q", 0, A, 5, talk=40), wrapup_s=10.0)
    assert arrival("c1", [ended], T0, read_with=read_with).legs == (  # type: ignore[union-attr]
        Leg(40, 0, None, None, 3.0),)
    assert arrival("c2", [ran_out], T0, read_with=read_with).legs == (  # type: ignore[union-attr]
        Leg(40),)


def test_a_call_still_waiting_has_unknown_patience_and_one_that_never_queued_no_arrival() -> None:
    found = arrival("c1", [visit("q", 10, W, 0)], T0)
    assert found is not None and found.patience_s is None
    assert arrival("c2", [], T0) is None


# ------------------------------------------------------------------ staffing


def test_with_nothing_recorded_every_agent_starts_available() -> None:
    assert staffing(["a1", "a2"], []) == Staffing()


def test_commands_before_the_window_decide_the_start_and_later_ones_are_changes() -> None:
    commands = [AgentCommand(-3600, "a1", "logout"), AgentCommand(-60, "a2", "pause"),
                AgentCommand(120, "a1", "login"), AgentCommand(300, "a2", "resume"),
                AgentCommand(400, "a2", "pause"), AgentCommand(500, "a2", "logout")]
    assert staffing(["a1", "a2"], commands) == Staffing(
        (("a1", OUT), ("a2", PAUSED)),
        (AgentChange(120, "a1", AVAILABLE), AgentChange(300, "a2", AVAILABLE),
         AgentChange(400, "a2", PAUSED), AgentChange(500, "a2", OUT)))


def test_commands_the_live_router_refuses_change_nothing() -> None:
    commands = [AgentCommand(10, "a1", "resume"), AgentCommand(20, "a1", "logout"),
                AgentCommand(30, "a1", "pause"), AgentCommand(40, "a1", "login"),
                AgentCommand(50, "a1", "login")]
    assert staffing(["a1"], commands).changes == (AgentChange(20, "a1", OUT),
                                                  AgentChange(40, "a1", AVAILABLE))


def test_an_answer_proves_its_agent_available_from_the_offer_on() -> None:
    commands = [AgentCommand(-10, "a1", "logout"), AgentCommand(100, "a2", "pause")]
    answers = [AnsweredOffer(50, "a1"), AnsweredOffer(60, "a1"), AnsweredOffer(150, "a2")]
    assert staffing(["a1", "a2"], commands, answers) == Staffing(
        (("a1", OUT),),
        (AgentChange(50, "a1", AVAILABLE), AgentChange(100, "a2", PAUSED),
         AgentChange(150, "a2", AVAILABLE)))


def test_records_of_agents_not_configured_are_ignored() -> None:
    assert staffing(["a1"], [AgentCommand(-5, "ghost", "logout")],
                    [AnsweredOffer(3, "ghost")]) == Staffing()


def test_at_equal_times_commands_come_before_answers() -> None:
    found = staffing(["a1"], [AgentCommand(10, "a1", "logout")], [AnsweredOffer(10, "a1")])
    assert found.changes == (AgentChange(10, "a1", OUT), AgentChange(10, "a1", AVAILABLE))
