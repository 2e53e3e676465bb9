"""Mounting the supervisor API: a sub-application under /v1/routing plus /v1/openapi.json.

The sub-application's middleware authenticates every request (bearer token, role
`supervisor`) and turns errors into the API's JSON error shape.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web

from kernel.db.errors import DatabaseError, DatabaseUnavailable
from kernel.http.auth import Role
from kernel.http.errors import ApiError, Problem
from routing.api import agents, plans, resources, versions
from routing.api.deps import DEPS, WRITERS, RoutingApiDeps
from routing.api.operations import Handler, Operation, openapi_document, register
from routing.api.request_io import PRINCIPAL
from routing.store import VersionConflict

log = structlog.get_logger(__name__)

PREFIX = "/v1/routing"
OPENAPI_PATH = "/v1/openapi.json"
OPENAPI = web.AppKey("routing_api_openapi", dict[str, Any])


def operations() -> list[Operation]:
    """Every route of the API, in the order the document lists them."""
    found = [op for c in resources.COLLECTIONS for op in resources.operations(c)]
    return [*versions.operations(), *found, *agents.operations(), *plans.operations()]


def add_routing_api(app: web.Application, deps: RoutingApiDeps) -> None:
    """Serve the API under /v1/routing and its OpenAPI document at /v1/openapi.json."""
    ops = operations()
    api = web.Application(middlewares=[_errors, _authenticate])
    api[DEPS] = deps
    api[WRITERS] = asyncio.Lock()
    register(api.router, ops)
    app.add_subapp(PREFIX, api)
    app[OPENAPI] = openapi_document(ops, PREFIX)
    app.router.add_get(OPENAPI_PATH, _openapi)


async def _openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[OPENAPI])


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    who = request.app[DEPS].tokens.principal(request.headers.get("Authorization"))
    if who is None:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    if who.role is not Role.SUPERVISOR:
        raise ApiError(403, "forbidden", f"role {who.role.value!r} may not use the routing "
                       "API; it needs role 'supervisor'")  # fmt: skip
    request[PRINCIPAL] = who
    return await handler(request)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return exc.response(headers)
    except VersionConflict as exc:  # from an agent command racing a save, or a retry limit
        return ApiError(409, "version_conflict", str(exc),
                        [Problem("header.If-Match", str(exc))]).response()  # fmt: skip
    except (DatabaseUnavailable, TimeoutError) as exc:
        log.warning("routing_api.unavailable", path=request.path, error=str(exc))
        return ApiError(503, "unavailable", "the database did not answer in time; nothing "
                        "changed, retry later").response()  # fmt: skip
    except DatabaseError as exc:
        log.error("routing_api.database_error", path=request.path, error=str(exc))
        return ApiError(500, "database_error", "the database refused the operation; nothing "
                        "changed").response()  # fmt: skip
