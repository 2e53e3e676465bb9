"""ARI REST client: every endpoint declared once as a `Route`, sent through an AriTransport.

tests/adapters/test_ari_swagger_contract.py checks every Route in ROUTES against the Swagger
files Asterisk ships, so a typo in a path or parameter name fails a test instead of a call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import structlog

from ari_app.ari.errors import AriError, error_for_status
from ari_app.ari.events import (
    BridgeSnapshot,
    ChannelSnapshot,
    LiveRecording,
    parse_bridge,
    parse_channel,
    parse_live_recording,
)
from ari_app.ari.transport import AriResponse, AriTransport, HttpTransport

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """One ARI operation: names are exactly those of the Swagger files."""

    method: str
    path_template: str
    query_params: frozenset[str] = frozenset()
    body_params: frozenset[str] = frozenset()

    def path(self, path_params: Mapping[str, str]) -> str:
        # Ids go into one path segment each; quote "/" too so a name cannot change the route.
        return self.path_template.format(**{k: quote(v, safe="") for k, v in path_params.items()})


def _route(method: str, path: str, query: str = "", body: str = "") -> Route:
    return Route(method, path, frozenset(query.split()), frozenset(body.split()))


_RECORD_QUERY = "name format maxDurationSeconds ifExists beep terminateOn"

ASTERISK_INFO = _route("GET", "/asterisk/info")
LIST_APPLICATIONS = _route("GET", "/applications")
LIST_CHANNELS = _route("GET", "/channels")
ORIGINATE = _route(
    "POST", "/channels", "endpoint app appArgs callerId timeout channelId originator", "variables"
)
GET_CHANNEL = _route("GET", "/channels/{channelId}")
HANGUP = _route("DELETE", "/channels/{channelId}", "reason")
ANSWER = _route("POST", "/channels/{channelId}/answer")
RING = _route("POST", "/channels/{channelId}/ring")
PLAY = _route("POST", "/channels/{channelId}/play/{playbackId}", "media lang")
STOP_PLAYBACK = _route("DELETE", "/playbacks/{playbackId}")
START_MOH = _route("POST", "/channels/{channelId}/moh", "mohClass")
STOP_MOH = _route("DELETE", "/channels/{channelId}/moh")
SEND_DTMF = _route("POST", "/channels/{channelId}/dtmf", "dtmf between duration")
GET_VARIABLE = _route("GET", "/channels/{channelId}/variable", "variable")
SET_VARIABLE = _route("POST", "/channels/{channelId}/variable", "variable value")
CONTINUE = _route("POST", "/channels/{channelId}/continue", "context extension priority")
RECORD_CHANNEL = _route("POST", "/channels/{channelId}/record", _RECORD_QUERY)
SNOOP = _route("POST", "/channels/{channelId}/snoop/{snoopId}", "spy whisper app appArgs")
LIST_BRIDGES = _route("GET", "/bridges")
CREATE_BRIDGE = _route("POST", "/bridges/{bridgeId}", "type name")
DESTROY_BRIDGE = _route("DELETE", "/bridges/{bridgeId}")
ADD_CHANNEL = _route("POST", "/bridges/{bridgeId}/addChannel", "channel")
REMOVE_CHANNEL = _route("POST", "/bridges/{bridgeId}/removeChannel", "channel")
RECORD_BRIDGE = _route("POST", "/bridges/{bridgeId}/record", _RECORD_QUERY)
GET_LIVE_RECORDING = _route("GET", "/recordings/live/{recordingName}")
STOP_RECORDING = _route("POST", "/recordings/live/{recordingName}/stop")
MUTE_RECORDING = _route("POST", "/recordings/live/{recordingName}/mute")
UNMUTE_RECORDING = _route("DELETE", "/recordings/live/{recordingName}/mute")
DELETE_STORED_RECORDING = _route("DELETE", "/recordings/stored/{recordingName}")
GET_PLAYBACK = _route("GET", "/playbacks/{playbackId}")
EXTERNAL_MEDIA = _route(
    "POST", "/channels/externalMedia",
    "channelId app external_host encapsulation transport connection_type format direction",
    "variables")

ROUTES: tuple[Route, ...] = (
    ASTERISK_INFO, LIST_APPLICATIONS, LIST_CHANNELS, ORIGINATE, GET_CHANNEL, HANGUP, ANSWER,
    RING, PLAY, STOP_PLAYBACK, START_MOH, STOP_MOH, SEND_DTMF, GET_VARIABLE, SET_VARIABLE,
    CONTINUE, RECORD_CHANNEL, SNOOP, LIST_BRIDGES, CREATE_BRIDGE, DESTROY_BRIDGE, ADD_CHANNEL,
    REMOVE_CHANNEL, RECORD_BRIDGE, GET_LIVE_RECORDING, STOP_RECORDING, MUTE_RECORDING,
    UNMUTE_RECORDING, DELETE_STORED_RECORDING, GET_PLAYBACK, EXTERNAL_MEDIA,
)  # fmt: skip

QueryValue = str | int | bool | Sequence[str] | None


def _query_value(value: str | int | bool | Sequence[str]) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, str | int):
        return str(value)
    # allowMultiple parameters (media) are comma separated in ARI.
    return ",".join(value)


def _app_args(args: Sequence[str]) -> str:
    # Asterisk splits appArgs on commas, so a comma inside one argument would become two.
    if any("," in arg for arg in args):
        raise ValueError(f"Stasis arguments must not contain commas: {list(args)!r}")
    return ",".join(args)


def _record_query(
    name: str, fmt: str, if_exists: str, beep: bool, max_duration_s: int, terminate_on: str
) -> dict[str, QueryValue]:
    return {
        "name": name, "format": fmt, "ifExists": if_exists, "beep": beep,
        "maxDurationSeconds": max_duration_s, "terminateOn": terminate_on,
    }  # fmt: skip


def _error_message(resp: AriResponse) -> str:
    if isinstance(resp.body, dict):
        # ARI errors are {"message": ...}; a few C paths answer {"error": ...} instead.
        return str(resp.body.get("message") or resp.body.get("error") or resp.body)
    return resp.text[:200] or resp.reason or "(empty answer)"


class AriRest:
    """Async ARI REST client; `async with AriRest(...) as ari:` or call `close()`."""

    def __init__(
        self, base_url: str, user: str, password: str, *, timeout: float = 5.0,
        transport: AriTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self._transport = transport or HttpTransport(base_url, user, password, timeout=timeout)

    async def __aenter__(self) -> AriRest:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self.close()

    async def close(self) -> None:
        await self._transport.close()

    async def _call(
        self,
        route: Route,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, QueryValue] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request; returns the decoded JSON (None for 204) or raises an AriError."""
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        undeclared = (set(params) - route.query_params) | (set(body or {}) - route.body_params)
        if undeclared:
            raise ValueError(f"{route.method} {route.path_template}: undeclared {undeclared}")
        path = route.path(path_params or {})
        try:
            resp = await self._transport.request(route.method, path, params, body)
            if resp.status >= 400:
                message = _error_message(resp)
                raise error_for_status(resp.status, message, method=route.method, path=path)
        except AriError as exc:
            # Debug only: the caller decides whether this is expected (a channel already gone).
            status = {} if exc.status is None else {"status": exc.status}
            log.debug("ari.request.failed", method=route.method, path=path, **status,
                      error=exc.message)  # fmt: skip
            raise
        return None if resp.status == 204 else resp.body

    async def asterisk_info(self) -> dict[str, Any]:
        info: dict[str, Any] = await self._call(ASTERISK_INFO)
        return info

    async def list_applications(self) -> list[dict[str, Any]]:
        apps: list[dict[str, Any]] = await self._call(LIST_APPLICATIONS)
        return apps

    async def answer(self, channel_id: str) -> None:
        await self._call(ANSWER, {"channelId": channel_id})

    async def ring(self, channel_id: str) -> None:
        """Indicate ringing to the caller (only meaningful before answer)."""
        await self._call(RING, {"channelId": channel_id})

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self._call(HANGUP, {"channelId": channel_id}, {"reason": reason})

    async def play(
        self, channel_id: str, media: Sequence[str], playback_id: str, lang: str | None = None
    ) -> None:
        """Queue media (`sound:...`, `tone:...`, ...) under our own id; events carry it."""
        path = {"channelId": channel_id, "playbackId": playback_id}
        await self._call(PLAY, path, {"media": media, "lang": lang})

    async def stop_playback(self, playback_id: str) -> None:
        await self._call(STOP_PLAYBACK, {"playbackId": playback_id})

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        await self._call(START_MOH, {"channelId": channel_id}, {"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        await self._call(STOP_MOH, {"channelId": channel_id})

    async def send_dtmf(
        self,
        channel_id: str,
        dtmf: str,
        *,
        between_ms: int | None = None,
        duration_ms: int | None = None,
    ) -> None:
        query = {"dtmf": dtmf, "between": between_ms, "duration": duration_ms}
        await self._call(SEND_DTMF, {"channelId": channel_id}, query)

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        app: str,
        app_args: Sequence[str],
        caller_id: str | None = None,
        timeout_s: int = 30,
        variables: Mapping[str, str] | None = None,
        originator: str | None = None,
    ) -> ChannelSnapshot:
        """Dial `endpoint`; once answered it enters Stasis `app` with `app_args`.

        `originator` is the channel this leg is dialled for: Asterisk then offers
        the new channel that channel's codecs (and links the two for CDR/CEL).
        Without it a Local channel is offered every codec and settles on slin192,
        so each frame is resampled twice on its way to a ulaw caller.
        """
        query: dict[str, QueryValue] = {
            "endpoint": endpoint, "app": app, "appArgs": _app_args(app_args),
            "callerId": caller_id, "timeout": timeout_s, "channelId": channel_id,
            "originator": originator,
        }  # fmt: skip
        body = {"variables": dict(variables)} if variables else None
        return parse_channel(await self._call(ORIGINATE, None, query, body))

    async def get_channel(self, channel_id: str) -> ChannelSnapshot:
        return parse_channel(await self._call(GET_CHANNEL, {"channelId": channel_id}))

    async def list_channels(self) -> list[ChannelSnapshot]:
        """Every channel in Asterisk, not only ours (filter by Stasis app via the caller)."""
        return [parse_channel(c) for c in await self._call(LIST_CHANNELS)]

    async def get_variable(self, channel_id: str, name: str) -> str:
        result = await self._call(GET_VARIABLE, {"channelId": channel_id}, {"variable": name})
        return str(result.get("value", ""))

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        query = {"variable": name, "value": value}
        await self._call(SET_VARIABLE, {"channelId": channel_id}, query)

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        """Leave Stasis and resume the dialplan (our safe fallback path)."""
        query: dict[str, QueryValue] = {"context": context, "extension": extension,
                                        "priority": priority}  # fmt: skip
        await self._call(CONTINUE, {"channelId": channel_id}, query)

    async def create_snoop(
        self,
        channel_id: str,
        snoop_id: str,
        *,
        app: str,
        app_args: Sequence[str] = (),
        spy: str = "none",
        whisper: str = "none",
    ) -> ChannelSnapshot:
        """A snoop channel (spy: in/out/both) that enters `app`, e.g. to record one leg."""
        query: dict[str, QueryValue] = {
            "spy": spy, "whisper": whisper, "app": app, "appArgs": _app_args(app_args)
        }  # fmt: skip
        path = {"channelId": channel_id, "snoopId": snoop_id}
        return parse_channel(await self._call(SNOOP, path, query))

    async def create_bridge(
        self, bridge_id: str, bridge_type: str = "mixing", name: str | None = None
    ) -> BridgeSnapshot:
        query = {"type": bridge_type, "name": name}
        return parse_bridge(await self._call(CREATE_BRIDGE, {"bridgeId": bridge_id}, query))

    async def add_channels(self, bridge_id: str, channel_ids: Sequence[str]) -> None:
        await self._call(ADD_CHANNEL, {"bridgeId": bridge_id}, {"channel": channel_ids})

    async def remove_channel(self, bridge_id: str, channel_id: str) -> None:
        await self._call(REMOVE_CHANNEL, {"bridgeId": bridge_id}, {"channel": channel_id})

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._call(DESTROY_BRIDGE, {"bridgeId": bridge_id})

    async def list_bridges(self) -> list[BridgeSnapshot]:
        return [parse_bridge(b) for b in await self._call(LIST_BRIDGES)]

    async def record_bridge(
        self,
        bridge_id: str,
        name: str,
        *,
        fmt: str = "wav",
        if_exists: str = "fail",
        beep: bool = False,
        max_duration_s: int = 0,
        terminate_on: str = "none",
    ) -> LiveRecording:
        """Record the bridge mix into Asterisk's recording spool as `<name>.<fmt>`.

        `if_exists` is fail|overwrite|append, `terminate_on` none|any|*|#.
        """
        query = _record_query(name, fmt, if_exists, beep, max_duration_s, terminate_on)
        path = {"bridgeId": bridge_id}
        return parse_live_recording(await self._call(RECORD_BRIDGE, path, query))

    async def record_channel(
        self,
        channel_id: str,
        name: str,
        *,
        fmt: str = "wav",
        if_exists: str = "fail",
        beep: bool = False,
        max_duration_s: int = 0,
        terminate_on: str = "none",
    ) -> LiveRecording:
        """Record what the channel reads (for a snoop: what it spies on); options as for
        `record_bridge`."""
        query = _record_query(name, fmt, if_exists, beep, max_duration_s, terminate_on)
        path = {"channelId": channel_id}
        return parse_live_recording(await self._call(RECORD_CHANNEL, path, query))


    async def get_live_recording(self, name: str) -> LiveRecording:
        path = {"recordingName": name}
        return parse_live_recording(await self._call(GET_LIVE_RECORDING, path))

    async def stop_recording(self, name: str) -> None:
        await self._call(STOP_RECORDING, {"recordingName": name})

    async def mute_recording(self, name: str) -> None:
        """Write silence instead of the audio until unmuted; the file keeps its timeline.
        Not idempotent in Asterisk 22: a second mute toggles it back to unmuted
        (res/stasis_recording.c keeps the flag in `int muted:1`); an unmute is."""
        await self._call(MUTE_RECORDING, {"recordingName": name})

    async def unmute_recording(self, name: str) -> None:
        await self._call(UNMUTE_RECORDING, {"recordingName": name})

    async def delete_stored_recording(self, name: str) -> None:
        await self._call(DELETE_STORED_RECORDING, {"recordingName": name})
