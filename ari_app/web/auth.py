"""The service's one authentication middleware and its access table: who may call which route.

Every route the app serves, the rooms' sub-applications' included, is looked up in `ACCESS` by
(method, path pattern) — e.g. `("POST", "/v1/calls/{call_id}/transfer")`. An entry is either
`OPEN` (no token needed) or the roles allowed; a route without an entry is refused with 403, so
nothing is open by accident. A needed token is read from `Authorization: Bearer <token>` through
the `TokenTable`; the caller's principal is stored under `kernel.http.auth.PRINCIPAL`, where
rooms read it with `principal(request)`. On open routes a valid token is resolved too, an
invalid one ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from kernel.http.auth import PRINCIPAL, Role, TokenTable
from kernel.http.errors import ApiError
from routing.api.app import OPENAPI_PATH
from routing.api.app import PREFIX as ROUTING_PREFIX
from routing.api.app import operations as routing_operations

RouteKey = tuple[str, str]  # (method, path pattern as aiohttp's resource.canonical has it)


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[Role] | None  # None: open to anyone, without a token
    what: str = "this route"  # how a refusal names what was refused


OPEN = Access(None)
SUPERVISOR_API = Access(frozenset({Role.SUPERVISOR}), "the routing API")
CALL_ACTIONS = Access(frozenset({Role.AGENT, Role.SUPERVISOR}), "call actions")
CALL_READERS = Access(frozenset({Role.AGENT, Role.SUPERVISOR, Role.VIEWER}), "call decisions")

ACCESS: Mapping[RouteKey, Access] = {
    ("GET", "/health"): OPEN,
    ("GET", "/ready"): OPEN,
    ("GET", OPENAPI_PATH): OPEN,
    # the calls room
    ("GET", "/v1/calls"): OPEN,
    ("GET", "/v1/calls/{call_id}"): OPEN,
    ("GET", "/v1/calls/{call_id}/handoff"): OPEN,
    ("GET", "/v1/events"): OPEN,
    ("POST", "/v1/calls/{call_id}/transfer"): CALL_ACTIONS,
    ("GET", "/v1/calls/{call_id}/decisions"): CALL_READERS,
    # the recordings room
    ("GET", "/v1/recordings/{recording_id}"): OPEN,
    ("GET", "/v1/recordings/{recording_id}/audio"): OPEN,
    # the routing room: its live view, and the supervisor API (supervisors only, every one of
    # its operations: the same list its router and OpenAPI document are built from)
    ("GET", "/v1/queues"): OPEN,
    **{(op.method, ROUTING_PREFIX + op.path): SUPERVISOR_API for op in routing_operations()},
}  # fmt: skip


def route_key(route: web.AbstractRoute) -> RouteKey | None:
    """The access table's key for a route; None for aiohttp's own (no match, bad method)."""
    resource = route.resource
    if resource is None:
        return None
    method = "GET" if route.method == "HEAD" else route.method  # HEAD is GET without a body
    return method, resource.canonical


def served_routes(app: web.Application) -> set[RouteKey]:
    """Every (method, path pattern) the app serves, its sub-applications' included."""
    found: set[RouteKey] = set()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            found |= served_routes(resource.get_info()["app"])
            continue
        found |= {key for route in resource
                  if route.method != "OPTIONS" and (key := route_key(route)) is not None}
    return found


def authenticate(tokens: TokenTable, access: Mapping[RouteKey, Access] = ACCESS) -> Middleware:
    """The middleware enforcing `access` with `tokens`; raises ApiError 401/403."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        match = request.match_info
        key = None if match.http_exception is not None else route_key(match.route)
        if key is None:  # no such route or method: aiohttp answers 404/405
            return await handler(request)
        rule = access.get(key)
        if rule is None:
            raise ApiError(403, "forbidden", f"{key[0]} {key[1]} is in no access rule; "
                           "nobody may call it")  # fmt: skip
        who = tokens.principal(request.headers.get("Authorization"))
        if rule.roles is not None:
            if who is None:
                raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
            if who.role not in rule.roles:
                raise ApiError(403, "forbidden", f"role {who.role.value!r} may not use "
                               f"{rule.what}; it needs {_roles(rule.roles)}")  # fmt: skip
        if who is not None:
            request[PRINCIPAL] = who
        return await handler(request)

    return middleware


def _roles(roles: frozenset[Role]) -> str:
    names = sorted(repr(r.value) for r in roles)
    return f"role {names[0]}" if len(names) == 1 else "one of the roles " + ", ".join(names)
