"""Reading requests the same way in every room: JSON bodies checked against a pydantic model,
integer query and path parameters, text that is text; each problem a 4xx naming the field.

Nothing a client sends may make a 500: numbers are ASCII digits within bounds (`str.isdigit`
accepts `²`, which `int` refuses, and an unbounded one overflows the database's integers),
bodies nested deeper than `MAX_DEPTH` are refused before anything recurses over them, and
`check_text` (run for every request by the service's error middleware) refuses headers that are
not UTF-8 and control characters in path parameters and query values, where none makes sense.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, TypeVar

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from kernel.http.errors import ApiError, Problem, from_validation, invalid

M = TypeVar("M", bound=BaseModel)

MAX_BODY = 1 << 20
MAX_DEPTH = 32  # arrays and objects in a body; the deepest real one (a queue) has 4
MAX_INT = (1 << 31) - 1  # path and query integers: versions, limits

_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only, unlike \d and str.isdigit
# C0 and C1 controls and DEL: in no identifier, name, header or query value of this API.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Which of them free text (notes, comments, messages) keeps: tab and line breaks.
NO_CONTROL = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_CONTROL_BUT_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

# Body field types that refuse control characters (and say so in the OpenAPI document).
Line = Annotated[str, Field(pattern=NO_CONTROL, description="no control characters")]
Text = Annotated[str, Field(pattern=NO_CONTROL_BUT_LINES,
                            description="no control characters but tab and line breaks")]


async def json_body(request: web.Request) -> object:
    """The body parsed as JSON; 400 when it is not, 413 when it is too large."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, "too_large", f"body over {MAX_BODY} bytes")
    raw = await request.read()
    if not raw:
        raise invalid([Problem("body", "a JSON body is required")])
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of over 4300 digits
        raise invalid([Problem("body", f"not valid JSON: {exc}")]) from None
    if depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # Python's json reads NaN and Infinity


def depth(value: object) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0); iterative,
    so it cannot overflow the stack on what it measures."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:  # past that the answer is known: too deep
                stack.extend((child, level) for child in _children(node))
    return deepest


def _children(node: dict[object, object] | list[object]) -> Iterator[object]:
    return iter(node.values() if isinstance(node, dict) else node)


def _too_deep() -> ApiError:
    return invalid([Problem("body", f"nested deeper than {MAX_DEPTH} levels")])


def validate(model: type[M], value: object) -> M:
    """`value` checked against `model`; 400 naming every bad field."""
    if depth(value) > MAX_DEPTH:
        raise _too_deep()
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
    """The query parameter `name`, an integer from 1 to `high` (`default` when absent)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    number = _int(raw, high)
    if number is None:
        raise invalid([Problem(f"query.{name}", f"must be an integer from 1 to {high}")])
    return number


def path_int(request: web.Request, name: str, what: str, high: int = MAX_INT) -> int:
    """The path parameter `name`, an integer from 1 to `high`; `what` names it in the 400."""
    number = _int(request.match_info[name], high)
    if number is None:
        raise invalid([Problem(f"path.{name}", f"must be {what} from 1 to {high}")])
    return number


def _int(raw: str, high: int) -> int | None:
    if _DIGITS.fullmatch(raw) is None:
        return None
    number = int(raw)
    return number if 1 <= number <= high else None


def check_text(request: web.Request) -> None:
    """400 naming every header that is not UTF-8, and every path parameter or query value
    with a control character (or that is not UTF-8: yarl decodes such bytes to U+FFFD)."""
    problems = [Problem(f"header.{name}", "must be UTF-8 text")
                for name, value in request.headers.items() if not _utf8(value)]  # fmt: skip
    problems += [Problem(f"path.{name}", "must not contain control characters")
                 for name, value in request.match_info.items() if _CONTROL.search(value)]
    for name, value in request.query.items():
        if _CONTROL.search(name) or "\ufffd" in name:
            problems.append(Problem("query", "parameter names must be plain text"))
        elif _CONTROL.search(value) or "\ufffd" in value:
            problems.append(Problem(f"query.{name}", "must be UTF-8 without control characters"))
    if problems:
        raise invalid(problems)


def _utf8(value: str) -> bool:
    """aiohttp decodes header bytes as UTF-8 with surrogate escapes: escapes mean not UTF-8."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
