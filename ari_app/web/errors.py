"""The service's one error middleware: whatever a room's handler raises leaves as the one JSON
error shape `{"error": code, "message": ..., "problems": [{"field", "message"}]}`.

- `kernel.http.errors.ApiError` -> its own status and body (401 with `WWW-Authenticate: Bearer`);
- routing's `VersionConflict` (an agent command racing a save, or a retry limit) -> 409;
- `DatabaseUnavailable` or `TimeoutError` -> 503 `unavailable`, `DatabaseError` -> 500;
- aiohttp's own 4xx/5xx (no such route, method not allowed, not a WebSocket request) -> the
  same shape with a code named after the status;
- anything else is a bug: 500 `internal` without details, and one `http.unhandled` log line
  with the traceback under an `error_id` that the reply names too, so an operator finds it.

Before any handler runs, `kernel.http.request.check_text` refuses (400) headers that are not
UTF-8 and control characters in path parameters and query values, for every route at once.
"""

from __future__ import annotations

import re
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from kernel.db.errors import DatabaseError, DatabaseUnavailable
from kernel.http.errors import ApiError, Problem
from kernel.http.request import check_text
from routing.store import VersionConflict

log = structlog.get_logger(__name__)

UNAVAILABLE = "the database did not answer in time; nothing changed, retry later"
DATABASE_ERROR = "the database refused the operation; nothing changed"
_KEPT_HEADERS = ("Allow",)  # of aiohttp's own errors (405 says which methods are allowed)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        check_text(request)
        return await handler(request)
    except ApiError as exc:
        return exc.response({"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)
    except VersionConflict as exc:
        return ApiError(409, "version_conflict", str(exc),
                        [Problem("header.If-Match", str(exc))]).response()  # fmt: skip
    except (DatabaseUnavailable, TimeoutError) as exc:
        log.warning("http.unavailable", path=request.path, error=str(exc))
        return ApiError(503, "unavailable", UNAVAILABLE).response()
    except DatabaseError as exc:
        log.error("http.database_error", path=request.path, error=str(exc))
        return ApiError(500, "database_error", DATABASE_ERROR).response()
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and 304 are not errors
            raise
        kept = {h: exc.headers[h] for h in _KEPT_HEADERS if h in exc.headers}
        return ApiError(exc.status, _code(exc.reason), _message(exc)).response(kept or None)
    except ConnectionError:  # the client went away: nobody to answer
        raise
    except Exception:
        error_id = uuid.uuid4().hex
        log.exception("http.unhandled", error_id=error_id, method=request.method,
                      route=_route(request))  # fmt: skip
        return ApiError(500, "internal", f"the service failed to answer; error id {error_id}"
                        ).response({"X-Error-Id": error_id})  # fmt: skip


def _route(request: web.Request) -> str:
    """The route's pattern (`/v1/calls/{call_id}`), not the path: paths carry ids."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


def _code(reason: str) -> str:
    """`Method Not Allowed` -> `method_not_allowed`."""
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "error"


def _message(exc: web.HTTPException) -> str:
    text = (exc.text or "").strip()
    return text if text and text != f"{exc.status}: {exc.reason}" else exc.reason
