"""In-process stand-ins for Asterisk's AMI and HTTP servers, for the adapter unit tests.

`FakeAmi` speaks the AMI text protocol on a TCP port of 127.0.0.1; `FakeAsteriskHttp` is an
aiohttp server with the ARI events websocket and `/ari/asterisk/info`, to which a test can add
its own routes. Both are driven by the test: they send what it tells them to, when it does.
`FakeEvents` stands in for a call's event waiter (`expect`) and its id routing (`bind`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ari_app.ari.events import AriEvent, parse_event

ASTERISK_INFO: dict[str, Any] = {"system": {"version": "22.10.1", "entity_id": "02:fc"}}


async def eventually(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Return once `condition()` holds (checked every few ms); fail after `within_s` s.

    For conditions on things that signal nobody (captured log lines, a fake server's request
    list); the wait ends as soon as the condition holds, whatever the machine's speed.
    """
    async with asyncio.timeout(within_s):
        while not condition():  # noqa: ASYNC110  (nothing to wait on but the condition itself)
            await asyncio.sleep(0.005)


def log_lines(logs: Sequence[MutableMapping[str, Any]],
              event: str) -> list[MutableMapping[str, Any]]:
    """The lines of structlog's `capture_logs` with that event name."""
    return [line for line in logs if line["event"] == event]


def channel_json(channel_id: str, *, channelvars: Mapping[str, str] | None = None,
                 caller: str = "5551234") -> dict[str, Any]:
    """A channel as ARI sends it (only the fields of events.json the service reads, and a few)."""
    return {"id": channel_id, "name": f"PJSIP/{channel_id}", "state": "Up",
            "caller": {"name": "", "number": caller}, "connected": {"name": "", "number": ""},
            "language": "en", "channelvars": dict(channelvars or {})}  # fmt: skip


def ari_event(event_type: str, app: str = "hotline", **fields: Any) -> dict[str, Any]:
    return {"type": event_type, "application": app,
            "timestamp": "2026-11-22T08:06:58.110+0000", **fields}  # fmt: skip


class FakeEvents:
    """An event waiter (`expect`) a test delivers ARI events to; keeps every bound id."""

    def __init__(self) -> None:
        self._waiters: list[tuple[Callable[[AriEvent], bool], asyncio.Future[AriEvent]]] = []
        self.bound: set[str] = set()
        self.ever_bound: list[str] = []

    def expect(self, predicate: Callable[[AriEvent], bool]) -> asyncio.Future[AriEvent]:
        future: asyncio.Future[AriEvent] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future

    def deliver(self, event: AriEvent) -> None:
        for predicate, future in self._waiters:
            if not future.done() and predicate(event):
                future.set_result(event)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    def deliver_json(self, data: Mapping[str, Any]) -> None:
        self.deliver(parse_event(data))

    def bind(self, subject_id: str) -> None:
        self.bound.add(subject_id)
        self.ever_bound.append(subject_id)

    def unbind(self, subject_id: str) -> None:
        self.bound.discard(subject_id)


# --- AMI ----------------------------------------------------------------------------------


