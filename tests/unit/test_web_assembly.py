"""The web assembly (ari_app/web/): every route served has an access rule and is refused or
let through exactly as the rule says; one error shape for whatever a handler raises; /health,
/ready, /v1/queues, the recordings' routes and the OpenAPI document through the whole app."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ari_app.access.wiring import access_parts
from ari_app.calls.hub import EventHub
from ari_app.calls.registry import LiveJourney
from ari_app.db.database import Database
from ari_app.web.app import WebDeps, assemble, build_web_app
from ari_app.web.auth import ACCESS, OPEN, Access, served_routes
from ari_app.web.pages import ALL_PAGES, PAGE_ROUTES
from kernel.db.errors import DatabaseError, DatabaseUnavailable
from kernel.http.auth import Role, maybe_principal, principal
from kernel.http.errors import ApiError, Problem
from recordings.model import RecordingMeta
from routing.actor import QueueService
from routing.api import RoutingApiDeps
from routing.clock import SimulatedClock
from routing.config import RoutingConfig
from routing.store import VersionConflict
from tests.unit.access_fixtures import fast_passwords
from tests.unit.test_calls_api import CONFIG, T0, TOKENS, FakeLiveCalls, auth, record

STALE = "routing configuration is no longer at version 3"
WHO_NEEDS_A_TOKEN = {"error": "unauthorized",
                     "message": "log in (POST /v1/login), or send Authorization: Bearer <token>"}


class NoAgentCommands:
    async def login(self, agent_id: str, reason: str | None) -> None: ...

    async def logout(self, agent_id: str, reason: str | None) -> None: ...

    async def pause(self, agent_id: str, reason: str | None) -> None: ...

    async def resume(self, agent_id: str, reason: str | None) -> None: ...


async def apply_nothing(config: RoutingConfig) -> None:
    pass


@dataclass
class Site:
    client: TestClient[web.Request, web.Application]
    db: Database
    ready: asyncio.Event
    live: FakeLiveCalls

    async def call(self, method: str, path: str, role: Role | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:  # fmt: skip
        sent = auth(role) | (headers or {})
        async with self.client.request(method, path, headers=sent) as resp:
            body = await resp.json() if resp.content_type == "application/json" else None
            return resp.status, body, resp.headers


@pytest.fixture
async def site(database: Database, tmp_path: Path) -> AsyncIterator[Site]:
    ready, live = asyncio.Event(), FakeLiveCalls()
    routing = RoutingApiDeps(store=database.routing, apply=apply_nothing,
                             agents=NoAgentCommands(), initial_config=lambda: CONFIG)
    app = build_web_app(WebDeps(
        db=database, hub=EventHub(), live=live, queues=QueueService(CONFIG, SimulatedClock(1.0)),
        routing=routing, tokens=TOKENS, ready=ready, recordings_dir=tmp_path / "store",
        access=access_parts(database.units, passwords=fast_passwords())))  # fmt: skip
    async with TestClient(TestServer(app)) as client:
        yield Site(client, database, ready, live)


# --- the access table -----------------------------------------------------------------------


async def test_every_route_served_has_an_access_rule_and_every_rule_a_route(site: Site) -> None:
    assert site.client.app is not None
    served = served_routes(site.client.app)
    assert served - set(ACCESS) == set(), "routes without an access rule (refused with 403)"
    assert set(ACCESS) - served == set(), "access rules for routes nobody serves"


def concrete(pattern: str) -> str:
    for pages in ALL_PAGES:  # an asset folder answers for its files (the folder itself: 403)
        if pattern == pages.static_prefix:
            return f"{pattern}/{next(iter(pages.pages.values()))}"
    return re.sub(r"\{[^}]+\}", "x1", pattern)


@pytest.mark.parametrize(("method", "pattern"), sorted(ACCESS))
async def test_each_route_lets_through_exactly_whom_its_rule_names(
    site: Site, method: str, pattern: str
) -> None:
    rule, path = ACCESS[(method, pattern)], concrete(pattern)
    status, body, headers = await site.call(method, path)
    if rule.roles is None:
        assert status not in (401, 403), (status, body)
        # A wrong token is ignored where none is needed.
        status, _, _ = await site.call(method, path, headers={"Authorization": "Bearer nope"})
        assert status not in (401, 403)
        return
    assert (status, body, headers["WWW-Authenticate"]) == (401, WHO_NEEDS_A_TOKEN, "Bearer")
    status, body, _ = await site.call(method, path, headers={"Authorization": "Bearer nope"})
    assert (status, body) == (401, WHO_NEEDS_A_TOKEN)
    for role in Role:
        status, body, _ = await site.call(method, path, role)
        if role in rule.roles:
            assert status not in (401, 403), (role, status, body)
        else:
            assert (status, body["error"]) == (403, "forbidden"), (role, status, body)
            assert body["message"].startswith(f"role '{role.value}' may not use {rule.what}")


AGENT, SUPERVISOR, QA, ADMIN, AUDITOR = (Role.AGENT, Role.SUPERVISOR, Role.QA, Role.ADMIN,
                                        Role.AUDITOR)
ROUTE_ROLES: dict[str, set[Role] | None] = {  # the README's table; routing API apart
    "GET /health": None, "GET /ready": None, "GET /v1/openapi.json": None,
    "POST /v1/login": None, "POST /v1/logout": set(Role), "GET /v1/session": set(Role),
    "GET /metrics": None,  # open: the route checks its own scrape token (ari_app/metrics.py)
    "GET /v1/audit/recordings": {AUDITOR, ADMIN},
    "GET /v1/calls": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/calls/{call_id}": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/calls/{call_id}/handoff": {AGENT, SUPERVISOR, ADMIN},
    "GET /v1/events": {AGENT, SUPERVISOR, ADMIN},
    "POST /v1/calls/{call_id}/transfer": {AGENT, SUPERVISOR},
    "POST /v1/calls/{call_id}/recording/mute": {AGENT, SUPERVISOR},
    "DELETE /v1/calls/{call_id}/recording/mute": {AGENT, SUPERVISOR},
    "GET /v1/calls/{call_id}/decisions": {AGENT, SUPERVISOR, ADMIN},
    # supervisors on live calls (ari_app/calls/monitoring/), and the audit of it
    **{route: {SUPERVISOR, ADMIN} for route in (
        "POST /v1/calls/{call_id}/monitor", "GET /v1/calls/{call_id}/monitor",
        "PATCH /v1/calls/{call_id}/monitor/{monitor_id}",
        "DELETE /v1/calls/{call_id}/monitor/{monitor_id}")},
    "GET /v1/audit/monitors": {AUDITOR, ADMIN},
    "POST /v1/calls/{call_id}/disposition": {AGENT, SUPERVISOR, ADMIN},  # the agents' desk
    "GET /v1/dispositions": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/me/agent": {AGENT}, "POST /v1/me/agent/login": {AGENT},
    "POST /v1/me/agent/logout": {AGENT}, "POST /v1/me/agent/pause": {AGENT},
    "POST /v1/me/agent/resume": {AGENT},
    "GET /v1/recordings/{recording_id}": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/recordings/{recording_id}/audio": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/queues": {SUPERVISOR, ADMIN},
    "GET /v1/wallboard": {SUPERVISOR, ADMIN}, "GET /v1/wallboard/stream": {SUPERVISOR, ADMIN},
    "GET /v1/routing/audit": {SUPERVISOR, ADMIN, AUDITOR},
    "POST /v1/reports/whatif": {SUPERVISOR, ADMIN},  # scoped in the route: their queues
    # QA (recordings/qa/)
    "GET /v1/recordings": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/recordings/{recording_id}/timeline": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/recordings/{recording_id}/peaks": {AGENT, SUPERVISOR, QA, ADMIN},
    **{route: {SUPERVISOR, QA, ADMIN} for route in (
        "GET /v1/recordings/{recording_id}/comments", "POST /v1/recordings/{recording_id}/comments",
        "POST /v1/recordings/{recording_id}/training", "GET /v1/qa/training", "GET /v1/qa/forms",
        "GET /v1/qa/forms/{form_id}", "GET /v1/qa/forms/{form_id}/versions/{version}",
        "POST /v1/recordings/{recording_id}/evaluations",
        "GET /v1/recordings/{recording_id}/calibration",
        "POST /v1/qa/evaluations/{evaluation_id}/release",
        "POST /v1/qa/evaluations/{evaluation_id}/resolve")},
    "POST /v1/qa/forms": {QA, ADMIN},
    "GET /v1/recordings/{recording_id}/evaluations": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/qa/evaluations": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/qa/evaluations/{evaluation_id}": {AGENT, SUPERVISOR, QA, ADMIN},
    "POST /v1/qa/evaluations/{evaluation_id}/dispute": {AGENT},
    "GET /v1/audit/listens": {AUDITOR, ADMIN},
    "POST /v1/recordings/{recording_id}/plays": {AGENT, SUPERVISOR, QA, ADMIN},
    "GET /v1/audit/plays": {AUDITOR, ADMIN},
    # retention, legal holds and deletion (recordings/retention/)
    "DELETE /v1/recordings/{recording_id}": {ADMIN},
    "GET /v1/recordings/{recording_id}/hold": {AUDITOR, ADMIN},
    "POST /v1/recordings/{recording_id}/hold": {ADMIN},
    "DELETE /v1/recordings/{recording_id}/hold": {ADMIN},
    "GET /v1/audit/holds": {AUDITOR, ADMIN},
    "GET /v1/audit/deletions": {AUDITOR, ADMIN},
    # the knowledge editors (knowledge_client/editors/)
    **{route: {Role.EDITOR, ADMIN} for route in (
        "GET /v1/knowledge/questions", "POST /v1/knowledge/questions/{question_id}/handled",
        "POST /v1/knowledge/questions/{question_id}/variant",
        "POST /v1/knowledge/questions/{question_id}/answer", "GET /v1/knowledge/faq",
        "GET /v1/knowledge/faq/edits")},
    # console pages and assets: open, they carry no data (ari_app/web/pages.py)
    **{f"{method} {path}": None for method, path in PAGE_ROUTES},
}


def test_todays_access_rules() -> None:
    """Deny by default: open only health, readiness, the OpenAPI document and logging in."""
    for (method, path), rule in ACCESS.items():
        expected = ROUTE_ROLES.get(f"{method} {path}", {SUPERVISOR, ADMIN})
        assert rule.roles == (None if expected is None else frozenset(expected)), (method, path)
        if path.startswith("/v1/routing/") and path != "/v1/routing/audit":
            assert rule.what == "the routing API"
    assert {f"{m} {p}" for m, p in ACCESS} >= set(ROUTE_ROLES)


async def test_the_routing_api_refusal_names_the_roles_it_needs(site: Site) -> None:
    status, body, _ = await site.call("GET", "/v1/routing/config", Role.QA)
    assert (status, body) == (403, {"error": "forbidden", "message": "role 'qa' may not use the "
                                    "routing API; it needs one of the roles 'admin', "
                                    "'supervisor'"})  # fmt: skip
    status, body, _ = await site.call("GET", "/v1/routing/config", Role.SUPERVISOR)
    assert (status, body["version"]) == (200, 0)


Route = Callable[[web.Request], Any]


def serving(routes: dict[str, Route], access: dict[tuple[str, str], Access] | None = None,
            sub: dict[str, Route] | None = None) -> TestClient[web.Request, web.Application]:
    """An assembled app with GET routes; `sub` ones in a sub-application under /v1/sub."""

    def room(app: web.Application) -> None:
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        if sub:
            inner = web.Application()
            for path, handler in sub.items():
                inner.router.add_get(path, handler)
            app.add_subapp("/v1/sub", inner)

    table = access if access is not None else {("GET", path): OPEN for path in routes}
    return TestClient(TestServer(assemble(TOKENS, [room], table)))


async def whoami(request: web.Request) -> web.Response:
    who = maybe_principal(request)
    return web.json_response(None if who is None else [who.actor, who.role.value])


async def test_a_route_missing_from_the_table_is_refused_even_for_a_supervisor() -> None:
    access = {("GET", "/v1/listed"): OPEN}
    async with serving({"/v1/listed": whoami, "/v1/forgotten": whoami}, access,
                       sub={"/inner": whoami}) as client:  # fmt: skip
        assert (await client.get("/v1/listed")).status == 200
        for path in ("/v1/forgotten", "/v1/sub/inner"):
            for role in (None, *Role):
                resp = await client.get(path, headers=auth(role))
                body = await resp.json()
                assert (resp.status, body["error"]) == (403, "forbidden")
                assert body["message"] == f"GET {path} is in no access rule; nobody may call it"


async def test_the_principal_is_on_the_request_for_the_rooms() -> None:
    async def mine(request: web.Request) -> web.Response:
        return web.json_response(principal(request).actor)

    access = {("GET", "/open"): OPEN, ("GET", "/mine"): Access(frozenset({Role.AUDITOR})),
              ("GET", "/v1/sub/inner"): Access(frozenset({Role.QA}))}  # fmt: skip
    async with serving({"/open": whoami, "/mine": mine}, access, sub={"/inner": whoami}) as c:
        assert await (await c.get("/open")).json() is None
        resp = await c.get("/open", headers=auth(Role.QA))
        assert await resp.json() == ["qa", "qa"]
        assert await (await c.get("/mine", headers=auth(Role.AUDITOR))).json() == "auditor"
        resp = await c.get("/v1/sub/inner", headers=auth(Role.QA))  # parent middleware ran
        assert (resp.status, await resp.json()) == (200, ["qa", "qa"])
        assert (await c.get("/v1/sub/inner")).status == 401


# --- one error shape ----------------------------------------------------------------------


def raising(exc: BaseException) -> Route:
    async def handler(request: web.Request) -> web.Response:
        raise exc

    return handler


@pytest.mark.parametrize(("exc", "status", "body"), [
    (ApiError(422, "rejected", "no", [Problem("body.plan[0]", "bad")]), 422,
     {"error": "rejected", "message": "no", "problems": [{"field": "body.plan[0]",
                                                          "message": "bad"}]}),
    (ApiError(404, "not_found", "no call x"), 404, {"error": "not_found", "message": "no call x"}),
    (VersionConflict(3), 409,
     {"error": "version_conflict", "message": STALE,
      "problems": [{"field": "header.If-Match", "message": STALE}]}),
    (DatabaseUnavailable("db down"), 503, {"error": "unavailable", "message": "the database did "
                                           "not answer in time; nothing changed, retry later"}),
    (TimeoutError(), 503, {"error": "unavailable", "message": "the database did not answer in "
                           "time; nothing changed, retry later"}),
    (DatabaseError("refused"), 500, {"error": "database_error", "message": "the database "
                                     "refused the operation; nothing changed"}),
])  # fmt: skip
async def test_what_handlers_raise_leaves_as_one_json_shape(
    exc: BaseException, status: int, body: dict[str, Any]
) -> None:
    async with serving({"/boom": raising(exc)}) as client:
        resp = await client.get("/boom")
        assert (resp.status, await resp.json()) == (status, body)
        assert "WWW-Authenticate" not in resp.headers


async def test_a_401_raised_by_a_handler_asks_for_a_bearer_token() -> None:
    async with serving({"/who": raising(ApiError(401, "unauthorized", "who?"))}) as client:
        resp = await client.get("/who")
        assert (resp.status, resp.headers["WWW-Authenticate"]) == (401, "Bearer")


async def test_no_such_route_or_method_is_json_too(site: Site) -> None:
    status, body, _ = await site.call("GET", "/v1/nothing-here")
    assert (status, body["error"]) == (404, "not_found")
    status, body, headers = await site.call("DELETE", "/v1/calls")
    assert (status, body["error"], headers["Allow"]) == (405, "method_not_allowed", "GET,HEAD")
    status, body, _ = await site.call("GET", "/v1/routing/nothing", Role.SUPERVISOR)
    assert (status, body["error"]) == (404, "not_found")


# --- health, queues, OpenAPI, recordings through the whole app ------------------------------


async def test_health_and_ready_from_the_ready_event_alone(site: Site) -> None:
    """WebDeps without `health` (tests/unit/test_health.py has every component's states):
    ARI from the event, the database really pinged, AMI taken as connected."""
    site.live.journeys["c1"] = LiveJourney(record("c1"), ())
    status, body, _ = await site.call("GET", "/health")
    assert (status, body) == (503, {"status": "degraded", "ari": "disconnected",
                                    "ami": "connected", "database": "ok",
                                    "active_calls": 1})  # fmt: skip
    status, body, _ = await site.call("GET", "/ready")
    assert (status, body) == (503, {"ready": False, "reason": "ARI is disconnected"})
    site.ready.set()
    status, body, _ = await site.call("GET", "/health")
    assert (status, body) == (200, {"status": "ok", "ari": "connected", "ami": "connected",
                                    "database": "ok", "active_calls": 1})  # fmt: skip
    status, body, _ = await site.call("GET", "/ready")
    assert (status, body) == (200, {"ready": True, "reason": "accepting calls"})


async def test_queues_show_the_queue_actors_live_view(site: Site) -> None:
    status, body, _ = await site.call("GET", "/v1/queues", Role.SUPERVISOR)
    assert status == 200
    assert [q["queue_id"] for q in body["queues"]] == ["claims"]
    assert [(a["agent_id"], a["status"], a["state"]) for a in body["agents"]] == [
        ("alice", "available", "idle")]
    assert body["waiting"] == []


async def test_the_openapi_document_is_open(site: Site) -> None:
    status, body, _ = await site.call("GET", "/v1/openapi.json")
    assert (status, body["openapi"]) == (200, "3.1.0")
    assert "/v1/routing/config" in body["paths"]


async def test_a_recording_its_audio_or_why_not(site: Site, tmp_path: Path) -> None:
    audio = tmp_path / "store/2025/03/01/r1.wav"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"RIFF-audio")
    await site.db.calls.start(record("c1"))
    for recording_id, path in (("r1", audio), ("r2", audio.with_name("gone.wav"))):
        await site.db.recordings.add(RecordingMeta(recording_id, "c1", "claims", "alice", T0,
                                                   3.0, "wav", 10, "0" * 64, str(path)))
    status, body, _ = await site.call("GET", "/v1/recordings/r1", Role.QA)
    assert (status, body["call_id"], body["started_at"]) == (200, "c1", T0.isoformat())
    assert (body["audio"], "path" in body) == ("/v1/recordings/r1/audio", False)
    async with site.client.get("/v1/recordings/r1/audio", headers=auth(Role.QA)) as resp:
        assert (resp.status, await resp.read()) == (200, b"RIFF-audio")
    status, body, _ = await site.call("GET", "/v1/recordings/r2/audio", Role.QA)
    assert (status, body) == (410, {"error": "file_missing",
                                    "message": "recording file is gone: r2"})  # fmt: skip
    for path in ("/v1/recordings/r9", "/v1/recordings/r9/audio"):
        status, body, _ = await site.call("GET", path, Role.QA)
        assert (status, body["problems"]) == (404, [{"field": "path.recording_id",
                                                     "message": "no recording r9"}])

