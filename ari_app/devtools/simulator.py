"""The caller simulator: a real call into the hotline through the development Asterisk.

It originates ``Local/hotline@sim-callers`` into its own Stasis app, so it holds the caller's
end of the line: it presses keys and hangs up through ARI, and follows the call's journey on
the service's ``/v1/events`` WebSocket (matched by a correlation id channel variable).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.events import ChannelDestroyed, Connected, StasisEnd, StasisStart
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream
from ari_app.channel_vars import (
    APP_NAME_VAR,
    CORRELATION_ID_VAR,
    ROLE_SIM_CALLER,
    SIM_CALLERS_CONTEXT,
)
from ari_app.devtools.simulator_script import Action
from ari_app.devtools.simulator_speech import SpeechPlaybackError, say, sim_renderer
from ivr.tts import PromptRenderer

Line = dict[str, object]


class SimulationError(Exception):
    """The scripted call could not be completed; the message says where it stopped."""


@dataclass(frozen=True)
class Endpoints:
    ari_url: str
    ari_user: str
    ari_password: str
    service_url: str  # e.g. http://127.0.0.1:8080
    hotline_app: str = "hotline"  # the service's Stasis app; the dialplan reads HOTLINE_APP
    token: str | None = None  # a bearer token that may read every call's journey stream


class _Journey:
    def __init__(self, on_line: Callable[[Line], None]) -> None:
        self.lines: list[Line] = []
        self._on_line = on_line
        self._changed = asyncio.Condition()
        self._cursor = 0

    async def add(self, line: Line) -> None:
        self.lines.append(line)
        self._on_line(line)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, action: Action, limit_s: float) -> Line:
        """The next journey line (after the last one waited for) that `action` matches."""
        matched: list[Line] = []

        def found() -> bool:
            for index in range(self._cursor, len(self.lines)):
                if action.matches(self.lines[index]):
                    self._cursor = index + 1
                    matched.append(self.lines[index])
                    return True
            return False

        try:
            async with asyncio.timeout(limit_s), self._changed:
                await self._changed.wait_for(found)
            return matched[0]
        except TimeoutError:
            seen = ", ".join(str(line.get("type")) for line in self.lines) or "nothing"
            raise SimulationError(f"timed out after {limit_s:.0f} s waiting for "
                                  f"{action.arg}; the journey so far: {seen}") from None


async def place_call(endpoints: Endpoints, script: list[Action], *,
                     caller_number: str = "+15550100", timeout_s: float = 90.0,
                     on_line: Callable[[Line], None] = lambda line: None) -> list[Line]:
    correlation = uuid.uuid4().hex
    journey = _Journey(on_line)
    app = f"hotline-sim-{correlation[:12]}"
    async with aiohttp.ClientSession() as http, AriRest(
            endpoints.ari_url, endpoints.ari_user, endpoints.ari_password) as ari:
        ws = await _connect_journey(http, endpoints.service_url, correlation, endpoints.token)
        reader = asyncio.create_task(_read_journey(ws, journey))
        caller = _CallerLeg(ari, endpoints, app)
        try:
            await caller.dial(correlation, caller_number)
            for action in script:
                await _perform(action, caller, journey, timeout_s)
            await journey.wait_for(Action("wait_for", "hangup"), timeout_s)
        finally:
            await caller.close()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await ws.close()
    return journey.lines


async def _perform(action: Action, caller: _CallerLeg, journey: _Journey,
                   limit_s: float) -> None:
    if action.verb in ("wait", "silence"):
        await asyncio.sleep(action.seconds)
    elif action.verb == "press":
        await caller.press(action.arg)
    elif action.verb == "say":
        await caller.say(action.text)
    elif action.verb == "wait_for":
        await journey.wait_for(action, limit_s)
    elif action.verb == "confirm":
        # The service decides by its confidence whether to ask "You want X, right?": answer
        # only when it does (the intent line says `action: confirm`), once the question plays.
        intent = await journey.wait_for(Action("wait_for", "intent"), limit_s)
        if intent.get("action") == "confirm":
            node = intent.get("node")
            await journey.wait_for(Action("wait_for", f"prompt@{node}" if node else "prompt"),
                                   limit_s)
            await caller.say(action.text)
    elif action.verb == "hangup":
        await caller.hang_up()


async def _connect_journey(http: aiohttp.ClientSession, service_url: str, correlation: str,
                           token: str | None) -> aiohttp.ClientWebSocketResponse:
    url = f"{service_url.rstrip('/')}/v1/events"
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        return await http.ws_connect(url, params={"correlation_id": correlation}, heartbeat=20,
                                     headers=headers)
    except aiohttp.ClientError as exc:
        raise SimulationError(f"cannot reach the hotline service at {url}: {exc}") from None


async def _read_journey(ws: aiohttp.ClientWebSocketResponse, journey: _Journey) -> None:
    async for message in ws:
        if message.type is aiohttp.WSMsgType.TEXT:
            await journey.add(message.json())


class _CallerLeg:
    """The caller's half of the Local channel, in the simulator's own Stasis app."""

    def __init__(self, ari: AriRest, endpoints: Endpoints, app: str) -> None:
        self._ari = ari
        self._app = app
        self._target_app = endpoints.hotline_app
        self._stream = AriEventStream(endpoints.ari_url.replace("http", "ws", 1),
                                      endpoints.ari_user, endpoints.ari_password, [app])
        self.channel_id = f"sim-{uuid.uuid4().hex}"
        self.answered = asyncio.Event()
        self.ended = asyncio.Event()
        self._events: asyncio.Task[None] | None = None
        self._voice: tuple[PromptRenderer, str] | None = None

    async def dial(self, correlation: str, caller_number: str) -> None:
        connected = asyncio.Event()
        self._events = asyncio.create_task(self._follow(connected))
        async with asyncio.timeout(10):
            await connected.wait()
        await self._ari.originate(
            f"Local/hotline@{SIM_CALLERS_CONTEXT}", channel_id=self.channel_id, app=self._app,
            app_args=[ROLE_SIM_CALLER], caller_id=f"Simulated caller <{caller_number}>",
            # HOTLINE_APP on the channel shadows the dialplan's global, so a test can run its
            # own service under its own app name beside others.
            variables={f"__{CORRELATION_ID_VAR}": correlation, APP_NAME_VAR: self._target_app},
        )

    async def _follow(self, connected: asyncio.Event) -> None:
        async for item in self._stream.events():
            if isinstance(item, Connected):
                connected.set()
            elif isinstance(item, StasisStart) and item.channel.id == self.channel_id:
                self.answered.set()
            elif (isinstance(item, StasisEnd | ChannelDestroyed)
                  and item.channel.id == self.channel_id):
                self.ended.set()

    async def press(self, digits: str) -> None:
        async with asyncio.timeout(30):
            await self.answered.wait()
        if not self.ended.is_set():
            await self._ari.send_dtmf(self.channel_id, digits, between_ms=150, duration_ms=100)

    async def say(self, text: str) -> None:
        async with asyncio.timeout(30):
            await self.answered.wait()
        if self._voice is None:
            self._voice = sim_renderer()
        renderer, asterisk_dir = self._voice
        try:
            await say(self._ari, self.channel_id, text, renderer, asterisk_dir)
        except SpeechPlaybackError as exc:
            raise SimulationError(f"could not say {text!r}: {exc}") from None

    async def hang_up(self) -> None:
        await gone_ok(self._ari.hangup(self.channel_id), "simulated caller")

    async def close(self) -> None:
        if not self.ended.is_set():
            await self.hang_up()
        if self._events is not None:
            self._events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._events
