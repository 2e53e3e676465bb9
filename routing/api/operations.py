"""The API's operations as data: one list registers the routes and writes the OpenAPI document.

Describing each route once, where it is registered, keeps the document from drifting from what
is served; a test also compares the document with the application's router.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from routing.api.schemas import ErrorOut

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REF = "#/components/schemas/{model}"


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # under the API prefix, e.g. "/skills/{skill_id}"
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False  # the response is {"version", "items": [response]}
    status: int = 200
    if_match: bool = False
    errors: tuple[int, ...] = ()
    query: tuple[Query, ...] = ()


def register(router: web.UrlDispatcher, operations: Sequence[Operation]) -> None:
    for op in operations:
        router.add_route(op.method, op.path, op.handler)


def openapi_document(operations: Sequence[Operation], prefix: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document of the operations, served under `prefix`."""
    models = {m for op in operations for m in (op.body, op.response) if m is not None}
    models.add(ErrorOut)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(prefix + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hotline supervisor API", "version": "1",
                 "description": "Routing configuration (versioned, audited, applied live) "
                                "and agent state commands. Every route needs a bearer token "
                                "of role `supervisor`."},  # fmt: skip
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(op: Operation) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    params += [{"name": q.name, "in": "query", "required": False, "description": q.description,
                "schema": q.schema} for q in op.query]  # fmt: skip
    if op.if_match:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": "the version the change is built on; 409 if it is not "
                                      "current any more",
                       "schema": {"type": "string", "examples": ["7", '"7"']}})  # fmt: skip
    spec: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', op.path)}".rstrip("_"),
        "responses": {str(op.status): _success(op), **_errors(op)},
    }
    if params:
        spec["parameters"] = params
    if op.body is not None:
        content = {"application/json": {"schema": _ref(op.body)}}
        if op.method == "PATCH":
            content = {"application/merge-patch+json": {"schema": {"type": "object"}},
                       "application/json": {"schema": {"type": "object"}}}  # fmt: skip
        spec["requestBody"] = {"required": op.method != "POST" or op.status == 201,
                               "content": content}  # fmt: skip
    return spec


def _success(op: Operation) -> dict[str, Any]:
    if op.response is None:
        return {"description": "done"}
    schema: dict[str, Any] = _ref(op.response)
    if op.many:
        schema = {"type": "object", "required": ["version", "items"], "properties": {
            "version": {"type": "integer"}, "items": {"type": "array", "items": schema}}}
    return {"description": "success", "content": {"application/json": {"schema": schema}}}


_ERROR_TEXT = {
    400: "invalid request: each problem names its field (body.…, path.…, query.…, header.…)",
    401: "no or unknown bearer token",
    403: "the token's role is not supervisor",
    404: "no such resource",
    409: "conflict: already exists, version changed (If-Match), or agent state forbids it",
    422: "rejected: the configuration would be invalid; problems name the paths",
    503: "the database or the routing engine is not available; nothing changed",
}


def _errors(op: Operation) -> dict[str, Any]:
    codes = sorted({401, 403, 503, *op.errors})
    return {str(code): {"description": _ERROR_TEXT[code],
                        "content": {"application/json": {"schema": _ref(ErrorOut)}}}
            for code in codes}  # fmt: skip


def _ref(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": REF.format(model=model.__name__)}
