"""Supervisors on a live call, over HTTP, and the audit of it.

    POST   /v1/calls/{call_id}/monitor                 {mode, endpoint?}  -> 202 ringing
    GET    /v1/calls/{call_id}/monitor                 the call's live monitors
    PATCH  /v1/calls/{call_id}/monitor/{monitor_id}    {mode}             -> 200 in force
    DELETE /v1/calls/{call_id}/monitor/{monitor_id}                       -> 200 ended
    GET    /v1/audit/monitors                          ?from&to&actor&call_id&limit&offset

Supervisors and admins (the access table); a call outside the caller's queues is answered as
not found, like one that is not live. Only while an agent talks to the caller (409 otherwise).
A mode change is in force when PATCH answers (ending and starting again works too, as two
sessions). Only the supervisor who started a session changes its mode; they or an admin end it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ari_app.access.call_scope import may_see_call
from ari_app.calls.monitoring.audit import MonitorQuery, MonitorStore
from ari_app.calls.monitoring.model import (
    ENDPOINT_PATTERN,
    MONITOR_ID_PATTERN,
    LiveMonitors,
    MonitorMode,
    MonitorRecord,
    MonitorRefused,
    MonitorRequest,
    Refusal,
)
from ari_app.calls.registry import LiveCalls
from kernel.http import request as read
from kernel.http.auth import Principal, Role, principal
from kernel.http.errors import ApiError, Problem, from_validation, invalid, not_found
from kernel.http.reply import json_reply
from kernel.utc import UtcDatetime

ROUTES = web.RouteTableDef()
MAX_LISTED = 1000
NAME = r"^[A-Za-z0-9_.@-]{1,128}$"


@dataclass(frozen=True, slots=True)
class MonitorApiDeps:
    live: LiveCalls  # which calls are live, and whose they are
    monitors: LiveMonitors | None  # None: monitoring is not wired (503)
    audit: MonitorStore | None
    endpoints: Mapping[str, str] = field(default_factory=dict)  # actor -> their phone


MONITORS = web.AppKey("monitor_api", MonitorApiDeps)


class MonitorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: MonitorMode = Field(description="listen: hear both; whisper: hear both, speak to the "
                              "agent; barge: hear both, speak to both")
    endpoint: str | None = Field(
        default=None, pattern=ENDPOINT_PATTERN, max_length=255,
        description="the supervisor's phone as Asterisk dials it, e.g. PJSIP/1009 (printable "
                    "ASCII); default: theirs in the configuration (`monitoring.endpoints`)")


class ModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: MonitorMode


class AuditQuery(BaseModel):
    """`GET /v1/audit/monitors` query parameters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: UtcDatetime | None = Field(default=None, alias="from",
                                      description="requested at or after (ISO 8601 with zone)")
    to: UtcDatetime | None = Field(default=None, description="requested before")
    actor: str | None = Field(default=None, pattern=NAME)
    call_id: str | None = Field(default=None, pattern=NAME)
    limit: int = Field(default=100, ge=1, le=MAX_LISTED)
    offset: int = Field(default=0, ge=0, le=1_000_000)


def add_monitor_routes(app: web.Application, deps: MonitorApiDeps) -> None:
    app[MONITORS] = deps
    app.add_routes(ROUTES)


def monitor_json(record: MonitorRecord) -> dict[str, Any]:
    return {"monitor_id": record.monitor_id, "call_id": record.call_id, "actor": record.actor,
            "role": record.role, "agent_id": record.agent_id, "queue_id": record.queue_id,
            "endpoint": record.endpoint, "mode": str(record.mode),
            "state": str(record.state),
            "modes": [{"mode": str(m.mode), "at": m.at, "by": m.by} for m in record.modes],
            "requested_at": record.requested_at, "connected_at": record.connected_at,
            "ended_at": record.ended_at, "ended_by": record.ended_by,
            "end_reason": str(record.end_reason) if record.end_reason else None}


@ROUTES.post("/v1/calls/{call_id}/monitor")
async def start_monitor(request: web.Request) -> web.Response:
    deps = request.app[MONITORS]
    body = await read.body(request, MonitorBody)
    who, call_id = principal(request), request.match_info["call_id"]
    _visible_call(who, deps, call_id)
    endpoint = body.endpoint or deps.endpoints.get(who.actor)
    if endpoint is None:
        raise invalid([Problem("body.endpoint", f"required: no phone is configured for "
                               f"{who.actor} (monitoring.endpoints)")])
    live = _live(deps)
    record = await _answer(live.start_monitor(
        call_id, MonitorRequest(who.actor, who.role.value, body.mode, endpoint)))
    return json_reply(monitor_json(record), status=202)


