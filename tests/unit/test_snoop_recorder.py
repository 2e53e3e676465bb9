"""Conversations recorded through snoop channels on the caller, outside the bridge (issue 9):
the bridge keeps two members and does not mix; mono (spy=both) or stereo (spy=in and out,
merged into one file); failures never touch the call; orphans are hung up."""

from __future__ import annotations

import wave
from dataclasses import replace

from ari_app.ari.events import ChannelDestroyed
from ari_app.ari.fake_state import FakeBridge
from ari_app.calls.engine import CallEngine
from ari_app.calls.record import CallOutcome
from ari_app.calls.registry import MuteOutcome
from ari_app.calls.snoop_recorder import MONO, STEREO, recorder_factory
from ari_app.channel_vars import ROLE_RECORDER
from ivr.journey import JourneyType as J
from recordings.lifecycle import START_ATTEMPTS
from routing.model import AgentConfig
from tests.unit.engine_harness import (
    ALICE,
    APP,
    QUEUES,
    Hotline,
    HotlineFactory,
    PlacedCall,
    hotline_fixture,  # noqa: F401 - provides the `hotline` fixture
    routing,
)

ONLY_ALICE = routing(QUEUES, (AgentConfig("alice", "Alice", ALICE, ("claims",)),))


async def recording_by(hotline: HotlineFactory, method: str = "snoop",
                       channels: str = MONO) -> Hotline:
    """A hotline whose conversations are recorded by `method` in `channels`."""
    line = await hotline(ONLY_ALICE)
    line.deps = replace(line.deps, recorders=recorder_factory(
        method, channels, line.paths.spool_dir, line.paths.format))
    line.engine = CallEngine(line.fake.rest(), APP, line.deps, line.db.calls, line.journal)
    line.fake.on_event = line.engine.dispatch
    line.stack.push_async_callback(_stop, line.engine)
    return line


async def _stop(engine: CallEngine) -> None:
    await engine.stop()


async def talking(line: Hotline, call: PlacedCall) -> str:
    """The agent leg, once the conversation's recording runs."""
    leg = await line.answered_leg(call, ALICE)
    await line.journal_event(call, J.RECORDING, state="started")
    return leg


def snoops(line: Hotline, call: PlacedCall) -> dict[str, str]:
    """The call's live snoop channels: id -> spy direction."""
    return {c.id: c.spy for c in line.fake.channels.values()
            if c.snooping_on == call.channel_id}


def bridge_of(line: Hotline, call: PlacedCall) -> FakeBridge:
    (bridge,) = [b for b in line.fake.bridges.values() if b.id.startswith(call.call_id)]
    return bridge


async def test_a_snoop_records_the_conversation_and_the_bridge_keeps_two_members(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)

    bridge = bridge_of(line, call).to_json()  # as GET /bridges/{id} answers
    assert sorted(bridge["channels"]) == sorted([call.channel_id, leg])
    assert bridge["technology"] == "simple_bridge"
    (snoop_id, spy), = snoops(line, call).items()
    assert spy == "both" and snoop_id.startswith(f"{call.call_id}-rec-")
    assert line.fake.channels[snoop_id].args == (ROLE_RECORDER, call.call_id)
    (recording,) = [r for r in line.fake.recordings.values() if r.state == "recording"]
    assert recording.target_uri == f"channel:{snoop_id}"
    assert not line.fake.requested("POST", "/bridges/*/record")

    line.fake.hang_up(leg)
    ended = await line.finished(call)
    (stored,) = ended.recordings
    assert stored.agent_id == "alice" and stored.size_bytes > 44
    assert snoop_id in line.fake.gone  # hung up with the recording
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()


async def test_the_bridge_recording_makes_a_third_member_and_mixes(
        hotline: HotlineFactory) -> None:
    """What snoop recording avoids: the fake shows it as Asterisk does (softmix)."""
    line = await recording_by(hotline, "bridge")
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)

    assert bridge_of(line, call).technology == "softmix"
    assert snoops(line, call) == {}
    line.fake.hang_up(leg)
    ended = await line.finished(call)
    assert len(ended.recordings) == 1
    line.assert_clean()


async def test_stereo_records_each_direction_and_stores_one_two_channel_file(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline, channels=STEREO)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)

    assert sorted(snoops(line, call).values()) == ["in", "out"]
    assert bridge_of(line, call).technology == "simple_bridge"
    live = {r.name: r.target_id for r in line.fake.recordings.values()
            if r.state == "recording"}
    assert {name.rsplit("-", 1)[-1] for name in live} == {"caller", "agent"}
    assert {snoops(line, call)[snoop] for snoop in live.values()} == {"in", "out"}
    # A leg file a crash left under the same name must not stop this recording.
    assert {r.params["ifExists"] for r in line.fake.requested("POST", "/channels/*/record")} \
        == {"overwrite"}

    line.fake.hang_up(leg)
    ended = await line.finished(call)
    (stored,) = ended.recordings
    with wave.open(stored.path, "rb") as audio:
        assert audio.getnchannels() == 2 and audio.getframerate() == 8000
        assert abs(audio.getnframes() / 8000 - stored.duration_s) < 0.01
    assert list(line.paths.spool_dir.iterdir()) == []  # the legs are gone, merged
    line.assert_clean()


