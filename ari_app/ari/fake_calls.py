"""FakeAsterisk's channels, agent legs (originate) and bridges: handlers by Route.

Statuses and messages are those of the ARI Swagger `errorResponses` and of Asterisk 22 as
tests/adapters/test_ari_rest.py saw it (e.g. 409 "Channel not in Stasis application", 422
"Channel not in this bridge").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ari_app.ari import rest
from ari_app.ari.fake_media import bridge_gone
from ari_app.ari.fake_state import (
    HANGUP_REASONS,
    AgentBehaviour,
    FakeBridge,
    FakeChannel,
    Reject,
    Req,
    timestamp,
)

if TYPE_CHECKING:
    from ari_app.ari.fake import FakeAsterisk

# ARI's hangup is ast_softhangup(chan, AST_SOFTHANGUP_EXPLICIT): its ChannelHangupRequest
# carries that flag (1 << 5) as `cause`, with soft=true; ChannelDestroyed has the Q.850 cause.
_ARI_HANGUP_REQUEST = {"cause": 32, "soft": True}
_DIAL_STATUS = {17: "BUSY", 34: "CONGESTION"}  # other refusals: CHANUNAVAIL


def _list_channels(fake: FakeAsterisk, _: Req) -> list[dict[str, Any]]:
    return [channel.to_json() for channel in fake.channels.values()]


def _get_channel(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    return fake.channel(r.path["channelId"]).to_json()


def _hangup(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.channel(r.path["channelId"])
    cause = HANGUP_REASONS.get(r.query.get("reason", "normal"))
    if cause is None:
        raise Reject(400, "Invalid reason for hangup reason provided")
    fake.destroy(channel, cause, _ARI_HANGUP_REQUEST)


def _answer(fake: FakeAsterisk, r: Req) -> None:
    fake.set_state(fake.stasis_channel(r.path["channelId"]), "Up")


def _ring(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.stasis_channel(r.path["channelId"])
    if channel.state != "Up":
        fake.set_state(channel, "Ringing")


def _continue(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.stasis_channel(r.path["channelId"])
    leave_bridge(fake, channel)
    channel.moh = None
    channel.continued_to = (r.query.get("context", ""), r.query.get("extension", ""),
                            int(r.query.get("priority", "1")))  # fmt: skip
    fake.emit_channel("StasisEnd", channel)
    # Back in the dialplan our app hears nothing more of it (no ChannelDestroyed later).
    channel.in_stasis = channel.subscribed = False


def _get_variable(fake: FakeAsterisk, r: Req) -> dict[str, str]:
    channel = fake.stasis_channel(r.path["channelId"])
    name = r.required("variable", "Variable name is required")
    if name not in channel.variables:
        raise Reject(404, "Provided variable was not found")
    return {"value": channel.variables[name]}


def _set_variable(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.stasis_channel(r.path["channelId"])
    channel.variables[r.required("variable", "Variable name is required")] = r.query.get(
        "value", "")


def _send_dtmf(fake: FakeAsterisk, r: Req) -> None:
    channel = fake.stasis_channel(r.path["channelId"])
    channel.dtmf_sent.append(r.required("dtmf", "DTMF is required"))


def _originate(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    endpoint = r.required("endpoint", "Endpoint must be specified")
    app = r.required("app", "Application or extension must be specified")
    channel_id = r.query.get("channelId") or fake.new_id()
    if channel_id in fake.channels:
        raise Reject(409, "Channel with given unique ID already exists")
    app_args = r.query.get("appArgs", "")
    channel = fake.add_channel(FakeChannel(
        channel_id, f"{endpoint}-{uuid.uuid4().hex[:8]}", app, "Down",
        caller_number=r.query.get("callerId", ""), variables=dict(r.body.get("variables") or {}),
        args=tuple(app_args.split(",")) if app_args else (), subscribed=True,
        endpoint=endpoint))  # fmt: skip
    snapshot = channel.to_json()
    _dial(fake, channel, "")
    _schedule_agent(fake, channel, fake.agents.get(endpoint, AgentBehaviour()),
                    int(r.query.get("timeout", "30")))  # fmt: skip
    return snapshot


def _schedule_agent(fake: FakeAsterisk, channel: FakeChannel, script: AgentBehaviour,
                    timeout_s: int) -> None:
    if script.reject_cause is not None:
        fake.later(channel.id, script.answer_after_s or 0.0, _refuse, fake, channel,
                   script.reject_cause)  # fmt: skip
        return
    fake.set_state(channel, "Ringing")
    _dial(fake, channel, "RINGING")
    if script.answer_after_s is not None:
        fake.later(channel.id, script.answer_after_s, answer_leg, fake, channel)
    if timeout_s > 0:
        fake.later(channel.id, timeout_s, _no_answer, fake, channel)


def answer_leg(fake: FakeAsterisk, channel: FakeChannel) -> None:
    """An originated leg is answered: it enters Stasis with originate's appArgs."""
    if channel.in_stasis:
        return
    fake.cancel_timers(channel.id)  # no ring timeout any more
    _dial(fake, channel, "ANSWER")
    fake.set_state(channel, "Up")
    fake.enter_stasis(channel)
    talk_s = fake.agents.get(channel.endpoint, AgentBehaviour()).talk_s
    if talk_s is not None:
        fake.later(channel.id, talk_s, fake.hang_up, channel.id)


