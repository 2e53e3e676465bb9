"""HTTP API: health, calls and their journeys, live journey events, queues, recordings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from aiohttp import WSMsgType, web

from ari_app.calls.dispatcher import EventRouter
from ari_app.calls.handoff import build_handoff
from ari_app.calls.hub import EventHub
from ari_app.db.engine import Database
from ivr.journey import JourneyEvent, JourneyType
from kernel.db.errors import DatabaseUnavailable
from routing.service import QueueService


@dataclass(frozen=True)
class WebDeps:
    db: Database
    hub: EventHub
    router: EventRouter
    queues: QueueService
    ready: asyncio.Event
    is_vip: Callable[[str], bool] = lambda _number: False


DEPS = web.AppKey("deps", WebDeps)


def build_web_app(deps: WebDeps) -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[DEPS] = deps
    app.router.add_get("/health", health)
    app.router.add_get("/v1/calls", list_calls)
    app.router.add_get("/v1/calls/{call_id}", get_call)
    app.router.add_get("/v1/calls/{call_id}/handoff", get_handoff)
    app.router.add_get("/v1/events", stream_events)
    app.router.add_get("/v1/queues", queues)
    app.router.add_get("/v1/recordings/{recording_id}", get_recording)
    app.router.add_get("/v1/recordings/{recording_id}/audio", get_recording_audio)
    return app


@web.middleware
async def _errors(request: web.Request, handler):  # type: ignore[no-untyped-def]
    try:
        return await handler(request)
    except DatabaseUnavailable as exc:
        return _error(503, "database_unavailable", str(exc))


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, object] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


def _json(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_json(v) for v in value)  # type: ignore[type-var]
    return value


async def health(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    ari = "connected" if deps.ready.is_set() else "disconnected"
    return web.json_response({"status": "ok" if ari == "connected" else "degraded", "ari": ari,
                              "active_calls": len(deps.router.sessions)},
                             status=200 if ari == "connected" else 503)


async def list_calls(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        return _error(400, "invalid_parameter", "must be an integer from 1 to 500", "query.limit")
    calls = await request.app[DEPS].db.calls.recent(limit=int(raw))
    return web.json_response([_json(asdict(c)) for c in calls])


async def get_call(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    call_id = request.match_info["call_id"]
    record = await deps.db.calls.get(call_id)
    if record is None:
        return _error(404, "not_found", f"no call {call_id}", "path.call_id")
    events = await deps.db.calls.events(call_id)
    recordings = await deps.db.recordings.for_call(call_id)
    survey = await deps.db.surveys.for_call(call_id)
    return web.json_response(_json({
        "call": asdict(record),
        "journey": [e.as_line() for e in events],
        "recordings": [asdict(r) for r in recordings],
        "survey": asdict(survey) if survey else None,
    }))


async def get_handoff(request: web.Request) -> web.Response:
    """What the answering agent should know; live while the call is up, stored afterwards."""
    deps = request.app[DEPS]
    call_id = request.match_info["call_id"]
    session = deps.router.sessions.get(call_id)
    if session is not None:
        record, events = session.call.journal.record_row, list(session.call.journal.events)
    else:
        stored = await deps.db.calls.get(call_id)
        if stored is None:
            return _error(404, "not_found", f"no call {call_id}", "path.call_id")
        record, events = stored, await deps.db.calls.events(call_id)
    handoff = build_handoff(record, events, vip=deps.is_vip(record.caller_number))
    return web.json_response(_json(handoff.as_dict()))


async def stream_events(request: web.Request) -> web.WebSocketResponse:
    """Journey events as JSON, live; ``?correlation_id=`` or ``?call_id=`` narrows to one call."""
    deps = request.app[DEPS]
    correlation = request.query.get("correlation_id")
    call_ids = {request.query["call_id"]} if "call_id" in request.query else set()
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    with deps.hub.subscribe() as queue:
        reader = asyncio.ensure_future(ws.receive())
        try:
            while not ws.closed:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    getter.cancel()
                    if reader.result().type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR):
                        break
                    reader = asyncio.ensure_future(ws.receive())
                    continue
                event = getter.result()
                if _wanted(event, correlation, call_ids):
                    await ws.send_json(_json(event.as_line()))
        finally:
            reader.cancel()
    return ws


def _wanted(event: JourneyEvent, correlation: str | None, call_ids: set[str]) -> bool:
    if correlation is None and not call_ids:
        return True
    if (correlation is not None and event.type is JourneyType.CALL_START
            and event.details.get("correlation_id") == correlation):
        call_ids.add(event.call_id)
    return event.call_id in call_ids


async def queues(request: web.Request) -> web.Response:
    snapshot = request.app[DEPS].queues.snapshot()
    return web.json_response(_json({
        "queues": [asdict(q) for q in snapshot.queues],
        "agents": [{**asdict(a), **asdict(v)} for a, v in zip(snapshot.agents, snapshot.views,
                                                                 strict=True)],
        "waiting": [{"call_id": c.call_id, "queue_id": c.queue_id, "joined_at": c.joined_at,
                     "ringing": c.offer.agent_id if c.offer else None} for c in snapshot.calls],
    }))


async def get_recording(request: web.Request) -> web.Response:
    recording_id = request.match_info["recording_id"]
    meta = await request.app[DEPS].db.recordings.get(recording_id)
    if meta is None:
        return _error(404, "not_found", f"no recording {recording_id}", "path.recording_id")
    return web.json_response(_json(asdict(meta)))


async def get_recording_audio(request: web.Request) -> web.StreamResponse:
    recording_id = request.match_info["recording_id"]
    meta = await request.app[DEPS].db.recordings.get(recording_id)
    if meta is None:
        return _error(404, "not_found", f"no recording {recording_id}", "path.recording_id")
    path = Path(meta.path)
    if not await asyncio.to_thread(path.exists):
        return _error(410, "file_missing", f"recording file is gone: {path.name}")
    return web.FileResponse(path)
