"""The service's one OpenAPI document (ari_app/web/openapi.py): exactly the routes the app serves,
each with who may call it as the access table says, every reference resolved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from ari_app.db.database import Database
from ari_app.web.app import assemble
from ari_app.web.auth import ACCESS, served_routes
from ari_app.web.openapi import documented, publish_openapi, whole_document
from routing.api.app import OPENAPI_PATH
from tests.unit.test_api_inputs import whole_app
from tests.unit.test_calls_api import TOKENS


@pytest.fixture
async def app(database: Database) -> AsyncIterator[web.Application]:
    yield whole_app(database)


def test_the_document_covers_exactly_the_routes_the_app_serves(app: web.Application) -> None:
    doc = whole_document()
    served = served_routes(app)
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
                assert spec["security"] == [{"bearer": []}]
                assert {"401", "403"} <= set(spec["responses"]), (method, path)
            assert "400" in spec["responses"], (method, path)  # every request is checked


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
