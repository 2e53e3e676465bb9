"""The caller's voice, and only the caller's, as 16 kHz PCM frames while a call is in Stasis.

Topology (research/ivr.md §1.5): the caller's channel stays out of bridges, so prompts, DTMF
and recording keep working on it; a snoop on it with ``spy=in`` (what the caller says, never
what we play to them) goes into a small mixing bridge with an externalMedia channel::

    caller ── snoop(spy=in) ─┐
                             ├─ mixing bridge ── externalMedia(websocket, slin16) ──► service
    (prompts play to caller, never reach the snoop)

Why chan_websocket in server mode (the service connects to ``ws://<asterisk>/media/<id>``),
measured on the development Asterisk 22.10.1 against RTP/UDP and AudioSocket/TCP:

- Latency is the same for all three: a sentence played by the caller arrived 8-15 ms after
  its onset; the first frame came 22-32 ms after setup began; frames every 20.0 ms
  (p99 21-25 ms), also with 20 calls listening at once (6000/6000 frames).
- Nothing listens on the service: it dials out to the Asterisk HTTP port it already uses for
  ARI, so no port range, no "which address reaches the service" (containers, NAT), no firewall
  opening. RTP and AudioSocket need Asterisk to reach a socket on the service.
- Closing our socket hangs the media channel up (measured): a crashed or cancelled listener
  leaves nothing streaming. The RTP channel stayed up after our UDP socket closed, and would
  send to a dead port until someone hangs it up.
- Frames are raw little-endian slin16 (640 bytes = 20 ms), confirmed by MEDIA_START: no RTP
  header, no byte swap (RTP's L16 is big-endian), no loss or reordering (TCP).
- Costs: Asterisk >= 22.6 (chan_websocket); 6.4 ms of service CPU per stream-second against
  3.8 ms for RTP (aiohttp's websocket parsing), both small next to recognition.

The media URL needs no ARI credentials: the connection id, a fresh UUID returned only to us
over authenticated ARI, is the capability. Bridges outlive their channels in Asterisk, so
teardown always destroys ours; every id starts with the call id, so leftover checks and
reconciliation can find them. A hung-up snoop leaves Stasis at once, but Asterisk frees it
only when the caller's channel next carries a frame: within 20 ms on a SIP call; on an idle
Local channel (the tests' simulated caller) at its next sound.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar

import aiohttp
import structlog

from ari_app.ari.cleanup import gone_ok
from ari_app.ari.errors import AriError
from ari_app.ari.events import AriEvent, StasisEnd, StasisStart, parse_channel
from ari_app.ari.rest import EXTERNAL_MEDIA, AriRest
from ari_app.calls.call import Call

log = structlog.get_logger(__name__)

T = TypeVar("T")

SAMPLE_RATE = 16000
FORMAT = "slin16"
SETUP_TIMEOUT_S = 5.0
STALL_TIMEOUT_S = 2.0

# Not in ari_app.ari.rest (yet): declared here, used only through AriRest._call.
CONNECTION_ID_VAR = "MEDIA_WEBSOCKET_CONNECTION_ID"


class CallerAudioError(Exception):
    """The caller's audio could not be set up or stopped arriving."""


class EventWaiter(Protocol):
    def expect(self, predicate: Callable[[AriEvent], bool]) -> asyncio.Future[AriEvent]: ...


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """`pcm`: 16-bit signed little-endian mono at SAMPLE_RATE. `offset_s`: media time of its
    first sample since the stream began; `received_at`: event-loop clock at arrival."""

    pcm: bytes
    offset_s: float
    received_at: float

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / (2 * SAMPLE_RATE)


