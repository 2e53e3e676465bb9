"""CallerAudio against an aiohttp stand-in for Asterisk's /ari REST and /media websocket.

The stand-in does what Asterisk 22 does for chan_websocket in server mode: externalMedia answers
with the connection id in a channel variable, the websocket opens with MEDIA_START, the media
channel and the snoop enter Stasis (StasisStart, delivered to the call's event waiter), then
binary slin16 frames flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import pytest
from aiohttp import web

from ari_app.ari.rest import AriRest
from ari_app.calls.call import Call
from ari_app.media import CallerAudio, CallerAudioError, ListenParams, listen
from ivr.ports import HeardKind
from tests.unit.adapter_fakes import FakeAsteriskHttp, FakeEvents, ari_event, channel_json

FRAME = b"\x01\x00" * 320  # 20 ms of slin16
CONNECTION = "conn-1"


@dataclass
class MediaAsterisk:
    """The ARI routes CallerAudio uses, and the media websocket; `requests` in order."""

    events: FakeEvents
    media_start: str = f"MEDIA_START connection_id:{CONNECTION} format:slin16 ptime:20"
    connection_id: str | None = CONNECTION
    external_media_status: int = 200
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    frames: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    media_id: str = ""

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/ari/channels/externalMedia", self._external_media)
        app.router.add_post("/ari/channels/{channel}/snoop/{snoop}", self._snoop)
        app.router.add_post("/ari/bridges/{bridge}", self._ok)
        app.router.add_post("/ari/bridges/{bridge}/addChannel", self._ok)
        app.router.add_delete("/ari/channels/{channel}", self._ok)
        app.router.add_delete("/ari/bridges/{bridge}", self._ok)
        app.router.add_get("/media/{connection}", self._media)

    def _log(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path, dict(request.query)))

    def _entered(self, channel_id: str) -> None:
        event = ari_event("StasisStart", args=[], channel=channel_json(channel_id))
        asyncio.get_running_loop().call_soon(self.events.deliver_json, event)

    async def _external_media(self, request: web.Request) -> web.Response:
        self._log(request)
        if self.external_media_status != 200:
            return web.json_response({"message": "Channel not found"},
                                     status=self.external_media_status)  # fmt: skip
        self.media_id = request.query["channelId"]
        variables = {"MEDIA_WEBSOCKET_CONNECTION_ID": self.connection_id or ""}
        return web.json_response(channel_json(self.media_id, channelvars=variables))

    async def _snoop(self, request: web.Request) -> web.Response:
        self._log(request)
        self._entered(request.match_info["snoop"])
        return web.json_response(channel_json(request.match_info["snoop"]))

    async def _ok(self, request: web.Request) -> web.Response:
        self._log(request)
        if request.method == "POST" and not request.path.endswith("addChannel"):
            return web.json_response({"id": request.match_info["bridge"], "channels": [],
                                      "bridge_type": "mixing"})  # fmt: skip
        return web.Response(status=204)

    async def _media(self, request: web.Request) -> web.StreamResponse:
        self._log(request)
        if request.match_info["connection"] != CONNECTION:
            return web.Response(status=404)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(self.media_start)
        self._entered(self.media_id)
        sender = asyncio.ensure_future(self._send_frames(ws))
        async for _ in ws:  # reading is what answers the service's close
            pass
        sender.cancel()
        return ws

    async def _send_frames(self, ws: web.WebSocketResponse) -> None:
        while (frame := await self.frames.get()) is not None:
            await ws.send_bytes(frame)
        await ws.close()


@pytest.fixture
async def asterisk() -> AsyncIterator[tuple[MediaAsterisk, AriRest]]:
    fake = MediaAsterisk(FakeEvents())
    server = FakeAsteriskHttp(routes=fake.routes)
    async with server, AriRest(server.base_url, "hotline", "pw") as rest:
        yield fake, rest


def audio_for(fake: MediaAsterisk, rest: AriRest, **options: float) -> CallerAudio:
    return CallerAudio(rest, app="hotline", channel_id="caller-1", id_prefix="call-1",
                       events=fake.events, bind=fake.events.bind, unbind=fake.events.unbind,
                       **options)  # type: ignore[arg-type]  # fmt: skip


def paths(fake: MediaAsterisk) -> list[str]:
    return [f"{method} {path}" for method, path, _ in fake.requests]


async def test_frames_arrive_in_order_and_everything_is_torn_down(
    asterisk: tuple[MediaAsterisk, AriRest],
) -> None:
    fake, rest = asterisk
    audio = audio_for(fake, rest)
    assert audio.closed
    for _ in range(3):
        fake.frames.put_nowait(FRAME)
    async with asyncio.timeout(5), audio as frames:
        got = [await anext(frames) for _ in range(3)]
        assert not audio.closed
    assert [f.offset_s for f in got] == pytest.approx([0.0, 0.02, 0.04])
    assert all(f.pcm == FRAME and f.duration_s == pytest.approx(0.02) for f in got)
    assert audio.closed
    ids = (audio.snoop_id, audio.media_id, audio.bridge_id)
    assert all(i.startswith("call-1-ear-") for i in ids)
    assert set(fake.events.ever_bound) == set(ids) and fake.events.bound == set()
    bridge = f"/ari/bridges/{audio.bridge_id}"
    assert paths(fake) == [
        "POST /ari/channels/externalMedia", f"GET /media/{CONNECTION}",
        f"POST /ari/channels/caller-1/snoop/{audio.snoop_id}", f"POST {bridge}",
        f"POST {bridge}/addChannel", f"DELETE /ari/channels/{audio.media_id}",
        f"DELETE /ari/channels/{audio.snoop_id}", f"DELETE {bridge}",
    ]  # fmt: skip
    external = fake.requests[0][2]
    assert (external["transport"], external["connection_type"], external["format"]) == (
        "websocket", "server", "slin16")
    assert fake.requests[2][2]["spy"] == "in"  # only what the caller says
    assert fake.requests[4][2]["channel"] == f"{audio.snoop_id},{audio.media_id}"


async def test_the_caller_hanging_up_ends_the_stream(
    asterisk: tuple[MediaAsterisk, AriRest],
) -> None:
    fake, rest = asterisk
    audio = audio_for(fake, rest)
    fake.frames.put_nowait(FRAME)
    async with asyncio.timeout(5), audio as frames:
        await anext(frames)
        fake.events.deliver_json(ari_event("StasisEnd", channel=channel_json(audio.snoop_id)))
        with pytest.raises(CallerAudioError, match="the caller's channel is gone"):
            await anext(frames)


async def test_silence_on_the_wire_is_a_stall(asterisk: tuple[MediaAsterisk, AriRest]) -> None:
    fake, rest = asterisk
    async with asyncio.timeout(5), audio_for(fake, rest, stall_timeout_s=0.05) as frames:
        with pytest.raises(CallerAudioError, match="no caller audio for 0.05 s"):
            await anext(frames)


async def test_asterisk_closing_the_media_socket_ends_the_stream(
    asterisk: tuple[MediaAsterisk, AriRest],
) -> None:
    fake, rest = asterisk
    fake.frames.put_nowait(None)
    async with asyncio.timeout(5), audio_for(fake, rest) as frames:
        with pytest.raises(CallerAudioError, match=r"media websocket ended \(CLOS"):
            await anext(frames)


@pytest.mark.parametrize(("change", "message"), [
    ({"external_media_status": 404}, "media set-up failed: ARI POST /channels/externalMedia "
                                     "answered 404: Channel not found"),
    ({"connection_id": None}, "externalMedia answered without MEDIA_WEBSOCKET_CONNECTION_ID"),
    ({"connection_id": "unknown"}, "cannot connect the media websocket ws://127.0.0.1"),
    ({"media_start": "MEDIA_START format:ulaw"}, "media websocket did not start with slin16"),
])  # fmt: skip
async def test_a_failed_set_up_is_one_error_and_leaves_nothing_behind(
    asterisk: tuple[MediaAsterisk, AriRest], change: dict[str, object], message: str
) -> None:
    fake, rest = asterisk
    for name, value in change.items():
        setattr(fake, name, value)
    audio = audio_for(fake, rest)
    with pytest.raises(CallerAudioError) as caught:
        async with asyncio.timeout(5), audio:
            pytest.fail("set-up should have failed")
    assert str(caught.value).startswith(message)
    assert audio.closed and fake.events.bound == set()
    assert paths(fake)[-3:] == [
        f"DELETE /ari/channels/{audio.media_id}", f"DELETE /ari/channels/{audio.snoop_id}",
        f"DELETE /ari/bridges/{audio.bridge_id}"]  # fmt: skip


@dataclass
class CallStub:
    """What CallerAudio.for_call reads from the call."""

    ari: AriRest
    mailbox: FakeEvents
    app: str = "hotline"
    channel_id: str = "caller-1"
    call_id: str = "call-9"

    def bind(self, subject_id: str) -> None:
        self.mailbox.bind(subject_id)

    def unbind(self, subject_id: str) -> None:
        self.mailbox.unbind(subject_id)


async def test_listening_to_a_call_that_stays_silent_is_no_input(
    asterisk: tuple[MediaAsterisk, AriRest],
) -> None:
    fake, rest = asterisk
    for _ in range(10):
        fake.frames.put_nowait(b"\x00\x00" * 320)
    call = cast(Call, CallStub(rest, fake.events))
    async with asyncio.timeout(5):
        heard = await listen(call, prompt_playing=None,
                             params=ListenParams(first_input_timeout_s=0.2))  # fmt: skip
    assert heard.kind is HeardKind.NO_INPUT
    assert fake.requests[2][1].startswith("/ari/channels/caller-1/snoop/call-9-ear-")
    assert fake.events.bound == set() and fake.requests[-1][0] == "DELETE"
