"""The API's operations as data: one list registers the routes and writes the OpenAPI document.

Describing each route once, where it is registered, keeps the document from drifting from what
is served; a test also compares the document with the application's router. Each operation is
also a `kernel.http.openapi.Route`, from which the service writes its one whole document.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, create_model

from kernel.http.openapi import Param, Route, document

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SUPERVISORS = ("supervisor",)  # whom the routing-only document names (the service's table rules)


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
    path_params: tuple[Param, ...] = ()  # those that are not plain strings

    def route(self, prefix: str) -> Route:
        """This operation as the OpenAPI document describes it, served under `prefix`."""
        params = [*self.path_params,
                  *(Param(q.name, "query", q.description, q.schema) for q in self.query)]
        if self.if_match:
            params.append(Param("If-Match", "header", "the version the change is built on; "
                                "409 if it is not current any more",
                                {"type": "string", "pattern": r'^(?:\*|(?:W/)?"?[0-9]{1,9}"?)$',
                                 "examples": ["7", '"7"']}))  # fmt: skip
            params.append(Param("dry_run", "query", "true: check the change (the same 422 and "
                                "warnings) and answer what it would make, saving and applying "
                                "nothing", {"type": "string", "enum": ["true", "false"]}))
        body_content = None
        if self.body is not None and self.method == "PATCH":
            body_content = {"application/merge-patch+json": {"type": "object"},
                            "application/json": {"type": "object"}}  # fmt: skip
        response = listing(self.response) if self.many and self.response else self.response
        return Route(self.method, prefix + self.path, self.summary, self.tag, response,
                     self.status, body=self.body, body_content=body_content,
                     body_required=self.method != "POST" or self.status == 201,
                     errors=(503, *self.errors), params=tuple(params),
                     same_shape=(200,) if self.if_match and self.status != 200 else ())  # fmt: skip


@functools.cache
def listing(model: type[BaseModel]) -> type[BaseModel]:
    """`{"version": N, "items": [model]}`, the shape of every list this API answers."""
    return create_model(f"{model.__name__}List", version=(int, ...), items=(list[model], ...))  # type: ignore[valid-type]


def register(router: web.UrlDispatcher, operations: Sequence[Operation]) -> None:
    for op in operations:
        router.add_route(op.method, op.path, op.handler)


def openapi_document(operations: Sequence[Operation], prefix: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routing API alone, served under `prefix`."""
    return document([op.route(prefix) for op in operations],
                    title="Hotline supervisor API",
                    description="Routing configuration (versioned, audited, applied live) and "
                                "agent state commands. Every route needs a bearer token of "
                                "role `supervisor`.",
                    roles=lambda _route: SUPERVISORS)  # fmt: skip