class CallerAudio:
    """``async with CallerAudio(...) as frames: async for frame in frames: ...``

    Everything it creates (snoop, media channel, bridge, websocket) is gone when the block
    exits, also on cancellation. Raises CallerAudioError when set-up fails or no frame
    arrives for `stall_timeout_s`.
    """

    def __init__(self, ari: AriRest, *, app: str, channel_id: str, id_prefix: str,
                 events: EventWaiter, bind: Callable[[str], None] = lambda _: None,
                 unbind: Callable[[str], None] = lambda _: None,
                 media_url: str | None = None, stall_timeout_s: float = STALL_TIMEOUT_S) -> None:
        self._ari, self._app, self._channel_id = ari, app, channel_id
        self._events, self._bind, self._unbind = events, bind, unbind
        tag = f"{id_prefix}-ear-{uuid.uuid4().hex[:8]}"
        self.snoop_id, self.media_id, self.bridge_id = f"{tag}-snoop", f"{tag}-media", tag
        self._media_url = media_url or ari.base_url.removesuffix("/ari") + "/media"
        self._media_url = self._media_url.replace("http", "ws", 1)
        self._stall_s = stall_timeout_s
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._requests: set[asyncio.Task[Any]] = set()
        self._iterator: AsyncGenerator[AudioFrame, None] | None = None
        self._snoop_left: asyncio.Future[AriEvent] | None = None

    @classmethod
    def for_call(cls, call: Call, **options: Any) -> CallerAudio:
        return cls(call.ari, app=call.app, channel_id=call.channel_id,
                   id_prefix=call.call_id, events=call.mailbox, bind=call.bind,
                   unbind=call.unbind, **options)  # fmt: skip

    @property
    def closed(self) -> bool:
        """True once no websocket or HTTP session of ours is open (before set-up, too)."""
        ws_open = self._ws is not None and not self._ws.closed
        return not ws_open and (self._http is None or self._http.closed)

    async def __aenter__(self) -> AsyncGenerator[AudioFrame, None]:
        began = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                await self._set_up()
        except BaseException as exc:
            await self._tear_down()
            if isinstance(exc, TimeoutError):
                raise CallerAudioError(f"media set-up took over {SETUP_TIMEOUT_S:g} s") from exc
            if isinstance(exc, AriError):  # e.g. the caller hung up meanwhile (404)
                raise CallerAudioError(f"media set-up failed: {exc}") from exc
            raise
        took_ms = round((asyncio.get_running_loop().time() - began) * 1000)
        log.debug("media.listening", media_channel=self.media_id, setup_ms=took_ms)
        self._iterator = self._frames()
        return self._iterator

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._tear_down()

    async def _set_up(self) -> None:
        for subject in (self.snoop_id, self.media_id, self.bridge_id):
            self._bind(subject)
        media_in = self._started(self.media_id)
        snoop_in = self._started(self.snoop_id)
        # The snoop leaves Stasis when the caller hangs up; the bridge would go on sending
        # silence to the media channel, so this is how the stream learns the caller is gone.
        self._snoop_left = self._events.expect(
            lambda e: isinstance(e, StasisEnd) and e.channel.id == self.snoop_id)
        self._snoop_left.add_done_callback(self._caller_gone)
        try:
            connection_id = await self._create_media_channel()
            await self._connect(connection_id)
            await self._request(self._ari.create_snoop(
                self._channel_id, self.snoop_id, app=self._app, spy="in"))
            await self._request(self._ari.create_bridge(self.bridge_id, "mixing"))
            # Channels join a bridge only once in Stasis: the media channel when our websocket
            # is connected, the snoop a moment after its POST returns (422 otherwise).
            await asyncio.gather(media_in, snoop_in)
            await self._request(self._ari.add_channels(self.bridge_id,
                                                       [self.snoop_id, self.media_id]))
        finally:
            media_in.cancel()
            snoop_in.cancel()

    def _started(self, channel_id: str) -> asyncio.Future[AriEvent]:
        return self._events.expect(
            lambda e: isinstance(e, StasisStart) and e.channel.id == channel_id)

    async def _create_media_channel(self) -> str:
        query = {"channelId": self.media_id, "app": self._app, "external_host": "INCOMING",
                 "transport": "websocket", "encapsulation": "none",
                 "connection_type": "server", "format": FORMAT}  # fmt: skip
        data = await self._request(self._ari._call(EXTERNAL_MEDIA, None, query))
        connection_id = parse_channel(data).channelvars.get(CONNECTION_ID_VAR)
        if not connection_id:
            raise CallerAudioError(f"externalMedia answered without {CONNECTION_ID_VAR}")
        return connection_id

    async def _connect(self, connection_id: str) -> None:
        self._http = aiohttp.ClientSession()
        url = f"{self._media_url}/{connection_id}"
        try:
            self._ws = await self._http.ws_connect(
                url, timeout=aiohttp.ClientWSTimeout(ws_close=2.0))
        except aiohttp.ClientError as exc:
            raise CallerAudioError(f"cannot connect the media websocket {url}: {exc}") from exc
        start = await self._ws.receive()
        words = str(start.data).split() if start.type is aiohttp.WSMsgType.TEXT else []
        if words[:1] != ["MEDIA_START"] or f"format:{FORMAT}" not in words:
            raise CallerAudioError(f"media websocket did not start with {FORMAT}: {start.data!r}")

    def _caller_gone(self, left: asyncio.Future[AriEvent]) -> None:
        if not left.cancelled() and self._ws is not None:
            # Closing wakes a pending receive() with CLOSING; _frames then reports why.
            task = asyncio.ensure_future(self._ws.close())
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    async def _request(self, work: Coroutine[Any, Any, T]) -> T:
        """Run an ARI request to its end even if we are cancelled meanwhile, so teardown
        never races a create still in flight (which would leak what it creates)."""
        task = asyncio.ensure_future(work)
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)
        return await asyncio.shield(task)

    async def _frames(self) -> AsyncGenerator[AudioFrame, None]:
        if self._ws is None:
            raise CallerAudioError("the caller's audio is not set up")
        loop = asyncio.get_running_loop()
        offset = 0.0
        while True:
            try:
                message = await self._ws.receive(timeout=self._stall_s)
            except TimeoutError:
                raise CallerAudioError(f"no caller audio for {self._stall_s:g} s") from None
            if self._snoop_left is not None and self._snoop_left.done():
                raise CallerAudioError("the caller's channel is gone")
            if message.type is aiohttp.WSMsgType.BINARY:
                frame = AudioFrame(message.data, offset, loop.time())
                offset += frame.duration_s
                yield frame
            elif message.type is not aiohttp.WSMsgType.TEXT:  # closed or failed
                raise CallerAudioError(f"media websocket ended ({message.type.name})")

    async def _tear_down(self) -> None:
        if self._snoop_left is not None:
            self._snoop_left.cancel()
        if self._iterator is not None:
            with contextlib.suppress(RuntimeError):  # still running in another task
                await self._iterator.aclose()
        if self._requests:
            await asyncio.wait(set(self._requests), timeout=SETUP_TIMEOUT_S)
        if self._ws is not None:
            await self._ws.close()  # Asterisk hangs the media channel up on close
        if self._http is not None:
            await self._http.close()
        ari = self._ari
        await gone_ok(ari.hangup(self.media_id), "media channel")
        await gone_ok(ari.hangup(self.snoop_id), "snoop")
        await gone_ok(ari.destroy_bridge(self.bridge_id), "listen bridge")
        for subject in (self.snoop_id, self.media_id, self.bridge_id):
            self._unbind(subject)
