"""The routing API's own request and reply shapes: If-Match, principals, JSON with ETags;
bodies and query parameters are read as every room reads them (`kernel.http.request`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from kernel.http.auth import principal
from kernel.http.errors import Problem, invalid
from kernel.http.reply import json_reply
from routing.api.changes import Change, Saved, commit
from routing.api.deps import DEPS, WRITERS
from routing.config import RoutingConfig

_IF_MATCH = re.compile(r'^(?:W/)?"?([0-9]{1,9})"?$')  # ASCII digits: \d takes any script's


def if_match(request: web.Request) -> int | None:
    """The version named by If-Match (`7`, `"7"` or `W/"7"`), None when absent or `*`."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    found = _IF_MATCH.match(raw.strip())
    if found is None:
        raise invalid([Problem("header.If-Match", "expected a version number, e.g. \"7\"")])
    return int(found.group(1))


def reply(value: Any, *, version: int | None = None, status: int = 200,
          headers: Mapping[str, str] | None = None) -> web.Response:  # fmt: skip
    """JSON with datetimes as ISO 8601, and the version as an ETag for If-Match."""
    extra = dict(headers or {})
    if version is not None:
        extra["ETag"] = f'"{version}"'
    return json_reply(value, status=status, headers=extra)


def dry_run(request: web.Request) -> bool:
    """`?dry_run=true`: check the change, save nothing (`false` or absent: save it)."""
    raw = request.query.get("dry_run")
    if raw is None or raw == "false":
        return False
    if raw != "true":
        raise invalid([Problem("query.dry_run", "must be true or false")])
    return True


async def commit_request(request: web.Request, build: Callable[[RoutingConfig], Change]) -> Saved:
    """Run a change as the request's principal, honouring its If-Match and dry_run."""
    app = request.app
    return await commit(app[DEPS], principal(request), build, if_match(request), app[WRITERS],
                        dry_run=dry_run(request))


def saved_reply(saved: Saved, *, status: int = 200, location: str | None = None) -> web.Response:
    warnings = [{"field": w.field, "message": w.message} for w in saved.warnings]
    if saved.dry_run:  # nothing was created: no 201, no Location
        status, location = 200, None
    return reply({"version": saved.version, "resource": saved.change.resource,
                  "warnings": warnings, "dry_run": saved.dry_run}, version=saved.version,
                 status=status, headers={"Location": location} if location else None)


