"""Routes described as data, and the OpenAPI 3.1 document written from them.

Each room lists its routes (`Route`) next to where it registers them; the service merges every
room's list into one document (`ari_app/web/openapi.py`), and a test compares that document
with what the app serves. Who may call a route is not the room's to say: the document is
written with a `roles` function, which the service answers from its one access table, and with
the credentials a route takes (`schemes` and `security`: a bearer token unless told otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kernel.http.errors import ErrorOut

REF = "#/components/schemas/{model}"
Schema = Mapping[str, Any]
STRING: Schema = {"type": "string"}


@dataclass(frozen=True, slots=True)
class Param:
    """A path, query or header parameter. Path parameters a route does not list are strings."""

    name: str
    where: Literal["path", "query", "header"]
    description: str = ""
    schema: Schema = field(default_factory=lambda: dict(STRING))
    required: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One (method, path) as the document describes it."""

    method: str
    path: str  # as served, e.g. "/v1/calls/{call_id}"
    summary: str
    tag: str
    response: type[BaseModel] | Schema | None = None  # a model, or a JSON schema
    status: int = 200
    media_type: str = "application/json"  # of the success response
    body: type[BaseModel] | None = None
    body_content: Mapping[str, Schema] | None = None  # media type -> schema, instead of `body`
    body_required: bool = True
    errors: tuple[int, ...] = ()  # statuses besides 400 (every route) and 401/403 (roles)
    same_shape: tuple[int, ...] = ()  # statuses answered in the success shape (/health's 503)
    params: tuple[Param, ...] = ()
    description: str = ""


ERROR_TEXT = {
    400: "invalid request: each problem names its field (body.…, path.…, query.…, header.…)",
    401: "no or unknown credentials",
    403: "the caller's role may not use this route",
    404: "no such resource (or not one the caller may see)",
    409: "conflict: already exists, version changed (If-Match), or the state forbids it",
    410: "gone: the resource's file no longer exists",
    413: "the body is too large",
    415: "the body is not of the media type the route takes",
    422: "rejected: the request is well formed but cannot be carried out; problems say why",
    429: "too many attempts: retry after the Retry-After header's seconds",
    503: "a dependency (database, routing engine, Asterisk) is not available; nothing changed",
}
SUCCESS_TEXT = {101: "switching protocols", 201: "created", 202: "accepted", 204: "done"}

Roles = Callable[[Route], Iterable[str] | None]  # None: open to anyone
# The security requirements of a route that needs credentials: any one of the entries, each
# entry's schemes together (e.g. a session cookie and its CSRF header).
Requirements = list[dict[str, list[str]]]
Security = Callable[[Route], Requirements]
BEARER: Mapping[str, Schema] = {"bearer": {"type": "http", "scheme": "bearer"}}


def bearer_only(_route: Route) -> Requirements:
    return [{"bearer": []}]


def document(routes: Sequence[Route], *, title: str, description: str, roles: Roles,
             schemes: Mapping[str, Schema] = BEARER,
             security: Security = bearer_only) -> dict[str, Any]:  # fmt: skip
    """The OpenAPI 3.1 document of `routes`; `roles(route)` says who may call each one, and
    `security(route)` with which of the `schemes` (for routes that are not open)."""
    models = {m for r in routes for m in (r.body, r.response)
              if isinstance(m, type) and issubclass(m, BaseModel)}  # fmt: skip
    models.add(ErrorOut)
    ordered = sorted(models, key=lambda m: (m.__name__, m.__module__))
    refs, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    ref = {model: dict(refs[(model, "validation")]) for model in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        who = roles(route)
        needs = [] if who is None else security(route)
        unknown = {name for entry in needs for name in entry} - set(schemes)
        if unknown:
            raise ValueError(f"{route.method} {route.path}: no security scheme {sorted(unknown)}")
        spec = _operation(route, ref, None if who is None else sorted(who), needs)
        paths.setdefault(route.path, {})[route.method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1", "description": description},
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {name: dict(scheme) for name, scheme in schemes.items()},
        },
    }


def _operation(route: Route, ref: Mapping[type[BaseModel], Schema], roles: list[str] | None,
               security: Requirements) -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": operation_id(route.method, route.path),
        "responses": {str(route.status): _success(route, ref), **_errors(route, ref, roles)},
    }
    if route.description:
        spec["description"] = route.description
    spec["security"] = security  # open: [], no credentials needed
    if roles is not None:
        spec["x-roles"] = roles
    if params := _params(route):
        spec["parameters"] = params
    if route.body_content is not None:
        content = {media: {"schema": dict(s)} for media, s in route.body_content.items()}
        spec["requestBody"] = {"required": route.body_required, "content": content}
    elif route.body is not None:
        spec["requestBody"] = {"required": route.body_required,
                               "content": {"application/json": {"schema": ref[route.body]}}}
    return spec


def operation_id(method: str, path: str) -> str:
    """`GET /v1/calls/{call_id}` -> `get_v1_calls_call_id`."""
    return f"{method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', path)}".rstrip("_")


def _params(route: Route) -> list[dict[str, Any]]:
    listed = {(p.where, p.name) for p in route.params}
    implicit = [Param(name, "path", required=True) for name in re.findall(r"{(\w+)}", route.path)
                if ("path", name) not in listed]  # fmt: skip
    found = []
    for p in (*implicit, *route.params):
        spec: dict[str, Any] = {"name": p.name, "in": p.where,
                                "required": p.required or p.where == "path",
                                "schema": dict(p.schema)}  # fmt: skip
        if p.description:
            spec["description"] = p.description
        found.append(spec)
    return found


def _success(route: Route, ref: Mapping[type[BaseModel], Schema]) -> dict[str, Any]:
    text = SUCCESS_TEXT.get(route.status, "success")
    if route.response is None:
        return {"description": text}
    schema = (ref[route.response] if isinstance(route.response, type)
              else dict(route.response))  # fmt: skip
    return {"description": text, "content": {route.media_type: {"schema": schema}}}


def _errors(route: Route, ref: Mapping[type[BaseModel], Schema],
            roles: list[str] | None) -> dict[str, Any]:  # fmt: skip
    codes = {400, *route.errors} | (set() if roles is None else {401, 403})
    found = {str(code): {"description": ERROR_TEXT[code],
                         "content": {"application/json": {"schema": ref[ErrorOut]}}}
             for code in sorted(codes)}  # fmt: skip
    for code in route.same_shape:
        text = ERROR_TEXT.get(code) or SUCCESS_TEXT.get(code, "success")
        found[str(code)] = {**_success(route, ref), "description": text}
    return found
