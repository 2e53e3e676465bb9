"""The service's one OpenAPI document (ari_app/web/openapi.py): exactly the routes the app serves,
each with who may call it as the access table says, every reference resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from ari_app.access.sessions import CSRF_HEADER, SessionPolicy
from ari_app.db.database import Database
from ari_app.web.app import assemble
from ari_app.web.auth import ACCESS, SAFE_METHODS, served_routes
from ari_app.web.openapi import documented, publish_openapi, whole_document
from ari_app.web.pages import PAGE_ROUTES
from kernel.http.openapi import Route, document
from recordings.api import recording_json
from recordings.model import RecordingMeta
from recordings.openapi import RecordingOut
from routing.api.app import OPENAPI_PATH
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_calls_api import TOKENS


@pytest.fixture
async def app(database: Database) -> AsyncIterator[web.Application]:
    yield whole_app(database)


def test_the_document_covers_exactly_the_routes_the_app_serves(app: web.Application) -> None:
    doc = whole_document()
    served = served_routes(app) - PAGE_ROUTES  # pages are not API operations
    assert served - documented(doc) == set(), "served but not documented"
    assert documented(doc) - served == set(), "documented but not served"


def test_who_may_call_each_route_is_the_access_tables_answer() -> None:
    doc = whole_document()
    for path, ops in doc["paths"].items():
        for method, spec in ops.items():
            rule = ACCESS[(method.upper(), path)]
            if rule.roles is None:
                assert (spec["security"], "x-roles" in spec) == ([], False), (method, path)
            else:
                assert spec["x-roles"] == sorted(r.value for r in rule.roles), (method, path)
                assert spec["security"] == (SAFE if method.upper() in SAFE_METHODS
                                            else CHANGING), (method, path)  # fmt: skip
                assert {"401", "403"} <= set(spec["responses"]), (method, path)
            assert "400" in spec["responses"], (method, path)  # every request is checked


SAFE = [{"bearer": []}, {"session": []}, {"host_session": []}]
CHANGING = [{"bearer": []}, {"session": [], "csrf": []}, {"host_session": [], "csrf": []}]


def test_the_security_schemes_are_what_the_middleware_takes() -> None:
    """A bearer token, or the session cookie by either of its names (loopback or not), and
    the CSRF header with the cookie on requests that change something."""
    schemes = whole_document()["components"]["securitySchemes"]
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")
    cookies = {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()
               if name != "bearer"}  # fmt: skip
    assert cookies == {
        "session": ("apiKey", "cookie", SessionPolicy(secure_cookie=False).cookie_name),
        "host_session": ("apiKey", "cookie", SessionPolicy(secure_cookie=True).cookie_name),
        "csrf": ("apiKey", "header", CSRF_HEADER),
    }
    assert (cookies["session"][2], cookies["host_session"][2], CSRF_HEADER) == (
        "hotline_session", "__Host-hotline_session", "X-CSRF-Token")
    assert all(s.get("description") for s in schemes.values())


def test_a_route_that_needs_credentials_takes_a_session_cookie_too() -> None:
    paths = whole_document()["paths"]
    assert paths["/v1/calls"]["get"]["security"] == SAFE
    assert paths["/v1/events"]["get"]["security"] == SAFE  # the WebSocket too
    assert paths["/v1/calls/{call_id}/transfer"]["post"]["security"] == CHANGING
    assert paths["/v1/logout"]["post"]["security"] == CHANGING
    assert paths["/v1/login"]["post"]["security"] == []  # open


def test_a_security_requirement_naming_no_scheme_is_refused() -> None:
    route = Route("GET", "/x", "x", "x")
    with pytest.raises(ValueError, match=r"GET /x: no security scheme \['cookie'\]"):
        document([route], title="t", description="d", roles=lambda _r: ["admin"],
                 security=lambda _r: [{"cookie": []}])  # fmt: skip
    assert document([route], title="t", description="d", roles=lambda _r: None,
                    security=lambda _r: [{"cookie": []}])["paths"]["/x"]["get"]["security"] == []


def test_a_recordings_details_are_documented_field_for_field() -> None:
    """What `recording_json` answers (in /v1/recordings/{id} and a call's details) is exactly
    RecordingOut: the audio link included, no server path."""
    meta = RecordingMeta("r1", "c1", "claims", "alice", datetime.now(UTC), 4.0, "wav", 64000,
                         "0" * 64, "/var/lib/hotline/recordings/r1.wav")  # fmt: skip
    shown = recording_json(meta)
    assert set(shown) == set(RecordingOut.model_fields)
    assert RecordingOut.model_validate(shown).audio == "/v1/recordings/r1/audio"
    detail = whole_document()["components"]["schemas"]["CallDetailOut"]
    assert detail["properties"]["recordings"]["items"] == {
        "$ref": "#/components/schemas/RecordingOut"}


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values()
                                                              for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_every_reference_resolves_and_every_operation_is_named_once() -> None:
    doc = whole_document()
    schemas = doc["components"]["schemas"]
    assert {r.removeprefix("#/components/schemas/") for r in refs(doc)} <= set(schemas)
    ids = [spec["operationId"] for ops in doc["paths"].values() for spec in ops.values()]
    assert len(ids) == len(set(ids))
    params = {(p["in"], p["name"]) for ops in doc["paths"].values() for spec in ops.values()
              for p in spec.get("parameters", [])}  # fmt: skip
    assert ("path", "version") in params and ("query", "limit") in params


def test_path_parameters_match_the_path() -> None:
    for path, ops in whole_document()["paths"].items():
        named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for spec in ops.values():
            given = {p["name"] for p in spec.get("parameters", []) if p["in"] == "path"}
            assert given == named, path


async def test_the_service_serves_the_whole_document(app: web.Application) -> None:
    """`build_web_app` publishes it once its rooms are added."""
    async with TestClient(TestServer(app)) as client, client.get(OPENAPI_PATH) as resp:
        assert (resp.status, await resp.json()) == (200, whole_document())


def test_publishing_on_an_app_without_every_room_logs_the_drift() -> None:
    async def nothing(request: web.Request) -> web.Response:
        return web.json_response(None)

    def room(app: web.Application) -> None:
        app.router.add_get("/v1/extra", nothing)

    app = assemble(TOKENS, [room], {})
    with capture_logs() as logs:
        doc = publish_openapi(app)
    [drift] = [e for e in logs if e["event"] == "http.openapi_drift"]
    assert drift["undocumented"] == ["GET /v1/extra"]
    assert f"GET {OPENAPI_PATH}" in drift["not_served"]
    assert "/health" in doc["paths"]
