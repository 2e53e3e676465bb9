"""AriRest over its transport port: a scripted transport, the fake Asterisk, and HttpTransport
against a local aiohttp server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from ari_app.ari import rest as routes
from ari_app.ari.errors import (
    AriBadRequest,
    AriConflict,
    AriError,
    AriNotFound,
    AriUnauthorized,
    AriUnavailable,
    AriUnprocessable,
)
from ari_app.ari.events import ChannelDestroyed, StasisStart
from ari_app.ari.fake import FakeAsterisk
from ari_app.ari.rest import AriRest
from ari_app.ari.transport import AriResponse, HttpTransport

CHANNEL = {"id": "ch-1", "name": "PJSIP/x", "state": "Up", "caller": {"name": "", "number": ""}}


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    params: Mapping[str, str]
    json: Mapping[str, Any] | None


class ScriptedTransport:
    """Answers every request with the next scripted answer (default 204); raises exceptions."""

    def __init__(self, *answers: AriResponse | Exception) -> None:
        self.answers = list(answers)
        self.sent: list[Sent] = []
        self.closed = False

    async def request(self, method: str, path: str, params: Mapping[str, str],
                      json: Mapping[str, Any] | None) -> AriResponse:
        self.sent.append(Sent(method, path, dict(params), json))
        answer = self.answers.pop(0) if self.answers else AriResponse(204, None, "")
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def close(self) -> None:
        self.closed = True


def ok(body: Any) -> AriResponse:
    return AriResponse(200, body, "json")


def scripted(*answers: AriResponse | Exception) -> tuple[AriRest, ScriptedTransport]:
    transport = ScriptedTransport(*answers)
    return AriRest("http://asterisk/ari", "u", "p", transport=transport), transport


async def test_requests_are_shaped_as_ari_expects() -> None:
    live = {"name": "rec", "format": "wav", "target_uri": "bridge:b1", "state": "queued"}
    ari, sent = scripted(ok(CHANNEL), AriResponse(201, {"id": "pb-1"}, "{}"), ok(live))
    await ari.originate("PJSIP/agent 1", channel_id="leg/1", app="hotline",
                        app_args=["agent", "call-1"], timeout_s=20,
                        variables={"X": "1"})  # fmt: skip
    await ari.play("a/b", ["sound:one", "sound:two"], "pb-1")
    await ari.record_bridge("b1", "rec", beep=True)
    await ari.hangup("ch-1")
    originate, play, record, hangup = sent.sent
    assert (originate.method, originate.path) == ("POST", "/channels")
    assert originate.params == {"endpoint": "PJSIP/agent 1", "app": "hotline",
                                "appArgs": "agent,call-1", "timeout": "20",
                                "channelId": "leg/1"}  # fmt: skip
    assert originate.json == {"variables": {"X": "1"}}
    assert play.path == "/channels/a%2Fb/play/pb-1"  # an id cannot change the route
    assert play.params == {"media": "sound:one,sound:two"}
    assert record.params == {"name": "rec", "format": "wav", "ifExists": "fail", "beep": "true",
                             "maxDurationSeconds": "0", "terminateOn": "none"}  # fmt: skip
    assert (hangup.method, hangup.path, hangup.params) == ("DELETE", "/channels/ch-1",
                                                           {"reason": "normal"})


@pytest.mark.parametrize(("status", "error"), [
    (400, AriBadRequest), (401, AriUnauthorized), (403, AriUnauthorized), (404, AriNotFound),
    (409, AriConflict), (422, AriUnprocessable), (500, AriUnavailable), (503, AriUnavailable),
    (418, AriError),
])  # fmt: skip
async def test_error_statuses_map_to_our_errors(status: int, error: type[AriError]) -> None:
    ari, _ = scripted(AriResponse(status, {"message": "Channel not found"}, "{}"))
    with pytest.raises(error) as caught:
        await ari.answer("ch-1")
    assert type(caught.value) is error and caught.value.status == status
    assert str(caught.value) == f"ARI POST /channels/ch-1/answer answered {status}: " \
        "Channel not found"


@pytest.mark.parametrize(("answer", "message"), [
    (AriResponse(404, {"message": "Channel not found"}, "x"), "Channel not found"),
    (AriResponse(404, {"error": "Resource not found"}, "x"), "Resource not found"),
    (AriResponse(404, {"other": 1}, "x"), "{'other': 1}"),
    (AriResponse(404, None, "<html>nope</html>"), "<html>nope</html>"),
    (AriResponse(404, None, "", "Not Found"), "Not Found"),
    (AriResponse(404, None, ""), "(empty answer)"),
])  # fmt: skip
async def test_the_error_message_comes_from_the_answer(answer: AriResponse, message: str) -> None:
    ari, _ = scripted(answer)
    with pytest.raises(AriNotFound) as caught:
        await ari.get_channel("ch-1")
    assert caught.value.message == message


async def test_failures_are_logged_at_debug_with_the_status_when_there_is_one() -> None:
    no_answer = AriUnavailable("refused", status=None, method="GET", path="/asterisk/info")
    ari, _ = scripted(AriResponse(409, {"message": "busy"}, "{}"), no_answer)
    with capture_logs() as logs:
        with pytest.raises(AriConflict):
            await ari.stop_moh("ch-1")
        with pytest.raises(AriUnavailable) as caught:
            await ari.asterisk_info()
    assert caught.value is no_answer
    assert [(line["event"], line["log_level"], line.get("status")) for line in logs] == [
        ("ari.request.failed", "debug", 409), ("ari.request.failed", "debug", None)]
    assert "status" not in logs[1] and logs[1]["error"] == "refused"


async def test_204_is_none_and_json_bodies_come_back_decoded() -> None:
    ari, sent = scripted(AriResponse(204, None, ""), ok({"value": "v"}), ok({"system": {}}),
                         ok([{"name": "hotline"}]))  # fmt: skip
    assert await ari._call(routes.ANSWER, {"channelId": "c"}) is None
    assert await ari.get_variable("c", "X") == "v"
    assert await ari.asterisk_info() == {"system": {}}
    assert await ari.list_applications() == [{"name": "hotline"}]
    async with ari:
        pass
    assert sent.closed


async def test_arguments_asterisk_would_misread_are_refused_before_sending() -> None:
    ari, sent = scripted()
    with pytest.raises(ValueError, match="undeclared"):
        await ari._call(routes.ANSWER, {"channelId": "c"}, {"bogus": "1"})
    with pytest.raises(ValueError, match="undeclared"):
        await ari._call(routes.ANSWER, {"channelId": "c"}, None, {"variables": {}})
    with pytest.raises(ValueError, match="commas"):
        await ari.originate("PJSIP/a", channel_id="l", app="hotline", app_args=["a,b"])
    with pytest.raises(ValueError, match="commas"):
        await ari.create_snoop("c", "s", app="hotline", app_args=["x,y"])
    assert sent.sent == []


async def test_every_public_method_against_the_fake_asterisk(tmp_path: Any) -> None:
    fake = FakeAsterisk(spool_dir=tmp_path)
    async with fake.rest() as ari:
        assert (await ari.asterisk_info())["system"]["version"].startswith("22.")
        assert "hotline" in {app["name"] for app in await ari.list_applications()}
        caller = fake.call_in()
        await ari.ring(caller)
        await ari.answer(caller)
        assert (await ari.get_channel(caller)).state == "Up"
        assert [c.id for c in await ari.list_channels()] == [caller]
        await ari.set_variable(caller, "V", "1")
        assert await ari.get_variable(caller, "V") == "1"
        await ari.start_moh(caller, "jazz")
        await ari.stop_moh(caller)
        await ari.send_dtmf(caller, "12", between_ms=50, duration_ms=100)
        fake.media_durations["sound:long"] = 60.0
        await ari.play(caller, ["sound:long"], "pb")
        await ari.stop_playback("pb")
        leg = await ari.originate("PJSIP/agent", channel_id="leg", app="hotline",
                                  app_args=["agent", "call-1"], caller_id="+15550100")
        await fake.wait_for(StasisStart, lambda e: e.channel.id == leg.id)
        await ari.create_snoop(caller, "snoop", app="hotline", app_args=["snoop"], spy="both")
        await ari.create_bridge("b", name="call-1")
        await ari.add_channels("b", [caller, leg.id])
        assert [b.channels for b in await ari.list_bridges()] == [(caller, leg.id)]
        await ari.record_bridge("b", "rec-b")
        assert (await ari.get_live_recording("rec-b")).target_uri == "bridge:b"
        await ari.stop_recording("rec-b")
        await ari.delete_stored_recording("rec-b")
        await ari.remove_channel("b", leg.id)
        await ari.destroy_bridge("b")
        await ari.hangup(leg.id)
        await ari.continue_in_dialplan(caller, "hotline-fallback", "s", 2)
        await fake.wait_for(ChannelDestroyed, lambda e: e.channel.id == leg.id)
    assert fake.channels[caller].continued_to == ("hotline-fallback", "s", 2)
    assert fake.heard(caller) == ["moh:jazz", "sound:long"]
    assert not (tmp_path / "rec-b.wav").exists()  # deleted from the spool
    fake.shutdown()


# --- HttpTransport against a local aiohttp server ------------------------------------------------


@dataclass
class Seen:
    authorization: str = ""
    query: dict[str, str] | None = None
    body: Any = None


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, Seen, asyncio.Event]]:
    seen, release = Seen(), asyncio.Event()

    async def info(request: web.Request) -> web.Response:
        seen.authorization = request.headers.get("Authorization", "")
        seen.query = dict(request.query)
        return web.json_response({"system": {"version": "22.10.1"}})

    async def originate(request: web.Request) -> web.Response:
        seen.body = await request.json()
        return web.json_response(CHANNEL)

    async def missing(_: web.Request) -> web.Response:
        return web.json_response({"message": "Channel not found"}, status=404)

    async def html_error(_: web.Request) -> web.Response:
        return web.Response(status=500, text="<h1>boom</h1>", content_type="text/html")

    async def not_json(_: web.Request) -> web.Response:
        return web.Response(text="surprise")

    async def silent(_: web.Request) -> web.Response:
        await release.wait()  # answers only after the client gave up
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/ari/asterisk/info", info)
    app.router.add_post("/ari/channels", originate)
    app.router.add_get("/ari/channels/missing", missing)
    app.router.add_get("/ari/channels/html", html_error)
    app.router.add_get("/ari/bridges", not_json)
    app.router.add_post("/ari/channels/slow/answer", silent)
    test_server = TestServer(app, host="127.0.0.1", port=0)
    async with test_server:
        yield test_server, seen, release
        release.set()


async def test_http_transport_sends_basic_auth_and_decodes_json(
    server: tuple[TestServer, Seen, asyncio.Event],
) -> None:
    test_server, seen, _ = server
    transport = HttpTransport(str(test_server.make_url("/ari/")), "asterisk", "s3cret")
    try:
        answer = await transport.request("GET", "/asterisk/info", {"only": "system"}, None)
        assert (answer.status, answer.body) == (200, {"system": {"version": "22.10.1"}})
        expected = base64.b64encode(b"asterisk:s3cret").decode()
        assert seen.authorization == f"Basic {expected}" and seen.query == {"only": "system"}
        created = await transport.request("POST", "/channels", {}, {"variables": {"X": "1"}})
        assert created.body == CHANNEL and seen.body == {"variables": {"X": "1"}}
        missing = await transport.request("GET", "/channels/missing", {}, None)
        assert (missing.status, missing.body) == (404, {"message": "Channel not found"})
        html = await transport.request("GET", "/channels/html", {}, None)
        assert (html.status, html.body, html.text, html.reason) == (
            500, None, "<h1>boom</h1>", "Internal Server Error")
        with pytest.raises(AriUnavailable, match="GET /bridges got no answer"):
            await transport.request("GET", "/bridges", {}, None)  # 200 but not JSON
    finally:
        await transport.close()


async def test_ari_rest_defaults_to_http(server: tuple[TestServer, Seen, asyncio.Event]) -> None:
    test_server, seen, _ = server
    async with AriRest(str(test_server.make_url("/ari")), "u", "p") as ari:
        assert (await ari.asterisk_info())["system"]["version"] == "22.10.1"
        with pytest.raises(AriNotFound, match="answered 404: Channel not found"):
            await ari.get_channel("missing")
        with pytest.raises(AriUnavailable, match="answered 500: <h1>boom</h1>"):
            await ari._call(routes.GET_CHANNEL, {"channelId": "html"})
    assert seen.authorization.startswith("Basic ")


async def test_no_answer_within_the_timeout_is_unavailable(
    server: tuple[TestServer, Seen, asyncio.Event],
) -> None:
    test_server, _, release = server
    async with AriRest(str(test_server.make_url("/ari")), "u", "p", timeout=0.2) as ari:
        with pytest.raises(AriUnavailable, match="no answer within 0.2 s") as caught:
            await ari.answer("slow")
    release.set()
    assert caught.value.status is None


async def test_a_closed_port_is_unavailable() -> None:
    test_server = TestServer(web.Application(), host="127.0.0.1", port=0)
    async with test_server:
        url = str(test_server.make_url("/ari"))
    transport = HttpTransport(url, "u", "p")
    with pytest.raises(AriUnavailable, match="got no answer") as caught:
        await transport.request("GET", "/asterisk/info", {}, None)
    await transport.close()
    assert caught.value.status is None
