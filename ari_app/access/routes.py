"""The access routes: log in and out, who am I (with the session's CSRF token), and the audit of
recording reads for auditors.

    POST /v1/login               {username, password} -> 200 + session cookie; 401; 429 locked
    POST /v1/logout              ends the browser session (with X-CSRF-Token), 204
    GET  /v1/session             who is calling; for a browser session its CSRF token
    GET  /v1/audit/recordings    who read which recording (?limit, ?recording_id, ?actor)

Which roles may call each is the service's one access table (`ari_app/web/auth.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ari_app.access.listen_audit import RecordingReadLog
from ari_app.access.logins import BadCredentials, LockedOut, Logins
from ari_app.access.sessions import CSRF_HEADER, SESSION, Sessions, WebSession
from kernel.http import request as read
from kernel.http.auth import Principal, principal
from kernel.http.errors import ApiError
from kernel.http.reply import json_reply
from kernel.http.request import Line

ROUTES = web.RouteTableDef()
MAX_AUDIT = 1000


@dataclass(frozen=True, slots=True)
class AccessApiDeps:
    logins: Logins
    sessions: Sessions
    reads: RecordingReadLog


ACCESS_API = web.AppKey("access_api", AccessApiDeps)


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Line = Field(min_length=1, max_length=128)  # no control characters
    password: str = Field(min_length=1, max_length=1024)


def add_access_routes(app: web.Application, deps: AccessApiDeps) -> None:
    app[ACCESS_API] = deps
    app.add_routes(ROUTES)


@ROUTES.post("/v1/login")
async def login(request: web.Request) -> web.Response:
    """A browser session for a user: the cookie (HttpOnly, SameSite=Strict) and, in the body,
    the CSRF token to send as `X-CSRF-Token` with every state-changing request."""
    if request.content_type != "application/json":  # no cross-site form can send this
        raise ApiError(415, "unsupported_media_type", "send the login as application/json")
    body = await read.body(request, LoginBody)
    deps = request.app[ACCESS_API]
    try:
        new = await deps.logins.login(body.username, body.password)
    except BadCredentials:
        raise ApiError(401, "login_failed", "unknown user name or wrong password") from None
    except LockedOut as exc:
        return json_reply({"error": "locked", "message": "too many failed logins for this "
                           f"name; try again in {exc.retry_after_s} s"}, status=429,
                          headers={"Retry-After": str(exc.retry_after_s)})  # fmt: skip
    reply = json_reply(_session_json(new.session.principal, new.session))
    deps.sessions.set_cookie(reply, new)
    return reply


@ROUTES.post("/v1/logout")
async def logout(request: web.Request) -> web.Response:
    """Ends the browser session the request came with; a bearer token has none to end."""
    deps = request.app[ACCESS_API]
    session = request.get(SESSION)
    if session is not None:
        await deps.sessions.end(session.token_sha256)
    reply = web.Response(status=204)
    deps.sessions.clear_cookie(reply)
    return reply


@ROUTES.get("/v1/session")
async def whoami(request: web.Request) -> web.Response:
    return json_reply(_session_json(principal(request), request.get(SESSION)))


@ROUTES.get("/v1/audit/recordings")
async def recording_reads(request: web.Request) -> web.Response:
    """The newest reads of recordings first: who, when, from where, granted or why not."""
    limit = read.query_int(request, "limit", 100, MAX_AUDIT)
    rows = await request.app[ACCESS_API].reads.recent(
        limit, recording_id=request.query.get("recording_id"), actor=request.query.get("actor"))
    return json_reply([{"id": row_id, **asdict(entry)} for row_id, entry in rows])


def _session_json(who: Principal, session: WebSession | None) -> dict[str, Any]:
    shown: dict[str, Any] = {"actor": who.actor, "role": who.role.value,
                             "agent_id": who.agent_id, "queues": who.queues}
    if session is not None:
        shown |= {"csrf_header": CSRF_HEADER, "csrf_token": session.csrf_token,
                  "expires_at": session.expires_at}
    return shown
