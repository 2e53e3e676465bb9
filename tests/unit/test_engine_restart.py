"""Calls outlive the service: a stop hands them over (or drains them), a crash leaves them to
the next run, which adopts each from its checkpoint; callers gone meanwhile are finished."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable

import pytest

from ari_app.ari.fake_state import FakeChannel
from ari_app.calls.adoption import CALLER_GONE
from ari_app.calls.reconcile import LOST_REASON, reconcile
from ari_app.calls.record import CallOutcome
from ari_app.calls.session import SORRY_PROMPT
from ari_app.calls.snoop_recorder import MONO, STEREO
from ari_app.channel_vars import FALLBACK_CONTEXT
from ivr.journey import JourneyType as J
from routing.model import AgentConfig
from tests.unit.engine_harness import (
    ALICE,
    MENU,
    QUEUES,
    SURVEY_ASK,
    SURVEY_THANKS,
    Hotline,
    HotlineFactory,
    PlacedCall,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    media_of,
    routing,
)
from tests.unit.test_snoop_recorder import recording_by

ONLY_ALICE = routing(QUEUES, (AgentConfig("alice", "Alice", ALICE, ("claims",)),))


async def checkpoint_stage(line: Hotline, call: PlacedCall, stage: str) -> None:
    """Until the call's stored checkpoint says `stage` (the journal writes in the background)."""
    await checkpoint_says(line, call, "stage", stage)


async def checkpoint_says(line: Hotline, call: PlacedCall, key: str, value: object) -> None:
    async with asyncio.timeout(5):
        while True:
            unfinished = {r.call_id: c for r, c in await line.db.calls.unfinished()}
            saved = unfinished.get(call.call_id)
            if saved is not None and saved[key] == value:
                return
            await asyncio.sleep(0.01)


async def heard_again(line: Hotline, call: PlacedCall, texts: list[str]) -> None:
    """Until the caller's latest prompts are `texts` (the next run started over)."""
    await until(lambda: line.said(call.channel_id)[-len(texts):] == texts)


