"""AriEventStream and wait_until_ready against an in-process stand-in for Asterisk's HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import pytest
from structlog.testing import capture_logs

from ari_app.ari.errors import AriUnauthorized, AriUnavailable
from ari_app.ari.events import AriEvent, Connected, StasisStart, UnknownEvent
from ari_app.ari.rest import AriRest
from ari_app.ari.stream import AriEventStream, wait_until_ready
from kernel.backoff import Backoff
from tests.unit.adapter_fakes import (
    FakeAsteriskHttp,
    ari_event,
    channel_json,
    eventually,
    log_lines,
)

Stream = AsyncGenerator[AriEvent | Connected, None]


def fast() -> Backoff:
    return Backoff(0.005, cap=0.02)


def stream_for(server: FakeAsteriskHttp, apps: tuple[str, ...] = ("hotline",)) -> AriEventStream:
    ws_base = server.base_url.replace("http", "ws", 1)
    return AriEventStream(ws_base, "hotline", "pw", apps, backoff=fast(), connect_timeout=2.0)


@contextlib.asynccontextmanager
async def events_of(stream: AriEventStream) -> AsyncIterator[Stream]:
    async with contextlib.aclosing(stream.events()) as events:
        yield events


async def next_of(events: Stream) -> AriEvent | Connected:
    async with asyncio.timeout(5):
        return await anext(events)


def stasis_start(channel_id: str = "1732262794.17") -> dict[str, Any]:
    return ari_event("StasisStart", args=["inbound"], channel=channel_json(channel_id))


async def test_connected_then_typed_events_for_the_apps_with_credentials() -> None:
    async with FakeAsteriskHttp() as server:
        async with events_of(stream_for(server, ("hotline", "hotline-sim"))) as events:
            assert await next_of(events) == Connected(first=True)
            ws = await server.next_socket()
            await ws.send_str(json.dumps(stasis_start("c-1")))
            await ws.send_str(json.dumps(ari_event("ChannelVarset", variable="X")))
            first = await next_of(events)
            assert isinstance(first, StasisStart)
            assert first.channel.id == "c-1" and first.args == ("inbound",)
            second = await next_of(events)
            assert isinstance(second, UnknownEvent) and second.type == "ChannelVarset"
        handshake = server.handshakes[0]
        assert handshake.query == {"app": "hotline,hotline-sim"}
        assert handshake.authorization == aiohttp.encode_basic_auth("hotline", "pw")


async def test_unusable_messages_are_logged_and_skipped() -> None:
    async with FakeAsteriskHttp() as server:
        async with events_of(stream_for(server)) as events:
            assert await next_of(events) == Connected(first=True)
            ws = await server.next_socket()
            with capture_logs() as logs:
                await ws.send_str("{not json")
                await ws.send_str("[1, 2]")
                await ws.send_str(json.dumps(ari_event("StasisStart")))  # no channel
                await ws.send_bytes(b"\x00binary")
                await ws.send_str(json.dumps(stasis_start("c-2")))
                event = await next_of(events)
        assert isinstance(event, StasisStart) and event.channel.id == "c-2"
        malformed = log_lines(logs, "ari.event.malformed")
        assert [line["type"] for line in malformed] == [None, None, "StasisStart"]
        assert "expected a JSON object, got list" in malformed[1]["error"]
        assert "'channel' is missing" in malformed[2]["error"]


async def test_a_closed_socket_reconnects_and_says_reconcile() -> None:
    async with FakeAsteriskHttp() as server:
        with capture_logs() as logs:
            async with events_of(stream_for(server)) as events:
                assert await next_of(events) == Connected(first=True)
                await (await server.next_socket()).close()
                assert await next_of(events) == Connected(first=False)
                ws = await server.next_socket()
                await ws.send_str(json.dumps(stasis_start("c-3")))
                event = await next_of(events)
                assert isinstance(event, StasisStart) and event.channel.id == "c-3"
        lost = log_lines(logs, "ari.unreachable")
        assert len(lost) == 1
        assert lost[0]["error"] == "connection lost: closed with code 1000"
        assert [line["first"] for line in log_lines(logs, "ari.connected")] == [True, False]


async def test_an_asterisk_restart_is_waited_out_with_backoff() -> None:
    server = FakeAsteriskHttp()
    await server.start()
    try:
        with capture_logs() as logs:
            async with events_of(stream_for(server)) as events:
                assert await next_of(events) == Connected(first=True)
                await server.next_socket()
                await server.stop()  # Asterisk goes away: connections are refused
                reconnected = asyncio.ensure_future(next_of(events))
                await eventually(lambda: len(log_lines(logs, "ari.unreachable")) >= 3)
                server.refuse_events_with = 503  # up again, but not ready for us yet
                await server.start()
                await eventually(lambda: any("handshake" in line["error"]
                                             for line in log_lines(logs, "ari.unreachable")))
                server.refuse_events_with = None
                assert await reconnected == Connected(first=False)
    finally:
        await server.stop()
    errors = [line["error"] for line in log_lines(logs, "ari.unreachable")]
    assert errors[0].startswith("connection lost")
    assert any("Cannot connect" in error for error in errors)
    assert "websocket handshake answered 503: Invalid response status" in errors
    assert all("retry_in" in line for line in log_lines(logs, "ari.unreachable"))


def test_a_stream_needs_an_application() -> None:
    with pytest.raises(ValueError, match="at least one Stasis application"):
        AriEventStream("ws://127.0.0.1:8088/ari", "u", "p", [])


def test_the_events_url_is_under_the_ari_base() -> None:
    stream = AriEventStream("ws://asterisk:8088/ari/", "u", "p", ["hotline"])
    assert stream.url == "ws://asterisk:8088/ari/events"
    assert stream.apps == ("hotline",)


# --- wait_until_ready ---------------------------------------------------------------------


async def test_wait_until_ready_polls_until_asterisk_answers() -> None:
    server = FakeAsteriskHttp(info_answers=[(503, {"message": "starting"}),
                                            (500, {"error": "still starting"})])  # fmt: skip
    async with server, AriRest(server.base_url, "hotline", "pw") as rest:
        backoff = fast()
        with capture_logs() as logs:
            info = await wait_until_ready(rest, backoff=backoff)
    assert info["system"]["version"] == "22.10.1"
    assert backoff.attempts == 0  # reset once Asterisk answered
    waits = log_lines(logs, "ari.unreachable")
    assert [line["error"] for line in waits] == ["starting", "still starting"]
    assert log_lines(logs, "ari.ready")[0]["asterisk_version"] == "22.10.1"


async def test_wait_until_ready_gives_up_at_once_on_wrong_credentials() -> None:
    server = FakeAsteriskHttp(info_answers=[(401, {"message": "Authentication required"})])
    async with server, AriRest(server.base_url, "hotline", "wrong") as rest:
        with capture_logs() as logs, pytest.raises(AriUnauthorized):
            await wait_until_ready(rest, backoff=fast())
    rejected = log_lines(logs, "ari.auth.rejected")
    assert rejected[0]["error"] == "Authentication required"
    assert rejected[0]["log_level"] == "error"


async def test_wait_until_ready_waits_for_a_server_that_is_not_up_yet() -> None:
    server = FakeAsteriskHttp()
    await server.start()
    await server.stop()  # the port is known, nothing listens on it
    try:
        async with AriRest(server.base_url, "hotline", "pw", timeout=2.0) as rest:
            with capture_logs() as logs:
                ready = asyncio.ensure_future(wait_until_ready(rest, backoff=fast()))
                await eventually(lambda: len(log_lines(logs, "ari.unreachable")) >= 2)
                assert not ready.done()
                await server.start()
                async with asyncio.timeout(5):
                    assert (await ready)["system"]["version"] == "22.10.1"
    finally:
        await server.stop()


async def test_unreachable_asterisk_is_unavailable_without_status() -> None:
    server = FakeAsteriskHttp()
    await server.start()
    await server.stop()
    async with AriRest(server.base_url, "hotline", "pw", timeout=2.0) as rest:
        with pytest.raises(AriUnavailable) as caught:
            await rest.asterisk_info()
    assert caught.value.status is None and caught.value.path == "/asterisk/info"
