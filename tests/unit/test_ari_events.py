"""ARI event parsing from payloads shaped exactly like Asterisk 22 sends them."""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from ari_app.ari.errors import AriEventError
from ari_app.ari.events import (
    BridgeDestroyed,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelEnteredBridge,
    ChannelHangupRequest,
    ChannelLeftBridge,
    ChannelSnapshot,
    ChannelStateChange,
    Dial,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
    UnknownEvent,
    parse_bridge,
    parse_event,
    parse_live_recording,
)

APP = "hotline"
CHANNEL_ID = "1732262794.17"


def channel(channel_id: str = CHANNEL_ID, state: str = "Ring") -> dict[str, Any]:
    return {
        "id": channel_id,
        "name": "PJSIP/sipp-00000004",
        "state": state,
        "protocol_id": "3c2b4ba5@127.0.0.1",
        "caller": {"name": "Jo", "number": "5551234"},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {"context": "hotline", "exten": "s", "priority": 2,
                     "app_name": "Stasis", "app_data": "hotline,inbound"},
        "creationtime": "2026-11-22T08:06:58.104+0000",
        "language": "en",
        "channelvars": {"HOTLINE_CORRELATION_ID": "corr-1"},
    }  # fmt: skip


def event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "timestamp": "2026-11-22T08:06:58.110+0000",
        "asterisk_id": "02:fc:00:00:00:01",
        "application": APP,
        **fields,
    }


def bridge(bridge_id: str = "b-1") -> dict[str, Any]:
    return {"id": bridge_id, "technology": "simple_bridge", "bridge_type": "mixing",
            "bridge_class": "stasis", "creator": "Stasis", "name": "call-1",
            "channels": [CHANNEL_ID], "creationtime": "2026-11-22T08:07:00.000+0000"}  # fmt: skip


def recording(state: str = "recording", **extra: Any) -> dict[str, Any]:
    return {"name": "call-1", "format": "wav", "target_uri": "bridge:b-1", "state": state, **extra}


def test_stasis_start_carries_args_caller_and_channel_variables() -> None:
    parsed = parse_event(event("StasisStart", args=["inbound"], channel=channel()))
    assert isinstance(parsed, StasisStart)
    assert parsed.application == APP
    assert parsed.args == ("inbound",)
    assert parsed.replace_channel_id is None
    assert parsed.channel.id == CHANNEL_ID
    assert parsed.channel.state == "Ring"
    assert (parsed.channel.caller_number, parsed.channel.caller_name) == ("5551234", "Jo")
    assert parsed.channel.channelvars == {"HOTLINE_CORRELATION_ID": "corr-1"}
    assert parsed.subject_ids == (CHANNEL_ID,)


def test_stasis_start_after_a_masquerade_concerns_the_replaced_channel_too() -> None:
    data = event("StasisStart", args=[], channel=channel("new"), replace_channel=channel("old"))
    parsed = parse_event(data)
    assert isinstance(parsed, StasisStart)
    assert parsed.replace_channel_id == "old"
    assert parsed.subject_ids == ("new", "old")


def test_channel_snapshot_is_read_only() -> None:
    parsed = parse_event(event("StasisEnd", channel=channel()))
    assert isinstance(parsed, StasisEnd)
    with pytest.raises(TypeError):
        parsed.channel.channelvars["HOTLINE_CORRELATION_ID"] = "changed"  # type: ignore[index]