async def until(condition: Callable[[], bool]) -> None:
    """Poll a condition nothing announces (at most 5 s)."""
    async with asyncio.timeout(5):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def test_a_caller_in_the_menu_hears_music_then_the_menu_again(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    line.fake.agent_behaviour(ALICE, talk_s=0.05)
    call = await line.call()
    await line.playing(MENU)

    await line.engine.hand_over(2.0)
    assert line.said(call.channel_id)[-1] == "moh:default"  # music, never silence
    record = await line.db.calls.get(call.call_id)
    assert record is not None and record.outcome == CallOutcome.IN_PROGRESS

    report = await line.restart()
    assert dict(report.adopted) == {"ivr": 1}
    await heard_again(line, call, [SORRY_PROMPT, MENU])
    line.fake.press(call.channel_id, "1")
    ended = await line.finished(call)

    assert line.said(call.channel_id)[:5] == [
        "Welcome to the test line.", MENU, "moh:default", SORRY_PROMPT, MENU]
    assert ended.in_order(J.HANDED_OVER, J.ADOPTED, J.MENU, J.QUEUE_JOIN, J.AGENT_ANSWER,
                          J.SURVEY, J.HANGUP)
    assert ended.first(J.ADOPTED) == {"stage": "ivr", "node": "main_menu", "queue": None}
    assert not line.fake.playbacks or all(  # nothing plays over "where were we"
        p.state != "playing" for p in line.fake.playbacks.values())
    assert ended.record.outcome == CallOutcome.ANSWERED and ended.record.agent_id == "alice"
    assert len(ended.recordings) == 1
    assert [r.call_id for r, _ in await line.db.calls.unfinished()] == []
    line.assert_clean()


async def test_a_prompt_cut_by_a_crash_is_stopped_before_the_apology(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    call = await line.call()
    await line.playing(MENU)
    await until(lambda: line.fake.requested("POST", "/channels/*/play/*") != [])
    (menu_play,) = [r for r in line.fake.requested("POST", "/channels/*/play/*")
                    if r.params.get("media") == media_of(MENU)]
    menu_playback = menu_play.path.rsplit("/", 1)[-1]
    await checkpoint_says(line, call, "playback_id", menu_playback)

    await line.restart(hand_over=False)
    await heard_again(line, call, [SORRY_PROMPT, MENU])

    assert line.fake.requested("DELETE", f"/playbacks/{menu_playback}")
    line.fake.hang_up(call.channel_id)
    await line.finished(call)


async def test_waiting_callers_keep_their_order_through_a_crash(
        hotline: HotlineFactory) -> None:
    line = await hotline(ONLY_ALICE)
    await line.queues.pause("alice")
    line.fake.media_durations[media_of(MENU)] = 30.0
    first_in = await line.call("+15550101")  # calls first, joins the queue last
    await line.playing(MENU)
    second_in = await line.call("+15550102", keys="1")
    await line.journal_event(second_in, J.QUEUE_JOIN)
    await asyncio.sleep(0.05)  # a clearly later join
    line.fake.press(first_in.channel_id, "1")
    await line.journal_event(first_in, J.QUEUE_JOIN)
    await checkpoint_stage(line, first_in, "queue")
    await checkpoint_stage(line, second_in, "queue")

    line.fake.agent_behaviour(ALICE, talk_s=0.05)
    report = await line.restart(hand_over=False)  # alice is available in the new run
    assert dict(report.adopted) == {"queue": 2}
    early, late = await line.finished(second_in), await line.finished(first_in)

    # Adoption went by call start (first_in first); routing by the original joins.
    assert early.first(J.AGENT_ANSWER)["agent"] == "alice"
    answered = [e.at for c in (early, late) for e in c.events if e.type is J.AGENT_ANSWER]
    assert answered[0] < answered[1]
    assert early.record.outcome == late.record.outcome == CallOutcome.ANSWERED
    assert "moh:default" in line.said(first_in.channel_id)
    line.assert_clean()


async def test_a_conversation_goes_on_through_a_crash_and_keeps_its_recording(
        hotline: HotlineFactory) -> None:
    line = await hotline(ONLY_ALICE)
    line.fake.agent_behaviour(ALICE, talk_s=None)  # talks until we hang the agent up
    call = await line.call(keys="1")
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    await checkpoint_stage(line, call, "talking")

    # A simulated agent is a Local channel: its dialplan half (";2") is not a leftover; a
    # ringing leg of the call is.
    line.fake.add_channel(FakeChannel(f"{leg};2", "Local/1@sim-agents-2;2", "", "Up"))
    stray = line.fake.add_channel(FakeChannel(f"{call.call_id}-agent-old", "Local/x", "",
                                              "Ringing"))
    report = await line.restart(hand_over=False)
    assert dict(report.adopted) == {"talking": 1} and report.hung_up == 1
    assert f"{leg};2" in line.fake.channels and stray.id not in line.fake.channels
    del line.fake.channels[f"{leg};2"]
    await line.journal_event(call, J.ADOPTED)
    # Routing knows alice is still busy with this call.
    await until(lambda: line.queues.snapshot().views[0].call_id == call.call_id)
    assert line.queues.snapshot().views[0].state == "on_call"
    line.fake.hang_up(leg)
    ended = await line.finished(call)

    created = [r for r in line.fake.requested("POST", "/bridges/*") if r.path.count("/") == 2]
    assert len(created) == 1  # the bridge was kept, not made again
    assert ended.first(J.ADOPTED)["stage"] == "talking"
    (recording,) = ended.recordings
    assert recording.agent_id == "alice" and recording.size_bytes > 0
    assert ended.in_order(J.ADOPTED, J.AGENT_HANGUP, J.SURVEY, J.HANGUP)
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_the_survey_is_asked_again_after_a_stop(hotline: HotlineFactory) -> None:
    line = await hotline(ONLY_ALICE)
    line.fake.agent_behaviour(ALICE, talk_s=0.05)
    line.fake.media_durations[media_of(SURVEY_ASK)] = 30.0
    call = await line.call(keys="1")
    await line.playing(SURVEY_ASK)
    await checkpoint_stage(line, call, "survey")

    await line.restart()
    await heard_again(line, call, ["moh:default", SURVEY_ASK])
    line.fake.press(call.channel_id, "4")
    ended = await line.finished(call)

    assert line.said(call.channel_id)[-3:] == ["moh:default", SURVEY_ASK, SURVEY_THANKS]
    assert ended.survey is not None and (ended.survey.score, ended.survey.agent_id) == (4, "alice")
    assert len(ended.recordings) == 1
    line.assert_clean()


async def test_a_caller_who_left_during_the_restart_is_finished_as_lost(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    call = await line.call()
    await line.playing(MENU)
    await checkpoint_stage(line, call, "ivr")
    line.fake.on_event = lambda event: None  # nobody is listening: the service is down
    line.fake.hang_up(call.channel_id)

    report = await line.restart(hand_over=False)

    assert report.lost == 1
    record = await line.db.calls.get(call.call_id)
    assert record is not None and record.outcome == CallOutcome.LOST_IN_RESTART
    assert record.hangup_cause == CALLER_GONE and record.ended_at is not None
    last = (await line.db.calls.events(call.call_id))[-1]
    assert last.type is J.HANGUP and "gone" in str(last.details["reason"])
    line.assert_clean()


async def test_a_caller_nobody_knows_goes_to_the_fallback_and_stray_legs_are_hung_up(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.on_event = lambda event: None  # arrived while no service ran
    stranger = line.fake.call_in("+15550199")

    report = await line.restart(hand_over=False)

    assert report.to_fallback == 1
    assert line.fake.channels[stranger].continued_to == (FALLBACK_CONTEXT, "s", 1)
    line.assert_clean(channels_left=[stranger])


async def test_no_new_call_is_taken_while_draining_and_the_live_one_finishes(
        hotline: HotlineFactory) -> None:
    line = await hotline(ONLY_ALICE)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await line.answered_leg(call, ALICE)

    drained = asyncio.create_task(line.engine.drain())
    await asyncio.sleep(0)
    late = line.fake.call_in("+15550177")
    await asyncio.sleep(0.05)
    assert not drained.done()
    line.fake.hang_up(leg)
    ended = await line.finished(call)
    await asyncio.wait_for(drained, 5)

    assert ended.record.outcome == CallOutcome.ANSWERED
    assert line.fake.channels[late].continued_to == (FALLBACK_CONTEXT, "s", 1)
    line.assert_clean(channels_left=[late])


async def test_calls_whose_channels_vanished_with_asterisk_end_as_lost(
        hotline: HotlineFactory) -> None:
    line = await hotline()
    line.fake.media_durations[media_of(MENU)] = 30.0
    call = await line.call()
    await line.playing(MENU)
    del line.fake.channels[call.channel_id]  # Asterisk restarted: every channel is gone

    assert await reconcile(line.fake.rest(), line.engine, asterisk_restarted=True) == 1
    ended = await line.finished(call)

    assert ended.record.outcome == CallOutcome.LOST_IN_RESTART
    assert ended.record.hangup_cause == LOST_REASON
    line.assert_clean()


@pytest.mark.parametrize("channels", [MONO, STEREO])
@pytest.mark.parametrize("hand_over", [True, False])
async def test_a_conversation_recorded_by_snoops_keeps_them_through_a_restart(
        hotline: HotlineFactory, channels: str, hand_over: bool) -> None:
    line = await recording_by(hotline, channels=channels)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    kept = sorted(c.id for c in line.fake.channels.values()
                  if c.snooping_on == call.channel_id)
    await checkpoint_says(line, call, "recording", _with_snoops(kept))

    report = await line.restart(hand_over=hand_over)

    assert dict(report.adopted) == {"talking": 1} and report.hung_up == 0
    assert all(snoop in line.fake.channels for snoop in kept)  # not leftovers
    await line.journal_event(call, J.ADOPTED)
    line.fake.hang_up(leg)
    ended = await line.finished(call)

    assert len(line.fake.requested("POST", "/channels/*/snoop/*")) == len(kept)  # not again
    # The next run stopped what the last one started (then hung the snoops up).
    assert len(line.fake.requested("POST", "/recordings/live/*/stop")) == len(kept)
    (recording,) = ended.recordings
    assert recording.agent_id == "alice" and recording.size_bytes > 44
    with wave.open(recording.path, "rb") as audio:
        assert audio.getnchannels() == (2 if channels == STEREO else 1)
    assert all(snoop in line.fake.gone for snoop in kept)  # hung up once stored
    assert ended.in_order(J.ADOPTED, J.AGENT_HANGUP, J.SURVEY, J.HANGUP)
    line.assert_clean()


class _with_snoops:
    """Matches a stored checkpoint's recording recorded by these snoops (in any order)."""

    def __init__(self, snoops: list[str]) -> None:
        self.snoops = snoops

    def __eq__(self, saved: object) -> bool:
        return isinstance(saved, dict) and sorted(saved.get("snoop_ids") or ()) == self.snoops

    __hash__ = None  # type: ignore[assignment]
