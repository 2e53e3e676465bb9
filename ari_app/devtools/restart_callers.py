"""The restart drill's callers: real calls through Asterisk that outlive the service.

Each caller is `Local/hotline@sim-callers` originated into the drill's OWN Stasis app (as the
caller simulator does), so the caller's end of the line stays up whatever happens to the
service. What the caller hears is recorded for the whole call by a snoop channel (spy=in) on
the caller's leg; a snoop keeps wall-clock time, so dead air is written as silence. The
journey comes from the service's `/v1/events` WebSocket, reconnected to each new instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError, AriNotFound
from ari_app.ari.events import (
    AriEvent,
    ChannelDestroyed,
    Connected,
    RecordingFailed,
    RecordingFinished,
    RecordingStarted,
    StasisEnd,
    StasisStart,
)
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream
from ari_app.ari.transport import HttpTransport
from ari_app.channel_vars import (
    APP_NAME_VAR,
    CORRELATION_ID_VAR,
    ROLE_SIM_CALLER,
    SIM_CALLERS_CONTEXT,
)
from ari_app.devtools.restart_service import DRILL_TOKEN, AriAccess

log = structlog.get_logger(__name__)

Line = dict[str, object]
SNOOP_ROLE = "snoop"
FEED_RETRY_S = 0.05


@dataclass(frozen=True, slots=True)
class Seen:
    """A journey line and when the drill received it (time.monotonic())."""

    line: Line
    at: float

    @property
    def type(self) -> str:
        return str(self.line.get("type"))

    def matches(self, kind: str, node: str | None = None) -> bool:
        return self.type == kind and (node is None or self.line.get("node") == node)


class Journey:
    """One caller's journey lines; a cursor for scripted waits, the whole list for looks."""

    def __init__(self) -> None:
        self.lines: list[Seen] = []
        self._changed = asyncio.Condition()
        self._cursor = 0
        self._closed = False

    async def add(self, seen: Seen) -> None:
        self.lines.append(seen)
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        """No more lines matter (the caller's leg ended): wake every waiter."""
        self._closed = True
        async with self._changed:
            self._changed.notify_all()

    def skip_before(self, moment: float) -> None:
        """Scripted waits from now on see only lines received at or after `moment`."""
        self._cursor = next((i for i, s in enumerate(self.lines) if s.at >= moment),
                            len(self.lines))

    async def next(self) -> Seen | None:
        """The next line after the cursor; None once closed and nothing new is left."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._cursor < len(self.lines) or self._closed)
        if self._cursor < len(self.lines):
            self._cursor += 1
            return self.lines[self._cursor - 1]
        return None

    async def wait_for(self, match: Callable[[Seen], bool]) -> Seen | None:
        """The next matching line after the cursor (None if the journey closed first)."""
        while (seen := await self.next()) is not None:
            if match(seen):
                return seen
        return None

    async def wait_seen(self, match: Callable[[Seen], bool]) -> Seen | None:
        """Any matching line, earlier ones included (the cursor does not move)."""
        def found() -> Seen | None:
            return next((s for s in self.lines if match(s)), None)

        async with self._changed:
            await self._changed.wait_for(lambda: found() is not None or self._closed)
        return found()

    def seen(self, kind: str, node: str | None = None, *, before: float | None = None,
             since: float | None = None) -> bool:
        return any(s.matches(kind, node) and (before is None or s.at < before)
                   and (since is None or s.at >= since) for s in self.lines)

    def before(self, moment: float) -> list[Seen]:
        return [s for s in self.lines if s.at < moment]


@dataclass
class DrillCaller:
    """One caller: its leg, its snoop recording, its journey and what happened to it."""

    index: int
    group: str  # the phase the drill means it to be in at the disruption
    ari: AriRest
    raw: HttpTransport
    app: str
    correlation: str = field(default_factory=lambda: uuid.uuid4().hex)
    journey: Journey = field(default_factory=Journey)
    call_ids: set[str] = field(default_factory=set)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    recording_done: asyncio.Event = field(default_factory=asyncio.Event)
    recording_started_at: float | None = None
    recording_error: str | None = None
    hung_up_by_caller: bool = False  # the caller's script chose to hang up
    stranded: bool = False  # the drill had to end the call: the caller was never served
    ended_at: float | None = None
    in_place: asyncio.Event = field(default_factory=asyncio.Event)  # ready for the disruption
    _steps: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def channel_id(self) -> str:
        return f"drill-{self.correlation[:20]}"

    @property
    def snoop_id(self) -> str:
        return f"{self.channel_id}-snoop"

    @property
    def recording_name(self) -> str:
        return f"{self.channel_id}-heard"

    async def dial(self, hotline_app: str) -> None:
        await self.ari.originate(
            f"Local/hotline@{SIM_CALLERS_CONTEXT}", channel_id=self.channel_id, app=self.app,
            app_args=[ROLE_SIM_CALLER], caller_id=f"Drill caller <+1555020{self.index:04d}>",
            variables={f"__{CORRELATION_ID_VAR}": self.correlation, APP_NAME_VAR: hotline_app})

    async def start_listening(self) -> None:
        """Snoop on what the caller hears; recording starts on the snoop's StasisStart."""
        try:
            await self.ari.create_snoop(self.channel_id, self.snoop_id, app=self.app,
                                        app_args=[SNOOP_ROLE], spy="in")
        except AriError as exc:
            self._listening_failed(f"snoop: {exc}")

    async def record_snoop(self) -> None:
        # AriRest has no channel recording (the service records bridges only): send it raw.
        response = await self.raw.request(
            "POST", f"/channels/{self.snoop_id}/record",
            {"name": self.recording_name, "format": "wav", "ifExists": "overwrite"}, None)
        if response.status >= 400:
            self._listening_failed(f"record: {response.status} {response.text[:120]}")

    def _listening_failed(self, why: str) -> None:
        self.recording_error = why
        self.recording_done.set()

    async def press(self, digits: str) -> None:
        if not self.ended.is_set():
            with contextlib.suppress(AriNotFound):
                await self.ari.send_dtmf(self.channel_id, digits, between_ms=150,
                                         duration_ms=100)

    async def hang_up(self) -> None:
        await gone_ok(self.ari.hangup(self.channel_id), "drill caller")

    async def leg_gone(self) -> None:
        if not self.ended.is_set():
            self.ended_at = time.monotonic()
            self.ended.set()
        await self.journey.close()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a step beside the event reader; a failure is logged, never lost."""
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("drill.step_failed", caller=self.index)

        task = asyncio.create_task(guarded())
        self._steps.add(task)
        task.add_done_callback(self._steps.discard)

    def deliver(self, event: AriEvent) -> None:
        """An event of the drill's app about this caller's leg, snoop or recording."""
        if isinstance(event, StasisStart) and event.channel.id == self.channel_id:
            self.answered.set()
            self._spawn(self.start_listening())
        elif isinstance(event, StasisStart) and event.channel.id == self.snoop_id:
            self._spawn(self.record_snoop())
        elif isinstance(event, RecordingStarted):
            self.recording_started_at = time.monotonic()
        elif isinstance(event, RecordingFinished):
            self.recording_done.set()
        elif isinstance(event, RecordingFailed):
            self._listening_failed(f"recording failed: {event.cause}")
        elif (isinstance(event, StasisEnd | ChannelDestroyed)
              and event.channel.id == self.channel_id):
            self._spawn(self.leg_gone())


class CallerBoard:
    """Every caller of the drill, found by leg, snoop, recording, correlation or call id."""

    def __init__(self) -> None:
        self.callers: list[DrillCaller] = []
        self._by_subject: dict[str, DrillCaller] = {}
        self._by_correlation: dict[str, DrillCaller] = {}
        self._by_call: dict[str, DrillCaller] = {}

    def add(self, caller: DrillCaller) -> None:
        self.callers.append(caller)
        for subject in (caller.channel_id, caller.snoop_id, caller.recording_name):
            self._by_subject[subject] = caller
        self._by_correlation[caller.correlation] = caller

    def on_ari(self, event: AriEvent) -> None:
        for subject in event.subject_ids:
            if (caller := self._by_subject.get(subject)) is not None:
                caller.deliver(event)
                return

    async def on_line(self, seen: Seen) -> None:
        caller = self._caller_of(seen.line)
        if caller is not None:
            await caller.journey.add(seen)

    def _caller_of(self, line: Line) -> DrillCaller | None:
        call_id = str(line.get("call_id"))
        if line.get("type") == "call_start":
            caller = self._by_correlation.get(str(line.get("correlation_id")))
            if caller is not None:
                caller.call_ids.add(call_id)
                self._by_call[call_id] = caller
        return self._by_call.get(call_id)


async def follow_drill_app(access: AriAccess, app: str, board: CallerBoard,
                           connected: asyncio.Event) -> None:
    """The drill's own Stasis app: legs answered, snoops, recordings, hangups (for ever)."""
    stream = AriEventStream(access.url.replace("http", "ws", 1), access.user, access.password,
                            [app])
    async with contextlib.aclosing(stream.events()) as events:
        async for item in events:
            if isinstance(item, Connected):
                connected.set()
            else:
                board.on_ari(item)


class JourneyFeed:
    """`/v1/events` of whichever service instance is up: every line, reconnecting at once."""

    def __init__(self, service_url: str, board: CallerBoard) -> None:
        self._url = f"{service_url}/v1/events"
        self._board = board
        self.connected = asyncio.Event()
        self.connections = 0
        self.last_error = "not tried yet"

    async def run(self) -> None:
        async with aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {DRILL_TOKEN}"}) as http:
            while True:
                try:
                    async with http.ws_connect(self._url, heartbeat=5) as ws:
                        self.connections += 1
                        self.connected.set()
                        await self._read(ws)
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    self.last_error = str(exc) or type(exc).__name__
                self.connected.clear()
                await asyncio.sleep(FEED_RETRY_S)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                await self._board.on_line(Seen(message.json(), time.monotonic()))