def _refuse(fake: FakeAsterisk, channel: FakeChannel, cause: int) -> None:
    _dial(fake, channel, _DIAL_STATUS.get(cause, "CHANUNAVAIL"))
    fake.destroy(channel, cause, {"cause": cause})


def _no_answer(fake: FakeAsterisk, channel: FakeChannel) -> None:
    _dial(fake, channel, "NOANSWER")
    fake.destroy(channel, 19, None)


def _dial(fake: FakeAsterisk, channel: FakeChannel, status: str) -> None:
    if channel.subscribed:
        fake.emit("Dial", channel.app, peer=channel.to_json(), dialstatus=status,
                  dialstring=channel.endpoint)  # fmt: skip


_SNOOP_DIRECTIONS = ("none", "both", "out", "in")


def _snoop(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    # res/ari/resource_channels.c: directions checked first (one of them not none), then the
    # app, then the channel.
    spy, whisper = r.query.get("spy") or "none", r.query.get("whisper") or "none"
    for name, direction in (("spy", spy), ("whisper", whisper)):
        if direction not in _SNOOP_DIRECTIONS:
            raise Reject(400, f"Invalid direction specified for {name}")
    if spy == whisper == "none":
        raise Reject(400, "Direction must be specified for at least spy or whisper")
    app = r.required("app", "Application name is required")
    target = fake.channels.get(r.path["channelId"])
    if target is None:
        raise Reject(404, "Provided channel was not found")
    snoop_id = r.path["snoopId"]
    if snoop_id in fake.channels:
        raise Reject(409, "Channel with given unique ID already exists")
    app_args = r.query.get("appArgs", "")
    channel = fake.add_channel(FakeChannel(
        snoop_id, f"Snoop/{target.id}-{uuid.uuid4().hex[:8]}", app, "Up",
        args=tuple(app_args.split(",")) if app_args else (), snooping_on=target.id, spy=spy,
        whisper=whisper))
    snapshot = channel.to_json()
    fake.enter_stasis(channel)
    return snapshot


def _external_media(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    app = r.required("app", "app cannot be empty")
    channel_id = r.query.get("channelId") or fake.new_id()
    if channel_id in fake.channels:
        raise Reject(409, "Channel with given unique ID already exists")
    variables = dict(r.body.get("variables") or {})
    if r.query.get("transport") == "websocket":
        # Nothing listens: a test gets the connection id, not a media stream.
        variables["MEDIA_WEBSOCKET_CONNECTION_ID"] = uuid.uuid4().hex
    channel = fake.add_channel(FakeChannel(channel_id, f"WebSocket/{channel_id}", app, "Up",
                                           variables=variables))  # fmt: skip
    snapshot = channel.to_json()
    fake.enter_stasis(channel)
    return snapshot


# --- bridges ---------------------------------------------------------------------------------


def _create_bridge(fake: FakeAsterisk, r: Req) -> dict[str, Any]:
    bridge_id = r.path["bridgeId"]
    if bridge_id in fake.bridges:
        raise Reject(409, f"Bridge with id '{bridge_id}' already exists")
    bridge = FakeBridge(bridge_id, r.query.get("type", "mixing"), r.query.get("name", ""))
    fake.bridges[bridge_id] = bridge
    return bridge.to_json()


def _bridge_members(fake: FakeAsterisk, r: Req) -> tuple[FakeBridge, list[FakeChannel]]:
    bridge = fake.bridge(r.path["bridgeId"])
    ids = r.required("channel", "Missing parameter channel").split(",")
    if any(i not in fake.channels for i in ids):
        raise Reject(400, "Channel not found")
    return bridge, [fake.channels[i] for i in ids]


def _add_channel(fake: FakeAsterisk, r: Req) -> None:
    bridge, channels = _bridge_members(fake, r)
    if not all(c.in_stasis for c in channels):
        raise Reject(422, "Channel not in Stasis application")
    for channel in channels:
        if channel.bridge_id == bridge.id:
            continue
        leave_bridge(fake, channel)
        channel.bridge_id = bridge.id
        bridge.channels.append(channel.id)
        bridge.subscribed = True
        fake.emit_channel("ChannelEnteredBridge", channel, bridge=bridge.to_json())


def _remove_channel(fake: FakeAsterisk, r: Req) -> None:
    bridge, channels = _bridge_members(fake, r)
    if any(c.bridge_id != bridge.id for c in channels):
        raise Reject(422, "Channel not in this bridge")
    for channel in channels:
        leave_bridge(fake, channel)
    if not bridge.channels:
        bridge.subscribed = False


def leave_bridge(fake: FakeAsterisk, channel: FakeChannel) -> None:
    bridge = fake.bridges.get(channel.bridge_id or "")
    channel.bridge_id = None
    if bridge is not None and channel.id in bridge.channels:
        bridge.channels.remove(channel.id)
        fake.emit_channel("ChannelLeftBridge", channel, bridge=bridge.to_json())


def _destroy_bridge(fake: FakeAsterisk, r: Req) -> None:
    bridge = fake.bridge(r.path["bridgeId"])
    bridge_gone(fake, bridge)
    for channel_id in list(bridge.channels):
        leave_bridge(fake, fake.channels[channel_id])
    del fake.bridges[bridge.id]
    if bridge.subscribed:
        fake.emit("BridgeDestroyed", bridge=bridge.to_json())


def _list_bridges(fake: FakeAsterisk, _: Req) -> list[dict[str, Any]]:
    return [bridge.to_json() for bridge in fake.bridges.values()]


def _asterisk_info(fake: FakeAsterisk, _: Req) -> dict[str, Any]:
    return {"system": {"version": fake.version, "entity_id": "fa:ke:00:00:00:01"},
            "build": {"os": "Linux", "kernel": "", "options": "", "machine": "x86_64",
                      "date": "", "user": "fake"},
            "status": {"startup_time": timestamp(), "last_reload_time": timestamp()}}


def _applications(fake: FakeAsterisk, _: Req) -> list[dict[str, Any]]:
    apps = {fake.app} | {c.app for c in fake.channels.values()}
    return [{"name": app, "endpoint_ids": [], "device_names": [],
             "channel_ids": [c.id for c in fake.channels.values() if c.app == app and c.subscribed],
             "bridge_ids": list(fake.bridges) if app == fake.app else [],
             "events_allowed": [], "events_disallowed": []} for app in sorted(apps)]


HANDLERS: dict[rest.Route, Callable[[FakeAsterisk, Req], Any]] = {
    rest.ASTERISK_INFO: _asterisk_info, rest.LIST_APPLICATIONS: _applications,
    rest.LIST_CHANNELS: _list_channels, rest.GET_CHANNEL: _get_channel, rest.HANGUP: _hangup,
    rest.ANSWER: _answer, rest.RING: _ring, rest.CONTINUE: _continue,
    rest.GET_VARIABLE: _get_variable, rest.SET_VARIABLE: _set_variable,
    rest.SEND_DTMF: _send_dtmf, rest.ORIGINATE: _originate, rest.SNOOP: _snoop,
    rest.EXTERNAL_MEDIA: _external_media, rest.CREATE_BRIDGE: _create_bridge,
    rest.ADD_CHANNEL: _add_channel, rest.REMOVE_CHANNEL: _remove_channel,
    rest.DESTROY_BRIDGE: _destroy_bridge, rest.LIST_BRIDGES: _list_bridges,
}  # fmt: skip
