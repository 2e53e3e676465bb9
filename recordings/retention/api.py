"""Legal holds, deletion by hand and the deletion audit.

    DELETE /v1/recordings/{recording_id}        {reason}: the file, the row and its dependants
    GET    /v1/recordings/{recording_id}/hold   whether it is held, and its holds' history
    POST   /v1/recordings/{recording_id}/hold   {reason}: place a legal hold
    DELETE /v1/recordings/{recording_id}/hold   {reason}: lift it
    GET    /v1/audit/holds                      every hold, newest first
    GET    /v1/audit/deletions                  every deletion, newest first

Who may call them is the access table's to say (admins change, auditors read). A request that
is refused changes nothing: the path and body are checked before anything is touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from kernel.http import request as read
from kernel.http.auth import principal
from kernel.http.errors import ApiError, Problem, invalid, not_found
from kernel.http.reply import json_reply
from kernel.http.request import Line
from recordings.api import RECORDING_ID
from recordings.model import RecordingMeta
from recordings.retention.deleter import RecordingDeleter
from recordings.retention.model import (
    FileOutsideStore,
    Hold,
    NoSuchRecording,
    NotOnHold,
    OnHold,
)
from recordings.retention.policy import RetentionPolicy
from recordings.retention.store import RetentionStore

ROUTES = web.RouteTableDef()
MAX_LISTED = 1000
_FIELD = "path.recording_id"


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Line = Field(min_length=1, max_length=1000, description="why: kept in the audit")


@dataclass(frozen=True, slots=True)
class RetentionApiDeps:
    store: RetentionStore
    deleter: RecordingDeleter
    policy: RetentionPolicy


RETENTION = web.AppKey("retention_api", RetentionApiDeps)


def add_retention_routes(app: web.Application, deps: RetentionApiDeps) -> None:
    app[RETENTION] = deps
    app.add_routes(ROUTES)


class RetentionFacts:
    """recordings.api.RetentionView: whether a recording is held, and until when it is kept."""

    def __init__(self, store: RetentionStore, policy: RetentionPolicy) -> None:
        self._store, self._policy = store, policy

    async def of(self, meta: RecordingMeta) -> dict[str, Any]:
        hold = await self._store.active_hold(meta.recording_id)
        return {"on_hold": hold is not None,
                "hold": None if hold is None else asdict(hold),
                "retain_until": self._policy.retain_until(meta.started_at, meta.queue_id)}


def _recording_id(request: web.Request) -> str:
    recording_id = request.match_info["recording_id"]
    if not RECORDING_ID.match(recording_id):
        raise invalid([Problem(_FIELD, "not a recording id")])
    return recording_id


def _held(exc: OnHold) -> ApiError:
    return ApiError(409, "on_hold", str(exc), [Problem(_FIELD, str(exc))])


def hold_json(hold: Hold) -> dict[str, Any]:
    return {**asdict(hold), "active": hold.active}


@ROUTES.delete("/v1/recordings/{recording_id}")
async def delete_recording(request: web.Request) -> web.Response:
    recording_id = _recording_id(request)
    body = await read.body(request, ReasonBody)
    try:
        deletion = await request.app[RETENTION].deleter.delete(
            recording_id, principal(request).actor, body.reason, datetime.now(UTC))
    except NoSuchRecording:
        raise not_found(f"recording {recording_id}", _FIELD) from None
    except OnHold as exc:
        raise _held(exc) from None
    except FileOutsideStore:
        message = "the recording's file lies outside the recording store; nothing was deleted"
        raise ApiError(409, "conflict", message, [Problem(_FIELD, message)]) from None
    return json_reply(asdict(deletion))


@ROUTES.get("/v1/recordings/{recording_id}/hold")
async def get_hold(request: web.Request) -> web.Response:
    recording_id = _recording_id(request)
    deps = request.app[RETENTION]
    history = await deps.store.holds(MAX_LISTED, recording_id=recording_id)
    meta = await deps.store.recording(recording_id)
    if meta is None and not history:
        raise not_found(f"recording {recording_id}", _FIELD)
    active = next((h for h in history if h.active), None)
    return json_reply({
        "recording_id": recording_id, "exists": meta is not None, "on_hold": active is not None,
        "retain_until": None if meta is None
        else deps.policy.retain_until(meta.started_at, meta.queue_id),
        "history": [hold_json(h) for h in history]})  # fmt: skip


@ROUTES.post("/v1/recordings/{recording_id}/hold")
async def place_hold(request: web.Request) -> web.Response:
    recording_id = _recording_id(request)
    body = await read.body(request, ReasonBody)
    try:
        hold = await request.app[RETENTION].store.place_hold(
            recording_id, principal(request).actor, body.reason, datetime.now(UTC))
    except NoSuchRecording:
        raise not_found(f"recording {recording_id}", _FIELD) from None
    except OnHold as exc:
        raise _held(exc) from None
    return json_reply(hold_json(hold), status=201)


@ROUTES.delete("/v1/recordings/{recording_id}/hold")
async def lift_hold(request: web.Request) -> web.Response:
    recording_id = _recording_id(request)
    body = await read.body(request, ReasonBody)
    try:
        hold = await request.app[RETENTION].store.lift_hold(
            recording_id, principal(request).actor, body.reason, datetime.now(UTC))
    except NotOnHold:
        raise not_found(f"hold on recording {recording_id}", _FIELD) from None
    return json_reply(hold_json(hold))


def _active_query(request: web.Request) -> bool | None:
    raw = request.query.get("active")
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise invalid([Problem("query.active", "must be true or false")])
    return raw == "true"


@ROUTES.get("/v1/audit/holds")
async def hold_audit(request: web.Request) -> web.Response:
    limit = read.query_int(request, "limit", 100, MAX_LISTED)
    holds = await request.app[RETENTION].store.holds(
        limit, recording_id=request.query.get("recording_id"), active=_active_query(request))
    return json_reply([hold_json(h) for h in holds])


@ROUTES.get("/v1/audit/deletions")
async def deletion_audit(request: web.Request) -> web.Response:
    limit = read.query_int(request, "limit", 100, MAX_LISTED)
    rows = await request.app[RETENTION].store.deletions(
        limit, recording_id=request.query.get("recording_id"), actor=request.query.get("actor"))
    return json_reply([{"id": row_id, **asdict(d)} for row_id, d in rows])
