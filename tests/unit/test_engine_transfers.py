"""Transfers through the call engine over FakeAsterisk: asked over the API
(`CallEngine.request_transfer`) or by the agent's keypad (``*`` and a tier)."""

from __future__ import annotations

from ari_app.calls.conversation import TransferRequest
from ari_app.calls.record import CallOutcome
from ari_app.calls.registry import TransferOutcome
from ari_app.calls.waiting import TRANSFER_PROMPT
from ivr.journey import JourneyType as J
from routing.config import Agent
from tests.unit.engine_harness import (
    ALICE,
    BOB,
    CAROL,
    MENU,
    SURVEY_ASK,
    HotlineFactory,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
    routing,
    with_agents,
)


async def test_an_agent_transfers_the_caller_to_another_queue_with_notes(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(SURVEY_ASK)] = 30.0
    call = await line.call(keys="1")
    alice = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    first_bridge = line.fake.channels[alice].bridge_id

    outcome = line.engine.request_transfer(
        call.call_id, TransferRequest(queue_id="billing", notes="wants a refund"))
    assert outcome is TransferOutcome.ACCEPTED
    carol = await line.answered_leg(call, CAROL)
    await line.journal_event(call, J.AGENT_ANSWER, agent="carol")
    second_bridge = line.fake.channels[carol].bridge_id
    assert line.engine.journey(call.call_id) is not None
    line.fake.hang_up(carol)
    await line.playing(SURVEY_ASK)
    line.fake.press(call.channel_id, "4")
    ended = await line.finished(call)

    assert ended.first(J.TRANSFER) == {"agent": "alice", "queue": "billing", "min_tier": None,
                                       "notes": "wants a refund", "by": "api"}
    assert ended.in_order(J.AGENT_ANSWER, J.TRANSFER, J.ROUTING, J.AGENT_OFFER, J.AGENT_ANSWER,
                          J.AGENT_HANGUP, J.SURVEY)
    assert ended.first(J.ROUTING, kind="transferred")["queue"] == "billing"
    handoff = ended.first(J.AGENT_ANSWER, agent="carol")["handoff"]
    assert isinstance(handoff, dict) and handoff["previous_agents"] == ["alice"]
    assert [n["notes"] for n in handoff["notes"]] == ["wants a refund"]
    assert TRANSFER_PROMPT in line.said(call.channel_id)
    assert line.said(call.channel_id).count("moh:default") == 2  # waiting again
    assert line.fake.requested("DELETE", f"/channels/{alice}")  # we ended alice's leg
    assert first_bridge != second_bridge
    for bridge in (first_bridge, second_bridge):
        assert line.fake.requested("DELETE", f"/bridges/{bridge}")
    assert ended.record.outcome == CallOutcome.ANSWERED
    assert (ended.record.queue_id, ended.record.agent_id) == ("billing", "carol")
    assert sorted((m.agent_id, m.queue_id) for m in ended.recordings) == [
        ("alice", "claims"), ("carol", "billing")]
    assert ended.survey is not None and (ended.survey.agent_id, ended.survey.score) == (
        "carol", 4)
    line.assert_clean()


async def test_a_transfer_is_refused_unless_an_agent_is_talking(hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, answer_after_s=None)
    request = TransferRequest(queue_id="claims", notes="n/a")
    assert line.engine.request_transfer("no-such-call", request) is TransferOutcome.NO_SUCH_CALL
    line.fake.media_durations[media_of(MENU)] = 30.0
    call = await line.call()
    await line.playing(MENU)  # in the IVR
    assert line.engine.request_transfer(call.call_id, request) is TransferOutcome.NOT_TALKING
    line.fake.press(call.channel_id, "2")
    await line.journal_event(call, J.AGENT_OFFER)  # in the queue, carol ringing
    assert line.engine.request_transfer(call.call_id, request) is TransferOutcome.NOT_TALKING
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)

    assert line.engine.request_transfer(call.call_id, request) is TransferOutcome.NO_SUCH_CALL
    assert line.engine.journey(call.call_id) is None
    assert J.TRANSFER not in [e.type for e in ended.events]
    assert ended.record.outcome == CallOutcome.ABANDONED_IN_QUEUE
    line.assert_clean()


async def test_the_agent_keypad_escalates_to_a_higher_tier(hotline: HotlineFactory) -> None:
    config = with_agents(routing(), lambda a: Agent(a.agent_id, a.name, a.endpoint,
                                                   2 if a.agent_id == "bob" else 1, a.skills))
    line = await hotline(config)
    line.fake.agent_behaviour(BOB, talk_s=0.05)
    call = await line.call(keys="1")
    alice = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    await line.key_by_key(alice, "5*1")  # not a feature code: the call goes on
    await line.key_by_key(alice, "*2")  # to tier 2
    ended = await line.finished(call)

    assert ended.first(J.TRANSFER) == {
        "agent": "alice", "queue": None, "min_tier": 2,
        "notes": "escalated to tier 2 by keypad", "by": "keypad"}
    assert [e.details["agent"] for e in ended.events if e.type is J.AGENT_ANSWER] == [
        "alice", "bob"]
    assert ended.first(J.ROUTING, kind="transferred")["min_tier"] == 2
    assert ended.record.agent_id == "bob" and ended.record.outcome == CallOutcome.ANSWERED
    assert len(ended.recordings) == 2
    line.assert_clean()
