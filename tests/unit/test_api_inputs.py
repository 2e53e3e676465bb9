"""No input makes a 500: the requests that did (issue 10) are 400s naming the field, numbers are
read strictly, text has no control characters where none makes sense, and whatever still
escapes a handler is a JSON 500 without details, logged under an id the reply names.

The whole app is built in-process as the service builds it (`build_web_app`), on SQLite, with
an in-memory LiveCalls and a real QueueService; `whole_app` is shared with the OpenAPI, route
role and fuzz tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from structlog.testing import capture_logs
from yarl import URL

from ari_app.calls.hub import EventHub
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, assemble, build_web_app
from ari_app.web.auth import OPEN
from kernel.http.auth import Role
from kernel.http.errors import ApiError
from kernel.http.request import MAX_DEPTH, depth, query_int
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from routing.config import RoutingConfig
from tests.unit.test_calls_api import CONFIG, TOKENS, FakeLiveCalls, auth

Client = TestClient[web.Request, web.Application]


class NoAgentCommands:
    async def login(self, agent_id: str, reason: str | None) -> None: ...

    async def logout(self, agent_id: str, reason: str | None) -> None: ...

    async def pause(self, agent_id: str, reason: str | None) -> None: ...

    async def resume(self, agent_id: str, reason: str | None) -> None: ...


async def apply_nothing(config: RoutingConfig) -> None:
    pass


def whole_app(database: Database, *, config: RoutingConfig = CONFIG,
              live: FakeLiveCalls | None = None, **more: Any) -> web.Application:  # fmt: skip
    """The service's whole HTTP surface over `database`, with fakes for the live parts; ARI
    connected (so /health and /ready answer 200); `more` goes to `WebDeps`."""
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: config)  # fmt: skip
    ready = asyncio.Event()
    ready.set()
    return build_web_app(WebDeps(
        db=database, hub=EventHub(), live=live or FakeLiveCalls(),
        queues=QueueService(config, SimulatedClock(1.0)), routing=routing, tokens=TOKENS,
        ready=ready, **more))  # fmt: skip


@pytest.fixture
async def client(database: Database) -> AsyncIterator[Client]:
    async with TestClient(TestServer(whole_app(database))) as served:
        yield served


async def send(client: Client, method: str, path: str, data: bytes | None = None,
               role: Role | None = Role.SUPERVISOR) -> tuple[int, Any]:  # fmt: skip
    async with client.request(method, path, data=data, headers=auth(role)) as resp:
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()


def fields(body: dict[str, Any]) -> dict[str, str]:
    return {p["field"]: p["message"] for p in body.get("problems", [])}


# --- the 500s of issue 10 -------------------------------------------------------------------

TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
DEEP = b"[" * 100_000
LIMIT = "must be an integer from 1 to 500"
VERSION = "must be a version number from 1 to 2147483647"


@pytest.mark.parametrize(("method", "path", "data", "field", "message"), [
    ("GET", "/v1/calls?limit=²", None, "query.limit", LIMIT),
    ("GET", "/v1/routing/audit?limit=²", None, "query.limit", LIMIT),
    ("GET", "/v1/routing/versions?limit=²", None, "query.limit", LIMIT),
    ("GET", "/v1/routing/versions/99999999999999999999", None, "path.version", VERSION),
    ("POST", "/v1/routing/versions/99999999999999999999/restore", None, "path.version", VERSION),
    ("POST", "/v1/routing/skills", DEEP, "body", TOO_DEEP),
    ("PUT", "/v1/routing/agents/alice", DEEP, "body", TOO_DEEP),
    ("PATCH", "/v1/routing/queues/claims", DEEP, "body", TOO_DEEP),
    ("PUT", "/v1/routing/queues/claims/plan", DEEP, "body", TOO_DEEP),
    ("POST", "/v1/routing/agents/alice/pause", DEEP, "body", TOO_DEEP),
    ("POST", "/v1/routing/versions/1/restore", DEEP, "body", TOO_DEEP),
    ("POST", "/v1/calls/c1/transfer", DEEP, "body", TOO_DEEP),
])  # fmt: skip
async def test_what_made_a_500_is_a_400_naming_the_field(
    client: Client, method: str, path: str, data: bytes | None, field: str, message: str
) -> None:
    role = Role.AGENT if path.endswith("/transfer") else Role.SUPERVISOR
    status, body = await send(client, method, path, data, role)
    assert (status, body["error"], fields(body)) == (400, "invalid", {field: message})


async def raw_get(client: Client, path: bytes, header: bytes) -> tuple[int, bytes]:
    """A request written byte by byte: aiohttp's client would not send a non-UTF-8 header."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n" + header
                 + b"\r\nConnection: close\r\n\r\n")  # fmt: skip
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", [b"/v1/routing/config", b"/health", b"/v1/calls"])
async def test_a_header_that_is_not_utf8_is_a_400(client: Client, path: bytes) -> None:
    status, body = await raw_get(client, path, b"Authorization: Bearer \xff\xfe-token")
    assert status == 400
    assert fields(json.loads(body)) == {"header.Authorization": "must be UTF-8 text"}


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "0", "-1", "+1", " 1", "1 ", "1e3", "0x10", "501", "²",
                                 "١", "１", "9" * 30])  # fmt: skip
