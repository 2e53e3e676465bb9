"""Reading requests and writing replies: bodies, If-Match, principals, JSON with ETags."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, from_validation, invalid
from routing.api.changes import Change, Saved, commit
from routing.api.deps import DEPS, WRITERS
from routing.config import RoutingConfig

M = TypeVar("M", bound=BaseModel)

MAX_BODY = 1 << 20
_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


async def json_body(request: web.Request) -> object:
    """The body parsed as JSON; 400 when it is not."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large", f"body over {MAX_BODY} bytes")
    raw = await request.read()
    if not raw:
        raise invalid([Problem("body", "a JSON body is required")])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise invalid([Problem("body", f"not valid JSON: {exc}")]) from None


def validate(model: type[M], value: object) -> M:
    """`value` checked against `model`; 400 naming every bad field."""
    try:
        return model.model_validate_json(json.dumps(value))
    except ValidationError as exc:
        raise from_validation(exc) from None


async def body(request: web.Request, model: type[M]) -> M:
    return validate(model, await json_body(request))


async def optional_body(request: web.Request, model: type[M]) -> M:
    """Like `body`, but an empty body means `{}`."""
    if not await request.read():
        return validate(model, {})
    return await body(request, model)


def if_match(request: web.Request) -> int | None:
    """The version named by If-Match (`7`, `"7"` or `W/"7"`), None when absent or `*`."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = _IF_MATCH.match(raw.strip())
    if found is None:
        raise invalid([Problem("header.If-Match", "expected a version number, e.g. \"7\"")])
    return int(found.group(1))


def query_int(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise invalid([Problem(f"query.{name}", f"must be an integer from 1 to {high}")])
    return int(raw)


def reply(value: Any, *, version: int | None = None, status: int = 200,
          headers: Mapping[str, str] | None = None) -> web.Response:  # fmt: skip
    """JSON with datetimes as ISO 8601, and the version as an ETag for If-Match."""
    extra = dict(headers or {})
    if version is not None:
        extra["ETag"] = f'"{version}"'
    return web.json_response(value, status=status, headers=extra,
                             dumps=lambda v: json.dumps(v, default=_default))  # fmt: skip


async def commit_request(request: web.Request, build: Callable[[RoutingConfig], Change]) -> Saved:
    """Run a change as the request's principal, honouring its If-Match."""
    app = request.app
    return await commit(app[DEPS], principal(request), build, if_match(request), app[WRITERS])


def saved_reply(saved: Saved, *, status: int = 200, location: str | None = None) -> web.Response:
    warnings = [{"field": w.field, "message": w.message} for w in saved.warnings]
    headers = {"Location": location} if location else None
    return reply({"version": saved.version, "resource": saved.change.resource,
                  "warnings": warnings}, version=saved.version, status=status, headers=headers)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