def _ami_block(**headers: str) -> bytes:
    lines = [f"{key}: {value}" for key, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class FakeAmi:
    """A tiny Asterisk Manager Interface: banner, Login, Filter, DeviceStateList, Getvar, Ping.

    `states` is what DeviceStateList and Getvar report; `push` changes one and sends the
    DeviceStateChange event to every client. Actions named in `silent` are never answered,
    those in `refused` get `Response: Error`. A wrong secret is refused and the socket closed,
    as Asterisk does.
    """

    def __init__(self, *, secret: str = "s3cret", states: Mapping[str, str] | None = None) -> None:
        self.secret = secret
        self.states: dict[str, str] = dict(states or {})
        self.silent: set[str] = set()
        self.refused: set[str] = set()
        self.received: list[dict[str, str]] = []
        self.connections = 0
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> FakeAmi:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        self.drop_all()
        await self._server.wait_closed()

    @property
    def clients(self) -> int:
        return len(self._writers)

    def actions(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.received if a.get("Action", "").lower() == name.lower()]

    def push(self, device: str, state: str) -> None:
        self.states[device] = state
        block = _ami_block(Event="DeviceStateChange", Privilege="call,all", Device=device,
                           State=state)  # fmt: skip
        for writer in list(self._writers):
            writer.write(block)

    def drop_all(self) -> None:
        """Close every client connection, as a restarting Asterisk would."""
        for writer in list(self._writers):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while not writer.is_closing():
                block = await reader.readuntil(b"\r\n\r\n")
                action = dict(line.split(": ", 1) for line in block.decode().split("\r\n")
                              if ": " in line)  # fmt: skip
                self.received.append(action)
                self._answer(action, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name = action.get("Action", "").lower()
        reply: dict[str, str] = {"ActionID": action.get("ActionID", "")}
        if name in self.silent:
            return
        if name in self.refused:
            writer.write(_ami_block(Response="Error", Message="Permission denied", **reply))
        elif name == "login":
            if action.get("Secret") != self.secret:
                writer.write(_ami_block(Response="Error", Message="Authentication failed",
                                        **reply))  # fmt: skip
                writer.close()
                return
            writer.write(_ami_block(Response="Success", Message="Authentication accepted",
                                    **reply))  # fmt: skip
        elif name == "devicestatelist":
            writer.write(_ami_block(Response="Success", EventList="start",
                                    Message="Device State Changes will follow", **reply))
            for device, state in self.states.items():
                writer.write(_ami_block(Event="DeviceStateChange", Device=device, State=state,
                                        **reply))  # fmt: skip
            writer.write(_ami_block(Event="DeviceStateListComplete", EventList="Complete",
                                    ListItems=str(len(self.states)), **reply))  # fmt: skip
        elif name == "getvar":
            device = action.get("Variable", "").removeprefix("DEVICE_STATE(").removesuffix(")")
            writer.write(_ami_block(Response="Success", Variable=action.get("Variable", ""),
                                    Value=self.states.get(device, "UNKNOWN"), **reply))
        elif name in ("filter", "ping"):
            writer.write(_ami_block(Response="Success", **reply))
        else:
            writer.write(_ami_block(Response="Error", Message="Invalid/unknown command",
                                    **reply))  # fmt: skip


# --- Asterisk's HTTP server: ARI and the media websocket ------------------------------------


@dataclass
class Handshake:
    query: dict[str, str]
    authorization: str | None


@dataclass
class FakeAsteriskHttp:
    """Asterisk's HTTP server as far as a test needs it, on 127.0.0.1.

    `/ari/events`: each accepted websocket is put on `sockets` for the test to send on;
    `refuse_events_with` answers the handshake with that status instead. `/ari/asterisk/info`
    answers `info_answers` in turn (status, JSON), then 200 with ASTERISK_INFO. `routes` adds
    a test's own handlers. `stop` and `start` again keep the port (an Asterisk restart).
    """

    routes: Callable[[web.Application], None] | None = None
    refuse_events_with: int | None = None
    info_answers: list[tuple[int, Any]] = field(default_factory=list)
    handshakes: list[Handshake] = field(default_factory=list)
    sockets: asyncio.Queue[web.WebSocketResponse] = field(default_factory=asyncio.Queue)
    port: int = 0
    _open: set[web.WebSocketResponse] = field(default_factory=set)
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ari"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/ari/events", self._events)
        app.router.add_get("/ari/asterisk/info", self._info)
        if self.routes is not None:
            self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.base_url

    async def stop(self) -> None:
        for ws in list(self._open):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeAsteriskHttp:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def next_socket(self) -> web.WebSocketResponse:
        async with asyncio.timeout(5):
            return await self.sockets.get()

    async def _events(self, request: web.Request) -> web.StreamResponse:
        self.handshakes.append(Handshake(dict(request.query),
                                         request.headers.get("Authorization")))
        if self.refuse_events_with is not None:
            return web.Response(status=self.refuse_events_with, text="not now")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._open.add(ws)
        await self.sockets.put(ws)
        try:
            async for _ in ws:  # until either side closes
                pass
        finally:
            self._open.discard(ws)
        return ws

    async def _info(self, request: web.Request) -> web.Response:
        status, body = self.info_answers.pop(0) if self.info_answers else (200, ASTERISK_INFO)
        return web.json_response(body, status=status)


@contextlib.asynccontextmanager
async def cancelling(task: asyncio.Task[Any]) -> AsyncIterator[asyncio.Task[Any]]:
    """Cancel `task` on leaving the block and wait until it has stopped."""
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