def test_a_query_integer_is_ascii_digits_within_bounds(raw: str) -> None:
    url = URL.build(path="/x", query={"limit": raw})
    request = make_mocked_request("GET", str(url), app=web.Application())
    with pytest.raises(ApiError) as refused:
        query_int(request, "limit", 50, 500)
    assert [p.field for p in refused.value.problems] == ["query.limit"]


def test_a_query_integer_absent_is_the_default_and_present_is_read() -> None:
    app = web.Application()
    assert query_int(make_mocked_request("GET", "/x", app=app), "limit", 50, 500) == 50
    assert query_int(make_mocked_request("GET", "/x?limit=0500", app=app), "limit", 50, 500) == 500


@pytest.mark.parametrize("version", ["0", "-1", "١", "1.0", "2147483648"])
async def test_a_version_in_the_path_is_a_bounded_ascii_number(client: Client,
                                                                version: str) -> None:
    status, body = await send(client, "GET", f"/v1/routing/versions/{version}")
    assert (status, fields(body)) == (400, {"path.version": VERSION})


async def test_a_version_in_range_that_does_not_exist_is_404(client: Client) -> None:
    status, body = await send(client, "GET", "/v1/routing/versions/2147483647")
    assert (status, list(fields(body))) == (404, ["path.version"])


@pytest.mark.parametrize(("body", "field"), [
    ({"tier": 10}, "body.tier"), ({"tier": 0}, "body.tier"), ({"tier": 10**30}, "body.tier"),
    ({"max_no_answer": 10**6}, "body.max_no_answer"),
])  # fmt: skip
async def test_an_agents_numbers_have_bounds(client: Client, body: dict[str, Any],
                                             field: str) -> None:  # fmt: skip
    agent = {"agent_id": "bob", "name": "Bob", "endpoint": "PJSIP/1002", **body}
    status, reply = await send(client, "POST", "/v1/routing/agents", json.dumps(agent).encode())
    assert (status, list(fields(reply))) == (400, [field])


@pytest.mark.parametrize("priority", [1001, -1001, 10**400])
async def test_a_vip_priority_has_bounds(client: Client, priority: int) -> None:
    vip = json.dumps({"caller_number": "+1555", "priority": priority}).encode()
    status, reply = await send(client, "POST", "/v1/routing/vips", vip)
    assert (status, list(fields(reply))) == (400, ["body.priority"])


async def test_seconds_have_bounds(client: Client) -> None:
    plan = json.dumps([{"name": "all", "after_s": 1e308, "priority_delta": 10**9}]).encode()
    status, reply = await send(client, "PUT", "/v1/routing/queues/claims/plan", plan)
    assert (status, sorted(fields(reply))) == (400, ["body[0].after_s",
                                                     "body[0].priority_delta"])


# --- bodies -----------------------------------------------------------------------------------


def nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


def test_depth_counts_arrays_and_objects_without_recursing() -> None:
    assert [depth(v) for v in (1, "x", [], {}, [1, {"a": [2]}], nested(MAX_DEPTH))] == [
        0, 0, 1, 1, 3, MAX_DEPTH]
    assert depth(nested(100_000)) == MAX_DEPTH + 1  # stops counting once too deep


async def test_a_body_as_deep_as_allowed_is_read_one_level_deeper_is_not(client: Client) -> None:
    ok = json.dumps({"comment": "x", "extra": nested(MAX_DEPTH - 1)}).encode()
    status, body = await send(client, "POST", "/v1/routing/versions/1/restore", ok)
    assert (status, list(fields(body))) == (400, ["body.extra"])  # read, then refused by name
    deeper = json.dumps({"comment": "x", "extra": nested(MAX_DEPTH)}).encode()
    status, body = await send(client, "POST", "/v1/routing/versions/1/restore", deeper)
    assert (status, fields(body)) == (400, {"body": TOO_DEEP})


@pytest.mark.parametrize("raw", [b"1" * 5000, b"\xff\xfe", b"{", b'{"a": NaN}'])
async def test_what_is_not_json_is_a_400(client: Client, raw: bytes) -> None:
    status, body = await send(client, "POST", "/v1/routing/skills", raw)
    assert (status, body["error"], list(fields(body))) == (400, "invalid", ["body"])


# --- text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/calls/c%001", "path.call_id"),
    ("/v1/recordings/r%0a1", "path.recording_id"),
    ("/v1/routing/skills/x%7f", "path.skill_id"),
    ("/v1/routing/audit?path=agents%2F%0d", "query.path"),
    ("/v1/routing/audit?path=%ff", "query.path"),  # not UTF-8: decoded as U+FFFD
])  # fmt: skip
async def test_control_characters_in_paths_and_queries_are_refused(
    client: Client, path: str, field: str
) -> None:
    status, body = await send(client, "GET", path)
    assert (status, list(fields(body))) == (400, [field])