async def test_a_caller_who_hangs_up_mid_conversation_still_leaves_a_recording(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline, channels=STEREO)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    await talking(line, call)

    line.fake.hang_up(call.channel_id)  # its snoops go with it, ending their recordings
    ended = await line.finished(call)
    (stored,) = ended.recordings
    with wave.open(stored.path, "rb") as audio:
        assert audio.getnchannels() == 2
    assert not line.fake.requested("POST", "/recordings/live/*/stop")  # nothing to stop
    line.assert_clean()


async def test_a_snoop_asterisk_refuses_fails_the_recording_not_the_call(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline, channels=STEREO)
    line.fake.agent_behaviour(ALICE, talk_s=0.1)
    line.fake.fail_next("POST", "/channels/*/snoop/*-agent", status=500, times=START_ATTEMPTS)
    call = await line.call(keys="1")
    ended = await line.finished(call)

    assert ended.first(J.RECORDING, state="failed")
    assert ended.recordings == []
    assert ended.in_order(J.AGENT_ANSWER, J.AGENT_HANGUP, J.SURVEY)
    assert ended.record.outcome == CallOutcome.ANSWERED
    line.assert_clean()  # the caller's snoop that did start is hung up


async def test_a_recording_asterisk_refuses_hangs_its_snoop_up(hotline: HotlineFactory) -> None:
    line = await recording_by(hotline)
    line.fake.agent_behaviour(ALICE, talk_s=0.1)
    line.fake.fail_next("POST", "/channels/*/record", status=422, times=START_ATTEMPTS,
                        message="specified format is unknown on this system")
    call = await line.call(keys="1")
    ended = await line.finished(call)

    assert "unknown" in str(ended.first(J.RECORDING, state="failed")["reason"])
    snoops = [r.path.split("/")[-1] for r in line.fake.requested("POST", "/channels/*/snoop/*")]
    assert len(snoops) == START_ATTEMPTS  # tried again, each time under a new name
    for snoop in snoops:
        assert line.fake.requested("DELETE", f"/channels/{snoop}")
    assert ended.in_order(J.AGENT_ANSWER, J.AGENT_HANGUP, J.SURVEY)
    line.assert_clean()


async def test_a_recorder_snoop_of_a_call_that_is_gone_is_hung_up(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline)
    caller = line.fake.call_in(args=("sim-caller",))  # somebody to snoop on, not a call
    snoop = "gone-call-rec-1"
    await line.fake.rest().create_snoop(caller, snoop, app=APP, spy="both",
                                        app_args=(ROLE_RECORDER, "gone-call"))
    await line.fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == snoop)

    assert line.logged("recorder.orphan_snoop")
    assert line.engine.count() == 0 and line.journal.events == []
    line.assert_clean(channels_left=[caller])


async def test_muting_a_stereo_recording_mutes_both_legs_and_stores_the_interval(
        hotline: HotlineFactory) -> None:
    line = await recording_by(hotline, channels=STEREO)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)
    legs = [r for r in line.fake.recordings.values() if r.state == "recording"]

    assert await line.engine.mute(call.call_id, "alice", "card") == MuteOutcome.MUTED
    assert all(r.muted_since is not None for r in legs)  # neither side keeps the card
    assert await line.engine.unmute(call.call_id, "alice") == MuteOutcome.UNMUTED
    assert all(r.muted_since is None and len(r.muted) == 1 for r in legs)
    line.fake.hang_up(leg)
    ended = await line.finished(call)

    ((stored,),) = [r.mutes for r in ended.recordings]
    assert (stored.by, stored.reason) == ("alice", "card")
    line.assert_clean()


async def test_a_snoop_recording_that_ended_cannot_be_muted(hotline: HotlineFactory) -> None:
    line = await recording_by(hotline)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)
    (recording,) = [r for r in line.fake.recordings.values() if r.state == "recording"]
    await line.fake.rest().stop_recording(recording.name)  # ended under us

    assert await line.engine.mute(call.call_id, "alice", "card") == MuteOutcome.NOT_RECORDING
    line.fake.hang_up(leg)
    await line.finished(call)
    line.assert_clean()


async def test_a_muted_recording_is_not_asked_to_mute_again(hotline: HotlineFactory) -> None:
    """Asterisk 22 toggles a muted recording back on at a second mute (see `SnoopRecorder.mute`):
    a repeated mute must not reach it."""
    line = await recording_by(hotline)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)

    for _ in range(2):
        assert await line.engine.mute(call.call_id, "alice", "card") == MuteOutcome.MUTED
    assert len(line.fake.requested("POST", "/recordings/live/*/mute")) == 1
    line.fake.hang_up(leg)
    await line.finished(call)
    line.assert_clean()


async def test_a_resumed_recording_is_unmuted_before_it_is_muted(
        hotline: HotlineFactory) -> None:
    """After a restart this run does not know whether Asterisk holds the recording muted: an
    unmute first (idempotent in Asterisk) makes the mute that follows certain."""
    line = await recording_by(hotline)
    line.fake.agent_behaviour(ALICE, talk_s=None)
    call = await line.call(keys="1")
    leg = await talking(line, call)
    await line.restart()
    await line.journal_event(call, J.ADOPTED)

    assert await line.engine.mute(call.call_id, "alice", "card") == MuteOutcome.MUTED
    controls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in line.fake.requests
                if r.path.startswith("/recordings/live/") and r.path.endswith("/mute")]
    assert controls == [("DELETE", "mute"), ("POST", "mute")]
    (recording,) = [r for r in line.fake.recordings.values() if r.state == "recording"]
    assert recording.muted_since is not None
    line.fake.hang_up(leg)
    await line.finished(call)
    line.assert_clean()