@ROUTES.get("/v1/calls/{call_id}/monitor")
async def list_monitors(request: web.Request) -> web.Response:
    deps = request.app[MONITORS]
    call_id = request.match_info["call_id"]
    _visible_call(principal(request), deps, call_id)
    records = _live(deps).monitors(call_id)
    if records is None:
        raise not_found(f"live call {call_id}", "path.call_id")
    return json_reply({"call_id": call_id, "items": [monitor_json(r) for r in records]})


@ROUTES.patch("/v1/calls/{call_id}/monitor/{monitor_id}")
async def change_monitor(request: web.Request) -> web.Response:
    deps = request.app[MONITORS]
    body = await read.body(request, ModeBody)
    who, call_id = principal(request), request.match_info["call_id"]
    record = _own_monitor(who, deps, call_id, _monitor_id(request), admin_too=False)
    changed = await _answer(_live(deps).change_monitor(call_id, record.monitor_id, body.mode,
                                                       who.actor))
    return json_reply(monitor_json(changed))


@ROUTES.delete("/v1/calls/{call_id}/monitor/{monitor_id}")
async def end_monitor(request: web.Request) -> web.Response:
    deps = request.app[MONITORS]
    who, call_id = principal(request), request.match_info["call_id"]
    record = _own_monitor(who, deps, call_id, _monitor_id(request), admin_too=True)
    ended = await _answer(_live(deps).end_monitor(call_id, record.monitor_id, who.actor))
    return json_reply(monitor_json(ended))


@ROUTES.get("/v1/audit/monitors")
async def monitor_audit(request: web.Request) -> web.Response:
    """Every monitor session, newest first: who, role, call, agent, queue, modes, when it was
    asked for, connected and ended, how it ended."""
    try:
        q = AuditQuery.model_validate(dict(request.query))
    except ValidationError as exc:
        raise from_validation(exc, "query") from None
    if q.from_ is not None and q.to is not None and q.to <= q.from_:
        raise invalid([Problem("query.to", "must be after query.from (the range is backwards)")])
    audit = request.app[MONITORS].audit
    if audit is None:
        return json_reply([])
    rows = await audit.find(MonitorQuery(q.limit, q.offset, q.from_, q.to, q.actor, q.call_id))
    return json_reply([{"id": row_id, **monitor_json(record)} for row_id, record in rows])


# --- helpers ---------------------------------------------------------------------------------


def _live(deps: MonitorApiDeps) -> LiveMonitors:
    if deps.monitors is None:
        raise ApiError(503, "unavailable", "monitoring is not available in this service")
    return deps.monitors


def _visible_call(who: Principal, deps: MonitorApiDeps, call_id: str) -> None:
    """404 for a call that is not live, and for one outside the caller's queues."""
    journey = deps.live.journey(call_id)
    if journey is None or not may_see_call(who, journey.record, journey.events, live=True):
        raise not_found(f"live call {call_id}", "path.call_id")


def _monitor_id(request: web.Request) -> str:
    monitor_id = request.match_info["monitor_id"]
    if re.fullmatch(MONITOR_ID_PATTERN, monitor_id) is None:
        raise invalid([Problem("path.monitor_id", "must be 1 to 32 of 0-9 a-f")])
    return monitor_id


def _own_monitor(who: Principal, deps: MonitorApiDeps, call_id: str, monitor_id: str, *,
                 admin_too: bool) -> MonitorRecord:
    _visible_call(who, deps, call_id)
    records = _live(deps).monitors(call_id) or []
    record = next((r for r in records if r.monitor_id == monitor_id), None)
    if record is None:
        raise not_found(f"live monitor {monitor_id} of call {call_id}", "path.monitor_id")
    if record.actor != who.actor and not (admin_too and who.role is Role.ADMIN):
        raise ApiError(403, "not_your_monitor",
                       f"{record.actor} started this monitor; only they"
                       + (" or an admin" if admin_too else "") + " may do that")
    return record


_REFUSALS: dict[Refusal, tuple[int, str]] = {
    Refusal.NOT_TALKING: (409, "not_talking"),
    Refusal.ALREADY_MONITORING: (409, "already_monitoring"),
    Refusal.TOO_MANY: (409, "too_many_monitors"),
    Refusal.NOT_CONNECTED: (409, "monitor_ended"),
    Refusal.AUDIT_UNAVAILABLE: (503, "audit_unavailable"),
    Refusal.TIMEOUT: (503, "asterisk_timeout"),
}


async def _answer(work: Awaitable[MonitorRecord]) -> MonitorRecord:
    try:
        return await work
    except MonitorRefused as exc:
        if exc.refusal is Refusal.NO_SUCH_CALL:
            raise ApiError(404, "not_found", exc.message,
                           [Problem("path.call_id", exc.message)]) from None
        if exc.refusal is Refusal.NO_SUCH_MONITOR:
            raise ApiError(404, "not_found", exc.message,
                           [Problem("path.monitor_id", exc.message)]) from None
        status, code = _REFUSALS[exc.refusal]
        raise ApiError(status, code, exc.message) from None
