"""Mounting the supervisor API: a sub-application under /v1/routing plus /v1/openapi.json.

The sub-application has no middleware of its own: the service's one authentication middleware
(role `supervisor` for every route here, per its access table) and its one error middleware
run for sub-application routes too, so handlers raise `ApiError` and read `principal(request)`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from kernel.http.openapi import Route
from routing.api import agents, live, plans, resources, versions
from routing.api.deps import DEPS, WRITERS, RoutingApiDeps
from routing.api.operations import Operation, openapi_document, register

PREFIX = "/v1/routing"
OPENAPI_PATH = "/v1/openapi.json"
OPENAPI = web.AppKey("routing_api_openapi", dict[str, Any])


def operations() -> list[Operation]:
    """Every route of the API, in the order the document lists them."""
    found = [op for c in resources.COLLECTIONS for op in resources.operations(c)]
    return [*versions.operations(), *found, *agents.operations(), *plans.operations()]


def routes() -> list[Route]:
    """The routing room's routes for the service's one OpenAPI document: the supervisor API,
    the live view and the document itself."""
    document = Route("GET", OPENAPI_PATH, "This document: every route the service serves",
                     "openapi", {"type": "object", "required": ["openapi", "paths"]})
    return [*(op.route(PREFIX) for op in operations()), *live.routes(), document]


def add_routing_api(app: web.Application, deps: RoutingApiDeps) -> None:
    """Serve the API under /v1/routing, and at /v1/openapi.json the document the app holds
    under `OPENAPI`: this API's own, until the service puts its whole document there."""
    ops = operations()
    api = web.Application()
    api[DEPS] = deps
    api[WRITERS] = asyncio.Lock()
    register(api.router, ops)
    app.add_subapp(PREFIX, api)
    app[OPENAPI] = openapi_document(ops, PREFIX)
    app.router.add_get(OPENAPI_PATH, _openapi)


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])
