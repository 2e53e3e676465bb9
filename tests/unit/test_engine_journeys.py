"""Whole calls through the call engine over FakeAsterisk: menu, queue, agent, survey, and the
caller hanging up at every stage. Each test asserts the journal, the stored rows and what
Asterisk was left with."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from ari_app.ari.events import Dial
from ari_app.calls.record import CallOutcome
from ivr.journey import JourneyType as J
from routing.config import Agent
from tests.unit.engine_harness import (
    ALICE,
    BOB,
    CAROL,
    MENU,
    NOT_HEARD,
    SURVEY_ASK,
    SURVEY_REASK,
    SURVEY_THANKS,
    SURVEY_UNANSWERED,
    HotlineFactory,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
    routing,
    with_agents,
)


async def test_keypad_call_reaches_an_agent_is_recorded_and_surveyed(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    for text in (MENU, SURVEY_ASK):  # long: only the caller's key ends them
        line.fake.media_durations[media_of(text)] = 30.0
    call = await line.call()
    await line.playing(MENU)
    line.fake.press(call.channel_id, "2")
    leg = await line.answered_leg(call, CAROL)
    await line.journal_event(call, J.RECORDING, state="started")
    assert line.engine.count() == 1
    live = line.engine.journey(call.call_id)
    assert live is not None and live.record.agent_id == "carol"
    line.fake.hang_up(leg)  # the agent leaves first
    await line.playing(SURVEY_ASK)
    line.fake.press(call.channel_id, "5")
    ended = await line.finished(call)

    assert ended.in_order(J.CALL_START, J.PROMPT, J.INPUT, J.MENU, J.QUEUE_JOIN, J.AGENT_OFFER,
                          J.AGENT_ANSWER, J.RECORDING, J.AGENT_HANGUP, J.SURVEY, J.HANGUP)
    assert ended.first(J.MENU) == {"node": "main_menu", "choice": "2", "target": "billing"}
    handoff = ended.first(J.AGENT_ANSWER)["handoff"]  # what carol's screen showed
    assert isinstance(handoff, dict) and handoff["menu_path"] == ["main_menu=2"]
    assert ended.first(J.SURVEY) == {"score": 5, "answered": True}
    assert ended.types == line.live_types(call)  # everything journaled was stored
    record = ended.record
    assert (record.outcome, record.hangup_cause) == (CallOutcome.ANSWERED, "normal_clearing")
    assert (record.queue_id, record.agent_id, record.caller_number) == (
        "billing", "carol", "+15550100")
    assert record.correlation_id == call.correlation_id and record.ended_at is not None
    # What the caller heard: the key cut the menu short; music while waiting; the survey.
    assert line.fake.requested("DELETE", "/playbacks/*")
    assert line.said(call.channel_id) == ["Welcome to the test line.", MENU, "moh:default",
                                          SURVEY_ASK, SURVEY_THANKS]
    # We hung up on the caller, Asterisk hung up the agent; the bridge is gone.
    assert line.fake.requested("DELETE", f"/channels/{call.channel_id}")
    assert line.fake.gone[call.channel_id].cause == 16
    assert not line.fake.requested("DELETE", f"/channels/{leg}")
    (bridge,) = {r.path for r in line.fake.requested("POST", "/bridges/*")
                 if r.path.count("/") == 2}
    assert line.fake.requested("DELETE", bridge)
    # The recording: moved from the spool into the store, its row telling what it is.
    (meta,) = ended.recordings
    assert (meta.queue_id, meta.agent_id, meta.format) == ("billing", "carol", "wav")
    stored = Path(meta.path)
    data = await asyncio.to_thread(stored.read_bytes)
    assert stored.is_relative_to(line.paths.store_dir) and len(data) == meta.size_bytes
    assert hashlib.sha256(data).hexdigest() == meta.sha256
    assert await asyncio.to_thread(lambda: list(line.paths.spool_dir.iterdir())) == []
    assert ended.first(J.RECORDING, state="stored")["recording_id"] == meta.recording_id
    survey = ended.survey
    assert survey is not None
    assert (survey.score, survey.agent_id, survey.queue_id) == (5, "carol", "billing")
    line.assert_clean()


async def test_a_survey_without_a_key_is_saved_without_a_score(hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, talk_s=0.05)
    call = await line.call(keys="2")  # type-ahead: the menu is skipped
    ended = await line.finished(call)

    assert ended.first(J.SURVEY) == {"score": None, "answered": False}
    assert J.NO_INPUT not in [e.type for e in ended.events]  # the menu had its key at once
    assert line.said(call.channel_id)[-3:] == [SURVEY_ASK, SURVEY_REASK, SURVEY_UNANSWERED]
    assert ended.survey is not None and ended.survey.score is None
    assert ended.survey.agent_id == "carol"
    assert ended.record.outcome == CallOutcome.ANSWERED
    assert len(ended.recordings) == 1
    line.assert_clean()


async def test_an_agent_not_answering_makes_the_next_one_ring(hotline: HotlineFactory) -> None:
    line = await hotline(with_agents(routing(), lambda a: Agent(
        a.agent_id, a.name, a.endpoint, a.tier, a.skills, max_no_answer=1)))
    line.fake.agent_behaviour(ALICE, answer_after_s=None)  # rings until we give up
    line.fake.agent_behaviour(BOB, talk_s=0.05)
    call = await line.call(keys="1")
    ended = await line.finished(call)

    offers = [e.details["agent"] for e in ended.events if e.type is J.AGENT_OFFER]
    assert offers == ["alice", "bob"]
    assert ended.first(J.AGENT_NO_ANSWER) == {"agent": "alice", "reason": "no_answer"}
    assert ended.index(J.AGENT_NO_ANSWER) < ended.index(J.AGENT_ANSWER, agent="bob")
    assert ended.first(J.ROUTING, kind="agent_auto_paused")["agent"] == "alice"
    alice_leg, bob_leg = line.legs(call)
    assert line.fake.requested("DELETE", f"/channels/{alice_leg}")  # we stopped her ringing
    assert line.fake.gone[alice_leg].cause == 16
    assert ended.record.agent_id == "bob" and ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_a_busy_agent_is_journaled_as_busy_and_passed_over(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(ALICE, busy=True)
    line.fake.agent_behaviour(BOB, talk_s=0.05)
    call = await line.call(keys="1")
    ended = await line.finished(call)

    assert line.fake.gone[line.legs(call)[0]].cause == 17
    # Each leg is dialled for the caller, so Asterisk offers it the caller's codecs
    # (without an originator a Local leg settles on slin192 and every frame is resampled).
    originates = line.fake.requested("POST", "/channels")
    assert [r.params.get("originator") for r in originates] == [call.channel_id] * 2
    assert ended.first(J.AGENT_NO_ANSWER) == {"agent": "alice", "reason": "busy"}
    assert ended.first(J.AGENT_ANSWER)["agent"] == "bob"
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_caller_hanging_up_in_the_queue_stops_the_ringing(hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, answer_after_s=None)
    call = await line.call(keys="2")
    await line.fake.wait_for(Dial, lambda e: e.dialstatus == "RINGING")
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)

    assert ended.record.outcome == CallOutcome.ABANDONED_IN_QUEUE
    assert ended.record.hangup_cause == "q850_16"
    assert ended.record.queue_id == "billing" and ended.record.agent_id is None
    assert ended.types[-1] == "hangup" and J.AGENT_ANSWER not in [e.type for e in ended.events]
    assert "moh:default" in line.said(call.channel_id)
    (leg,) = line.legs(call)
    assert line.fake.requested("DELETE", f"/channels/{leg}")  # the agent's phone stops
    assert not line.fake.requested("DELETE", f"/channels/{call.channel_id}")
    line.assert_clean()


async def test_caller_hanging_up_during_a_prompt_abandons_in_the_ivr(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    call = await line.call()
    await line.playing(MENU)
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)

    assert ended.record.outcome == CallOutcome.ABANDONED_IN_IVR
    assert ended.record.hangup_cause == "q850_16" and ended.record.queue_id is None
    assert ended.types == ["call_start", "prompt", "prompt", "hangup"]
    assert ended.first(J.HANGUP) == {"cause": "q850_16", "outcome": "abandoned_in_ivr"}
    (playback,) = [p for p in line.fake.playbacks.values() if p.media == (media_of(MENU),)]
    assert playback.state == "failed"  # cut off by the hangup
    assert ended.survey is None and ended.recordings == []
    line.assert_clean()


async def test_caller_hanging_up_while_talking_ends_the_agent_leg_and_keeps_the_recording(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    call = await line.call(keys="2")
    leg = await line.answered_leg(call, CAROL)
    await line.journal_event(call, J.RECORDING, state="started")
    bridge_id = line.fake.channels[leg].bridge_id
    assert bridge_id is not None
    assert sorted(line.fake.bridges[bridge_id].channels) == sorted([call.channel_id, leg])
    line.fake.hang_up(call.channel_id)
    ended = await line.finished(call)

    assert ended.record.outcome == CallOutcome.ANSWERED
    assert ended.record.hangup_cause == "q850_16"
    assert J.SURVEY not in [e.type for e in ended.events]
    assert J.AGENT_HANGUP not in [e.type for e in ended.events]
    assert line.fake.requested("DELETE", f"/channels/{leg}")  # we hung up the agent
    assert line.fake.requested("DELETE", f"/bridges/{bridge_id}")
    (meta,) = ended.recordings
    assert await asyncio.to_thread(Path(meta.path).exists) and meta.agent_id == "carol"
    assert ended.first(J.RECORDING, state="stored")["recording_id"] == meta.recording_id
    assert ended.survey is None
    line.assert_clean()


async def test_a_hangup_node_says_goodbye_and_ends_in_the_ivr(hotline: HotlineFactory) -> None:
    line = await hotline()
    call = await line.call(keys="9")
    ended = await line.finished(call)

    assert ended.record.outcome == CallOutcome.ENDED_IN_IVR
    assert ended.record.hangup_cause == "normal_clearing"
    assert line.said(call.channel_id)[-1] == "Goodbye."
    assert line.fake.requested("DELETE", f"/channels/{call.channel_id}")
    line.assert_clean()


async def test_silence_and_a_wrong_key_lead_to_the_fallback_queue(hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.agent_behaviour(CAROL, talk_s=0.05)
    line.fake.media_durations[media_of(NOT_HEARD)] = 30.0
    call = await line.call()
    await line.playing(NOT_HEARD)  # after the menu heard nothing
    line.fake.press(call.channel_id, "7")
    ended = await line.finished(call)

    assert ended.in_order(J.NO_INPUT, J.NO_MATCH, J.QUEUE_JOIN, J.AGENT_ANSWER)
    assert ended.first(J.QUEUE_JOIN) == {"queue": "billing"}
    handoff = ended.first(J.AGENT_ANSWER)["handoff"]
    assert isinstance(handoff, dict) and (handoff["no_input"], handoff["no_match"]) == (1, 1)
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()
