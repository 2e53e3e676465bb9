"""Typed ARI events and snapshots, parsed from the JSON Asterisk sends (events.json models).

Only the fields the service uses are kept. `subject_ids` lists every id an event concerns so
the router can hand it to the owning call without knowing each event's shape.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

from ari_app.ari.errors import AriEventError


def _target_id(target_uri: str) -> str:
    """`channel:ID` / `bridge:ID` → `ID` (Playback and LiveRecording `target_uri`)."""
    return target_uri.partition(":")[2]


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    id: str
    name: str
    state: str
    caller_number: str
    caller_name: str
    # Only the variables listed in ari.conf `channelvars`; read-only view.
    channelvars: Mapping[str, str] = field(default_factory=dict, hash=False)
    # The dialplan application the channel is in now, e.g. "Stasis" with "hotline,inbound".
    dialplan_app: str = ""
    dialplan_app_data: str = ""

    @property
    def stasis_args(self) -> tuple[str, ...] | None:
        """Stasis(app, args...) the channel is in, as (app, *args); None outside Stasis."""
        if self.dialplan_app.lower() != "stasis":
            return None
        return tuple(self.dialplan_app_data.split(","))

    @property
    def stasis_app(self) -> str | None:
        """The Stasis application holding the channel, if it is in one."""
        args = self.stasis_args
        return args[0] if args else None

    @classmethod
    def gone(cls, channel_id: str) -> ChannelSnapshot:
        """Stand-in for a channel found missing (e.g. on reconcile): no snapshot exists."""
        return cls(channel_id, name="", state="Down", caller_number="", caller_name="")


@dataclass(frozen=True, slots=True)
class BridgeSnapshot:
    id: str
    bridge_type: str
    name: str
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LiveRecording:
    name: str
    target_uri: str
    state: str
    duration_s: int | None
    cause: str | None


@dataclass(frozen=True, slots=True)
class Connected:
    """Stream marker: the websocket is (re)connected; `first=False` means reconcile now."""

    first: bool


@dataclass(frozen=True, slots=True)
class _ChannelEvent:
    application: str
    channel: ChannelSnapshot

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.channel.id,)


@dataclass(frozen=True, slots=True)
class StasisStart(_ChannelEvent):
    args: tuple[str, ...]
    # Set when the channel replaced another one in Stasis (masquerade, e.g. a transfer).
    replace_channel_id: str | None

    @property
    def subject_ids(self) -> tuple[str, ...]:
        if self.replace_channel_id:
            return (self.channel.id, self.replace_channel_id)
        return (self.channel.id,)


@dataclass(frozen=True, slots=True)
class StasisEnd(_ChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class ChannelStateChange(_ChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class ChannelDtmfReceived(_ChannelEvent):
    digit: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class ChannelHangupRequest(_ChannelEvent):
    cause: int | None


@dataclass(frozen=True, slots=True)
class ChannelDestroyed(_ChannelEvent):
    cause: int
    cause_txt: str


@dataclass(frozen=True, slots=True)
class _PlaybackEvent:
    application: str
    playback_id: str
    target_uri: str
    state: str

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.playback_id, _target_id(self.target_uri))


@dataclass(frozen=True, slots=True)
class PlaybackStarted(_PlaybackEvent):
    pass


@dataclass(frozen=True, slots=True)
class PlaybackFinished(_PlaybackEvent):
    pass


@dataclass(frozen=True, slots=True)
class _RecordingEvent:
    application: str
    name: str
    target_uri: str
    state: str
    duration_s: int | None
    cause: str | None

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.name, _target_id(self.target_uri))


@dataclass(frozen=True, slots=True)
class RecordingStarted(_RecordingEvent):
    pass


@dataclass(frozen=True, slots=True)
class RecordingFinished(_RecordingEvent):
    pass


@dataclass(frozen=True, slots=True)
class RecordingFailed(_RecordingEvent):
    pass


@dataclass(frozen=True, slots=True)
class _BridgeChannelEvent:
    application: str
    bridge_id: str
    channel: ChannelSnapshot

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.bridge_id, self.channel.id)


@dataclass(frozen=True, slots=True)
class ChannelEnteredBridge(_BridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class ChannelLeftBridge(_BridgeChannelEvent):
    pass


@dataclass(frozen=True, slots=True)
class BridgeDestroyed:
    application: str
    bridge_id: str

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.bridge_id,)


@dataclass(frozen=True, slots=True)
class Dial:
    application: str
    peer: ChannelSnapshot | None
    dialstatus: str

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return (self.peer.id,) if self.peer else ()


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    application: str
    type: str
    raw: Mapping[str, Any] = field(hash=False)

    @property
    def subject_ids(self) -> tuple[str, ...]:
        return ()


AriEvent = (
    StasisStart | StasisEnd | ChannelStateChange | ChannelDtmfReceived | ChannelHangupRequest
    | ChannelDestroyed | PlaybackStarted | PlaybackFinished | RecordingStarted
    | RecordingFinished | RecordingFailed | ChannelEnteredBridge | ChannelLeftBridge
    | BridgeDestroyed | Dial | UnknownEvent
)  # fmt: skip


class _Fields:
    """Typed access to one JSON object; errors name the event type and the dotted field."""

    def __init__(self, data: Mapping[str, Any], event_type: str, prefix: str = "") -> None:
        self._data, self._type, self._prefix = data, event_type, prefix

    def _get(self, key: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self._data.get(key)
        if value is None and not required:
            return None
        if value is None or not isinstance(value, kind) or isinstance(value, bool):
            problem = "is missing" if value is None else f"has the wrong type {type(value)}"
            raise AriEventError(self._type, self._prefix + key, problem)
        return value

    def text(self, key: str) -> str:
        return cast(str, self._get(key, str, True))

    def opt_text(self, key: str) -> str | None:
        return cast("str | None", self._get(key, str, False))

    def integer(self, key: str) -> int:
        return cast(int, self._get(key, int, True))

    def opt_integer(self, key: str) -> int | None:
        return cast("int | None", self._get(key, int, False))

    def obj(self, key: str) -> _Fields:
        return _Fields(self._get(key, Mapping, True), self._type, f"{self._prefix}{key}.")

    def opt_obj(self, key: str) -> _Fields | None:
        return self.obj(key) if self._data.get(key) is not None else None

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, list, True)
        if not all(isinstance(v, str) for v in values):
            raise AriEventError(self._type, self._prefix + key, "is not a list of strings")
        return tuple(values)

    def text_map(self, key: str) -> Mapping[str, str]:
        values = self._get(key, Mapping, False) or {}
        return MappingProxyType({str(k): str(v) for k, v in values.items()})


def _channel(f: _Fields) -> ChannelSnapshot:
    caller = f.obj("caller")
    dialplan = f.opt_obj("dialplan")
    return ChannelSnapshot(
        id=f.text("id"),
        name=f.text("name"),
        state=f.text("state"),
        caller_number=caller.opt_text("number") or "",
        caller_name=caller.opt_text("name") or "",
        channelvars=f.text_map("channelvars"),
        dialplan_app=(dialplan.opt_text("app_name") or "") if dialplan else "",
        dialplan_app_data=(dialplan.opt_text("app_data") or "") if dialplan else "",
    )


def _recording_fields(f: _Fields) -> tuple[str, str, str, int | None, str | None]:
    return (f.text("name"), f.text("target_uri"), f.text("state"), f.opt_integer("duration"),
            f.opt_text("cause"))  # fmt: skip


def parse_channel(data: Mapping[str, Any]) -> ChannelSnapshot:
    return _channel(_Fields(data, "Channel"))


def parse_bridge(data: Mapping[str, Any]) -> BridgeSnapshot:
    f = _Fields(data, "Bridge")
    bridge_type, name = f.opt_text("bridge_type") or "", f.opt_text("name") or ""
    return BridgeSnapshot(f.text("id"), bridge_type, name, f.texts("channels"))


def parse_live_recording(data: Mapping[str, Any]) -> LiveRecording:
    return LiveRecording(*_recording_fields(_Fields(data, "LiveRecording")))


def _chan(f: _Fields) -> ChannelSnapshot:
    return _channel(f.obj("channel"))


def _stasis_start(f: _Fields) -> tuple[Any, ...]:
    replaced = f.opt_obj("replace_channel")
    return _chan(f), f.texts("args"), replaced.text("id") if replaced else None


def _playback(f: _Fields) -> tuple[Any, ...]:
    p = f.obj("playback")
    return p.text("id"), p.text("target_uri"), p.text("state")


def _bridge_channel(f: _Fields) -> tuple[Any, ...]:
    # Swagger marks ChannelEnteredBridge.channel optional; stasis_bridges.c always sends it.
    return f.obj("bridge").text("id"), _chan(f)


def _dial(f: _Fields) -> tuple[Any, ...]:
    peer = f.opt_obj("peer")
    return _channel(peer) if peer else None, f.opt_text("dialstatus") or ""


# Event class → the positional fields after `application`, read from the JSON.
_SHAPES: tuple[tuple[type[Any], Callable[[_Fields], tuple[Any, ...]]], ...] = (
    (StasisStart, _stasis_start),
    (StasisEnd, lambda f: (_chan(f),)),
    (ChannelStateChange, lambda f: (_chan(f),)),
    (ChannelDtmfReceived, lambda f: (_chan(f), f.text("digit"), f.integer("duration_ms"))),
    (ChannelHangupRequest, lambda f: (_chan(f), f.opt_integer("cause"))),
    (ChannelDestroyed, lambda f: (_chan(f), f.integer("cause"), f.opt_text("cause_txt") or "")),
    (PlaybackStarted, _playback),
    (PlaybackFinished, _playback),
    (RecordingStarted, lambda f: _recording_fields(f.obj("recording"))),
    (RecordingFinished, lambda f: _recording_fields(f.obj("recording"))),
    (RecordingFailed, lambda f: _recording_fields(f.obj("recording"))),
    (ChannelEnteredBridge, _bridge_channel),
    (ChannelLeftBridge, _bridge_channel),
    (BridgeDestroyed, lambda f: (f.obj("bridge").text("id"),)),
    (Dial, _dial),
)
_PARSERS = {cls.__name__: (cls, fields) for cls, fields in _SHAPES}


def parse_event(data: Mapping[str, Any]) -> AriEvent:
    """One websocket message → a typed event; unknown types become UnknownEvent.

    Raises AriEventError (naming the type and field) when a known event is malformed.
    """
    event_type = data.get("type")
    shape = _PARSERS.get(event_type) if isinstance(event_type, str) else None
    if shape is None:
        application = data.get("application")
        return UnknownEvent(
            application if isinstance(application, str) else "",
            event_type if isinstance(event_type, str) else "",
            MappingProxyType(dict(data)),
        )
    cls, fields = shape
    f = _Fields(data, str(event_type))
    event: AriEvent = cls(f.text("application"), *fields(f))
    return event
