"""Reading requests the same way in every room: JSON bodies checked against a pydantic model,
integer query parameters; each problem a 4xx naming the field."""

from __future__ import annotations

import json
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from kernel.http.errors import ApiError, Problem, from_validation, invalid

M = TypeVar("M", bound=BaseModel)

MAX_BODY = 1 << 20


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


def query_int(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise invalid([Problem(f"query.{name}", f"must be an integer from 1 to {high}")])
    return int(raw)
