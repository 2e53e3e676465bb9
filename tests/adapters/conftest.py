"""Adapter fixtures: the real development Asterisk (ARI and AMI), skipped with a clear reason
only when it is not reachable. Every test gets its own Stasis app name, so it never sees
another engineer's events, and everything it created under that name is removed afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, Connected, StasisStart
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream
from ari_app.channel_vars import APP_NAME_VAR, ROLE_INBOUND, ROLE_SIM_CALLER, SIM_CALLERS_CONTEXT

T = TypeVar("T")
START_HINT = "run `make test`, or `scripts/dev-asterisk start` first"


@dataclass(frozen=True)
class AsteriskTarget:
    ari_url: str
    user: str
    password: str
    ami_host: str
    ami_port: int
    ami_user: str
    ami_secret: str
    rootfs: Path

    @property
    def ws_url(self) -> str:
        return self.ari_url.replace("http", "ws", 1)

    @property
    def recording_dir(self) -> Path:
        """Where ARI recordings land, seen from the host (Asterisk runs in the rootfs)."""
        return self.rootfs / "var/spool/asterisk/recording"


def _target() -> AsteriskTarget:
    env = os.environ.get
    return AsteriskTarget(
        ari_url=env("HOTLINE_ARI_URL", "http://127.0.0.1:8088/ari"),
        user=env("HOTLINE_ARI_USER", "hotline"),
        password=env("HOTLINE_ARI_PASSWORD", "hotline"),
        ami_host=env("HOTLINE_AMI_HOST", "127.0.0.1"),
        ami_port=int(env("HOTLINE_AMI_PORT", "5038")),
        ami_user=env("HOTLINE_AMI_USER", "hotline"),
        ami_secret=env("HOTLINE_AMI_SECRET", "hotline"),
        rootfs=Path(
            env("HOTLINE_ASTERISK_ROOT", str(Path.home() / ".cache/hotline/asterisk-rootfs"))
        ),
    )


@pytest.fixture(scope="session")
async def asterisk_ari() -> AsteriskTarget:
    """The development Asterisk's ARI (env HOTLINE_ARI_URL/USER/PASSWORD), or skip."""
    target = _target()
    async with AriRest(target.ari_url, target.user, target.password, timeout=3) as rest:
        try:
            await rest.asterisk_info()
        except AriError as exc:
            pytest.skip(
                f"development Asterisk not reachable at {target.ari_url} ({exc}): {START_HINT}"
            )
    return target


@pytest.fixture(scope="session")
async def asterisk_ami() -> AsteriskTarget:
    """The development Asterisk's AMI (env HOTLINE_AMI_HOST/PORT/USER/SECRET), or skip."""
    target = _target()
    try:
        async with asyncio.timeout(3):
            _, writer = await asyncio.open_connection(target.ami_host, target.ami_port)
        writer.close()
        await writer.wait_closed()
    except (OSError, TimeoutError) as exc:
        pytest.skip(
            f"AMI not reachable at {target.ami_host}:{target.ami_port} ({exc}): {START_HINT}"
        )
    return target


class EventLog:
    """Every event of one app stream, kept in order, with waiting by predicate."""

    def __init__(self) -> None:
        self.items: list[AriEvent | Connected] = []
        self._changed = asyncio.Condition()

    async def add(self, item: AriEvent | Connected) -> None:
        async with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    async def wait_for(self, kind: type[T], where: Callable[[T], bool] = lambda _: True) -> T:
        """The first event (received at any time) of `kind` matching `where`, within 10 s."""

        def found() -> T | None:
            return next((i for i in self.items if isinstance(i, kind) and where(i)), None)

        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        match = found()
        assert match is not None
        return match


@dataclass
class AriSandbox:
    """One test's Stasis app, its event log, and an ARI client; ids start with `app`."""

    app: str
    rest: AriRest
    events: EventLog
    target: AsteriskTarget

    def new_id(self, what: str) -> str:
        return f"{self.app}-{what}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def ari_sandbox(asterisk_ari: AsteriskTarget) -> AsyncIterator[AriSandbox]:
    target = asterisk_ari
    app = f"test-{uuid.uuid4().hex[:12]}"
    events = EventLog()
    stream = AriEventStream(target.ws_url, target.user, target.password, [app])

    async def pump() -> None:
        async with contextlib.aclosing(stream.events()) as items:
            async for item in items:
                await events.add(item)

    async with AriRest(target.ari_url, target.user, target.password) as rest:
        task = asyncio.create_task(pump())
        try:
            # Connecting registers the app: originating into it before that would fail.
            await events.wait_for(Connected)
            yield AriSandbox(app, rest, events, target)
        finally:
            await _remove_leftovers(rest, app, target.recording_dir)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _remove_leftovers(rest: AriRest, prefix: str, recording_dir: Path) -> None:
    for channel in await rest.list_channels():
        if channel.id.startswith(prefix):
            with contextlib.suppress(AriError):
                await rest.hangup(channel.id)
    for bridge in await rest.list_bridges():
        if bridge.id.startswith(prefix):
            with contextlib.suppress(AriError):
                await rest.destroy_bridge(bridge.id)
    leftovers = await asyncio.to_thread(lambda: list(recording_dir.glob(f"{prefix}*")))
    for path in leftovers:
        with contextlib.suppress(AriError):
            await rest.delete_stored_recording(path.stem)


@dataclass(frozen=True)
class InboundCall:
    """A simulated inbound call: `caller` (the ;1 half, our sim-caller app once answered)
    dials the hotline dialplan, whose `inbound` (;2) half entered Stasis(app, inbound) ringing."""

    caller: str
    inbound: str


@pytest.fixture
async def inbound_call(ari_sandbox: AriSandbox) -> InboundCall:
    caller = ari_sandbox.new_id("caller")
    # The dialplan reads the app name from ${HOTLINE_APP}; a channel variable shadows the
    # global, and Local channels copy variables to the ;2 half, so the call lands in our app.
    await ari_sandbox.rest.originate(
        f"Local/hotline@{SIM_CALLERS_CONTEXT}", channel_id=caller, app=ari_sandbox.app,
        app_args=[ROLE_SIM_CALLER], caller_id='"Test Caller" <5550100>',
        variables={APP_NAME_VAR: ari_sandbox.app},
    )  # fmt: skip
    started = await ari_sandbox.events.wait_for(
        StasisStart, lambda e: e.args[:1] == (ROLE_INBOUND,)
    )
    return InboundCall(caller=caller, inbound=started.channel.id)


class DroppingProxy:
    """TCP proxy to Asterisk that can cut every connection, as a restart or network loss would."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}
        for task in (self._pipe(reader, up_writer), self._pipe(up_reader, writer)):
            self._tasks.add(asyncio.create_task(task))

    def drop_all(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        async with server:
            yield server.sockets[0].getsockname()[1]
            self.drop_all()
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
