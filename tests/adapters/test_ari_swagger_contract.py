"""Every ARI Route we call exists in the Swagger files the installed Asterisk ships.

A wrong path, method or parameter name would otherwise only show up as a 404/400 (or, for a
misspelt optional parameter, be silently ignored by Asterisk) during a call.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ari_app.ari.rest import ROUTES, Route

ROOTFS = Path(
    os.environ.get("HOTLINE_ASTERISK_ROOT", Path.home() / ".cache/hotline/asterisk-rootfs")
)
API_DIR = ROOTFS / "usr/share/asterisk/rest-api"

Operations = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def operations() -> Operations:
    """(method, path) → Swagger operation, from every resource file Asterisk ships."""
    if not API_DIR.is_dir():
        pytest.skip(f"no ARI Swagger files in {API_DIR}: run scripts/dev-asterisk build")
    found: Operations = {}
    for path in sorted(API_DIR.glob("*.json")):
        document = json.loads(path.read_text())
        for api in document.get("apis", []):
            for operation in api.get("operations", []):
                found[(operation["httpMethod"], api["path"])] = operation
    assert found, f"no operations found in {API_DIR}"
    return found


def _params(operation: dict[str, Any], kind: str) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["paramType"] == kind}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path_template}")
def test_route_is_declared_with_its_parameters(route: Route, operations: Operations) -> None:
    operation = operations.get((route.method, route.path_template))
    assert operation is not None, (
        f"{route.method} {route.path_template} is not in the Swagger files"
    )
    unknown_query = route.query_params - _params(operation, "query")
    assert not unknown_query, f"query parameters not in Swagger: {unknown_query}"
    unknown_body = route.body_params - _params(operation, "body")
    assert not unknown_body, f"body parameters not in Swagger: {unknown_body}"
    path_names = {name.strip("{}") for name in route.path_template.split("/") if "{" in name}
    assert path_names == _params(operation, "path")


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path_template}")
def test_required_query_parameters_are_always_sent(route: Route, operations: Operations) -> None:
    operation = operations[(route.method, route.path_template)]
    required = {p["name"] for p in operation.get("parameters", [])
                if p["paramType"] == "query" and p.get("required")}  # fmt: skip
    assert required <= route.query_params


def test_routes_are_declared_once() -> None:
    keys = [(r.method, r.path_template) for r in ROUTES]
    assert len(keys) == len(set(keys))
