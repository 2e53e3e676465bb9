"""The API's error shape: `{"error": code, "message": ..., "problems": [{field, message}]}`.

`field` is where the problem is: `body.plan[1].after_s` in the request body, `path.agent_id`
in the URL, `header.If-Match`, or a path in the whole configuration (`queues[2].plan[0]`)
when a change breaks something outside the resource sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into the JSON error response."""

    def __init__(
        self, status: int, code: str, message: str, problems: Sequence[Problem] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.problems = tuple(problems)

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.problems:
            body["problems"] = [{"field": p.field, "message": p.message} for p in self.problems]
        return web.json_response(body, status=self.status, headers=headers)


class ProblemOut(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    """The shape as the OpenAPI document describes it."""

    error: str = Field(description="invalid, rejected, unauthorized, forbidden, not_found, "
                                   "conflict, version_conflict, apply_failed, unavailable, "
                                   "internal, …")  # fmt: skip
    message: str
    problems: list[ProblemOut] = []


def invalid(problems: Iterable[Problem], message: str = "the request is invalid") -> ApiError:
    return ApiError(400, "invalid", message, list(problems))


def not_found(what: str, field: str) -> ApiError:
    return ApiError(404, "not_found", f"no {what}", [Problem(field, f"no {what}")])


def field_path(prefix: str, loc: Iterable[int | str]) -> str:
    """`("plan", 1, "after_s")` under `body` -> `body.plan[1].after_s`."""
    return prefix + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def from_validation(exc: ValidationError, prefix: str = "body") -> ApiError:
    """Every problem pydantic found, each with its field path."""
    problems = [
        Problem(field_path(prefix, err["loc"]), str(err["msg"]).removeprefix("Value error, "))
        for err in exc.errors(include_url=False)
    ]
    return invalid(problems)
