"""What routing tells a waiting caller, through the call engine over FakeAsterisk: position
announcements, plan steps and overflow, the queue's exit after the longest wait, a place kept
for a caller who calls back."""

from __future__ import annotations

from ari_app.calls.record import CallOutcome
from ari_app.calls.waiting import NO_AGENT_PROMPT
from ivr.journey import JourneyType as J
from routing.config import PlanStep, QueueExit
from tests.unit.engine_harness import (
    ALICE,
    BOB,
    CAROL,
    HotlineFactory,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    routing,
)

CALL_BACK = "All our agents are busy. Please call back later."


async def test_the_queue_exit_message_plays_after_the_longest_wait(
        hotline: HotlineFactory) -> None:
    line = await hotline(routing(empty={"max_wait_s": 0.1,
                                        "exit": QueueExit("message", message=CALL_BACK)}))
    call = await line.call(keys="3")
    ended = await line.finished(call)

    assert ended.first(J.ROUTING, kind="exit")["exit"] == "message"
    assert ended.first(J.QUEUE_LEAVE) == {"reason": "exit_message"}
    assert line.said(call.channel_id)[-2:] == ["moh:default", CALL_BACK]
    assert ended.record.outcome == CallOutcome.QUEUE_EXIT
    assert ended.record.hangup_cause == "normal_clearing"
    assert line.fake.requested("DELETE", f"/channels/{call.channel_id}")
    assert ended.survey is None
    line.assert_clean()


async def test_the_longest_wait_without_an_exit_says_sorry(hotline: HotlineFactory) -> None:
    line = await hotline(routing(empty={"max_wait_s": 0.1}))
    call = await line.call(keys="3")
    ended = await line.finished(call)

    assert ended.first(J.QUEUE_LEAVE) == {"reason": "WaitTimeout"}
    assert line.said(call.channel_id)[-1] == NO_AGENT_PROMPT
    assert ended.record.outcome == CallOutcome.QUEUE_EXIT
    line.assert_clean()


async def test_a_waiting_caller_hears_their_position_between_the_music(
        hotline: HotlineFactory) -> None:
    line = await hotline(routing(empty={"announce_every_s": 0.05}))
    call = await line.call(keys="3")
    announced = await line.journal_event(call, J.QUEUE_POSITION)
    await line.journal.wait_for(  # the second one: the first has been played by then
        lambda e: e.call_id == call.call_id and e.type is J.QUEUE_POSITION
        and line.live_types(call).count("queue_position") >= 2, "a second announcement")
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)

    assert announced.details["position"] == 1
    heard = line.said(call.channel_id)
    first = next(i for i, text in enumerate(heard) if text.startswith("You are number 1 in line"))
    assert heard[first - 1: first + 2:2] == ["moh:default", "moh:default"]  # music around it
    assert ended.record.outcome == CallOutcome.ABANDONED_IN_QUEUE
    line.assert_clean()


async def test_plan_steps_raise_the_priority_then_overflow_to_another_queue(
        hotline: HotlineFactory) -> None:
    plan = (PlanStep("everyone", 0.0), PlanStep("boost", 0.05, priority_delta=3),
            PlanStep("spill", 0.1, overflow_to="billing"))
    line = await hotline(routing(empty={"plan": plan}))
    line.fake.agent_behaviour(CAROL, talk_s=0.05)
    call = await line.call(keys="3")
    ended = await line.finished(call)

    assert ended.first(J.ROUTING, kind="step_opened", step="boost")["queue"] == "empty"
    assert ended.first(J.ROUTING, kind="priority")["new"] == 3
    assert ended.first(J.ROUTING, kind="overflow") == {
        "kind": "overflow", "queue": "billing", "from_queue": "empty", "cause": "step:spill"}
    assert ended.in_order(J.QUEUE_JOIN, J.ROUTING, J.AGENT_OFFER, J.AGENT_ANSWER)
    assert ended.first(J.AGENT_ANSWER)["queue"] == "billing"
    assert (ended.record.queue_id, ended.record.agent_id) == ("billing", "carol")
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_ring_all_rings_every_agent_and_the_first_answer_wins(
        hotline: HotlineFactory) -> None:
    line = await hotline(routing(claims={"strategy": "ring_all"}))
    line.fake.agent_behaviour(ALICE, answer_after_s=None)
    line.fake.agent_behaviour(BOB, answer_after_s=0.02, talk_s=0.05)
    call = await line.call(keys="1")
    ended = await line.finished(call)

    assert sorted(str(e.details["agent"]) for e in ended.events if e.type is J.AGENT_OFFER) == [
        "alice", "bob"]
    assert ended.first(J.AGENT_ANSWER)["agent"] == "bob"
    assert J.AGENT_NO_ANSWER not in [e.type for e in ended.events]  # alice just lost the race
    alice_leg, bob_leg = sorted(line.legs(call), key=lambda leg: line.fake.gone[leg].endpoint)
    assert line.fake.requested("DELETE", f"/channels/{alice_leg}")  # we stopped her ringing
    assert not line.fake.requested("DELETE", f"/channels/{bob_leg}")  # bob hung up himself
    assert ended.record.agent_id == "bob"
    line.assert_clean()


async def test_a_caller_calling_back_keeps_their_place(hotline: HotlineFactory) -> None:
    line = await hotline()
    first = await line.call("+15550199", keys="3")
    await line.journal_event(first, J.QUEUE_JOIN)
    line.fake.hang_up(first.channel_id)
    await line.finished(first)
    again = await line.call("+15550199", keys="3")
    resumed = await line.journal_event(again, J.ROUTING, kind="resumed")
    line.fake.hang_up(again.channel_id)
    await line.finished(again)

    assert resumed.details["joined_at"] is not None
    line.assert_clean()
