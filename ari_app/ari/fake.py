"""FakeAsterisk: an in-memory Asterisk behind the AriTransport port, for the engine's tests.

``AriRest(..., transport=fake)`` (or ``fake.rest()``) talks to it like to Asterisk: every Route
in `ari_app.ari.rest.ROUTES` has a handler, answering the statuses and messages Asterisk
answers. It sends the events Asterisk would send, built as ARI JSON and parsed with
`parse_event`, to `on_event`, to `subscribe()` queues and to `wait_for`. Events leave after
the request's answer (`loop.call_soon`), as they arrive over Asterisk's websocket; timings
(`playback_s`, agents) run on the loop clock. Tests script callers (`call_in`, `press`,
`hang_up`), agents (`agent_behaviour`) and failures (`fail_next`), then assert on state:
`channels`, `gone`, `bridges`, `playbacks`, `recordings`, `requests`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from ari_app.ari import fake_audio, fake_calls, fake_media
from ari_app.ari.errors import AriUnavailable
from ari_app.ari.events import AriEvent, parse_event
from ari_app.ari.fake_state import (
    CAUSE_TEXTS,
    AgentBehaviour,
    Failure,
    FakeBridge,
    FakeChannel,
    FakePlayback,
    FakeRecording,
    FakeRequest,
    Reject,
    Req,
    timestamp,
)
from ari_app.ari.rest import ROUTES, AriRest, Route
from ari_app.ari.transport import AriResponse
from ari_app.channel_vars import ROLE_INBOUND

E = TypeVar("E")
Handler = Callable[["FakeAsterisk", Req], Any]

_PATTERNS = [
    (route, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path_template) + "$"))
    for route in ROUTES
]


class FakeAsterisk:
    """One Asterisk with Stasis app `app` (originate may name others); see the module doc."""

    def __init__(self, *, app: str = "hotline", spool_dir: Path | None = None,
                 playback_s: float = 0.01, version: str = "22.10.1") -> None:
        self.app = app
        self.spool_dir = spool_dir  # bridge/channel recordings are written here, if given
        self.playback_s = playback_s  # how long each media of a playback lasts...
        self.media_durations: dict[str, float] = {}  # ...unless listed here
        self.missing_media: set[str] = set()  # these end in PlaybackFinished "failed"
        self.version = version
        self.channels: dict[str, FakeChannel] = {}
        self.gone: dict[str, FakeChannel] = {}  # destroyed channels, with their `cause`
        self.bridges: dict[str, FakeBridge] = {}
        self.playbacks: dict[str, FakePlayback] = {}  # every playback, finished ones too
        self.recordings: dict[str, FakeRecording] = {}  # every recording by name
        self.stored: set[str] = set()  # names of finished recordings
        self.requests: list[FakeRequest] = []
        self.events: list[AriEvent] = []  # every event delivered, in order
        self.sent_json: list[dict[str, Any]] = []  # the same events as ARI JSON
        self.on_event: Callable[[AriEvent], None] | None = None
        self.agents: dict[str, AgentBehaviour] = {}
        self._queues: list[asyncio.Queue[AriEvent]] = []
        self._waiters: list[tuple[Callable[[AriEvent], bool], asyncio.Future[AriEvent]]] = []
        self._failures: list[Failure] = []
        self._timers: dict[str, list[asyncio.TimerHandle]] = {}
        self._seq = itertools.count(1)

    # --- the AriTransport port ---------------------------------------------------------------

    async def request(
        self, method: str, path: str, params: Mapping[str, str], json: Mapping[str, Any] | None
    ) -> AriResponse:
        await asyncio.sleep(0)  # a real request always yields to the loop
        status, body = self._answer(method, path, params, json)
        self.requests.append(FakeRequest(method, path, dict(params), json, status))
        if status is None:
            raise AriUnavailable(body["message"], status=None, method=method, path=path)
        return _response(status, body)

    async def close(self) -> None:
        """AriRest.close(): nothing to release; the fake lives on (see `shutdown`)."""

    def rest(self) -> AriRest:
        return AriRest("http://fake-asterisk/ari", "fake", "fake", transport=self)

    def shutdown(self) -> None:
        """Cancel every pending timer (agents answering, playbacks ending): end of a test."""
        for owner in list(self._timers):
            self.cancel_timers(owner)

    def _answer(self, method: str, path: str, params: Mapping[str, str],
                body: Mapping[str, Any] | None) -> tuple[int | None, Any]:
        failure = self._take_failure(method, path)
        if failure is not None:
            return failure.status, {"message": failure.message}
        for route, pattern in _PATTERNS:
            match = pattern.match(path)
            if route.method == method and match:
                ids = {k: unquote(v) for k, v in match.groupdict().items()}
                try:
                    result = ROUTE_HANDLERS[route](self, Req(ids, params, body or {}))
                except Reject as rejected:
                    return rejected.status, {"message": rejected.message}
                return (204, None) if result is None else (_status(route), result)
        return 404, {"message": "Resource not found"}

    # --- scripting callers, agents and failures ------------------------------------------------

    def call_in(self, caller_number: str = "+15550100", *, caller_name: str = "",
                args: Sequence[str] = (ROLE_INBOUND,), channelvars: Mapping[str, str] | None = None,
                channel_id: str | None = None) -> str:
        """A caller dialled in and the dialplan ran Stasis(app, args): StasisStart, state Ring."""
        channel_id = channel_id or self.new_id()
        name = f"PJSIP/sipp-{next(self._seq):08x}"
        channel = self.add_channel(FakeChannel(
            channel_id, name, self.app, "Ring", caller_number, caller_name,
            dict(channelvars or {}), args=tuple(args), subscribed=True))  # fmt: skip
        self.enter_stasis(channel)
        return channel_id

    def press(self, channel_id: str, digits: str, *, duration_ms: int = 100) -> None:
        """The caller presses keys: one ChannelDtmfReceived per digit."""
        channel = self._live(channel_id)
        for digit in digits:
            self.emit_channel("ChannelDtmfReceived", channel, digit=digit, duration_ms=duration_ms)

    def hang_up(self, channel_id: str, cause: int = 16) -> None:
        """The far end hangs up (a caller, or an agent's phone)."""
        self.destroy(self._live(channel_id), cause, {"cause": cause})

    def agent_behaviour(self, endpoint: str, *, answer_after_s: float | None = 0.0,
                        busy: bool = False, reject_cause: int | None = None,
                        talk_s: float | None = None) -> None:
        """How `endpoint` acts when originated: answers after `answer_after_s` (None: never),
        is busy (cause 17) or rejects with `reject_cause`, and hangs up `talk_s` after
        answering. Endpoints never scripted answer at once."""
        cause = 17 if busy else reject_cause
        self.agents[endpoint] = AgentBehaviour(answer_after_s, cause, talk_s)

    def agent_answers(self, channel_id: str) -> None:
        """A ringing originated leg answers now (whatever its script said)."""
        fake_calls.answer_leg(self, self._live(channel_id))

    def fail_next(self, method: str, path_glob: str, *, status: int | None = 500,
                  times: int = 1, message: str | None = None) -> None:
        """The next `times` requests matching `method` ("*": any) and the fnmatch `path_glob`
        (e.g. "/channels/*/play/*") fail with `status`; None: no answer (AriUnavailable)."""
        text = message or ("injected: no answer" if status is None else f"injected {status}")
        self._failures.append(Failure(method, path_glob, status, text, times))

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.method in ("*", method) and fnmatchcase(path, failure.path_glob):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    # --- receiving events ----------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[AriEvent]:
        """A queue receiving every event delivered from now on."""
        queue: asyncio.Queue[AriEvent] = asyncio.Queue()
        self._queues.append(queue)
        return queue

    async def wait_for(self, kind: type[E], where: Callable[[E], bool] = lambda _: True, *,
                       give_up_s: float = 2.0) -> E:
        """The first delivered event of `kind` matching `where`, past or future; TimeoutError
        after `give_up_s` (a broken test, not a slow machine: events come in milliseconds)."""
        def matches(event: AriEvent) -> bool:
            return isinstance(event, kind) and where(event)

        for event in self.events:
            if matches(event):
                return cast(E, event)
        future: asyncio.Future[AriEvent] = asyncio.get_running_loop().create_future()
        entry = (matches, future)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(give_up_s):
                return cast(E, await future)
        finally:
            self._waiters.remove(entry)

    def requested(self, method: str, path_glob: str = "*") -> list[FakeRequest]:
        return [r for r in self.requests
                if r.method == method and fnmatchcase(r.path, path_glob)]  # fmt: skip

    def hearers(self, channel_id: str, *, snoops: bool = False) -> set[str]:
        """Who hears what the channel says now, through bridges, snoops and whispers; with
        `snoops`, also the snoops spying it (`fake_audio`)."""
        return fake_audio.hearers(self, channel_id, snoops=snoops)

    def heard(self, channel_id: str) -> list[str]:
        """What the channel was played, in order: media URIs and "moh:<class>"."""
        channel = self.channels.get(channel_id) or self.gone.get(channel_id)
        return list(channel.heard) if channel else []

    # --- the simulation, shared by fake_calls and fake_media -------------------------------------

    def new_id(self) -> str:
        return f"{int(time.time())}.{next(self._seq)}"

    def add_channel(self, channel: FakeChannel) -> FakeChannel:
        self.channels[channel.id] = channel
        return channel

    def _live(self, channel_id: str) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise LookupError(f"no live channel {channel_id!r} in the fake Asterisk")
        return channel

    def channel(self, channel_id: str) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise Reject(404, "Channel not found")
        return channel

    def stasis_channel(self, channel_id: str) -> FakeChannel:
        channel = self.channel(channel_id)
        if not channel.in_stasis:
            raise Reject(409, "Channel not in Stasis application")
        return channel

    def bridge(self, bridge_id: str) -> FakeBridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise Reject(404, "Bridge not found")
        return bridge

    def set_state(self, channel: FakeChannel, state: str) -> None:
        if channel.state != state:
            channel.state = state
            self.emit_channel("ChannelStateChange", channel)

    def enter_stasis(self, channel: FakeChannel) -> None:
        channel.in_stasis = channel.subscribed = True
        self.emit_channel("StasisStart", channel, args=list(channel.args))

    def destroy(self, channel: FakeChannel, cause: int,
                hangup_request: Mapping[str, Any] | None) -> None:
        """Hang the channel up: the events Asterisk sends, in its order."""
        if self.channels.pop(channel.id, None) is None:
            return
        if hangup_request is not None:
            self.emit_channel("ChannelHangupRequest", channel, **hangup_request)
        self.cancel_timers(channel.id)
        fake_media.channel_gone(self, channel)
        fake_calls.leave_bridge(self, channel)
        for snoop in [c for c in self.channels.values() if c.snooping_on == channel.id]:
            self.destroy(snoop, 16, None)
        if channel.in_stasis:
            self.emit_channel("StasisEnd", channel)
            channel.in_stasis = False
        channel.cause = cause
        self.emit_channel("ChannelDestroyed", channel, cause=cause,
                          cause_txt=CAUSE_TEXTS.get(cause, "Unknown"))  # fmt: skip
        self.gone[channel.id] = channel

    def emit_channel(self, event_type: str, channel: FakeChannel, **fields: Any) -> None:
        if channel.subscribed:
            self.emit(event_type, channel.app, channel=channel.to_json(), **fields)

    def emit(self, event_type: str, app: str | None = None, **fields: Any) -> None:
        """Build the event's JSON now (the snapshot of this moment), deliver it soon."""
        data = {"type": event_type, "application": app or self.app,
                "timestamp": timestamp(), **fields}  # fmt: skip
        event = parse_event(data)
        self.sent_json.append(data)
        asyncio.get_running_loop().call_soon(self._deliver, event)

    def _deliver(self, event: AriEvent) -> None:
        self.events.append(event)
        for queue in self._queues:
            queue.put_nowait(event)
        for matches, future in list(self._waiters):
            if not future.done() and matches(event):
                future.set_result(event)
        if self.on_event is not None:
            self.on_event(event)

    def later(self, owner: str, delay_s: float, callback: Callable[..., None],
              *args: Any) -> None:
        handle = asyncio.get_running_loop().call_later(delay_s, callback, *args)
        self._timers.setdefault(owner, []).append(handle)

    def cancel_timers(self, owner: str) -> None:
        for handle in self._timers.pop(owner, []):
            handle.cancel()

    def now(self) -> float:
        return asyncio.get_running_loop().time()


def _status(route: Route) -> int:
    # Asterisk answers 201 Created for a new playback or recording, 200 otherwise.
    return 201 if route in fake_media.CREATED else 200


def _response(status: int, body: Any) -> AriResponse:
    return AriResponse(status, body, "" if body is None else json.dumps(body))


ROUTE_HANDLERS: dict[Route, Handler] = {
    **fake_calls.HANDLERS,
    **fake_media.HANDLERS,
}
