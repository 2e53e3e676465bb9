"""FakeAsterisk behaves like the Asterisk the adapter tests measured, through AriRest."""

from __future__ import annotations

import json
import os
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ari_app.ari import rest as rest_routes
from ari_app.ari.errors import (
    AriBadRequest,
    AriConflict,
    AriNotFound,
    AriUnavailable,
    AriUnprocessable,
)
from ari_app.ari.events import (
    AriEvent,
    BridgeDestroyed,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelStateChange,
    Dial,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.fake import ROUTE_HANDLERS, FakeAsterisk
from ari_app.ari.rest import AriRest
from ari_app.channel_vars import CORRELATION_ID_VAR, ROLE_AGENT

AGENT = "PJSIP/agent-1"


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(spool_dir=tmp_path / "spool")
    yield fake
    fake.shutdown()


@pytest.fixture
def ari(fake: FakeAsterisk) -> AriRest:
    return fake.rest()


def story(fake: FakeAsterisk, subject: str) -> list[str]:
    """The event types delivered about `subject`, in order."""
    return [type(e).__name__ for e in fake.events if subject in e.subject_ids]


def test_every_route_has_a_handler() -> None:
    assert set(ROUTE_HANDLERS) == set(rest_routes.ROUTES)


async def test_an_inbound_caller_enters_stasis_ringing(fake: FakeAsterisk, ari: AriRest) -> None:
    caller = fake.call_in("+15550100", caller_name="Ann", channelvars={CORRELATION_ID_VAR: "c1"})
    start = await fake.wait_for(StasisStart)
    assert (start.channel.id, start.args, start.channel.state) == (caller, ("inbound",), "Ring")
    assert (start.channel.caller_number, start.channel.caller_name) == ("+15550100", "Ann")
    assert start.channel.channelvars == {CORRELATION_ID_VAR: "c1"}
    await ari.answer(caller)
    assert fake.channels[caller].state == "Up"
    changed = await fake.wait_for(ChannelStateChange)
    assert changed.channel.state == "Up"
    assert [c.id for c in await ari.list_channels()] == [caller]


async def test_events_reach_the_hook_and_subscribers_after_the_answer(fake: FakeAsterisk,
                                                                      ari: AriRest) -> None:
    seen: list[AriEvent] = []
    fake.on_event = seen.append
    queue = fake.subscribe()
    caller = fake.call_in()
    assert seen == []  # delivered soon, as over Asterisk's websocket, not inside the call
    first = await queue.get()
    assert isinstance(first, StasisStart) and seen == [first]
    await ari.answer(caller)
    assert isinstance(await queue.get(), ChannelStateChange)


async def test_play_starts_then_finishes_after_the_media_time(fake: FakeAsterisk,
                                                              ari: AriRest) -> None:
    caller = fake.call_in()
    await ari.answer(caller)
    await ari.play(caller, ["sound:welcome", "sound:menu"], "pb-1")
    started = await fake.wait_for(PlaybackStarted)
    assert (started.playback_id, started.target_uri, started.state) == (
        "pb-1", f"channel:{caller}", "playing")
    assert fake.playbacks["pb-1"].state == "playing"
    finished = await fake.wait_for(PlaybackFinished)
    assert (finished.playback_id, finished.state) == ("pb-1", "done")
    assert fake.heard(caller) == ["sound:welcome", "sound:menu"]
    with pytest.raises(AriNotFound):  # Asterisk forgets a finished playback
        await ari.stop_playback("pb-1")


async def test_stopping_a_playback_finishes_it(fake: FakeAsterisk, ari: AriRest) -> None:
    fake.media_durations["sound:long"] = 60.0
    caller = fake.call_in()
    await ari.play(caller, ["sound:long"], "pb-long")
    assert (await ari._call(rest_routes.GET_PLAYBACK, {"playbackId": "pb-long"}))["state"] == (
        "playing")
    await ari.stop_playback("pb-long")
    finished = await fake.wait_for(PlaybackFinished)
    assert finished.state == "done"  # res_stasis_playback: a stopped playback is "done"
    with pytest.raises(AriNotFound, match="Playback not found"):
        await ari.stop_playback("no-such-playback")


async def test_a_missing_file_fails_as_an_event(fake: FakeAsterisk, ari: AriRest) -> None:
    fake.missing_media.add("sound:nope")
    caller = fake.call_in()
    await ari.play(caller, ["sound:nope"], "pb-x")
    assert (await fake.wait_for(PlaybackFinished)).state == "failed"
    with pytest.raises(AriNotFound, match="Channel not found"):
        await ari.play("no-such-channel", ["sound:x"], "pb-y")


async def test_hangup_from_ari_sends_what_asterisk_sends(fake: FakeAsterisk,
                                                         ari: AriRest) -> None:
    caller = fake.call_in()
    await ari.answer(caller)
    await ari.hangup(caller)
    destroyed = await fake.wait_for(ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (16, "Normal Clearing")
    request = await fake.wait_for(ChannelHangupRequest)
    assert request.cause == 32  # AST_SOFTHANGUP_EXPLICIT, not a Q.850 cause
    assert story(fake, caller) == ["StasisStart", "ChannelStateChange",
                                   "ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]
    assert fake.gone[caller].cause == 16 and caller not in fake.channels
    with pytest.raises(AriNotFound):
        await ari.get_channel(caller)
    with pytest.raises(AriBadRequest, match="reason"):
        await ari.hangup(fake.call_in(), reason="because")


async def test_caller_hangup_mid_prompt_in_a_bridge(fake: FakeAsterisk, ari: AriRest) -> None:
    fake.media_durations["sound:long"] = 60.0
    caller = fake.call_in()
    await ari.create_bridge("b1")
    await ari.add_channels("b1", [caller])
    await ari.play(caller, ["sound:long"], "pb-1")
    fake.hang_up(caller, cause=16)
    await fake.wait_for(ChannelDestroyed)
    assert story(fake, caller) == [
        "StasisStart", "ChannelEnteredBridge", "PlaybackStarted", "ChannelHangupRequest",
        "PlaybackFinished", "ChannelLeftBridge", "StasisEnd", "ChannelDestroyed"]
    assert (await fake.wait_for(PlaybackFinished)).state == "failed"
    assert fake.bridges["b1"].channels == []


async def test_continue_leaves_stasis_for_the_dialplan(fake: FakeAsterisk, ari: AriRest) -> None:
    caller = fake.call_in()
    await ari.continue_in_dialplan(caller, "hotline-fallback", "s")
    await fake.wait_for(StasisEnd)
    assert fake.channels[caller].continued_to == ("hotline-fallback", "s", 1)
    with pytest.raises(AriConflict, match="not in Stasis"):
        await ari.answer(caller)
    fake.hang_up(caller)
    assert caller in fake.gone and story(fake, caller) == ["StasisStart", "StasisEnd"]


async def test_keys_moh_and_variables(fake: FakeAsterisk, ari: AriRest) -> None:
    caller = fake.call_in()
    fake.press(caller, "42")
    await fake.wait_for(ChannelDtmfReceived, lambda e: e.digit == "2")
    assert [e.digit for e in fake.events if isinstance(e, ChannelDtmfReceived)] == ["4", "2"]
    await ari.start_moh(caller)
    assert fake.channels[caller].moh == "default"
    await ari.stop_moh(caller)
    assert fake.channels[caller].moh is None and fake.heard(caller) == ["moh:default"]
    await ari.set_variable(caller, "HOTLINE_TEST", "yes")
    assert await ari.get_variable(caller, "HOTLINE_TEST") == "yes"
    with pytest.raises(AriNotFound, match="variable"):
        await ari.get_variable(caller, "NEVER_SET")
    await ari.send_dtmf(caller, "1#")
    assert fake.channels[caller].dtmf_sent == ["1#"]


async def test_an_agent_who_answers_enters_stasis_with_the_app_args(fake: FakeAsterisk,
                                                                    ari: AriRest) -> None:
    fake.agent_behaviour(AGENT, answer_after_s=0.01)
    leg = await ari.originate(AGENT, channel_id="leg-1", app="hotline",
                              app_args=[ROLE_AGENT, "call-1"], variables={"X": "1"})
    assert (leg.id, leg.state, leg.channelvars) == ("leg-1", "Down", {"X": "1"})
    start = await fake.wait_for(StasisStart)
    assert (start.channel.id, start.args, start.channel.state) == (
        "leg-1", (ROLE_AGENT, "call-1"), "Up")
    statuses = [e.dialstatus for e in fake.events if isinstance(e, Dial)]
    assert statuses == ["", "RINGING", "ANSWER"]
    with pytest.raises(AriConflict, match="already exists"):
        await ari.originate(AGENT, channel_id="leg-1", app="hotline", app_args=[])


async def test_a_busy_agent_ends_with_cause_17(fake: FakeAsterisk, ari: AriRest) -> None:
    fake.agent_behaviour(AGENT, busy=True)
    await ari.originate(AGENT, channel_id="leg-busy", app="hotline", app_args=[ROLE_AGENT])
    destroyed = await fake.wait_for(ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (17, "User busy")
    assert "StasisStart" not in story(fake, "leg-busy")


async def test_an_agent_who_never_answers_rings_until_hung_up(fake: FakeAsterisk,
                                                              ari: AriRest) -> None:
    fake.agent_behaviour(AGENT, answer_after_s=None)
    await ari.originate(AGENT, channel_id="leg-never", app="hotline", app_args=[ROLE_AGENT])
    ringing = await fake.wait_for(ChannelStateChange)
    assert ringing.channel.state == "Ringing"
    with pytest.raises(AriConflict, match="not in Stasis"):
        await ari.answer("leg-never")
    await ari.hangup("leg-never")
    assert (await fake.wait_for(ChannelDestroyed)).cause == 16
    assert "StasisStart" not in story(fake, "leg-never")


async def test_an_unanswered_leg_ends_at_originate_timeout(fake: FakeAsterisk,
                                                           ari: AriRest) -> None:
    fake.agent_behaviour(AGENT, answer_after_s=None)
    await ari.originate(AGENT, channel_id="leg-t", app="hotline", app_args=[], timeout_s=1)
    destroyed = await fake.wait_for(ChannelDestroyed)
    assert destroyed.cause == 19
    assert [e.dialstatus for e in fake.events if isinstance(e, Dial)][-1] == "NOANSWER"


async def test_an_agent_talks_then_hangs_up(fake: FakeAsterisk, ari: AriRest) -> None:
    fake.agent_behaviour(AGENT, answer_after_s=None, talk_s=0.01)
    await ari.originate(AGENT, channel_id="leg-talk", app="hotline", app_args=[ROLE_AGENT])
    await fake.wait_for(ChannelStateChange, lambda e: e.channel.state == "Ringing")
    fake.agent_answers("leg-talk")
    destroyed = await fake.wait_for(ChannelDestroyed)
    assert destroyed.cause == 16
    assert story(fake, "leg-talk")[-4:] == [
        "StasisStart", "ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]


async def test_bridge_recording_is_stored_in_the_spool(fake: FakeAsterisk, ari: AriRest) -> None:
    caller, agent = fake.call_in(), fake.call_in(args=[ROLE_AGENT])
    bridge = await ari.create_bridge("b1", name="call-1")
    assert (bridge.id, bridge.bridge_type, bridge.name, bridge.channels) == (
        "b1", "mixing", "call-1", ())
    with pytest.raises(AriConflict, match="already exists"):
        await ari.create_bridge("b1")
    await ari.add_channels("b1", [caller, agent])
    await fake.wait_for(ChannelEnteredBridge, lambda e: e.channel.id == agent)
    assert [b.channels for b in await ari.list_bridges()] == [(caller, agent)]
    with pytest.raises(AriUnprocessable, match="format"):
        await ari.record_bridge("b1", "rec-bad", fmt="no-such-format")

    live = await ari.record_bridge("b1", "rec-1")
    assert (live.name, live.target_uri, live.state) == ("rec-1", "bridge:b1", "queued")
    await fake.wait_for(RecordingStarted)
    assert (await ari.get_live_recording("rec-1")).state == "recording"
    await ari.play(agent, ["sound:hello-world"], "speech")  # lasts 0.01 s on the loop clock
    await fake.wait_for(PlaybackFinished, lambda e: e.playback_id == "speech")
    await ari.stop_recording("rec-1")
    done = await fake.wait_for(RecordingFinished)
    assert (done.name, done.state, done.duration_s is not None) == ("rec-1", "done", True)
    with pytest.raises(AriNotFound):
        await ari.get_live_recording("rec-1")
    recording, spool = fake.recordings["rec-1"], fake.spool_dir
    assert spool is not None and recording.path == spool / "rec-1.wav"
    assert recording.duration_s is not None and recording.duration_s >= 0.01
    with wave.open(str(recording.path)) as wav:
        assert wav.getnframes() / wav.getframerate() == pytest.approx(recording.duration_s,
                                                                      abs=1 / 8000)

    with pytest.raises(AriConflict, match="already exists"):
        await ari.record_bridge("b1", "rec-1")  # if_exists="fail" keeps the file
    await ari.delete_stored_recording("rec-1")
    assert not (spool / "rec-1.wav").exists()
    with pytest.raises(AriNotFound):
        await ari.delete_stored_recording("rec-1")


async def test_destroying_the_bridge_ends_its_recording(fake: FakeAsterisk, ari: AriRest) -> None:
    caller = fake.call_in()
    await ari.create_bridge("b2")
    await ari.add_channels("b2", [caller])
    await ari.record_bridge("b2", "rec-2", if_exists="overwrite")
    await ari.destroy_bridge("b2")
    await fake.wait_for(BridgeDestroyed)
    assert story(fake, "b2")[-3:] == ["RecordingFinished", "ChannelLeftBridge",
                                      "BridgeDestroyed"]
    assert fake.recordings["rec-2"].state == "done" and "rec-2" in fake.stored
    with pytest.raises(AriNotFound, match="Bridge not found"):
        await ari.destroy_bridge("b2")


async def test_a_bridge_emptied_by_remove_channel_goes_quietly(fake: FakeAsterisk,
                                                               ari: AriRest) -> None:
    caller, other = fake.call_in(), fake.call_in()
    await ari.create_bridge("b3")
    await ari.add_channels("b3", [caller])
    with pytest.raises(AriUnprocessable, match="not in this bridge"):
        await ari.remove_channel("b3", other)
    await ari.remove_channel("b3", caller)
    await ari.destroy_bridge("b3")
    await fake.wait_for(StasisStart, lambda e: e.channel.id == other)  # flushes the events
    assert story(fake, "b3") == ["ChannelEnteredBridge", "ChannelLeftBridge"]
    assert await ari.list_bridges() == []


async def test_injected_failures_hit_only_the_matching_requests(fake: FakeAsterisk,
                                                                ari: AriRest) -> None:
    caller = fake.call_in()
    fake.fail_next("POST", "/channels/*/play/*", status=500, times=2)
    fake.fail_next("*", "/channels/*/moh", status=None)
    fake.fail_next("GET", "/channels", status=404, message="gone")
    for _ in range(2):
        with pytest.raises(AriUnavailable) as failed:
            await ari.play(caller, ["sound:x"], "pb-1")
        assert failed.value.status == 500
    with pytest.raises(AriUnavailable) as no_answer:
        await ari.start_moh(caller)
    assert (no_answer.value.status, no_answer.value.message) == (None, "injected: no answer")
    with pytest.raises(AriNotFound, match="gone"):
        await ari.list_channels()
    await ari.play(caller, ["sound:x"], "pb-1")
    await ari.start_moh(caller)
    assert [r.status for r in fake.requested("POST", "/channels/*/play/*")] == [500, 500, 201]
    assert fake.channels[caller].heard == ["sound:x", "moh:default"]  # failures changed nothing


async def test_snoop_and_external_media_enter_the_app(fake: FakeAsterisk, ari: AriRest) -> None:
    caller = fake.call_in()
    snoop = await ari.create_snoop(caller, "snoop-1", app="hotline", app_args=["snoop"],
                                   spy="in")  # fmt: skip
    assert snoop.id == "snoop-1"
    assert (await fake.wait_for(StasisStart, lambda e: e.channel.id == "snoop-1")).args == (
        "snoop",)
    query = {"channelId": "media-1", "app": "hotline", "external_host": "INCOMING",
             "transport": "websocket", "encapsulation": "none", "connection_type": "server",
             "format": "slin16"}  # fmt: skip
    media = await ari._call(rest_routes.EXTERNAL_MEDIA, None, query)
    assert media["channelvars"]["MEDIA_WEBSOCKET_CONNECTION_ID"]
    fake.hang_up(caller)
    await fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == "snoop-1")


def _swagger_models() -> dict[str, Any]:
    root = Path(os.environ.get("HOTLINE_ASTERISK_ROOT",
                               Path.home() / ".cache/hotline/asterisk-rootfs"))  # fmt: skip
    models: dict[str, Any] = {}
    for path in sorted((root / "usr/share/asterisk/rest-api").glob("*.json")):
        models.update(json.loads(path.read_text()).get("models", {}))
    return models


def _check(data: dict[str, Any], model: str, models: dict[str, Any], where: str) -> None:
    properties = dict(models[model]["properties"])
    if model in models["Event"]["subTypes"]:  # Message → Event → StasisStart, ...
        properties |= models["Event"]["properties"] | models["Message"]["properties"]
    for name, prop in properties.items():
        if prop.get("required") and name not in data:
            pytest.fail(f"{where}: {model}.{name} is required by the Swagger model")
        if isinstance(data.get(name), dict) and prop["type"] in models:
            _check(data[name], prop["type"], models, f"{where}.{name}")


async def test_events_carry_every_field_the_swagger_models_require(fake: FakeAsterisk,
                                                                   ari: AriRest) -> None:
    models = _swagger_models()
    if not models:
        pytest.skip("no ARI Swagger files: run scripts/dev-asterisk build")
    fake.agent_behaviour(AGENT, talk_s=0.0)
    caller = fake.call_in()
    await ari.answer(caller)
    await ari.create_bridge("b")
    await ari.add_channels("b", [caller])
    await ari.record_bridge("b", "r")
    await ari.play(caller, ["sound:x"], "p")
    fake.press(caller, "1")
    await ari.originate(AGENT, channel_id="leg", app="hotline", app_args=[ROLE_AGENT])
    await fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == "leg")
    await ari.destroy_bridge("b")
    await ari.hangup(caller)
    await fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == caller)
    kinds = {data["type"] for data in fake.sent_json}
    assert {"RecordingFinished", "PlaybackFinished", "Dial", "BridgeDestroyed"} <= kinds
    for data in fake.sent_json:
        _check(data, data["type"], models, data["type"])