def test_channel_events() -> None:
    dtmf = parse_event(event("ChannelDtmfReceived", digit="5", duration_ms=120, channel=channel()))
    assert isinstance(dtmf, ChannelDtmfReceived)
    assert (dtmf.digit, dtmf.duration_ms, dtmf.subject_ids) == ("5", 120, (CHANNEL_ID,))

    hangup = parse_event(event("ChannelHangupRequest", cause=16, soft=True, channel=channel()))
    assert isinstance(hangup, ChannelHangupRequest)
    assert hangup.cause == 16
    no_cause = parse_event(event("ChannelHangupRequest", channel=channel()))
    assert isinstance(no_cause, ChannelHangupRequest) and no_cause.cause is None

    destroyed = parse_event(
        event("ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=channel())
    )
    assert isinstance(destroyed, ChannelDestroyed)
    assert (destroyed.cause, destroyed.cause_txt) == (16, "Normal Clearing")

    state = parse_event(event("ChannelStateChange", channel=channel(state="Up")))
    assert isinstance(state, ChannelStateChange) and state.channel.state == "Up"


def test_playback_events_concern_the_playback_and_its_target() -> None:
    playback = {"id": "pb-1", "media_uri": "sound:hello-world", "target_uri": "channel:c-1;2",
                "language": "en", "state": "playing"}  # fmt: skip
    started = parse_event(event("PlaybackStarted", playback=playback))
    assert isinstance(started, PlaybackStarted)
    assert (started.playback_id, started.target_uri, started.state) == (
        "pb-1", "channel:c-1;2", "playing")  # fmt: skip
    assert started.subject_ids == ("pb-1", "c-1;2")
    finished = parse_event(event("PlaybackFinished", playback={**playback, "state": "failed"}))
    assert isinstance(finished, PlaybackFinished) and finished.state == "failed"
    same_fields = PlaybackFinished(APP, "pb-1", "channel:c-1;2", "playing")
    assert cast(object, same_fields) != started  # equal fields, different events


def test_recording_events_concern_the_recording_and_its_target() -> None:
    started = parse_event(event("RecordingStarted", recording=recording()))
    assert isinstance(started, RecordingStarted)
    assert started.subject_ids == ("call-1", "b-1")
    assert (started.duration_s, started.cause) == (None, None)

    done = parse_event(event("RecordingFinished", recording=recording("done", duration=42)))
    assert isinstance(done, RecordingFinished) and done.duration_s == 42

    failed = parse_event(event("RecordingFailed", recording=recording("failed", cause="disk")))
    assert isinstance(failed, RecordingFailed) and failed.cause == "disk"


def test_bridge_events() -> None:
    entered = parse_event(event("ChannelEnteredBridge", bridge=bridge(), channel=channel()))
    assert isinstance(entered, ChannelEnteredBridge)
    assert entered.subject_ids == ("b-1", CHANNEL_ID)
    left = parse_event(event("ChannelLeftBridge", bridge=bridge(), channel=channel()))
    assert isinstance(left, ChannelLeftBridge) and left.bridge_id == "b-1"
    destroyed = parse_event(event("BridgeDestroyed", bridge=bridge("b-2")))
    assert isinstance(destroyed, BridgeDestroyed) and destroyed.subject_ids == ("b-2",)


def test_dial_concerns_the_peer() -> None:
    parsed = parse_event(event("Dial", peer=channel("agent-leg"), dialstatus="RINGING",
                               dialstring="never@sim-agents"))  # fmt: skip
    assert isinstance(parsed, Dial)
    assert parsed.peer is not None and parsed.peer.id == "agent-leg"
    assert (parsed.dialstatus, parsed.subject_ids) == ("RINGING", ("agent-leg",))
    # The first Dial of an originate has an empty dialstatus.
    first = parse_event(event("Dial", peer=channel("agent-leg"), dialstatus=""))
    assert isinstance(first, Dial) and first.dialstatus == ""


def test_unknown_events_are_kept_raw_and_never_fail() -> None:
    varset = event("ChannelVarset", variable="X", value="1", channel=channel())
    parsed = parse_event(varset)
    assert isinstance(parsed, UnknownEvent)
    assert (parsed.application, parsed.type, parsed.subject_ids) == (APP, "ChannelVarset", ())
    assert parsed.raw["variable"] == "X"
    assert isinstance(parse_event({}), UnknownEvent)
    assert parse_event({"type": 7, "application": None}) == UnknownEvent(
        "", "", {"type": 7, "application": None}
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (event("StasisStart", args=["inbound"]), "channel"),
        (event("StasisStart", args="inbound", channel=channel()), "args"),
        (event("ChannelDtmfReceived", digit=5, duration_ms=1, channel=channel()), "digit"),
        (event("ChannelDestroyed", cause="16", cause_txt="", channel=channel()), "cause"),
        (event("PlaybackStarted", playback={"id": "p", "state": "playing"}), "playback.target_uri"),
        (event("StasisEnd", channel={**channel(), "id": None}), "channel.id"),
        (event("StasisEnd", channel={**channel(), "caller": "x"}), "channel.caller"),
        (
            {k: v for k, v in event("StasisEnd", channel=channel()).items() if k != "application"},
            "application",
        ),
    ],
)
def test_malformed_known_events_name_the_type_and_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(AriEventError) as caught:
        parse_event(copy.deepcopy(data))
    assert caught.value.event_type == data["type"]
    assert caught.value.field == field
    assert data["type"] in str(caught.value) and repr(field) in str(caught.value)


def test_rest_snapshots() -> None:
    parsed = parse_bridge(bridge())
    assert (parsed.id, parsed.bridge_type, parsed.channels) == ("b-1", "mixing", (CHANNEL_ID,))
    live = parse_live_recording(recording("done", duration=3))
    assert (live.name, live.state, live.duration_s) == ("call-1", "done", 3)
    with pytest.raises(AriEventError, match="Bridge"):
        parse_bridge({"id": "b"})


def test_a_gone_channel_has_only_its_id() -> None:
    gone = ChannelSnapshot.gone("c-9")
    assert (gone.id, gone.state, gone.channelvars) == ("c-9", "Down", {})