@pytest.mark.parametrize(("body", "field"), [
    ({"skill_id": "s", "name": "bell\x07"}, "body.name"),
    ({"skill_id": "s", "name": "two\nlines"}, "body.name"),
    ({"skill_id": "s", "name": "c1\x85"}, "body.name"),
])  # fmt: skip
async def test_control_characters_in_names_are_refused(client: Client, body: dict[str, str],
                                                       field: str) -> None:  # fmt: skip
    status, reply = await send(client, "POST", "/v1/routing/skills", json.dumps(body).encode())
    assert (status, list(fields(reply))) == (400, [field])


@pytest.mark.parametrize("endpoint", ["PJSIP/1001\r\nAction: Originate", "PJSIP/10 01",
                                      "PJSIP/", "/1001", "PJSIP/1001\x00"])  # fmt: skip
async def test_an_endpoint_is_printable_ascii(client: Client, endpoint: str) -> None:
    agent = {"agent_id": "bob", "name": "Bob", "endpoint": endpoint}
    status, reply = await send(client, "POST", "/v1/routing/agents", json.dumps(agent).encode())
    assert (status, list(fields(reply))) == (400, ["body.endpoint"])


async def test_free_text_keeps_its_lines(client: Client) -> None:
    pause = json.dumps({"reason": "lunch\tbreak"}).encode()
    assert (await send(client, "POST", "/v1/routing/agents/alice/pause", pause))[0] == 400
    comment = json.dumps({"comment": "back to\nthe old plan"}).encode()
    status, body = await send(client, "POST", "/v1/routing/versions/1/restore", comment)
    assert (status, list(fields(body))) == (404, ["path.version"])  # the text was accepted


# --- the last resort --------------------------------------------------------------------------


async def test_an_unexpected_error_is_a_json_500_without_details_logged_under_its_id() -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("secret detail +15550100")

    def room(app: web.Application) -> None:
        app.router.add_get("/v1/broken/{thing}", broken)

    app = assemble(TOKENS, [room], {("GET", "/v1/broken/{thing}"): OPEN})
    async with TestClient(TestServer(app)) as client:
        with capture_logs() as logs:
            async with client.get("/v1/broken/x1") as resp:
                status, body, error_id = resp.status, await resp.json(), resp.headers["X-Error-Id"]
    assert (status, body) == (500, {"error": "internal", "message": "the service failed to "
                                    f"answer; error id {error_id}"})  # fmt: skip
    [line] = [e for e in logs if e["event"] == "http.unhandled"]
    assert (line["error_id"], line["method"], line["route"], line["log_level"]) == (
        error_id, "GET", "/v1/broken/{thing}", "error")
    assert line["exc_info"] is True


@pytest.mark.parametrize(("body", "field"), [
    ({"notes": "ring\x07"}, "body.notes"),
    ({"notes": "nul\x00"}, "body.notes"),
    ({"notes": "c1\x85"}, "body.notes"),
    ({"notes": "x" * 2001}, "body.notes"),
    ({"queue_id": ""}, "body.queue_id"),
    ({"queue_id": "claims\r\nAction: Originate"}, "body.queue_id"),
    ({"queue_id": "two words"}, "body.queue_id"),
    ({"queue_id": "claims/billing"}, "body.queue_id"),
    ({"queue_id": "q" * 129}, "body.queue_id"),
])  # fmt: skip
async def test_a_transfer_has_an_id_for_a_queue_and_text_for_notes(
    client: Client, body: dict[str, str], field: str
) -> None:
    status, reply = await send(client, "POST", "/v1/calls/c1/transfer",
                               json.dumps(body).encode(), Role.AGENT)  # fmt: skip
    assert (status, list(fields(reply))) == (400, [field])


async def test_a_transfer_reads_ids_as_the_routing_api_does_and_notes_keep_their_lines(
    client: Client,
) -> None:
    dotted = json.dumps({"queue_id": "billing.tier-2_x"}).encode()
    status, reply = await send(client, "POST", "/v1/calls/c1/transfer", dotted, Role.AGENT)
    assert (status, reply["error"]) == (422, "unknown_queue")  # a well-formed id, looked up
    notes = json.dumps({"queue_id": "claims", "notes": "asked for\r\nthe\tmanager"}).encode()
    status, reply = await send(client, "POST", "/v1/calls/c1/transfer", notes, Role.AGENT)
    assert (status, reply["error"]) == (404, "not_found")  # read; no such live call here


@pytest.mark.parametrize("username", ["ada\x00", "ada\r\nX-Injected: 1", "ada\x1b[2J", "\x7f",
                                      "u" * 129, ""])  # fmt: skip
async def test_a_login_name_is_one_line_without_control_characters(client: Client,
                                                                   username: str) -> None:
    login = {"username": username, "password": "correct horse battery"}
    async with client.post("/v1/login", json=login) as resp:
        status, reply = resp.status, await resp.json()
    assert (status, list(fields(reply))) == (400, ["body.username"])
