"""Per-call actions for agent desktops and supervisors: transfer the caller on, explain routing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ari_app.calls.conversation import TransferRequest
from ari_app.calls.dispatcher import EventRouter
from ivr.journey import JourneyType
from kernel.http.auth import Role, TokenTable
from routing.service import QueueService

TOKENS = web.AppKey("call_api_tokens", TokenTable)
ROUTER = web.AppKey("call_api_router", EventRouter)
QUEUES = web.AppKey("call_api_queues", QueueService)


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue_id: str | None = Field(default=None, min_length=1)
    min_tier: int | None = Field(default=None, ge=1, le=9)
    notes: str = Field(default="", max_length=2000)


def add_call_api(app: web.Application, *, tokens: TokenTable, router: EventRouter,
                 queues: QueueService) -> None:
    app[TOKENS], app[ROUTER], app[QUEUES] = tokens, router, queues
    app.router.add_post("/v1/calls/{call_id}/transfer", transfer)
    app.router.add_get("/v1/calls/{call_id}/decisions", decisions)


def _problem(status: int, code: str, message: str, field: str | None = None,
             problems: list[dict[str, str]] | None = None) -> web.Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if field is not None:
        body["field"] = field
    if problems is not None:
        body["problems"] = problems
    return web.json_response(body, status=status)


def _allowed(request: web.Request, roles: set[Role]) -> web.Response | None:
    who = request.app[TOKENS].principal(request.headers.get("Authorization"))
    if who is None:
        return _problem(401, "unauthorized", "send Authorization: Bearer <token>")
    if who.role not in roles:
        return _problem(403, "forbidden", f"role {who.role.value!r} may not do this")
    return None


async def transfer(request: web.Request) -> web.Response:
    """The agent talking to the caller sends them to another queue and/or a higher tier."""
    if (denied := _allowed(request, {Role.AGENT, Role.SUPERVISOR})) is not None:
        return denied
    try:
        body = TransferBody.model_validate(await request.json())
    except ValueError as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        problems = [{"field": "body." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                    for e in errors] or [{"field": "body", "message": "not valid JSON"}]
        return _problem(400, "invalid", "the request body is not valid", problems=problems)
    call_id = request.match_info["call_id"]
    if body.queue_id is not None and request.app[QUEUES].config.queue(body.queue_id) is None:
        return _problem(422, "unknown_queue", f"no queue {body.queue_id}", "body.queue_id")
    session = request.app[ROUTER].sessions.get(call_id)
    if session is None:
        return _problem(404, "not_found", f"no live call {call_id}", "path.call_id")
    accepted = session.request_transfer(TransferRequest(body.queue_id, body.min_tier, body.notes))
    if not accepted:
        return _problem(409, "not_talking", "the caller is not talking to an agent now")
    return web.json_response({"call_id": call_id, "status": "transferring"}, status=202)


async def decisions(request: web.Request) -> web.Response:
    """Why each agent was (or was not) offered this call: live decisions while it waits."""
    if (denied := _allowed(request, {Role.AGENT, Role.SUPERVISOR, Role.VIEWER})) is not None:
        return denied
    call_id = request.match_info["call_id"]
    session = request.app[ROUTER].sessions.get(call_id)
    live = [{"text": str(d), "at": d.at, "queue": d.queue_id,
             "config_version": d.config_version,
             "chosen": [asdict(c) for c in d.chosen],
             "others": [{"agent": v.agent_id, "why": str(v.why), "until": v.until,
                         "detail": v.detail} for v in d.others]}
            for d in request.app[QUEUES].explain(call_id)]
    offers = [] if session is None else [
        dict(e.details) for e in session.call.journal.events if e.type is JourneyType.AGENT_OFFER]
    return web.json_response({"call_id": call_id, "decisions": live, "offers": offers})
